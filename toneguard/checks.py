"""Python checks for what a YAML pattern cannot say cleanly, registered by name.

A rule uses one with `match: {check: name}`. A check is a factory, like a spaCy
component factory: called once with the loaded pipeline, it returns a function
from a parsed Doc to Spans. Installed packages add their own through the
`toneguard.checks` entry point group.
"""
from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Callable, Iterable

from spacy.tokens import Doc, Span

CheckFactory = Callable[..., Callable[[Doc], Iterable[Span]]]
BUILTIN: dict[str, CheckFactory] = {}


def check(name: str):
    def register(factory: CheckFactory) -> CheckFactory:
        BUILTIN[name] = factory
        return factory
    return register


def available_checks() -> dict[str, CheckFactory]:
    """Built-in checks plus those of installed plugins; a new dict each time, no shared state."""
    checks = dict(BUILTIN)
    for entry in entry_points(group="toneguard.checks"):
        checks.setdefault(entry.name, entry.load())
    return checks


# Short capitalised stop words that are usually acronyms rather than shouting.
_ACRONYM_STOP_WORDS = {"it", "us", "am", "re", "pm", "id", "or", "me", "ma", "pa"}


@check("caps-emphasis")
def caps_emphasis(nlp):
    """An ordinary word in capitals for emphasis ("I REALLY wanted this"), not an acronym.

    Acronyms (SQL, HR, NYU) are short, and many are in any dictionary, so: a
    word of two or three letters counts only if it is a function word (NOT, SO,
    WHY); a longer one counts if the pipeline's own lemma index or stop list
    knows it. Runs of capitals (headings, "[COMPANY NAME]") never count. Entity labels
    are no help: the small pipeline tags "REALLY" as an ORG.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    @functools.lru_cache(maxsize=1)
    def known_words() -> frozenset[str]:
        index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
        return frozenset().union(*map(frozenset, index.values()), STOP_WORDS)

    def is_emphasis(doc: Doc, token) -> bool:
        text = token.text
        if len(text) < 2 or not text.isalpha() or not text.isupper():
            return False
        for other in (doc[token.i - 1] if token.i else None, doc[token.i + 1] if token.i + 1 < len(doc) else None):
            if other is not None and other.is_alpha and other.is_upper and len(other) > 1:
                return False
        word = text.lower()
        if len(word) <= 3:
            return word in STOP_WORDS and word not in _ACRONYM_STOP_WORDS
        return word in known_words()

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
