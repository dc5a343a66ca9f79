"""Output formats: one emitter per format, looked up by name.

An emitter takes the stream of Reports and writes them; it never re-reads or
re-parses anything. Installed packages add formats through the
`toneguard.formats` entry point group.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, TextIO
from urllib.parse import quote

import click

from . import __version__, plugins
from .articles import cite
from .report import UNKNOWN_RULE, UNKNOWN_RULE_MESSAGE, Report, Suggestion, Violation

if TYPE_CHECKING:  # rules load on demand: `check --server` prints without them
    from .rules import Rule

JSON_VERSION = 1
HOMEPAGE = "https://github.com/toneguard/toneguard"


@dataclass
class Tally:
    """What the run found, for the summary line and the exit code."""

    drafts: int = 0
    errors: int = 0  # drafts that could not be linted
    config_errors: int = 0  # of those, the ones stopped by a broken config rather than the draft
    by_severity: dict = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    fixable: int = 0
    flagged_drafts: int = 0

    def count(self, report: Report) -> Report:
        if report.error:
            self.errors += 1
            self.config_errors += report.config_error
            return report
        self.drafts += 1
        self.flagged_drafts += bool(report.violations)
        for violation in report.violations:
            self.by_severity[violation.severity] += 1
            self.fixable += any(s.safe for s in violation.suggestions)
        return report


@dataclass
class Output:
    stream: TextIO
    color: bool = False
    rules: dict[str, Rule] = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)
    errors: TextIO | None = None  # where unreadable drafts are reported (stderr)
    failed: list[Report] = field(default_factory=list)  # the drafts that could not be linted
    said: set[str] = field(default_factory=set, repr=False)

    def error(self, report: Report) -> None:
        """Say it on stderr, once: a broken config stops every draft under it with the same line."""
        if report.error not in self.said:
            self.said.add(report.error)
            click.echo(f"toneguard: {printable(report.error)}", file=self.errors, color=self.color)
        self.failed.append(report)


Emitter = Callable[[Iterable[Report], Output], None]


def _counted(reports: Iterable[Report], output: Output) -> Iterable[Report]:
    """Tally every report and send errors to stderr (and `output.failed`); yield the ones
    that were linted."""
    for report in reports:
        report = report.as_shown()
        output.tally.count(report)
        if report.error:
            output.error(report)
        else:
            yield report


# --- text -----------------------------------------------------------------------

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_UNPRINTABLE = re.compile(r"\r\n|[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str) -> str:
    """Text from a draft or a file name, safe for a line of its own on a terminal: a line
    break shows as ⏎ (each finding stays one line, as editors' error formats and `grep`
    read it), other control characters as \\xNN, so no escape sequence reaches the terminal,
    and a byte of a file name that is not UTF-8 as \\xNN too."""
    return _UNPRINTABLE.sub(_shown, text)


def _shown(match: re.Match) -> str:
    char = match.group()
    if _LINE_BREAKS.fullmatch(char):
        return "⏎"
    code = ord(char) - 0xDC00 if "\udc80" <= char <= "\udcff" else ord(char)  # os.fsdecode's escape of a byte
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unicode_only(text: str) -> str:
    """Machine output must be valid UTF-8: a file name's bytes that are not UTF-8 (which
    Python keeps as lone surrogates) become U+FFFD, as in other tools' JSON."""
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)


def describe(suggestion: Suggestion, violation: Violation) -> str:
    """One line saying what a suggestion does, for people (the text output marks safe ones)."""
    if suggestion.description:
        return suggestion.description
    if suggestion.start == suggestion.end:
        return f"add {suggestion.where or 'here'}: “{suggestion.text.strip()}”"
    if not suggestion.text or suggestion.deletes:
        return f"delete {suggestion.where or f'“{violation.text}”'}"
    if suggestion.where:
        return f"rewrite {suggestion.where} as “{suggestion.text.strip()}”"
    if (suggestion.start, suggestion.end) == (violation.start, violation.end):
        return f"replace with “{suggestion.text}”"
    return f"rewrite as “{suggestion.text}”"


def labelled(suggestion: Suggestion, violation: Violation) -> str:
    """The description with a mark on a safe fix, for menus and terminals."""
    return describe(suggestion, violation) + (" [safe fix]" if suggestion.safe else "")


def emit_text(reports: Iterable[Report], output: Output) -> None:
    style = (lambda text, **kw: click.style(text, **kw)) if output.color else (lambda text, **kw: text)
    echo = lambda text="": click.echo(text, file=output.stream, color=output.color)  # noqa: E731
    for report in _counted(reports, output):
        for v in report.violations:
            location = style(f"{printable(report.path)}:{v.line}:{v.column}:", bold=True)
            severity = style(v.severity, fg=_COLORS[v.severity], bold=True)
            echo(f"{location} {severity} {style(v.rule, dim=True)} {printable(v.message)}")
            for suggestion in v.suggestions:
                echo(f"    {style('→', fg='green')} {printable(labelled(suggestion, v))}")
    echo(summary(output.tally))


def summary(tally: Tally) -> str:
    counts = tally.by_severity
    problems = sum(counts.values())
    drafts = f"{tally.drafts} draft{'s' if tally.drafts != 1 else ''}"
    unread, config = tally.errors - tally.config_errors, tally.config_errors
    not_linted = (f"; {unread} could not be read" if unread else "") + (
        f"; {config} not linted because of a configuration error" if config else "")
    if not problems:
        return f"No problems in {drafts}{not_linted}."
    parts = ", ".join(f"{n} {name}{'s' if n != 1 and name != 'info' else ''}"
                      for name, n in (("error", counts["error"]), ("warning", counts["warning"]),
                                      ("info", counts["info"])) if n)
    fixable = f" {tally.fixable} fixable with `toneguard fix`." if tally.fixable else ""
    return (f"Found {problems} problem{'s' if problems != 1 else ''} ({parts}) in "
            f"{tally.flagged_drafts} of {drafts}{not_linted}.{fixable}")


# --- json -------------------------------------------------------------------------


def violation_json(v: Violation, overlaps: list[int] = ()) -> dict:
    return {
        "rule": v.rule, "severity": v.severity, "message": v.message,
        "line": v.line, "column": v.column, "end_line": v.end_line, "end_column": v.end_column,
        "start": v.start, "end": v.end, "text": v.text,
        "suggestions": [{"text": s.text, "start": s.start, "end": s.end, "safe": s.safe, "where": s.where,
                         "deletes": s.deletes, "kind": s.kind, "description": describe(s, v)}
                        for s in v.suggestions],
        "overlaps": list(overlaps),
    }


def overlapping(violations) -> list[list[int]]:
    """For each finding, the other findings (by index) whose suggested edits touch the same
    text: applying one changes what the other would edit."""
    spans = [[(s.start, s.end) for s in v.suggestions] for v in violations]

    def touch(a, b) -> bool:
        return any(x0 < y1 and y0 < x1 or x0 == x1 == y0 == y1 for x0, x1 in a for y0, y1 in b)

    return [[j for j in range(len(spans)) if j != i and touch(spans[i], spans[j])] for i in range(len(spans))]


def report_document(reports: Iterable[Report]) -> dict:
    """The versioned JSON document for drafts, as output shows them (those that could not be
    linted under `errors`): what `--format json` prints and what `toneguard serve` answers on
    /api/check, made in this one place."""
    reports = [report.as_shown() for report in reports]
    return {"version": JSON_VERSION,
            "files": [{"path": r.path, "violations": [violation_json(v, o) for v, o in
                                                      zip(r.violations, overlapping(r.violations))]}
                      for r in reports if not r.error],
            "errors": [{"path": r.path, "message": r.error} for r in reports if r.error]}


def report_from_document(document: dict) -> list[Report]:
    """The Reports a document describes, its errors last (a client of `toneguard serve` prints
    them as a local run would)."""
    def known(record: dict, kind) -> dict:  # a newer server may add fields
        return {name: record[name] for name in kind.__dataclass_fields__ if name in record}

    return [Report(entry["path"], tuple(
        Violation(**{**known(v, Violation), "suggestions": tuple(Suggestion(**known(s, Suggestion))
                                                                 for s in v["suggestions"])})
        for v in entry["violations"])) for entry in document["files"]] + [
        Report(entry["path"], error=entry["message"]) for entry in document.get("errors", ())]


def emit_json(reports: Iterable[Report], output: Output) -> None:
    linted = list(_counted(reports, output))
    document = report_document(linted + output.failed)
    output.stream.write(unicode_only(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")


# --- github workflow commands ------------------------------------------------------


def _escape(value: str, property_value: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_value else value


def emit_github(reports: Iterable[Report], output: Output) -> None:
    level = {"error": "error", "warning": "warning", "info": "notice"}
    for report in _counted(reports, output):
        for v in report.violations:
            # GitHub takes columns only for a finding on one line.
            columns = (("col", v.column), ("endColumn", v.end_column)) if v.line == v.end_line else ()
            props = ",".join(f"{key}={_escape(str(value), True)}" for key, value in (
                ("file", report.path), ("line", v.line), *columns[:1], ("endLine", v.end_line), *columns[1:],
                ("title", f"toneguard {v.rule}")))
            hint = f" Suggestion: {describe(v.suggestions[0], v)}" if v.suggestions else ""
            output.stream.write(unicode_only(f"::{level[v.severity]} {props}::{_escape(v.message + hint)}\n"))
    for report in output.failed:
        output.stream.write(unicode_only(
            f"::error file={_escape(report.path, True)},title=toneguard::{_escape(report.error)}\n"))


# --- sarif ---------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def artifact_uri(path: str) -> str:
    """A path as SARIF wants it, a URI reference (RFC 3986): percent-encoded, with forward
    slashes, and absolute paths as file:// URIs. Bytes of a name that is not UTF-8 stay exact."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(os.fsencode(path.replace(os.sep, "/")), safe="/")


def emit_sarif(reports: Iterable[Report], output: Output) -> None:
    level = {"error": "error", "warning": "warning", "info": "note"}
    results = []
    for report in _counted(reports, output):
        uri = artifact_uri(report.path)
        for v in report.violations:
            result = {
                "ruleId": v.rule,
                "level": level[v.severity],
                "message": {"text": v.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": v.line, "startColumn": v.column,
                               "endLine": v.end_line, "endColumn": v.end_column,
                               "charOffset": v.start, "charLength": v.end - v.start,
                               "snippet": {"text": v.text}},
                }}],
            }
            if v.suggestions:
                result["fixes"] = [{
                    "description": {"text": describe(s, v)},
                    "artifactChanges": [{
                        "artifactLocation": {"uri": uri},
                        "replacements": [{"deletedRegion": {"charOffset": s.start, "charLength": s.end - s.start},
                                          "insertedContent": {"text": s.text}}],
                    }],
                } for s in v.suggestions]
            results.append(result)
    rules = [{
        "id": rule.id,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.message},
        "help": {"text": "\n".join([rule.why, "", "Sources:"] + [cite(a, q) for a, q in rule.sources])},
        "defaultConfiguration": {"level": level[rule.severity]},
    } for rule in output.rules.values()]
    rules.append({"id": UNKNOWN_RULE, "shortDescription": {"text": "A toneguard comment names an unknown rule"},
                  "fullDescription": {"text": UNKNOWN_RULE_MESSAGE},
                  "help": {"text": "A misspelt id in a suppression comment would silently switch nothing off."},
                  "defaultConfiguration": {"level": "error"}})
    notifications = [{
        "level": "error", "message": {"text": report.error},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(report.path)}}}],
    } for report in output.failed]
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "toneguard", "version": __version__,
                                "informationUri": HOMEPAGE, "rules": rules}},
            "invocations": [{"executionSuccessful": not notifications,
                             "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    output.stream.write(unicode_only(json.dumps(sarif, ensure_ascii=False, indent=2)) + "\n")


BUILTIN: dict[str, Emitter] = {"text": emit_text, "json": emit_json, "github": emit_github, "sarif": emit_sarif}


def available_formats() -> dict[str, Emitter]:
    return {**BUILTIN, **{name: emit for name, emit in plugins.load("toneguard.formats").items()
                          if name not in BUILTIN}}
