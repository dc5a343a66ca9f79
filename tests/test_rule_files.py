"""Rule files are data, validated at load: every mistake is one line naming file, rule and key."""
from __future__ import annotations

import re
import textwrap
import time

import pytest
import yaml

from conftest import RULE_TEMPLATE as GOOD
from toneguard.errors import ToneguardError
from toneguard.rules import parse_rule



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
    assert "→ replace “synergy” with “teamwork”" in run.out


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


SLOW_ON = "a" * 2_000  # the longest word a draft may hold


@pytest.mark.parametrize("regex, refused", [
    ("a*a*a*a*a*a*a*a*c", True),  # polynomial: every way of sharing the a's is tried
    ("a*a*c", True),
    (r"\w+\w+x", True),
    ("(?i)A*a*c", True),
    ("a?" * 15 + "c", True),  # 2**15 ways
    ("(a+)+$", True),  # exponential
    (r"^\w+s?$", False),
    (r"\d+-\d+", False),  # the dash parts the repeats
    (r"^\w+@\w+\.\w+$", False),
    (r".*ing$", False),
    (r".*foo.*", False),  # the last repeat never gives anything back
    (r"^(mr|ms|mrs)\.?$", False),
    (r"^[A-Z]{2,}$", False),
])
def test_regexes_that_backtrack_badly_are_refused_and_others_kept(regex, refused):
    data = yaml.safe_load(GOOD.format(id="house-style").replace(
        "phrases: [synergy]", "patterns: [[{TEXT: {REGEX: '" + regex.replace("'", "''") + "'}}]]"))
    if refused:
        with pytest.raises(ToneguardError, match="time"):
            parse_rule(data, "house-style.yaml")
    else:
        parse_rule(data, "house-style.yaml")
        started = time.monotonic()
        for word in (SLOW_ON, SLOW_ON + "!", "a b " * 500):
            re.search(regex, word)
        assert time.monotonic() - started < 1  # what is kept is quick on the worst words
