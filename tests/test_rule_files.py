"""Rule files are data, validated at load: every mistake is one line naming file, rule and key."""
from __future__ import annotations

import textwrap

import pytest

from conftest import RULE_TEMPLATE as GOOD



def write_rule(folder, text, name="house-style.yaml"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))


@pytest.mark.parametrize("text, error", [
    (GOOD.format(id="house-style").replace("phrases: [synergy]", "patterns: [[{LOWER: on}]]"),
     "rule 'house-style': match.patterns[0]: LOWER has the value true: YAML reads unquoted yes/no/on/off/true/false as booleans"),
    (GOOD.format(id="house-style").replace("severity: warning", "severity: fatal"), "severity: 'fatal' is not one of info, warning, error"),
    (GOOD.format(id="style"), "rule 'style': id: the file must be named style.yaml"),  # in house-style.yaml
    (GOOD.format(id="house-style").replace("suggest: [teamwork]", "suggest: ['{nmae}']"), "suggest[0]: unknown template field {nmae}"),
    (GOOD.format(id="house-style").replace("  fires: [Great synergy.]\n", ""), "examples.fires: every rule needs at least one example here"),
    (GOOD.format(id="house-style").replace("phrases: [synergy]", "check: vibes"), "match.check: no check named 'vibes'"),
])
def test_a_broken_rule_file_is_one_clear_line(cli, workdir, text, error):
    name = "bitterness.yaml" if "id: bitterness" in text else "house-style.yaml"
    write_rule(workdir / "rules", text, name)
    (workdir / ".toneguard.yaml").write_text("rule-dirs: [rules]\n")
    (workdir / "a.txt").write_text("Hi Priya,\n\nThank you.\n")
    run = cli("check", "a.txt")
    assert run.code == 2, run
    assert error in run.err, run.err
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err


def test_an_extra_rule_folder_adds_rules(cli, workdir):
    write_rule(workdir / "rules", GOOD.format(id="house-style"))
    (workdir / ".toneguard.yaml").write_text("rule-dirs: [rules]\n")
    (workdir / "a.txt").write_text("Hi Priya,\n\nThank you for the tour of the lab and the great synergy.\n")
    run = cli("check", "a.txt", "--select", "house-style")
    assert "warning house-style Says \"synergy\"." in run.out
    assert "→ replace with “teamwork”" in run.out


def test_builtin_patterns_pass_spacys_own_validation():
    """The built-in rules skip spaCy's pattern validation at start-up; this is where it runs."""
    import spacy
    from spacy.matcher import DependencyMatcher, Matcher

    from toneguard.engine import cached_rules

    vocab = spacy.blank("en").vocab
    tokens, dependencies = Matcher(vocab, validate=True), DependencyMatcher(vocab, validate=True)
    for rule in cached_rules(()).values():
        assert rule.builtin
        for block in rule.blocks.values():
            for index, pattern in enumerate(block.get("patterns", ())):
                tokens.add(f"{rule.id}/{index}", [pattern])
            for index, pattern in enumerate(block.get("dependencies", ())):
                dependencies.add(f"{rule.id}/{index}", [pattern])
