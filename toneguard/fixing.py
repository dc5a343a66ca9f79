"""Applying the suggestions marked safe, and writing files back without risk.

A fix is re-linted until no safe suggestion is left (at most a few passes), so
running `toneguard fix` twice changes nothing the second time. Files are
replaced atomically: the new text goes to a temporary file beside the old one,
is flushed to disk, takes the old file's mode, and is renamed over it, so an
interrupted run leaves either the old file or the new one, never half of each.
A symlink's target is what gets replaced. Whatever a rename would lose is
refused instead: a file with other hard links (they would keep the old text),
a read-only file (unless forced), and a file edited since it was read.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from typing import Callable, Iterable, Iterator

from .config import Settings, settings_for
from .errors import ToneguardError, internal_error
from .report import Report, Suggestion
from .sources import STDIN, SourceFile, decode, discover, read_bytes

MAX_PASSES = 5


@dataclass(frozen=True)
class Fixed:
    text: str  # the fixed text (the original when nothing was safe to apply)
    applied: int  # how many suggestions were applied
    report: Report  # what is left to do, linted on the fixed text


def apply(text: str, suggestions: list[Suggestion]) -> tuple[str, int]:
    """Apply non-overlapping edits, earliest first; an edit overlapping an earlier one waits."""
    chosen: list[Suggestion] = []
    for suggestion in sorted(set(suggestions), key=lambda s: (s.start, s.end)):
        if chosen and suggestion.start < chosen[-1].end:
            continue
        if chosen and suggestion.start == suggestion.end == chosen[-1].start == chosen[-1].end:
            continue  # two insertions at one point: one per pass keeps the order stable
        chosen.append(suggestion)
    for suggestion in reversed(chosen):
        text = text[:suggestion.start] + suggestion.text + text[suggestion.end:]
    return text, len(chosen)


def fix_text(text: str, *, path: str, settings: Settings, stage: str | None = None,
             recipients: Iterable[str] = ()) -> Fixed:
    """Apply every safe suggestion, re-linting after each pass until none is left."""
    from .engine import lint_text  # here, so that a client of `toneguard serve` never loads spaCy

    applied = 0
    report = lint_text(text, path=path, settings=settings, stage=stage, recipients=recipients)
    for _ in range(MAX_PASSES):
        safe = [s for v in report.violations for s in v.suggestions if s.safe]
        if not safe:
            break
        if not report.editable:
            raise ToneguardError("cannot fix: the draft is encoded inside the message "
                                 "(quoted-printable, base64 or HTML); edit it in your mail client", path)
        text, count = apply(text, safe)
        applied += count
        report = lint_text(text, path=path, settings=settings, stage=stage, recipients=recipients)
    return Fixed(text, applied, report)


def write_atomically(path: str, data: bytes, expected: bytes | None = None) -> None:
    """Replace `path` (a symlink's target, if it is one) with `data` so that no reader, and no
    crash, ever sees a partial file. With `expected`, the file must still hold exactly that
    just before the rename: whatever was added to it meanwhile is not written over."""
    target = os.path.realpath(path)
    mode = os.stat(target).st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=".toneguard-", suffix=".tmp", dir=os.path.dirname(target))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        if expected is not None and _contents(target) != expected:
            raise ToneguardError("cannot fix: the file changed while it was being fixed, so nothing was written; "
                                 "run `toneguard fix` again", path)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _contents(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def refuse_to_replace(path: str, force: bool) -> None:
    """Files a rename would harm: other hard links would keep the old text, and a read-only
    file is read-only for a reason (`force` overrides that one)."""
    status = os.stat(path)
    if status.st_nlink > 1:
        raise ToneguardError(f"cannot fix: the file has {status.st_nlink} hard links, and the others would keep "
                             "the old text; pipe it through `toneguard fix -` instead", path)
    if not force and (not status.st_mode & 0o222 or not os.access(path, os.W_OK)):
        raise ToneguardError("cannot fix: the file is read-only (--force fixes it anyway)", path)


def encode(text: str, bom: bool) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class FileFix:
    path: str
    source: SourceFile | None = None  # the draft as read, whenever it could be decoded
    fixed: Fixed | None = None
    error: str | None = None
    raw: bytes = b""  # the bytes as read, whatever they are

    @property
    def changed(self) -> bool:
        return self.fixed is not None and self.source is not None and self.fixed.text != self.source.text

    def output(self) -> bytes:
        """What a filter prints: the fixed text (byte-order mark kept), or otherwise the bytes
        exactly as they came in, even when they are not text, so an editor piping its buffer
        through never loses it."""
        if not self.changed:
            return self.raw
        return encode(self.fixed.text, self.source.bom)


Fixer = Callable[..., Fixed]  # fix_text's signature: text, path=, settings=, stage=


def fix_paths(paths: list[str], *, write: bool, stage: str | None = None, overrides: Settings | None = None,
              config: str | None = None, isolated: bool = False, stdin_name: str | None = None,
              fixer: Fixer = fix_text, force: bool = False) -> Iterator[FileFix]:
    """Fix each draft; with `write`, files (never stdin) are replaced atomically, keeping
    their byte-order mark, line endings and mode; `force` writes read-only files too.
    `fixer` does the fixing (a running `toneguard serve` can do it instead of this process)."""
    for item in discover(paths):
        if isinstance(item, ToneguardError):
            yield FileFix(item.where or "", error=str(item))
            continue
        name = (stdin_name or STDIN) if item == STDIN else item
        source, raw = None, b""
        try:
            raw = read_bytes(item)
            source = decode(raw, name)
            settings = settings_for(name, config, isolated).merged(overrides or Settings())
            result = FileFix(name, source, fixer(source.text, path=name, settings=settings, stage=stage), raw=raw)
            if write and item != STDIN and result.changed:
                refuse_to_replace(item, force)
                write_atomically(item, result.output(), expected=raw)
        except ToneguardError as error:
            result = FileFix(name, source, error=str(error), raw=raw)
        except OSError as error:
            result = FileFix(name, source, error=f"{name}: cannot write: {error.strerror or error}", raw=raw)
        except Exception as error:  # a bug in toneguard: this draft's error, its text given back
            result = FileFix(name, source, error=str(internal_error(error, name)), raw=raw)
        yield result
