"""Reading drafts from disk or stdin: decoding, refusing what is not text, finding files."""
from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ToneguardError

DRAFT_SUFFIXES = (".txt", ".md", ".markdown", ".eml")
STDIN = "-"
# A long letter is 5 KB; past this limit a file is refused instead of parsed for minutes.
MAX_BYTES = 256_000
MAX_DEPTH = 100  # folders within folders searched for drafts


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
    wide = _wide_encoding(data)
    if wide:
        raise ToneguardError(f"{wide} text, not UTF-8; save it as UTF-8", path)
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


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32 (as editors on Windows save text) by its byte-order mark, or UTF-16
    without one: a zero byte beside every ASCII letter, all on one side."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    sample = data[:4096]
    halves = (sample[0::2], sample[1::2])
    for zeros, others in (halves, halves[::-1]):
        if len(zeros) >= 2 and zeros.count(0) >= 0.9 * len(zeros) and others.count(0) <= 0.1 * len(others):
            return "UTF-16"
    return None


def read_source(path: str, stdin_name: str | None = None) -> SourceFile:
    return decode(read_bytes(path), (stdin_name or STDIN) if path == STDIN else path)


def read_bytes(path: str) -> bytes:
    """A draft's bytes as stored (`fix -` gives them back untouched when it cannot fix them),
    one byte past the size limit at most: enough to refuse a draft without holding it whole,
    or waiting for the end of an endless stream (`- < /dev/zero`)."""
    if path == STDIN:
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ToneguardError("no such file or directory", path) from None
    except IsADirectoryError:
        raise ToneguardError("is a directory", path) from None
    except OSError as error:
        raise ToneguardError(f"cannot read: {error.strerror or error}", path) from None


def discover(paths: list[str]) -> Iterator[str | ToneguardError]:
    """Expand folders into their drafts, in a stable order; bad paths come back as errors.

    Pipes, sockets and devices are not drafts: reading one can block forever. In a folder
    they are passed over; named on the command line they are refused, saying what they are."""
    for path in paths:
        if path == STDIN or os.path.isfile(path):
            yield path
        elif os.path.isdir(path):
            found = too_deep = False
            unreadable: list[OSError] = []  # os.walk skips a folder it cannot list unless told
            for root, dirs, files in os.walk(path, onerror=unreadable.append):
                found = found or bool(unreadable)
                yield from _unreadable_folders(unreadable)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                if dirs and root != path and os.path.relpath(root, path).count(os.sep) + 1 >= MAX_DEPTH:
                    dirs[:], too_deep = [], True
                for name in sorted(files):
                    if name.lower().endswith(DRAFT_SUFFIXES) and not name.startswith("."):
                        if _special(os.path.join(root, name)):
                            continue
                        found = True
                        yield str(Path(root, name))
            found = found or bool(unreadable)
            yield from _unreadable_folders(unreadable)
            if too_deep:
                yield ToneguardError(f"folders nested more than {MAX_DEPTH} levels deep; the deeper ones were "
                                     "not searched", path)
            elif not found:
                yield ToneguardError(
                    f"no drafts found (looked for {', '.join(DRAFT_SUFFIXES)})", path
                )
        elif _special(path):
            yield ToneguardError(f"is {_special(path)}, not a draft file (to read standard input, pass -)", path)
        else:
            yield ToneguardError("no such file or directory", path)


def _special(path: str) -> str | None:
    """'a pipe', 'a socket' or 'a device' when the path (followed through links) is one."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # gone or unreadable: reading it says so
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else None


def _unreadable_folders(errors: list[OSError]) -> Iterator[ToneguardError]:
    while errors:
        error = errors.pop(0)
        yield ToneguardError(f"cannot read folder: {error.strerror or error}", error.filename)
