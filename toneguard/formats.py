"""Output formats: one emitter per format, looked up by name.

An emitter takes the stream of Reports and writes them; it never re-reads or
re-parses anything. Installed packages add formats through the
`toneguard.formats` entry point group.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, TextIO

import click

from . import __version__
from .report import Report, Suggestion, Violation

if TYPE_CHECKING:  # rules load on demand: `check --server` prints without them
    from .rules import Rule

JSON_VERSION = 1
HOMEPAGE = "https://github.com/toneguard/toneguard"


@dataclass
class Tally:
    """What the run found, for the summary line and the exit code."""

    drafts: int = 0
    errors: int = 0  # drafts that could not be read
    by_severity: dict = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    fixable: int = 0
    flagged_drafts: int = 0

    def count(self, report: Report) -> Report:
        if report.error:
            self.errors += 1
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

    def error(self, report: Report) -> None:
        click.echo(f"toneguard: {report.error}", file=self.errors, color=self.color)


Emitter = Callable[[Iterable[Report], Output], None]


def _counted(reports: Iterable[Report], output: Output) -> Iterable[Report]:
    """Tally every report and send read errors to stderr; yield the ones that were linted."""
    for report in reports:
        output.tally.count(report)
        if report.error:
            output.error(report)
        else:
            yield report


# --- text -----------------------------------------------------------------------

_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}


def describe(suggestion: Suggestion, violation: Violation) -> str:
    """One line saying what a suggestion does, for people."""
    safe = " [safe fix]" if suggestion.safe else ""
    if suggestion.start == suggestion.end:
        return f"add {suggestion.where or 'here'}: “{suggestion.text.strip()}”{safe}"
    if not suggestion.text:
        what = suggestion.where or f"“{violation.text}”"
        return f"delete {what}{safe}"
    if suggestion.where:
        return f"rewrite {suggestion.where} as “{suggestion.text.strip()}”{safe}"
    if (suggestion.start, suggestion.end) == (violation.start, violation.end):
        return f"replace with “{suggestion.text}”{safe}"
    return f"rewrite as “{suggestion.text}”{safe}"


def emit_text(reports: Iterable[Report], output: Output) -> None:
    style = (lambda text, **kw: click.style(text, **kw)) if output.color else (lambda text, **kw: text)
    echo = lambda text="": click.echo(text, file=output.stream, color=output.color)  # noqa: E731
    for report in _counted(reports, output):
        for v in report.violations:
            location = style(f"{report.path}:{v.line}:{v.column}:", bold=True)
            severity = style(v.severity, fg=_COLORS[v.severity], bold=True)
            echo(f"{location} {severity} {style(v.rule, dim=True)} {v.message}")
            for suggestion in v.suggestions:
                echo(f"    {style('→', fg='green')} {describe(suggestion, v)}")
    echo(summary(output.tally))


def summary(tally: Tally) -> str:
    counts = tally.by_severity
    problems = sum(counts.values())
    drafts = f"{tally.drafts} draft{'s' if tally.drafts != 1 else ''}"
    unreadable = f"; {tally.errors} could not be read" if tally.errors else ""
    if not problems:
        return f"No problems in {drafts}{unreadable}."
    parts = ", ".join(f"{n} {name}{'s' if n != 1 and name != 'info' else ''}"
                      for name, n in (("error", counts["error"]), ("warning", counts["warning"]),
                                      ("info", counts["info"])) if n)
    fixable = f" {tally.fixable} fixable with `toneguard fix`." if tally.fixable else ""
    return (f"Found {problems} problem{'s' if problems != 1 else ''} ({parts}) in "
            f"{tally.flagged_drafts} of {drafts}{unreadable}.{fixable}")


# --- json -------------------------------------------------------------------------


def violation_json(v: Violation) -> dict:
    return {
        "rule": v.rule, "severity": v.severity, "message": v.message,
        "line": v.line, "column": v.column, "end_line": v.end_line, "end_column": v.end_column,
        "start": v.start, "end": v.end, "text": v.text,
        "suggestions": [{"text": s.text, "start": s.start, "end": s.end, "safe": s.safe, "where": s.where}
                        for s in v.suggestions],
    }


def report_document(reports: Iterable[Report]) -> dict:
    """The versioned JSON document for linted drafts: what `--format json` prints and
    what `toneguard serve` answers on /api/check, made in this one place."""
    return {"version": JSON_VERSION,
            "files": [{"path": r.path, "violations": [violation_json(v) for v in r.violations]} for r in reports]}


def report_from_document(document: dict) -> list[Report]:
    """The Reports a document describes (a client of `toneguard serve` prints them as a local run would)."""
    def known(record: dict, kind) -> dict:  # a newer server may add fields
        return {name: record[name] for name in kind.__dataclass_fields__ if name in record}

    return [Report(entry["path"], tuple(
        Violation(**{**known(v, Violation), "suggestions": tuple(Suggestion(**known(s, Suggestion))
                                                                 for s in v["suggestions"])})
        for v in entry["violations"])) for entry in document["files"]]


def emit_json(reports: Iterable[Report], output: Output) -> None:
    json.dump(report_document(_counted(reports, output)), output.stream, ensure_ascii=False, indent=2)
    output.stream.write("\n")


# --- github workflow commands ------------------------------------------------------


def _escape(value: str, property_value: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_value else value


def emit_github(reports: Iterable[Report], output: Output) -> None:
    level = {"error": "error", "warning": "warning", "info": "notice"}
    for report in _counted(reports, output):
        for v in report.violations:
            props = ",".join(f"{key}={_escape(str(value), True)}" for key, value in (
                ("file", report.path), ("line", v.line), ("col", v.column),
                ("endLine", v.end_line), ("endColumn", v.end_column), ("title", f"toneguard {v.rule}")))
            hint = f" Suggestion: {v.suggestions[0].text.strip()}" if v.suggestions and v.suggestions[0].text else ""
            output.stream.write(f"::{level[v.severity]} {props}::{_escape(v.message + hint)}\n")


# --- sarif ---------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def emit_sarif(reports: Iterable[Report], output: Output) -> None:
    level = {"error": "error", "warning": "warning", "info": "note"}
    results = []
    for report in _counted(reports, output):
        for v in report.violations:
            result = {
                "ruleId": v.rule,
                "level": level[v.severity],
                "message": {"text": v.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": report.path.replace("\\", "/")},
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
                        "artifactLocation": {"uri": report.path.replace("\\", "/")},
                        "replacements": [{"deletedRegion": {"charOffset": s.start, "charLength": s.end - s.start},
                                          "insertedContent": {"text": s.text}}],
                    }],
                } for s in v.suggestions]
            results.append(result)
    rules = [{
        "id": rule.id,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.message},
        "help": {"text": rule.why},
        "defaultConfiguration": {"level": level[rule.severity]},
    } for rule in output.rules.values()]
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "toneguard", "version": __version__,
                                "informationUri": HOMEPAGE, "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    json.dump(sarif, output.stream, ensure_ascii=False, indent=2)
    output.stream.write("\n")


BUILTIN: dict[str, Emitter] = {"text": emit_text, "json": emit_json, "github": emit_github, "sarif": emit_sarif}


def find_format(name: str) -> Emitter | None:
    """The emitter for a format name; a built-in one is found without scanning installed packages."""
    return BUILTIN.get(name) or available_formats().get(name)


def available_formats() -> dict[str, Emitter]:
    formats = dict(BUILTIN)
    from importlib.metadata import entry_points  # slow to import; `check --server` seldom needs it

    for entry in entry_points(group="toneguard.formats"):
        formats.setdefault(entry.name, entry.load())
    return formats
