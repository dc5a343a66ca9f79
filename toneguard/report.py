"""The records toneguard produces: one frozen Violation per finding, one Report per source."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

SEVERITIES = ("info", "warning", "error")
# Not a rule file's id: the engine's own finding on a toneguard comment naming a rule that does not exist.
UNKNOWN_RULE = "unknown-rule"
UNKNOWN_RULE_MESSAGE = "This toneguard comment names a rule that does not exist, so it silences nothing by that name."


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Suggestion:
    """Replace original[start:end] with text; start == end is an insertion."""

    text: str
    start: int
    end: int
    safe: bool = False
    where: str = ""  # for insertions and moves: a few words on where it goes
    deletes: bool = False  # a deletion, even when its text re-capitalises the word after it
    kind: str = ""  # insert | replace | delete | move (derived from the edit when not given)
    description: str = ""  # what it does, in a job seeker's words ("cut “but …”")

    def __post_init__(self):
        if not self.kind:
            kind = "insert" if self.start == self.end else "delete" if self.deletes or not self.text else "replace"
            object.__setattr__(self, "kind", kind)


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: str
    message: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    suggestions: tuple[Suggestion, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything found in one source; `error` is set when it could not be linted."""

    path: str
    violations: tuple[Violation, ...] = ()
    error: str | None = None
    config_error: bool = False  # the error is in the settings (config, rule files, model), not the draft
    fail_on: str | None = None  # `fail-on` in the config that applied to this draft, if it sets one
    source: str = field(default="", repr=False, compare=False)
    editable: bool = field(default=True, repr=False, compare=False)  # suggestions apply to the file as is

    def as_shown(self) -> "Report":
        """The report as output shows it: a draft `fix` will not rewrite (decoded from an
        e-mail) has no safe suggestion, so nothing calls it fixable."""
        if self.editable:
            return self
        return replace(self, violations=tuple(
            replace(v, suggestions=tuple(replace(s, safe=False) for s in v.suggestions)) for v in self.violations))

    def at_or_above(self, severity: str) -> list[Violation]:
        rank = severity_rank(severity)
        return [v for v in self.violations if severity_rank(v.severity) >= rank]


LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Turns 0-based character offsets into 1-based line and column numbers."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1
