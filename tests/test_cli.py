"""The command line as a user meets it: acceptance cases, exit codes, errors, output formats."""
from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest

from conftest import CORPUS, REPO

SCHEMA = json.loads((REPO / "toneguard" / "schema" / "report-v1.schema.json").read_text())
SAMPLE = CORPUS / "examples" / "seed-000-sample.txt"
FILLED = CORPUS / "examples" / "seed-000-filled.txt"

EML = """From: Jane Doe <jane@example.com>
To: {to}
{cc}Subject: Thank you
Date: Tue, 3 Mar 2026 10:02:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi Priya,

Thank you for letting me know about the analyst role at Acme, and for the tour
of the warehouse. Please keep me in mind for future openings.

Best,
Jane
"""


def _findings(run, rule=None):
    pattern = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<severity>\w+) (?P<rule>[a-z-]+) ", re.M)
    found = [m.groupdict() for m in pattern.finditer(run.out)]
    return [f for f in found if rule is None or f["rule"] == rule]


def test_seed_sample_letter_reports_its_slots_where_they_are(cli, workdir):
    run = cli("check", str(SAMPLE))
    text = SAMPLE.read_text()
    slots = {(f["line"], f["col"]) for f in _findings(run, "placeholder")}
    for slot in ("(Interviewer’s name)", "[open position]"):
        offset = text.index(slot)
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        assert (str(line), str(column)) in slots, (slot, run)
    first_six = {"placeholder", "mass-cc", "too-long", "missing-thanks", "feedback-first", "challenges-decision"}
    assert {f["rule"] for f in _findings(run)} & first_six == {"placeholder"}
    assert run.code == 1


def test_seed_sample_letter_with_its_slots_filled_is_clean(cli, workdir):
    run = cli("check", str(FILLED))
    assert _findings(run) == [] and run.code == 0, run
    assert "No problems in 1 draft." in run.out


@pytest.mark.parametrize("to, cc, expected", [
    ("Priya Shah <priya@acme.example>, Marcus Lee <marcus@acme.example>", "Cc: dana@acme.example\n", 1),
    ("Priya Shah <priya@acme.example>", "", 0),
    ("careers@acme.example", "Cc:\n", 0),
])
def test_recipients_of_an_email_feed_mass_cc(cli, workdir, to, cc, expected):
    path = workdir / "note.eml"
    path.write_text(EML.format(to=to, cc=cc))
    run = cli("check", str(path))
    found = _findings(run, "mass-cc")
    assert len(found) == expected, run
    if expected:
        assert found[0]["line"] == "2"  # it points at the To: header


def test_stdin_challenge_exits_one(cli, workdir):
    run = cli("check", "-", stdin="Frankly I was the most qualified candidate.")
    assert run.code == 1
    assert any(f["rule"] == "challenges-decision" and f["path"] == "-" for f in _findings(run)), run


def test_other_files_are_still_reported_beside_a_bad_one(cli, workdir):
    (workdir / "bad.png").write_bytes(b"\x89PNG\x00")
    (workdir / "bitter.txt").write_text("Hi Priya,\n\nThanks for nothing.\n\nJane\n")
    run = cli("check", "bad.png", "bitter.txt")
    assert run.code == 2
    assert "bad.png: binary file" in run.err
    assert any(f["rule"] == "bitterness" for f in _findings(run))


def test_a_folder_is_searched_recursively_for_drafts(cli, workdir):
    (workdir / "letters" / "old").mkdir(parents=True)
    (workdir / "letters" / "a.txt").write_text("Thanks for nothing.\n")
    (workdir / "letters" / "old" / "b.md").write_text("Please reconsider.\n")
    (workdir / "letters" / "notes.json").write_text("{}")
    run = cli("check", "letters", "--format", "json")
    paths = [f["path"] for f in json.loads(run.out)["files"]]
    assert paths == [str(Path("letters/a.txt")), str(Path("letters/old/b.md"))]


def test_json_output_follows_the_contract_and_its_schema(cli, workdir):
    run = cli("check", str(SAMPLE), str(FILLED), "--format", "json")
    data = json.loads(run.out)
    jsonschema.validate(data, SCHEMA)
    text = SAMPLE.read_text()
    violations = data["files"][0]["violations"]
    assert violations and data["files"][1]["violations"] == []
    for v in violations:
        assert v["text"] == text[v["start"]:v["end"]]
        for s in v["suggestions"]:
            assert 0 <= s["start"] <= s["end"] <= len(text)


def test_json_schema_rejects_a_broken_report():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "files": [{"path": "a", "violations": [{"rule": "x"}]}]}, SCHEMA)


def test_fail_on_sets_the_threshold(cli, workdir):
    (workdir / "loud.txt").write_text(
        "Hi Priya,\n\nThank you for the tour of the lab on Tuesday!! Please keep me in mind "
        "for future openings.\n\nJane\n")
    assert cli("check", "loud.txt").code == 0  # raw-emotion is info, below the default
    assert cli("check", "loud.txt", "--fail-on", "info").code == 1


def test_unknown_format_is_a_usage_error(cli, workdir):
    run = cli("check", str(FILLED), "--format", "xml")
    assert run.code == 2 and "unknown format 'xml'" in run.err


def test_rules_lists_the_catalog(cli):
    run = cli("rules")
    lines = run.out.strip().splitlines()
    assert len(lines) == 13
    assert re.match(r"bitterness\s+error\s+\S", lines[0])


def test_explain_tells_a_rules_story(cli):
    run = cli("explain", "broad-feedback-question")
    assert run.code == 0
    for part in ("What it flags:", "Why it matters:", "Fires on:", "Stays quiet on:", "Suggested rewrites:"):
        assert part in run.out
    # Its sources (002 and 003) by title and publisher, and the address where one is known.
    sources = run.out.split("Where the advice comes from:\n")[1].split("\n\n")[0]
    assert "“A 3-Step Plan for Turning a Job Rejection Into an Opportunity”, The Muse — “" in " ".join(sources.split())
    assert "So You Received a Rejection Letter....Now What?" in sources and "article 00" not in sources
    run = cli("explain", "bitterness")
    assert "\n  https://www.askamanager.org/2013/01/how-to-respond-to-job-rejection-and-even-make-it-work-for-you.html\n" in run.out


def test_explain_unknown_rule(cli):
    run = cli("explain", "rudeness")
    assert run.code == 2 and run.err.strip() == "toneguard: unknown rule 'rudeness' (see `toneguard rules`)"


def test_an_unreadable_folder_is_reported_not_skipped(cli, workdir, monkeypatch):
    (workdir / "letters" / "locked").mkdir(parents=True)
    (workdir / "letters" / "a.txt").write_text(
        "Hi Priya,\n\nThank you for the tour of the lab. Please keep me in mind.\n\nJane\n")
    locked = workdir / "letters" / "locked"
    (locked / "bitter.txt").write_text("Hi Priya,\n\nThanks for nothing.\n")
    if os.geteuid() == 0:  # chmod does not lock root out: give the answer anyone else gets
        scandir = os.scandir

        def denied(path="."):
            if os.path.abspath(path) == str(locked):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
            return scandir(path)

        monkeypatch.setattr(os, "scandir", denied)
    locked.chmod(0)
    try:
        run = cli("check", "letters")
    finally:
        locked.chmod(0o755)
    assert (run.code, run.err) == (2, f"toneguard: {Path('letters/locked')}: cannot read folder: Permission denied\n")
    assert run.out.splitlines()[-1] == "No problems in 1 draft; 1 could not be read."
