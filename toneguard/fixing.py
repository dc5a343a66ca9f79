"""Applying suggestions, and writing files back without risk.

By default only the suggestions marked safe are applied. With `plan=True` (`fix
--all`) the first suggestion of every finding is applied as one plan for the
whole letter (see `plan_edits`). Either way the text is re-linted after each pass
until nothing is left to apply (at most a few passes), so running `toneguard fix`
twice changes nothing the second time. Files are
replaced atomically: the new text goes to a temporary file beside the old one,
is flushed to disk, takes the old file's mode, and is renamed over it, so an
interrupted run leaves either the old file or the new one, never half of each.
A symlink's target is what gets replaced. Whatever a rename would lose is
refused instead: a file with other hard links (they would keep the old text),
a read-only file (unless forced), and a file edited since it was read.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass

from typing import Callable, Iterable, Iterator

from .config import Settings, settings_for
from .errors import ToneguardError, internal_error
from .report import Report, Suggestion, severity_rank
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
             recipients: Iterable[str] = (), plan: bool = False) -> Fixed:
    """Apply every safe suggestion (or, with `plan`, the whole-letter plan), re-linting after
    each pass until nothing is left to apply or the text stops changing."""
    from .engine import lint_text  # here, so that a client of `toneguard serve` never loads spaCy

    applied = 0
    report = lint_text(text, path=path, settings=settings, stage=stage, recipients=recipients)
    seen, planted = {text}, fill_ins(settings)
    for _ in range(PLAN_PASSES if plan else MAX_PASSES):
        edits = plan_edits(text, report, planted) if plan else [
            s for v in report.violations for s in v.suggestions if s.safe]
        if not edits:
            break
        if not report.editable:
            raise ToneguardError("cannot fix: the draft is encoded inside the message "
                                 "(quoted-printable, base64 or HTML); edit it in your mail client", path)
        planted.update(_SLOT.findall("".join(e.text for e in edits)))
        text, count = apply(text, edits)
        applied += count
        circling = text in seen  # going round in circles: stop where it is
        seen.add(text)
        report = lint_text(text, path=path, settings=settings, stage=stage, recipients=recipients)
        if circling:
            break  # (the report is of the text returned, so what is left is told truly)
    return Fixed(text, applied, report)


PLAN_PASSES = 8
_SLOT = re.compile(r"\[[^\[\]\n]{1,60}\]")  # a fill-in slot a suggestion puts in: "[their name]"


def fill_ins(settings: Settings) -> set[str]:
    """The fill-in slots toneguard's own suggestions ask the writer to fill ("[their name]"):
    the plan leaves them for the writer, whoever put them in."""
    from .engine import cached_rules

    return {slot for rule in cached_rules(settings.rule_dirs).values() for suggest in rule.suggest
            for text in suggest.texts for slot in _SLOT.findall(text)}


def plan_edits(text: str, report: Report, planted: set[str] = frozenset()) -> list[Suggestion]:
    """One pass of the whole-letter plan: the first suggestion of each finding, as edits that
    make one coherent letter. Rewrites of what is there come first, most severe first, and an
    edit overlapping one already chosen waits for the next pass (by then the text around it has
    changed, and one edit often answers two findings on one sentence). Additions come only in a
    pass with no rewrite, so a sentence a rewrite put in (an open door, say) is seen before
    another is added. A stock sentence the letter already has is not used again (the finding's
    next suggestion is, if any), and a fill-in slot the plan put in is left for the writer."""
    def first(violation) -> Suggestion | None:
        for suggestion in violation.suggestions:
            stock = suggestion.text.strip()
            elsewhere = text[:suggestion.start] + "\n" + text[suggestion.end:]
            if suggestion.kind in ("insert", "replace") and len(stock) > 20 and stock in elsewhere:
                continue  # this sentence is in the letter already
            return suggestion
        return None

    findings = [v for v in report.violations if not (planted and v.text in planted)]
    findings.sort(key=lambda v: (-severity_rank(v.severity), v.start))
    chosen: list[Suggestion] = []
    for violation in findings:
        suggestion = first(violation)
        if suggestion is None or suggestion.kind == "insert":
            continue
        if any(suggestion.start < other.end and other.start < suggestion.end or
               suggestion.start == other.start for other in chosen):
            continue
        if len(suggestion.text.strip()) > 20 and any(suggestion.text.strip() == o.text.strip() for o in chosen):
            continue  # the same stock sentence for two findings: the next pass finds another way
        chosen.append(suggestion)
    if chosen:
        return chosen
    texts = set()
    for violation in findings:
        suggestion = first(violation)
        if suggestion is not None and suggestion.kind == "insert" and suggestion.text.strip() not in texts:
            texts.add(suggestion.text.strip())
            chosen.append(suggestion)
    return chosen


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


Fixer = Callable[..., Fixed]  # fix_text's signature: text, path=, settings=, stage=, plan=


def fix_paths(paths: list[str], *, write: bool, stage: str | None = None, overrides: Settings | None = None,
              config: str | None = None, isolated: bool = False, stdin_name: str | None = None,
              fixer: Fixer = fix_text, force: bool = False, plan: bool = False) -> Iterator[FileFix]:
    """Fix each draft; with `write`, files (never stdin) are replaced atomically, keeping
    their byte-order mark, line endings and mode; `force` writes read-only files too; `plan`
    applies the whole-letter plan instead of the safe fixes only.
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
            result = FileFix(name, source, fixer(source.text, path=name, settings=settings, stage=stage, plan=plan),
                             raw=raw)
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
