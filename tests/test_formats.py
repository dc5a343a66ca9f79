"""Every output format on the same findings: each must say what the JSON contract says,
and the machine formats must validate against their published schemas."""
from __future__ import annotations

import json
import re

import jsonschema
import pytest

from conftest import REPO

REPORT_SCHEMA = json.loads((REPO / "toneguard" / "schema" / "report-v1.schema.json").read_text())
# The OASIS SARIF 2.1.0 schema (final, "rtm.5"), as published in @microsoft/jest-sarif.
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-2.1.0.schema.json").read_text())
DRAFT = "Hi Priya,\n\nThanks for nothing!! I REALLY wanted the analyst role.\n\nJane\n"


@pytest.fixture
def drafts(workdir):
    (workdir / "letters").mkdir()
    (workdir / "letters" / "a.txt").write_text(DRAFT)
    (workdir / "letters" / "b.txt").write_text("Hi Priya,\n\nThank you for the tour of the lab. "
                                               "Please keep me in mind.\n\nJane\n")
    return ["letters/a.txt", "letters/b.txt"]


def run_format(cli, drafts, name):
    run = cli("check", "--format", name, "--fail-on", "error", *drafts)
    assert run.code == 1 and run.err == "", run
    return run.out


@pytest.fixture
def contract(cli, drafts):
    data = json.loads(run_format(cli, drafts, "json"))
    jsonschema.validate(data, REPORT_SCHEMA)
    return data


def findings(contract):
    return [(f["path"], v) for f in contract["files"] for v in f["violations"]]


def test_json_is_the_contract(contract):
    assert [f["path"] for f in contract["files"]] == ["letters/a.txt", "letters/b.txt"]
    rules = {v["rule"] for _, v in findings(contract)}
    assert {"bitterness", "raw-emotion", "missing-door-open"} <= rules
    assert contract["files"][1]["violations"] == []
    for _, v in findings(contract):
        assert v["text"] == DRAFT[v["start"]:v["end"]]


def test_text_gives_each_finding_its_place_and_rewrites(cli, drafts, contract):
    out = run_format(cli, drafts, "text").splitlines()
    lines = [line for line in out if not line.startswith("    → ")]
    expected = [f"{path}:{v['line']}:{v['column']}: {v['severity']} {v['rule']} {v['message']}"
                for path, v in findings(contract)]
    assert lines[:-1] == expected
    assert sum(line.startswith("    → ") for line in out) == sum(len(v["suggestions"]) for _, v in findings(contract))
    assert re.fullmatch(r"Found \d+ problems \(\d+ errors?, \d+ warnings?, \d+ info\) in 1 of 2 drafts\."
                        r"( \d+ fixable with `toneguard fix`\.)?", lines[-1]), lines[-1]
    assert "\x1b[" not in "\n".join(out)  # no colour on a pipe


def test_sarif_is_valid_sarif_2_1_0_with_the_same_results(cli, drafts, contract):
    sarif = json.loads(run_format(cli, drafts, "sarif"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    run = sarif["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {v["rule"] for _, v in findings(contract)}
    [bitterness] = [rule for rule in run["tool"]["driver"]["rules"] if rule["id"] == "bitterness"]
    assert "Sources:\n“Second Chance Interview from a Rejection Letter”, SimplyHired blog, https://" in bitterness["help"]["text"]
    level = {"error": "error", "warning": "warning", "info": "note"}
    got = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"], r["level"],
            r["locations"][0]["physicalLocation"]["region"]) for r in run["results"]]
    want = [(path, v["rule"], level[v["severity"]], {
        "startLine": v["line"], "startColumn": v["column"], "endLine": v["end_line"], "endColumn": v["end_column"],
        "charOffset": v["start"], "charLength": v["end"] - v["start"], "snippet": {"text": v["text"]}})
        for path, v in findings(contract)]
    assert got == want
    for result, (_, v) in zip(run["results"], findings(contract)):
        replacements = [(c["artifactChanges"][0]["replacements"][0]) for c in result.get("fixes", [])]
        assert [(r["deletedRegion"]["charOffset"], r["deletedRegion"]["charLength"], r["insertedContent"]["text"])
                for r in replacements] == [(s["start"], s["end"] - s["start"], s["text"]) for s in v["suggestions"]]


def test_github_annotations_carry_the_same_places(cli, drafts, contract):
    out = run_format(cli, drafts, "github").splitlines()
    command = re.compile(r"::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),"
                         r"endColumn=(\d+),title=toneguard ([a-z-]+)::(.+)")
    parsed = [command.fullmatch(line).groups() for line in out]
    level = {"error": "error", "warning": "warning", "info": "notice"}
    assert [p[:7] for p in parsed] == [
        (level[v["severity"]], path, str(v["line"]), str(v["column"]), str(v["end_line"]), str(v["end_column"]),
         v["rule"]) for path, v in findings(contract)]
    for (*_, message), (_, v) in zip(parsed, findings(contract)):
        assert message.startswith(v["message"])
