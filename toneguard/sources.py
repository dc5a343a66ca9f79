"""Reading drafts from disk or stdin: decoding, refusing what is not text, finding files."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ToneguardError

DRAFT_SUFFIXES = (".txt", ".md", ".markdown", ".eml")
STDIN = "-"
# A long letter is 5 KB; past this limit a file is refused instead of parsed for minutes.
MAX_BYTES = 256_000


@dataclass(frozen=True)
class SourceFile:
    """A draft's text exactly as stored, minus the byte-order mark, which `fix` restores."""

    path: str
    text: str
    bom: bool = False


def check_size(size: int, path: str) -> None:
    """The one size limit, for files, stdin and the language server's documents alike."""
    if size > MAX_BYTES:
        raise ToneguardError(f"larger than the {MAX_BYTES:,}-byte limit for a draft", path)


def decode(data: bytes, path: str) -> SourceFile:
    check_size(len(data), path)
    if b"\x00" in data:
        raise ToneguardError("binary file, not a text draft", path)
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data[3:].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ToneguardError(
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})", path
        ) from None
    return SourceFile(path, text, bom)


def read_source(path: str, stdin_name: str | None = None) -> SourceFile:
    if path == STDIN:
        return decode(sys.stdin.buffer.read(), stdin_name or STDIN)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ToneguardError("no such file or directory", path) from None
    except IsADirectoryError:
        raise ToneguardError("is a directory", path) from None
    except OSError as error:
        raise ToneguardError(f"cannot read: {error.strerror or error}", path) from None
    return decode(data, path)


def discover(paths: list[str]) -> Iterator[str | ToneguardError]:
    """Expand folders into their drafts, in a stable order; bad paths come back as errors."""
    for path in paths:
        if path == STDIN or os.path.isfile(path):
            yield path
        elif os.path.isdir(path):
            found = False
            unreadable: list[OSError] = []  # os.walk skips a folder it cannot list unless told
            for root, dirs, files in os.walk(path, onerror=unreadable.append):
                found = found or bool(unreadable)
                yield from _unreadable_folders(unreadable)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.lower().endswith(DRAFT_SUFFIXES) and not name.startswith("."):
                        found = True
                        yield str(Path(root, name))
            found = found or bool(unreadable)
            yield from _unreadable_folders(unreadable)
            if not found:
                yield ToneguardError(
                    f"no drafts found (looked for {', '.join(DRAFT_SUFFIXES)})", path
                )
        else:
            yield ToneguardError("no such file or directory", path)


def _unreadable_folders(errors: list[OSError]) -> Iterator[ToneguardError]:
    while errors:
        error = errors.pop(0)
        yield ToneguardError(f"cannot read folder: {error.strerror or error}", error.filename)
