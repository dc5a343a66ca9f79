"""Rules across a folder of letters: each draft judged against the other drafts of its
correspondence, the folder tree it sits in.

A draft's correspondence is every draft under its root: the folder holding it and the
folders below, or the folder `correspondence-root` names in config when the draft is inside
it. The search is bounded (MAX_DEPTH folders down, MAX_DRAFTS drafts) and skips hidden files
and folders, as `toneguard check FOLDER` does. The drafts a run lints are compared as the
engine read them; the others are read from disk only to make their Notes, never linted, and
a file the run lints is never read a second time.

What a cross-draft rule checks is Python registered by name, like the checks of
toneguard.checks (`toneguard.correspondence` entry points add more). A check sees one
linted draft's Note, the Notes of its correspondence and the rule's options, and yields what
it found: the engine turns each into a Violation through the `correspondence` kind, as it
does for every other rule.
"""
from __future__ import annotations

import functools
import os
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Callable, Iterable, Iterator

from . import dates, plugins
from .config import Settings
from .errors import ToneguardError, internal_error
from .facts import _HONORIFIC, _SALUTATION, _is_name
from .letter import _CLOSING, _FRONT_MATTER, Letter, read_letter
from .report import Suggestion
from .rules import Rule, parse_option
from .sources import DRAFT_SUFFIXES, _special, read_source

MAX_DEPTH = 4  # folders below the root searched for other drafts
MAX_DRAFTS = 10_000  # drafts read from one correspondence at most
SHINGLE = 3  # words per shingle
NAME_MASK = "<name>"
# Mail services anyone can use: an address there says nothing about the employer.
PUBLIC_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
    "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me",
    "gmx.com", "gmx.net", "gmx.de", "mail.com", "yandex.com", "fastmail.com", "zoho.com", "hey.com",
})
# Capitalised words that name no employer: a copy that changes only these is still a copy.
_NOT_EMPLOYERS = frozenset(
    "i monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december".split())


@dataclass(frozen=True)
class Note:
    """What one draft tells the others: whom it is to, at which employer, when, and its words
    with the addressee's names masked. Made from a Letter alone, without a parse."""

    path: str
    addresses: frozenset[str] = frozenset()  # To/Cc/Bcc, lower case
    names: frozenset[str] = frozenset()  # the words of the addressee's name, lower case
    employers: frozenset[str] = frozenset()  # their address domains, public mail services left out
    words: tuple[str, ...] = ()  # the content's words in lower case, the addressee's names masked
    proper: frozenset[int] = frozenset()  # indexes of capitalised words inside a sentence (names)
    shingles: frozenset[int] = frozenset()
    date: datetime | None = None
    rejected: datetime | None = None
    writer: frozenset[str] = frozenset()  # the words of the name it is signed with, lower case
    addressee: str = ""  # as the greeting or the To header names them, for messages

    @property
    def who(self) -> str:
        return self.addressee or next(iter(sorted(self.addresses)), "")


def note(letter: Letter) -> Note:
    names = [_greeted(letter)] + list(letter.recipient_names)
    name_words = frozenset(word.lower() for name in names if name
                           for word in _HONORIFIC.sub(" ", name).split() if len(word) > 1)
    end = min([len(letter.body)] + [region[0] for region in (letter.signoff,) if region])
    words, proper = _words(letter.body[letter.content_start:end], name_words)
    return Note(
        path=letter.path,
        addresses=frozenset(address.lower() for address in letter.recipients),
        names=name_words,
        employers=frozenset(filter(None, map(employer, letter.recipients))),
        words=words, proper=proper, shingles=shingles(words),
        date=letter.date, rejected=letter.rejected, writer=_signed(letter),
        addressee=names[0] or (letter.recipient_names[0] if letter.recipient_names else ""),
    )


def _greeted(letter: Letter) -> str:
    """The person the greeting names ("Priya", "Ms. Chen"), or ""."""
    if not letter.greeting:
        return ""
    text = _SALUTATION.sub("", letter.body[letter.greeting[0]:letter.greeting[1]]).strip(" \t,:;!.")
    return text if _is_name(text) else ""


_TOKENS = re.compile(r"(?P<stop>[.!?]|\n[ \t]*\n)|\w+(?:'\w+)*")
_HONORIFICS = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "prof", "professor"})


def _signed(letter: Letter) -> frozenset[str]:
    """The words of the name under the sign-off ("Best,\nJane Doe": jane, doe)."""
    if not letter.signoff:
        return frozenset()
    lines = [line.strip() for line in letter.body[letter.signoff[0]:letter.signoff[1]].splitlines() if line.strip()]
    if lines and _CLOSING.fullmatch(lines[0]):
        lines = lines[1:]
    return frozenset(word.strip(".,-~\u2013\u2014").lower() for line in lines for word in line.split() if word[:1].isupper())


def _words(text: str, names: frozenset[str]) -> tuple[tuple[str, ...], frozenset[int]]:
    """The words of the content in lower case, each of the addressee's names as NAME_MASK and
    honorifics left out; and which of them are capitalised inside a sentence."""
    words, proper = [], set()
    sentence_start = True
    for match in _TOKENS.finditer(text):
        if match.lastgroup == "stop":
            sentence_start = True
            continue
        word = match.group()
        lower = word.lower()
        if word[0].isupper():
            if lower in _HONORIFICS:
                continue
            if lower in names:
                lower = NAME_MASK
            elif not sentence_start and lower not in _NOT_EMPLOYERS:
                proper.add(len(words))
        words.append(lower)
        sentence_start = False
    return tuple(words), frozenset(proper)


def shingles(words: tuple[str, ...]) -> frozenset[int]:
    """Every run of SHINGLE (3) words as one number, the same in every process (crc32, not hash())."""
    hashes = [zlib.crc32(word.encode()) for word in words]
    if len(hashes) < SHINGLE:
        return frozenset({sum(hashes) & 0xFFFFFFFF}) if hashes else frozenset()
    return frozenset((a * 0x9E3779B1 + b * 0x85EBCA77 + c) & 0xFFFFFFFF
                     for a, b, c in zip(hashes, hashes[1:], hashes[2:]))


def employer(address: str) -> str | None:
    """The organisation an address belongs to: its domain without the host part
    ("careers.acme.com" -> "acme.com"), or None for a public mail service."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    if not domain or domain in PUBLIC_MAIL:
        return None
    labels = domain.split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


def same_person(a: Note, b: Note) -> bool | None:
    """Whether two notes are to the same person: by address when both have one, else by a
    word of the name they greet; None when it cannot be told."""
    if a.addresses and b.addresses:
        return bool(a.addresses & b.addresses)
    if a.names and b.names:
        return bool(a.names & b.names)
    return None


def same_writer(a: Note, b: Note) -> bool:
    """Notes signed with different names are two people's letters (a folder of drafts is
    usually one person's; a corpus of many people's is not one correspondence)."""
    return not (a.writer and b.writer) or bool(a.writer & b.writer)


def same_employer(a: Note, b: Note) -> bool:
    """Two notes are to different employers when their addresses' domains differ, or when one
    names an organisation where the other, word for word the same around it, names another."""
    if a.employers and b.employers and not a.employers & b.employers:
        return False
    return not _names_swapped(a, b)


def _names_swapped(a: Note, b: Note) -> bool:
    matcher = SequenceMatcher(None, a.words, b.words, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "replace" and a_end - a_start <= 4 and b_end - b_start <= 4 \
                and all(i in a.proper for i in range(a_start, a_end)) \
                and all(j in b.proper for j in range(b_start, b_end)):
            return True
    return False


def jaccard(a: Note, b: Note) -> float:
    return _jaccard(a.shingles, b.shingles)


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


# --- the correspondence of a draft ---------------------------------------------------------

EXACT_UP_TO = 500 ** 2  # comparisons (drafts linted x drafts beside them) done pair by pair; more go through LSH
# A three-word run in more notes than this (and than COMMON_SHARE of them) is the folder's stock
# phrasing, and two notes sharing it are no more alike for that.
COMMON_MIN = 50
COMMON_SHARE = 0.05
NUM_PERM = 128
BANDS = (42, 3)  # LSH bands and rows: a pair at a Jaccard similarity of 0.35 is a candidate 84% of the time, at 0.45 98%
MAX_NAMED = 3  # other drafts a finding names; past that it says "and others"


@dataclass(frozen=True)
class Found:
    """What a cross-draft check found about a draft: words for the message, and for a timing
    rule the earliest moment the note should go out."""

    detail: str
    send_after: datetime | None = None


@dataclass(frozen=True)
class Related:
    """A finding of a cross-draft rule, ready for the `correspondence` kind: its source span
    (None: the first line of the content) and the edit only it can know, a later send date."""

    detail: str
    span: tuple[int, int] | None = None
    suggestions: tuple[Suggestion, ...] = ()


class Correspondence:
    """The drafts under one root: those the run lints (as read) and the others, read from
    disk the first time a check asks for them."""

    def __init__(self, root: str | None, linted: list[Note], now: datetime):
        self.root, self.linted, self.now = root, linted, now
        self._notes: list[Note] | None = None
        self._similar: _Similar | None = None

    @property
    def notes(self) -> list[Note]:
        if self._notes is None:
            seen = {os.path.abspath(n.path) for n in self.linted}
            others = [n for path in _drafts_under(self.root, len(seen)) if os.path.abspath(path) not in seen
                      for n in [_sibling_note(path)] if n is not None] if self.root is not None else []
            self._notes = sorted(self.linted + others, key=lambda n: n.path)
        return self._notes

    def similar(self, subject: Note, threshold: float) -> Iterator[Note]:
        """The other notes at least `threshold` alike (the Jaccard similarity of their shingles,
        stock phrasing left out), in path order."""
        if self._similar is None:
            self._similar = _Similar(self.notes, len(self.linted))
        mine = self._similar.shingles(subject)
        for other in self._similar.candidates(subject):
            if other.path != subject.path and _jaccard(mine, self._similar.shingles(other)) >= threshold:
                yield other


class _Similar:
    """Candidates for near-duplicates. While the drafts linted times the drafts beside them
    stay within EXACT_UP_TO comparisons (a folder of 500, or one draft among 10,000, as an
    editor or a pre-commit run on one file has), every other note is one; past that, datasketch's MinHash signatures in an LSH index give the notes that share a band,
    so 10,000 drafts cost a few candidates each rather than 10,000 comparisons each. The
    shingles a big folder's notes share by the dozen (its stock phrasing) are left out first."""

    def __init__(self, notes: list[Note], subjects: int):
        self.notes = notes
        self.index = {note.path: i for i, note in enumerate(notes)}
        counts = Counter(shingle for note in notes for shingle in note.shingles)
        common = {shingle for shingle, count in counts.items()
                  if count > max(COMMON_MIN, COMMON_SHARE * len(notes))}
        self.sets = [note.shingles - common for note in notes] if common else [note.shingles for note in notes]
        self.lsh = self.signatures = None
        if len(notes) * subjects > EXACT_UP_TO:
            from datasketch import MinHash, MinHashLSH

            self.signatures = MinHash.bulk([sorted(s) for s in self.sets], num_perm=NUM_PERM, hashfunc=_as_is, seed=1)
            self.lsh = MinHashLSH(num_perm=NUM_PERM, params=BANDS)
            for i, (shingles, signature) in enumerate(zip(self.sets, self.signatures)):
                if shingles:
                    self.lsh.insert(i, signature, check_duplication=False)

    def shingles(self, note: Note) -> frozenset[int]:
        return self.sets[self.index[note.path]]

    def candidates(self, subject: Note) -> list[Note]:
        if self.lsh is None:
            return self.notes
        i = self.index[subject.path]
        return [self.notes[j] for j in sorted(self.lsh.query(self.signatures[i]))] if self.sets[i] else []


def _as_is(value: int) -> int:
    """The shingles are hashed already (crc32, the same in every process)."""
    return value


def root_of(path: str, configured: str | None) -> str | None:
    """The folder whose tree is the draft's correspondence: the configured root when the draft
    is inside it, else the draft's own folder. Standard input without a name has none."""
    if path in ("-", "<text>"):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if configured and (folder == configured or folder.startswith(configured.rstrip(os.sep) + os.sep)):
        return configured
    return os.path.dirname(path) or "."


def _drafts_under(root: str, already: int) -> Iterator[str]:
    """Draft files under `root`, hidden ones and deeper than MAX_DEPTH left out, sorted, at most
    MAX_DRAFTS with the `already` linted ones counted."""
    count = already
    for folder, dirs, files in os.walk(root):
        depth = 0 if folder == root else os.path.relpath(folder, root).count(os.sep) + 1
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < MAX_DEPTH else []
        for name in sorted(files):
            if name.lower().endswith(DRAFT_SUFFIXES) and not name.startswith("."):
                path = os.path.join(folder, name)
                if _special(path):
                    continue
                count += 1
                if count > MAX_DRAFTS:
                    return
                yield _shown(path)


def _shown(path: str) -> str:
    """A path as messages show it: relative to the working folder when it is below it."""
    if not os.path.isabs(path):
        return os.path.normpath(path)
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _sibling_note(path: str) -> Note | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _cached_note(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=MAX_DRAFTS)
def _cached_note(path: str, mtime: int, size: int) -> Note | None:
    """The note of a draft on disk, kept while the file is unchanged (the language server lints
    again on every edit). A draft that cannot be read is left out: its own lint says why."""
    try:
        return note(read_letter(read_source(path).text, path))
    except ToneguardError:
        return None


# --- the cross-draft checks ----------------------------------------------------------------

CrossCheck = Callable[[Note, Correspondence, dict], Iterable[Found]]
BUILTIN: dict[str, CrossCheck] = {}


cross_check = plugins.registrar(BUILTIN)


def available_cross_checks() -> dict[str, CrossCheck]:
    """Built-in cross-draft checks plus those of installed plugins (`toneguard.correspondence`)."""
    return {**_installed_cross_checks(), **BUILTIN}


@functools.lru_cache(maxsize=1)  # reading the installed packages' entry points takes 13 ms, every lint
def _installed_cross_checks() -> dict[str, CrossCheck]:
    return plugins.load("toneguard.correspondence")


@cross_check("duplicate-note")
def duplicate_note(subject: Note, correspondence: Correspondence, options: dict) -> Iterator[Found]:
    """The same note, names aside, to another person at the same employer."""
    copies = []
    for other in correspondence.similar(subject, options["similarity"]):
        if same_person(subject, other) is False and same_writer(subject, other) and same_employer(subject, other):
            copies.append(other)
            if len(copies) > MAX_NAMED:
                break
    if copies:
        named = [f"{other.path} to {other.who}" if other.who else other.path for other in copies[:MAX_NAMED]]
        if len(copies) > MAX_NAMED:
            listed = ", ".join(named) + " and others"
        else:
            listed = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
        yield Found(f"nearly the same as {listed}")


@cross_check("replied-too-soon")
def replied_too_soon(subject: Note, correspondence: Correspondence, options: dict) -> Iterator[Found]:
    """A reply sent (or, undated, about to be sent) within the window after the rejection."""
    if subject.rejected is None:
        return
    sent = subject.date or correspondence.now
    elapsed = sent - subject.rejected
    if timedelta(0) <= elapsed < options["window"]:
        yield Found(f"{dates.spoken(elapsed)} after the rejection of {_when(subject.rejected)}",
                    send_after=subject.rejected + options["window"])


@cross_check("check-in-too-soon")
def check_in_too_soon(subject: Note, correspondence: Correspondence, options: dict) -> Iterator[Found]:
    """A check-in less than the gap after the last dated note to the same person."""
    sent = subject.date or correspondence.now
    earlier = [other for other in correspondence.notes
               if other.path != subject.path and other.date is not None and other.date < sent
               and same_person(subject, other)]
    if not earlier:
        return
    last = max(earlier, key=lambda other: other.date)
    if sent - last.date < options["gap"]:
        yield Found(f"{dates.spoken(sent - last.date)} after {last.path} of {_when(last.date)}"
                    + (f" to {last.who}" if last.who else ""),
                    send_after=last.date + options["gap"])


def _when(moment: datetime) -> str:
    return dates.as_written(moment)


# --- from the engine's Letters to findings ---------------------------------------------------


def relate(drafts: list[tuple[Letter, Settings, str, dict[str, Rule]]], now: datetime | None = None,
           disk: bool = True) -> list[dict[str, tuple[Related, ...]] | ToneguardError]:
    """For each draft a run lints (its Letter, settings, stage and rules), what each cross-draft
    rule that applies to it found, by rule id; or the error that stopped it. `now` is when a
    draft without a date goes out; without `disk`, the drafts given are all there is."""
    now = now or datetime.now().astimezone()
    checks = available_cross_checks()
    wanted = [[rule for rule in settings.selected(rules, letter.settings)
               if rule.kind == "correspondence" and stage in rule.stages] for letter, settings, stage, rules in drafts]
    notes = [note(letter) if applies else None for (letter, *_), applies in zip(drafts, wanted)]
    linted = [(note_, os.path.abspath(note_.path)) for note_ in notes if note_ is not None]
    correspondences: dict[str, Correspondence] = {}
    results: list[dict[str, tuple[Related, ...]] | ToneguardError] = []
    for (letter, settings, _, _), applies, subject in zip(drafts, wanted, notes):
        if not applies:
            results.append({})
            continue
        root = root_of(letter.path, settings.correspondence_root)
        if root is None:
            correspondence = Correspondence(None, [subject], now)
        else:
            if root not in correspondences:
                under = [other for other, path in linted if _within(path, root)]
                correspondences[root] = Correspondence(root if disk else None, under, now)
            correspondence = correspondences[root]
        try:
            found = {}
            for rule in applies:
                items = checks[rule.check](subject, correspondence, rule_options(rule, settings))
                found[rule.id] = tuple(_related(letter, item, now) for item in items)
            results.append({rule_id: items for rule_id, items in found.items() if items})
        except ToneguardError as error:
            results.append(error)
        except Exception as error:  # a bug, in toneguard or a plugin's check: this draft's error
            results.append(internal_error(error, letter.path))
    return results


def validate(rules: dict[str, Rule]) -> None:
    """Every correspondence rule names a cross-draft check that exists."""
    checks = available_cross_checks()
    for rule in rules.values():
        if rule.kind == "correspondence" and rule.check not in checks:
            raise ToneguardError(f"rule '{rule.id}': check: no cross-draft check named {rule.check!r} "
                                 f"(available: {', '.join(sorted(checks))})", rule.file)


def _within(path: str, root: str) -> bool:
    """Whether a draft lies in the tree of `root`, no deeper than the search goes."""
    relative = os.path.relpath(path, os.path.abspath(root))
    return not relative.startswith("..") and relative.count(os.sep) <= MAX_DEPTH


def rule_options(rule: Rule, settings: Settings) -> dict:
    """The rule's options (window, gap, similarity) as its file sets them, the config's winning."""
    configured = settings.rules.get(rule.id, {})
    return {key: parse_option(key, configured.get(key, value)) for key, value in rule.options.items()}


def _related(letter: Letter, found: Found, now: datetime) -> Related:
    if found.send_after is None:
        return Related(found.detail)
    return Related(found.detail, letter.date_span, (reschedule(letter, found.send_after, now),))


def reschedule(letter: Letter, when: datetime, now: datetime) -> Suggestion:
    """The edit that dates the draft `when`, in the zone of its own date (else of the clock):
    its date rewritten, or one added where the format keeps it (a Date header, front matter)."""
    when = when.astimezone((letter.date or now).tzinfo)
    newline = letter.newline
    wait = f"send it no sooner than {dates.as_written(when)}"
    if letter.date_span:
        start, end = letter.date_span
        text = dates.as_written(when, letter.source[start:end])
        return Suggestion(text, start, end, where="the send date",
                          description=f"{wait}: change its date to “{text}”")
    if letter.path.lower().endswith(".eml"):
        line = f"Date: {dates.as_written(when, 'Date')}"
        return Suggestion(line + newline, 0, 0, where="a send date, at the top of the headers",
                          description=f"{wait}: add the header “{line}”")
    line = f"date: {dates.as_written(when)}"
    if _FRONT_MATTER.match(letter.source):
        after = letter.source.index("\n") + 1
        return Suggestion(line + newline, after, after, where="a send date, in the front matter",
                          description=f"{wait}: add “{line}” to the front matter")
    return Suggestion(f"---{newline}{line}{newline}---{newline}", 0, 0, where="a send date, as front matter at the top",
                      description=f"{wait}: add “{line}” as front matter at the top")
