"""Where each character of a derived text sits in the original text.

The body toneguard parses is derived from the file: cut out of it, decoded from
quoted-printable or base64, pulled out of HTML. Every reported offset must point
into the original, so each derivation step carries one of these maps.
"""
from __future__ import annotations

import bisect
import itertools
from typing import Iterable


class OffsetMap:
    """Derived character i came from original[starts[i]:ends[i]]; a plain slice is just a shift."""

    __slots__ = ("base", "starts", "ends")

    def __init__(self, base: int = 0, starts: list[int] | None = None, ends: list[int] | None = None):
        self.base = base
        self.starts = starts  # one per derived character, plus where the derived text ends
        self.ends = ends  # one per derived character

    @classmethod
    def table(cls, starts: list[int], ends: list[int], final: int) -> "OffsetMap":
        return cls(starts=starts + [final], ends=ends)

    @property
    def is_shift(self) -> bool:
        """True when the derived text is a verbatim slice, so edits carry over exactly."""
        return self.starts is None

    def __getitem__(self, index: int) -> int:
        """Where derived character `index` starts in the original."""
        if self.starts is None:
            return self.base + index
        return self.starts[min(index, len(self.starts) - 1)]

    def end(self, index: int) -> int:
        """Where the derived text up to `index` (exclusive) ends in the original."""
        if self.starts is None:
            return self.base + index
        return self.ends[index - 1] if 0 < index <= len(self.ends) else self[index]

    def span(self, start: int, end: int) -> tuple[int, int]:
        return (self[start], self.end(end)) if end > start else (self[start], self[start])

    def slice(self, start: int) -> "OffsetMap":
        if self.starts is None:
            return OffsetMap(self.base + start)
        return OffsetMap(starts=self.starts[start:], ends=self.ends[start:])

    def compose(self, inner: "OffsetMap") -> "OffsetMap":
        """Map through `inner` (derived2 -> derived), then through self (derived -> original)."""
        if inner.starts is None:
            return self.slice(inner.base)
        return OffsetMap(starts=[self[i] for i in inner.starts], ends=[self.end(e) for e in inner.ends])


class Regions:
    """Spans (start, end), asked in log time whether any overlaps a range: a draft can hold
    thousands of slots or blanked stretches, and thousands of findings ask."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.reach = list(itertools.accumulate((end for _, end in ordered), max))  # furthest end so far

    def overlap(self, start: int, end: int) -> bool:
        before = bisect.bisect_left(self.starts, end) - 1  # the last span that starts before `end`
        return before >= 0 and self.reach[before] > start
