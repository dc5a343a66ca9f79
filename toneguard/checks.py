"""Python checks for what a YAML pattern cannot say cleanly, registered by name.

A rule uses one with `match: {check: name}`. A check is a factory, like a spaCy
component factory: called once with the loaded pipeline, it returns a function
from a parsed Doc to Spans. Installed packages add their own through the
`toneguard.checks` entry point group.
"""
from __future__ import annotations

import functools
from typing import Callable, Iterable, Iterator

from spacy.tokens import Doc, Span

from . import plugins

CheckFactory = Callable[..., Callable[[Doc], Iterable[Span]]]
BUILTIN: dict[str, CheckFactory] = {}


check = plugins.registrar(BUILTIN)


def available_checks() -> dict[str, CheckFactory]:
    """Built-in checks plus those of installed plugins; a new dict each time, no shared state."""
    return {**plugins.load("toneguard.checks"), **BUILTIN}


# Capitalised words that are usually acronyms rather than shouting.
_ACRONYMS = {"it", "us", "am", "re", "pm", "id", "or", "me", "ma", "pa", "ok", "asap"}


@check("caps-emphasis")
def caps_emphasis(nlp):
    """An ordinary word in capitals for emphasis ("I REALLY wanted this"), not an acronym.

    Shouted words are adverbs, adjectives, verbs and function words; acronyms (SQL,
    OSHA, NICU, HR) are names, and when the pipeline's own word index knows them at
    all it knows them only as nouns. So a capitalised word counts if it is a function
    word, or if the index knows it (or its stem: WANTED, LOVING) as anything but a
    noun. Runs of capitals (headings, "[COMPANY NAME]") never count. Entity labels
    are no help: the small pipeline tags "REALLY" as an ORG.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    lookups = nlp.get_pipe("lemmatizer").lookups
    index, rules = lookups.get_table("lemma_index"), lookups.get_table("lemma_rules")

    @functools.lru_cache(maxsize=1)
    def shoutable() -> frozenset[str]:
        return frozenset().union(*(index.get(pos, ()) for pos in ("verb", "adj", "adv")))

    def stems(word: str) -> Iterable[str]:
        yield word
        for pos in ("verb", "adj"):
            for old, new in rules.get(pos, ()):
                if word.endswith(old):
                    yield word[: len(word) - len(old)] + new

    def is_emphasis(doc: Doc, token) -> bool:
        text = token.text
        if len(text) < 2 or not text.isalpha() or not text.isupper():
            return False
        if token.dep_ == "compound" and len(text) <= 4:
            return False  # "SOAP notes", "HR team": a label, not a raised voice ("my DREAM job" is one)
        for other in (doc[token.i - 1] if token.i else None, doc[token.i + 1] if token.i + 1 < len(doc) else None):
            if other is not None and other.is_alpha and other.is_upper and len(other) > 1:
                return False
        word = text.lower()
        if word in _ACRONYMS:
            return False
        if word in STOP_WORDS:
            return True
        return len(word) > 3 and any(stem in shoutable() for stem in stems(word))

    def run(doc: Doc) -> Iterable[Span]:
        return [doc[t.i:t.i + 1] for t in doc if is_emphasis(doc, t)]

    return run


def _runs(doc: Doc, marks: set[str]) -> Iterable[Span]:
    """Maximal runs of two or more adjacent mark tokens, in one linear pass.

    A Matcher pattern with OP "+" would yield every sub-run: quadratic on a long run.
    """
    start = None
    for token in list(doc) + [None]:
        inside = token is not None and token.text in marks and (
            start is None or token.idx == doc[token.i - 1].idx + len(doc[token.i - 1]))
        if inside and start is None:
            start = token.i
        elif not inside and start is not None:
            end = token.i if token is not None else len(doc)
            if end - start >= 2:
                yield doc[start:end]
            start = token.i if token is not None and token.text in marks else None


@check("mark-runs")
def mark_runs(nlp):
    """Runs of "!!", "??", "?!" however long: shouting or distress on the page."""
    return lambda doc: list(_runs(doc, {"!", "?"}))


@check("underscore-runs")
def underscore_runs(nlp):
    """"____": a blank left in a template."""
    return lambda doc: list(_runs(doc, {"_"}))


ROLE_NOUNS = {"role", "position", "job", "opening", "post", "vacancy", "opportunity", "internship", "posting"}
# Words before a role noun that do not say which job it is.
VAGUE_MODIFIERS = {
    "open", "available", "current", "new", "same", "other", "recent", "advertised", "posted", "full", "part",
    "time", "full-time", "part-time", "great", "exciting", "amazing", "perfect", "ideal", "dream", "this", "that",
    "the", "your", "my", "first", "second", "last", "similar", "future", "next", "upcoming", "remote", "temporary",
    "permanent", "wonderful", "fantastic", "interesting", "right", "whole", "entry", "level", "entry-level",
}


def role_names(doc: Doc) -> Iterator[Span]:
    """Where a draft names the job it was about: "data analyst" in "the data analyst role",
    "office manager" in "the position of office manager". A role noun with only vague words
    before it ("the open position", "this great opportunity") names nothing."""
    for token in doc:
        if token.lower_ not in ROLE_NOUNS:
            continue
        modifiers = [child for child in token.lefts if child.dep_ in ("compound", "amod", "nmod")
                     and child.lower_ not in VAGUE_MODIFIERS]
        if any(m.pos_ in ("NOUN", "PROPN") for m in modifiers):
            start = min(m.left_edge.i if m.left_edge.dep_ != "det" else m.i for m in modifiers)
            yield doc[start:token.i]
            continue
        after = token.nbor(1) if token.i + 1 < len(doc) else None
        if after is not None and after.lower_ in ("of", "as"):
            names = [child for child in after.children if child.dep_ == "pobj" and child.pos_ in ("NOUN", "PROPN")]
            if names:
                yield doc[names[0].left_edge.i + (names[0].left_edge.dep_ == "det"):names[0].i + 1]


@check("role-name")
def role_name(nlp):
    """The job named in the draft (see role_names)."""
    return lambda doc: list(role_names(doc))
