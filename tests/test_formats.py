"""Every output format on the same findings: each must say what the JSON contract says,
and the machine formats must validate against their published schemas."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from urllib.parse import unquote

import jsonschema
import pytest

from conftest import REPO, RULE_TEMPLATE as RULE

REPORT_SCHEMA = json.loads((REPO / "toneguard" / "schema" / "report-v1.schema.json").read_text())
# The OASIS SARIF 2.1.0 schema (final, "rtm.5"), as published in @microsoft/jest-sarif.
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-2.1.0.schema.json").read_text())
DRAFT = "Hi Priya,\n\nThanks for nothing!! I REALLY wanted the analyst role.\n\nJane\n"
# Checks "format": "uri-reference" by RFC 3986 (with rfc3986-validator installed).
FORMATS = jsonschema.FormatChecker()
MULTITOOL = "@microsoft/sarif-multitool@5.7.0"


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
    jsonschema.validate(sarif, SARIF_SCHEMA, format_checker=FORMATS)
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


def sarif_uris(sarif: dict) -> set[str]:
    results = sarif["runs"][0]["results"]
    return ({r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
            | {c["artifactLocation"]["uri"] for r in results for f in r.get("fixes", ()) for c in f["artifactChanges"]})


@pytest.fixture
def awkward_names(workdir):
    """A relative and an absolute path that are not URI references as they stand."""
    (workdir / "my draft 100%.txt").write_text(DRAFT)
    (workdir / "sub dir").mkdir()
    (workdir / "sub dir" / "a:b#c.txt").write_text(DRAFT)
    return ["my draft 100%.txt", str(workdir / "sub dir" / "a:b#c.txt")]


def test_sarif_uris_are_percent_encoded_uri_references(cli, workdir, awkward_names):
    assert "uri-reference" in FORMATS.checkers  # otherwise the format check below checks nothing
    run = cli("check", "--format", "sarif", *awkward_names)
    sarif = json.loads(run.out)
    jsonschema.validate(sarif, SARIF_SCHEMA, format_checker=FORMATS)
    absolute = "file://" + str(workdir).replace(" ", "%20") + "/sub%20dir/a%3Ab%23c.txt"
    assert sarif_uris(sarif) == {"my%20draft%20100%25.txt", absolute}
    assert unquote(absolute.removeprefix("file://")) == awkward_names[1]


@pytest.mark.slow
def test_sarif_passes_microsofts_sarif_multitool(cli, workdir, awkward_names, request):
    """The SARIF SDK's own validator (a self-contained .NET build, from the npm registry)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    tools = request.config.cache.mkdir("sarif-multitool")
    subprocess.run(["npm", "install", "--prefix", str(tools), "--no-save", "--no-audit", "--no-fund", MULTITOOL],
                   check=True, capture_output=True, timeout=600)
    binary = subprocess.run(["node", "-p", "require('@microsoft/sarif-multitool')"], cwd=tools, check=True,
                            capture_output=True, text=True).stdout.strip()
    os.chmod(binary, 0o755)  # npm may not run the package's own chmod step
    (workdir / "not utf-8.txt").write_bytes("Merci, Chlo\xe9".encode("latin-1"))  # a notification, too
    (workdir / "report.sarif").write_text(cli("check", "--format", "sarif", *awkward_names, "not utf-8.txt").out)
    validation = subprocess.run([binary, "validate", "report.sarif", "--output", "validation.sarif",
                                 "--log", "ForceOverwrite"], cwd=workdir, capture_output=True, text=True, timeout=300)
    problems = json.loads((workdir / "validation.sarif").read_text(encoding="utf-8-sig"))["runs"][0]["results"]
    assert [(p["ruleId"], p["message"]) for p in problems] == [], validation.stdout
    assert validation.returncode == 0, validation.stdout


def test_offsets_count_the_text_after_a_byte_order_mark_in_json_sarif_and_fix(cli, workdir):
    path = workdir / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + DRAFT.replace("\n", "\r\n").encode())
    data = path.read_bytes()
    report = json.loads(cli("check", "--format", "json", "bom.txt").out)
    violations = report["files"][0]["violations"]
    assert violations
    without_mark, with_mark = data.decode("utf-8-sig"), data.decode("utf-8")
    for v in violations:  # as documented: exact in the text after the mark, one further on with it
        assert without_mark[v["start"]:v["end"]] == v["text"] == with_mark[v["start"] + 1:v["end"] + 1]
    sarif = json.loads(cli("check", "--format", "sarif", "bom.txt").out)
    assert [r["locations"][0]["physicalLocation"]["region"]["charOffset"] for r in sarif["runs"][0]["results"]] == [
        v["start"] for v in violations]
    assert json.loads(cli("check", "--format", "json", "-", stdin=data).out)["files"][0]["violations"] == violations
    # The safe suggestions applied at those offsets give what `toneguard fix` writes.
    safe = sorted((s for v in violations for s in v["suggestions"] if s["safe"]), key=lambda s: -s["start"])
    expected = without_mark
    for suggestion in safe:
        expected = expected[:suggestion["start"]] + suggestion["text"] + expected[suggestion["end"]:]
    assert len(safe) == 2 and cli("fix", "bom.txt").code == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + expected.encode()
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## JSON output", 1)[1].split("\n## ", 1)[0]
    assert "byte-order mark" in readme and 'encoding="utf-8-sig"' in readme


def test_github_annotations_have_no_columns_for_a_finding_across_lines(cli, workdir):
    (workdir / "a.txt").write_text("Hi Priya,\n\nThank you for the tour. I guess you found\nsomeone cheaper.\n\nJane\n")
    findings = json.loads(cli("check", "--format", "json", "a.txt").out)["files"][0]["violations"]
    across = [v for v in findings if v["line"] != v["end_line"]]
    assert [v["rule"] for v in across] == ["bitterness"]
    out = cli("check", "--format", "github", "a.txt").out.splitlines()
    assert out[[v["rule"] for v in findings].index("bitterness")] == (
        "::error file=a.txt,line=3,endLine=4,title=toneguard bitterness::"
        + across[0]["message"] + " Suggestion: " + across[0]["suggestions"][0]["description"])


FINDING_LINE = re.compile(r"\S+:\d+:\d+: (error|warning|info) [a-z-]+ \S.*")
LONG_LETTER = "Hi Priya,\n\n" + "\n\n".join(
    " ".join(f"{opening} the tour of the lab number {n} on Tuesday, with its {n} teams." for n in range(3))
    for opening in ("Thank you for", "I enjoyed", "Please keep me in mind after")) + "\n\nJane\n"


def test_text_output_keeps_each_finding_on_one_line(cli, workdir):
    """A custom rule's message and too-long's rewrite across paragraphs hold line breaks."""
    (workdir / ".toneguard.yaml").write_text("rule-dirs: [rules]\n")
    (workdir / "rules").mkdir()
    (workdir / "rules" / "house-style.yaml").write_text(RULE.format(id="house-style").replace(
        'message: Says "synergy".', 'message: |\n  Says "synergy".\n  Say what you mean instead.'))
    (workdir / "a.txt").write_text(LONG_LETTER.replace("with its", "with its synergy and its", 1))
    findings = json.loads(cli("check", "--format", "json", "a.txt").out)["files"][0]["violations"]
    multiline = {v["rule"] for v in findings if "\n" in v["message"] + "".join(s["text"] for s in v["suggestions"])}
    assert multiline == {"house-style", "too-long"}
    out = cli("check", "a.txt").out.splitlines()
    assert [line for line in out[:-1] if not line.startswith("    → ")] == [
        line for line in out if FINDING_LINE.fullmatch(line)]
    assert len([line for line in out if FINDING_LINE.fullmatch(line)]) == len(findings)
    assert "house-style Says \"synergy\".⏎Say what you mean instead.\n" in "\n".join(out)
    assert "with its 2 teams.⏎⏎I enjoyed" in "\n".join(out)
    assert out[-1].startswith("Found ")


@pytest.fixture
def broken(workdir):
    """A bitter draft, an unreadable one, and one under a config naming an unknown rule."""
    (workdir / "letters" / "strict").mkdir(parents=True)
    (workdir / "letters" / "a.txt").write_text(DRAFT)
    (workdir / "letters" / "b.txt").write_bytes("Merci, Chlo\xe9".encode("latin-1"))
    (workdir / "letters" / "strict" / ".toneguard.yaml").write_text("select: [rudeness]\n")
    (workdir / "letters" / "strict" / "c.txt").write_text(DRAFT)
    config = workdir.resolve() / "letters" / "strict" / ".toneguard.yaml"
    return {"letters/b.txt": "letters/b.txt: not UTF-8 text (byte 0xe9 at offset 11)",
            "letters/strict/c.txt": f"{config}: select: unknown rule 'rudeness' (see `toneguard rules`)"}


def test_errors_are_in_every_format_and_the_summary_names_a_broken_config(cli, broken):
    stderr = "".join(f"toneguard: {message}\n" for message in broken.values())
    text = cli("check", "letters")
    assert (text.code, text.err) == (2, stderr)
    assert re.fullmatch(r"Found \d+ problems \(.+\) in 1 of 1 draft; 1 could not be read; 1 not linted because "
                        r"of a configuration error\.( \d+ fixable with `toneguard fix`\.)?", text.out.splitlines()[-1])
    report = json.loads(cli("check", "--format", "json", "letters").out)
    jsonschema.validate(report, REPORT_SCHEMA)
    assert [f["path"] for f in report["files"]] == ["letters/a.txt"]
    assert report["errors"] == [{"path": path, "message": message} for path, message in broken.items()]
    sarif = json.loads(cli("check", "--format", "sarif", "letters").out)
    jsonschema.validate(sarif, SARIF_SCHEMA, format_checker=FORMATS)
    [invocation] = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert [(n["level"], n["message"]["text"], n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for n in invocation["toolExecutionNotifications"]] == [
        ("error", message, path) for path, message in broken.items()]
    github = cli("check", "--format", "github", "letters")
    assert github.code == 2 and github.out.splitlines()[-2:] == [
        f"::error file={path},title=toneguard::{message}" for path, message in broken.items()]


def test_a_clean_run_says_so_in_json_and_sarif(cli, drafts):
    assert json.loads(run_format(cli, drafts, "json"))["errors"] == []
    [invocation] = json.loads(run_format(cli, drafts, "sarif"))["runs"][0]["invocations"]
    assert invocation == {"executionSuccessful": True, "toolExecutionNotifications": []}


def test_an_unknown_rule_in_a_comment_is_a_sarif_result_with_its_descriptor(cli, workdir):
    (workdir / "a.md").write_text("Hi Priya,\n\n<!-- toneguard-disable-next-line bitternes -->\n" + DRAFT[11:])
    sarif = json.loads(cli("check", "--format", "sarif", "a.md").out)
    jsonschema.validate(sarif, SARIF_SCHEMA, format_checker=FORMATS)
    run = sarif["runs"][0]
    [typo] = [r for r in run["results"] if r["ruleId"] == "unknown-rule"]
    assert typo["locations"][0]["physicalLocation"]["region"]["snippet"]["text"] == "bitternes"
    descriptors = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert descriptors["unknown-rule"]["defaultConfiguration"]["level"] == "error"


def test_a_deletion_at_the_start_of_a_sentence_is_described_as_one(cli, workdir):
    """Deleting "XYZ" moves the capital to the next word: the edit's text is "W", but it deletes."""
    draft = "Hi Priya,\n\nThank you for the tour of the lab. XYZ was a great team to meet.\n\nJane\n"
    (workdir / "a.txt").write_text(draft)
    [slot] = [v for v in json.loads(cli("check", "--format", "json", "a.txt").out)["files"][0]["violations"]
              if v["rule"] == "placeholder"]
    assert [(s["text"], draft[s["start"]:s["end"]]) for s in slot["suggestions"]] == [("W", "XYZ w")]
    assert "    → delete “XYZ”" in cli("check", "a.txt").out.splitlines()


CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but \t and \n
OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("colour", ["--no-color", "--color"])
def test_no_escape_sequence_from_a_draft_or_its_name_reaches_the_terminal(cli, workdir, colour):
    """An OSC (ESC ] 0 ; ... BEL, sets the window title), a CSI (ESC [ 2 J, clears the screen)
    and a C1 CSI (U+009B) in a file name and in a template slot the text output quotes."""
    (workdir / "a\x1b]0;pwned\x07.txt").write_text(
        "Hi Priya,\n\nThank you for the tour of the [Company\x1b[2J\x9b31m] lab. Please keep me in mind.\n\nJane\n")
    (workdir / "b\x1b[2J.txt").write_bytes("Merci, Chlo\xe9".encode("latin-1"))  # unreadable: named on stderr
    run = cli("check", colour, ".")
    assert run.code == 2 and run.err == "toneguard: b\\x1b[2J.txt: not UTF-8 text (byte 0xe9 at offset 11)\n"
    assert not CONTROLS.search(OUR_COLOURS.sub("", run.out)), repr(run.out)
    plain = OUR_COLOURS.sub("", run.out)
    assert "a\\x1b]0;pwned\\x07.txt:3:31: error placeholder " in plain
    assert "delete “[Company\\x1b[2J\\x9b31m]”" in plain
    assert all(FINDING_LINE.fullmatch(line) or line.startswith("    → ") for line in plain.splitlines()[:-1])


def test_file_names_that_are_not_utf8_or_hold_a_line_break_keep_every_format_valid(cli, workdir):
    try:
        (workdir / os.fsdecode(b"caf\xe9 two\nlines.txt")).write_text("Hi Priya,\n\nThanks for nothing.\n")
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    text = cli("check", ".").out
    assert any(line.startswith("caf\\xe9 two⏎lines.txt:3:1: error bitterness ") for line in text.splitlines())
    report = json.loads(cli("check", "--format", "json", ".").out.encode("utf-8"))
    assert [f["path"] for f in report["files"]] == ["caf\ufffd two\nlines.txt"]
    sarif = json.loads(cli("check", "--format", "sarif", ".").out.encode("utf-8"))
    jsonschema.validate(sarif, SARIF_SCHEMA, format_checker=FORMATS)
    assert sarif_uris(sarif) == {"caf%E9%20two%0Alines.txt"}
    github = cli("check", "--format", "github", ".").out.encode("utf-8").decode("utf-8")
    assert all(line.startswith("::") for line in github.splitlines())
    assert "file=caf\ufffd two%0Alines.txt," in github
