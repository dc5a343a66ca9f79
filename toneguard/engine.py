"""The one way through the data: sources -> Letters -> Docs -> Violations -> Reports.

A Linter is the rule set compiled against one loaded pipeline. Many drafts go
through `nlp.pipe` in batches; each Report is produced as soon as its batch is
parsed, so memory stays flat however many files there are.
"""
from __future__ import annotations

import bisect
import difflib
import functools
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable, Iterable, Iterator, NamedTuple

from spacy.tokens import Doc

from . import correspondence
from .checks import available_checks
from .config import Settings, check_ids, settings_for
from .errors import ToneguardError, internal_error
from .kinds import KINDS, Draft
from .letter import Letter, read_letter, stage_of, with_recipients
from .matching import Deadline, Matchers
from .model import load_pipeline, resolve_model
from .report import UNKNOWN_RULE, UNKNOWN_RULE_MESSAGE, LineIndex, Report, Suggestion, Violation
from .rules import Rule, load_rules
from .sources import STDIN, discover, read_source

BATCH_SIZE = 64  # nlp.pipe's default peaks near 1 GiB on 1,000 drafts; 64 is as fast at 400 MiB
PARSED_PARAGRAPHS = 512  # kept for reuse: a few letters' worth, a few MiB
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")
PIECE = 5_000  # characters parsed at a time at most, near enough: a long letter is 5 KB in all
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Job:
    """One draft to lint: where it came from and the settings that apply to it."""

    path: str
    settings: Settings
    letter: Letter | None = None
    error: str | None = None
    config_error: bool = False
    related: dict = field(default_factory=dict)  # what the cross-draft rules found, by rule id


class Paragraph(NamedTuple):
    text: str
    sentence_starts: tuple[int, ...]  # offsets in `text` where the parser must start a sentence


class Linter:
    def __init__(self, model: str, rule_dirs: tuple[str, ...], entities: bool, tone: bool):
        self.rules = cached_rules(rule_dirs)
        correspondence.validate(self.rules)
        self.nlp = load_pipeline(model, () if entities else ("ner",), tone)
        self.matchers = Matchers(self.nlp, self.rules.values(), available_checks())
        self.annotators = [r for r in self.rules.values() if r.annotates == "slots"]
        self.parsed: dict[Paragraph, Doc] = {}  # least recently used first

    def parse(self, letters: list[Letter]) -> list[Doc]:
        """Parse each letter paragraph by paragraph and join the pieces into one Doc.

        Sentences never cross a paragraph, so nothing is lost, and a paragraph
        parsed before is reused: an editor re-parses only the one being typed in.
        """
        plans = [list(self._paragraphs(letter)) for letter in letters]
        docs: dict[Paragraph, Doc | None] = {}
        for plan in plans:
            for key in plan:
                if key not in docs:
                    docs[key] = self.parsed.pop(key, None)
        todo = [key for key, doc in docs.items() if doc is None]
        for key, doc in zip(todo, self.nlp.pipe(map(self._tokens, todo), batch_size=4 * BATCH_SIZE)):
            docs[key] = doc
        for key, doc in docs.items():  # most recently used last
            self.parsed[key] = doc
        while len(self.parsed) > PARSED_PARAGRAPHS:
            del self.parsed[next(iter(self.parsed))]
        return [Doc.from_docs([docs[key] for key in plan], ensure_whitespace=False) for plan in plans]

    @staticmethod
    def _paragraphs(letter: Letter) -> Iterator[Paragraph]:
        """The body cut at blank lines, each piece with where inside it a sentence must start
        (the sign-off, a PS, the text after the greeting)."""
        body = letter.body
        cuts = [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(body)] + [len(body)]
        starts = [region[0] for region in (letter.signoff, letter.ps) if region]
        if letter.greeting:
            starts.append(letter.content_start)
        for paragraph_start, paragraph_end in zip(cuts, cuts[1:]):
            for start, end in _pieces(body, paragraph_start, paragraph_end):
                inside = tuple(sorted(offset - start for offset in starts if start < offset < end))
                yield Paragraph(body[start:end], inside)

    def _tokens(self, paragraph: Paragraph) -> Doc:
        doc = self.nlp.make_doc(paragraph.text)
        token_starts = [token.idx for token in doc]
        for offset in paragraph.sentence_starts:
            index = bisect.bisect_left(token_starts, offset)
            while index < len(doc) and doc[index].is_space:
                index += 1
            if 0 < index < len(doc):
                doc[index].is_sent_start = True
        return doc

    def check(self, letter: Letter, doc: Doc, settings: Settings, stage: str | None,
              related: dict | None = None) -> Report:
        stage = stage_of(letter, settings, stage)
        deadline = Deadline(letter.path)
        matches = self.matchers(doc, deadline)
        slots = [span for rule in self.annotators for span in matches.get(f"{rule.id}/match", ())]
        lines = LineIndex(letter.source)
        draft = Draft(letter, doc, matches, slots, stage, settings, self.rules, related)
        violations = []
        for rule in settings.selected(self.rules, letter.settings):
            if stage not in rule.stages:
                continue
            deadline.check()
            for finding in KINDS[rule.kind](rule, draft):
                if _suppressed(letter, rule.id, finding.start):
                    continue
                message = f"{rule.message} ({finding.detail})" if finding.detail else rule.message
                line, column = lines.position(finding.start)
                end_line, end_column = lines.position(finding.end)
                violations.append(Violation(
                    rule=rule.id, severity=settings.severity(rule), message=message,
                    start=finding.start, end=finding.end, line=line, column=column,
                    end_line=end_line, end_column=end_column,
                    text=letter.source[finding.start:finding.end], suggestions=finding.suggestions,
                ))
        violations += self._unknown_rules(letter, lines)
        violations.sort(key=lambda v: (v.start, v.end, v.rule))
        return Report(letter.path, tuple(violations), fail_on=settings.fail_on, source=letter.source,
                      editable=letter.offsets.is_shift)

    def _unknown_rules(self, letter: Letter, lines: LineIndex) -> list[Violation]:
        """Ids in toneguard comments that name no rule: an error, as in config, with the
        nearest real id as the rewrite."""
        found = []
        for rule_id, start, end in letter.named_rules:
            if rule_id in self.rules:
                continue
            (line, column), (end_line, end_column) = lines.position(start), lines.position(end)
            nearest = difflib.get_close_matches(rule_id, self.rules, n=1)
            found.append(Violation(
                rule=UNKNOWN_RULE, severity="error",
                message=f"{UNKNOWN_RULE_MESSAGE} ('{rule_id}': see `toneguard rules`)",
                start=start, end=end, line=line, column=column, end_line=end_line, end_column=end_column,
                text=letter.source[start:end], suggestions=tuple(Suggestion(id_, start, end) for id_ in nearest)))
        return found


def _pieces(body: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """A paragraph, cut after a sentence end (or else a space) every PIECE characters. No
    letter's paragraph is that long; a run-on text parsed whole would be one sentence of
    thousands of words, and cut, the pieces it repeats are parsed once."""
    while end - start > PIECE:
        cut = (_SENTENCE_END.search(body, start + PIECE, min(end, start + 2 * PIECE))
               or _SPACE.search(body, start + PIECE, end))
        if cut is None or cut.end() >= end:
            break
        yield start, cut.end()
        start = cut.end()
    if end > start:
        yield start, end


def _suppressed(letter: Letter, rule_id: str, offset: int) -> bool:
    return any(s.start <= offset <= s.end and (not s.rules or rule_id in s.rules) for s in letter.suppressions)


@functools.lru_cache(maxsize=8)
def cached_rules(rule_dirs: tuple[str, ...]) -> dict[str, Rule]:
    return load_rules(rule_dirs)


@functools.lru_cache(maxsize=4)
def _linter(model: str, rule_dirs: tuple[str, ...], entities: bool, tone: bool) -> Linter:
    return Linter(model, rule_dirs, entities, tone)


def linter_for(settings: Settings) -> Linter:
    """The compiled linter these settings need; built once per process and reused."""
    rules = cached_rules(settings.rule_dirs)
    settings.check_rule_ids(rules)
    selected = settings.selected(rules)
    consulted = [rules[other] for rule in selected for other in rule.exceptions.get("rules", ())]
    entities = any(rule.needs_entities for rule in selected + consulted)
    tone = settings.tone_model is not False and any(rule.needs_tone for rule in selected + consulted)
    return _linter(_model_folder(settings), settings.rule_dirs, entities, tone)


def _model_folder(settings: Settings) -> str:
    """The pipeline the settings name; only --model (or a library caller) can give a folder."""
    if settings.flags is not None and settings.flags.model is not None:
        return resolve_model(settings.model, key="--model")
    return resolve_model(settings.model, settings.origin if settings.model is not None else None)


# --- the public flow ---------------------------------------------------------------


def lint_text(text: str, *, stage: str | None = None, path: str | None = None,
              settings: Settings | None = None, recipients: Iterable[str] = (), now: datetime | None = None,
              correspondence: bool = False) -> Report:
    """Lint one draft given as text. `path` names it, picks the input format by its
    suffix (.eml, .md, .txt) and the config file, unless `settings` are given;
    `recipients` are addresses it goes to besides those its own headers name. With
    `correspondence`, the cross-draft rules compare it with the drafts of its folder on disk
    (as the language server does); `now` is when it goes out if it carries no date."""
    name = path or "<text>"
    settings = settings if settings is not None else settings_for(path or STDIN)
    linter = linter_for(settings)
    letter = _read_letter(text, name, settings)
    if recipients:
        letter = with_recipients(letter, recipients)
    [related] = _relate([Job(name, settings, letter)], stage, now, disk=correspondence)
    if related.error:
        raise ToneguardError(related.error)
    [doc] = linter.parse([letter])
    return linter.check(letter, doc, settings, stage, related.related)


def lint_texts(drafts: dict[str, str], *, stage: str | None = None, settings: Settings | None = None,
               now: datetime | None = None) -> list[Report]:
    """Lint several drafts given as text by path, compared with each other as the drafts of one
    folder tree are (and with nothing on disk); one Report each, in order."""
    jobs = []
    for path, text in drafts.items():
        job_settings = settings if settings is not None else settings_for(path)
        try:
            jobs.append(Job(path, job_settings, _read_letter(text, path, job_settings)))
        except ToneguardError as error:
            jobs.append(Job(path, Settings(), error=str(error)))
    return list(lint_jobs(_relate(jobs, stage, now, disk=False), stage))


def lint_paths(paths: Iterable[str], *, stage: str | None = None, overrides: Settings | None = None,
               config: str | None = None, isolated: bool = False, stdin_name: str | None = None,
               jobs: int | None = None, now: datetime | None = None) -> Iterator[Report]:
    """Lint files, folders (recursively) and "-" (stdin), yielding one Report per draft in
    order. Drafts that cannot be linted, unreadable or under a broken config, come back as
    Reports with `error` set (and `config_error` for the latter); the rest still run.
    `jobs` spreads big runs over processes (None: one per core for 128+ drafts). Every
    draft is read first, once, so the cross-draft rules see them all (and the drafts of
    their folders on disk); `now` is when a draft without a date goes out."""
    overrides = overrides or Settings()
    found = list(discover(list(paths)))
    todo = _relate([_job(item, overrides, config, isolated, stdin_name) for item in found], stage, now)
    workers = _workers(jobs, len(found))
    if workers == 1 or STDIN in found:
        yield from lint_jobs(todo, stage)
        return
    import multiprocessing

    # Load the pipeline before forking so every worker shares it instead of loading its own.
    for job in todo:
        if job.letter is not None:
            linter_for(job.settings)
            break
    chunks = [todo[i:i + BATCH_SIZE] for i in range(0, len(todo), BATCH_SIZE)]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    holders = context.Array("i", len(chunks), lock=False)  # the pid of the worker linting each chunk
    with context.Pool(workers, initializer=_start_worker, initargs=(holders,)) as pool:
        results = [pool.apply_async(_lint_chunk, ((index, chunk, stage),)) for index, chunk in enumerate(chunks)]
        for index, (chunk, result) in enumerate(zip(chunks, results)):
            yield from _chunk_reports(result, chunk, holders, index)


def _workers(jobs: int | None, drafts: int) -> int:
    if jobs is not None:
        return max(1, jobs)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, 8) if drafts >= 2 * BATCH_SIZE else 1


_holders = None  # in a worker: where it notes which chunk it is linting


def _start_worker(holders) -> None:
    global _holders
    _holders = holders


def _lint_chunk(task) -> list[Report]:
    """In a worker: lint one chunk of read drafts; only findings travel back."""
    index, chunk, stage = task
    _holders[index] = os.getpid()
    return [replace(report, source="") for report in lint_jobs(chunk, stage)]


def _chunk_reports(result, chunk: list, holders, index: int) -> list[Report]:
    """A chunk's reports; or, when the worker holding it was killed (from outside, or by the
    out-of-memory killer), an error for each of its drafts: the pool would wait forever."""
    while not result.ready():
        result.wait(0.25)
        holder = holders[index]
        if holder and not result.ready() and not _alive(holder):
            result.wait(1.0)  # reports sent just before it died are still on their way
            if not result.ready():
                return [Report(job.path, error=job.error, config_error=job.config_error) if job.error else
                        Report(job.path, error=f"{job.path}: not linted: the process linting it (pid {holder}) was "
                                               "killed, from outside or for lack of memory") for job in chunk]
    return result.get()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _job(item, overrides: Settings, config, isolated, stdin_name) -> Job:
    if isinstance(item, ToneguardError):
        return Job(item.where or "", Settings(), error=str(item))
    display = (stdin_name or STDIN) if item == STDIN else item
    try:
        settings = settings_for(stdin_name or STDIN if item == STDIN else item, config, isolated).merged(overrides)
    except ToneguardError as error:
        return Job(display, Settings(), error=str(error), config_error=True)
    return draft_job(display, settings, lambda: read_source(item, stdin_name).text)


def draft_job(path: str, settings: Settings, read: Callable[[], str]) -> Job:
    """The Job for a draft whose settings are known; `read` gives its text. A mistake in the
    rule files, rule ids or model is the config's, one in the text the draft's."""
    try:
        linter_for(settings)
    except ToneguardError as error:
        return Job(path, Settings(), error=str(error), config_error=True)
    try:
        return Job(path, settings, letter=_read_letter(read(), path, settings))
    except ToneguardError as error:
        return Job(path, Settings(), error=str(error))
    except Exception as error:
        return Job(path, Settings(), error=str(internal_error(error, path)))


def _relate(jobs: list[Job], stage: str | None, now: datetime | None, disk: bool = True) -> list[Job]:
    """The jobs with what the cross-draft rules found about each, from the Letters read."""
    readable = [job for job in jobs if job.letter is not None]
    found = correspondence.relate(
        [(job.letter, job.settings, stage_of(job.letter, job.settings, stage), cached_rules(job.settings.rule_dirs))
         for job in readable], now, disk)
    by_job = {id(job): result for job, result in zip(readable, found)}
    related = []
    for job in jobs:
        result = by_job.get(id(job), {})
        if isinstance(result, ToneguardError):
            job = replace(job, letter=None, error=str(result))
        related.append(replace(job, related=result) if result and job.letter is not None else job)
    return related


def _read_letter(text: str, path: str, settings: Settings) -> Letter:
    """The draft as a Letter, the rule ids in its front matter checked as config's are."""
    letter = read_letter(text, path)
    for key, ids in letter.settings.items():
        check_ids(ids, cached_rules(settings.rule_dirs), f"front matter: toneguard.{key}", path)
    return letter


def lint_jobs(jobs: Iterable[Job], stage: str | None = None) -> Iterator[Report]:
    """Parse in batches, one pipeline per distinct configuration, and keep the input order."""
    batch: list[Job] = []
    for job in jobs:
        batch.append(job)
        if len(batch) == BATCH_SIZE:
            yield from _lint_batch(batch, stage)
            batch = []
    if batch:
        yield from _lint_batch(batch, stage)


def _lint_batch(batch: list[Job], stage: str | None) -> Iterator[Report]:
    reports: dict[int, Report] = {}
    groups: dict[Linter, list[int]] = {}
    for index, job in enumerate(batch):
        if job.error is not None:
            reports[index] = Report(job.path, error=job.error, config_error=job.config_error)
            continue
        groups.setdefault(linter_for(job.settings), []).append(index)
    for linter, indices in groups.items():
        letters = [batch[i].letter for i in indices]
        try:
            docs = linter.parse(letters)
        except Exception:  # one draft broke the parser: parse them one at a time to find it
            docs = [None] * len(letters)
        for index, letter, doc in zip(indices, letters, docs):
            reports[index] = _check_one(linter, letter, doc, batch[index].settings, stage, batch[index].related)
    for index in range(len(batch)):
        yield reports[index]


def _check_one(linter: Linter, letter: Letter, doc: Doc | None, settings: Settings, stage: str | None,
               related: dict | None = None) -> Report:
    """One draft's report; whatever goes wrong inside it becomes its error, not the run's."""
    try:
        if doc is None:
            [doc] = linter.parse([letter])
        return linter.check(letter, doc, settings, stage, related)
    except ToneguardError as error:
        return Report(letter.path, error=str(error))
    except Exception as error:
        return Report(letter.path, error=str(internal_error(error, letter.path)))
