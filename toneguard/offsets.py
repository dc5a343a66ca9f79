"""Where each character of a derived text sits in the original text.

The body toneguard parses is derived from the file: cut out of it, decoded from
quoted-printable or base64, pulled out of HTML. Every reported offset must point
into the original, so each derivation step carries one of these maps.
"""
from __future__ import annotations


class OffsetMap:
    """`map[i]` is the original offset of derived character i; `map[len]` is where it ends."""

    __slots__ = ("base", "table")

    def __init__(self, base: int = 0, table: list[int] | None = None):
        self.base = base
        self.table = table

    @property
    def is_shift(self) -> bool:
        """True when the derived text is a verbatim slice, so edits carry over exactly."""
        return self.table is None

    def __getitem__(self, index: int) -> int:
        if self.table is None:
            return self.base + index
        return self.table[min(index, len(self.table) - 1)]

    def slice(self, start: int) -> "OffsetMap":
        if self.table is None:
            return OffsetMap(self.base + start)
        return OffsetMap(table=self.table[start:])

    def compose(self, inner: "OffsetMap") -> "OffsetMap":
        """Map through `inner` (derived2 -> derived), then through self (derived -> original)."""
        if inner.table is None:
            return self.slice(inner.base)
        return OffsetMap(table=[self[i] for i in inner.table])
