"""Every rule's match and exceptions blocks compiled into one set of spaCy matchers.

One PhraseMatcher, one set of token Matchers and one DependencyMatcher hold every
pattern of every loaded rule, keyed "rule-id/match" or "rule-id/exceptions", so a
draft is scanned once however many rules there are.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Callable, Iterable

from spacy.matcher import DependencyMatcher, Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .errors import ToneguardError
from .model import normalise_quotes
from .rules import Rule

Check = Callable[[Doc], Iterable[Span]]
CheckFactory = Callable[..., Check]
MATCH_SECONDS = 20.0  # matching 256 KB of prose takes a few seconds


class Deadline:
    """A draft's time to match, checked between steps (each sentence, check and rule): what a
    rule file's patterns cost is not known until they meet a draft, and one costly pairing
    must end in that draft's error, not hold up the run."""

    def __init__(self, path: str, seconds: float | None = None):
        self.path = path
        self.seconds = MATCH_SECONDS if seconds is None else seconds
        self.end = time.monotonic() + self.seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise ToneguardError(f"matching the rules took over {self.seconds:g} s, so this draft was stopped "
                                 "(a rule's patterns cost too much on it; --select or --ignore narrow the rules)",
                                 self.path)


class Matchers:
    def __init__(self, nlp, rules: Iterable[Rule], checks: dict[str, CheckFactory]):
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.tokens = AnchoredMatcher(nlp.vocab)
        self.dependencies = DependencyMatcher(nlp.vocab, validate=True)
        self.checks: dict[str, list[Check]] = {}
        for rule in rules:
            for block, spec in rule.blocks.items():
                self._add(nlp, rule, block, spec, checks)
        self.tokens.validator = None  # every pattern is in and checked; it holds them all a second time

    def _add(self, nlp, rule: Rule, block: str, spec: dict, checks: dict[str, CheckFactory]) -> None:
        key = f"{rule.id}/{block}"
        if spec.get("phrases"):
            self.phrases.add(key, [nlp.make_doc(normalise_quotes(p)) for p in spec["phrases"]])
        for name, matcher in (("patterns", self.tokens), ("dependencies", self.dependencies)):
            for index, pattern in enumerate(spec.get(name, ())):
                try:
                    if matcher is self.tokens:
                        matcher.add(key, pattern, validate=not rule.builtin)
                    else:
                        matcher.add(key, [pattern])
                except (ValueError, KeyError, TypeError) as error:
                    raise ToneguardError(
                        f"rule '{rule.id}': {block}.{name}[{index}]: {_first_problem(error)}", rule.file
                    ) from None
        names = spec.get("check", [])
        for name in [names] if isinstance(names, str) else names:
            if name not in checks:
                raise ToneguardError(
                    f"rule '{rule.id}': {block}.check: no check named {name!r} "
                    f"(available: {', '.join(sorted(checks)) or 'none'})", rule.file
                )
            self.checks.setdefault(key, []).append(checks[name](nlp))

    def __call__(self, doc: Doc, deadline: Deadline) -> dict[str, list[Span]]:
        found: dict[str, list[Span]] = defaultdict(list)
        strings = doc.vocab.strings
        for match_id, start, end in self.phrases(doc):
            found[strings[match_id]].append(doc[start:end])
        for match_id, start, end in self.tokens(doc, deadline):  # already deduplicated per key and span
            found[strings[match_id]].append(doc[start:end])
        deadline.check()
        for match_id, token_ids in self.dependencies(doc) if len(self.dependencies) else ():
            found[strings[match_id]].append(doc[min(token_ids):max(token_ids) + 1])
        for key, checks in self.checks.items():
            for check in checks:
                deadline.check()
                found[key].extend(check(doc))
        return found


_ANCHOR_ATTRS = {"LOWER": "lower_", "LEMMA": "lemma_", "ORTH": "text", "NORM": "norm_"}  # TEXT is ORTH


class AnchoredMatcher:
    """Token patterns, indexed by the words their first token accepts.

    spaCy's Matcher tries every pattern at every token, and a word list is a Python
    call each time: a few hundred patterns cost more than the parse. Here a pattern
    whose first token names its words ({LEMMA: {IN: [waste, ...]}}) is kept once per
    word, with that word in place of the list, in a small Matcher filed under the
    word, and that Matcher runs only from where the word occurs to the end of its
    sentence. Patterns that can start anywhere run once over the draft. Every match
    lies within one sentence, which is where rules judge them.
    """

    def __init__(self, vocab):
        self.vocab = vocab
        self.validator: Matcher | None = Matcher(vocab, validate=True)  # checks the patterns of rule files
        self.anywhere = Matcher(vocab)
        self.by_word: dict[tuple[str, str], list[tuple[str, list[dict]]]] = {}  # (key, pattern) by anchor
        self.compiled: dict[tuple[str, str], Matcher] = {}  # built when a draft first has the word

    def add(self, key: str, pattern: list[dict], validate: bool = True) -> None:
        """File a pattern under its first words; `validate` checks it as written first (the
        built-in rules' patterns are checked by the test suite instead, for a faster start)."""
        if validate:
            self.validator.add(key, [pattern])
        first = pattern[0]
        anchor = next(((attr, value) for attr, value in first.items() if attr in (*_ANCHOR_ATTRS, "TEXT")
                       and "OP" not in first
                       and (isinstance(value, str) or isinstance(value, dict) and set(value) == {"IN"})), None)
        if anchor is None:
            self.anywhere.add(key, [pattern])
            return
        attr, value = anchor
        for word in [value] if isinstance(value, str) else dict.fromkeys(value["IN"]):
            filed = ("ORTH" if attr == "TEXT" else attr, word)
            self.by_word.setdefault(filed, []).append((key, [{**first, attr: word}, *pattern[1:]]))

    def __len__(self) -> int:
        return len(self.anywhere) + sum(map(len, self.by_word.values()))

    def matcher(self, anchor: tuple[str, str]) -> Matcher:
        if anchor not in self.compiled:
            matcher = self.compiled[anchor] = Matcher(self.vocab)
            for key, pattern in self.by_word[anchor]:
                matcher.add(key, [pattern])
        return self.compiled[anchor]

    def __call__(self, doc: Doc, deadline: Deadline) -> list[tuple[int, int, int]]:
        sentence_of = [0] * len(doc)
        for number, sentence in enumerate(doc.sents):
            sentence_of[sentence.start:sentence.end] = [number] * len(sentence)
        # One pass for the patterns that start anywhere, keeping what lies within a sentence.
        found = {(key, s, e) for key, s, e in self.anywhere(doc) if sentence_of[s] == sentence_of[e - 1]}
        for sentence in doc.sents:
            deadline.check()
            runs: dict[tuple[str, str], int] = {}  # anchor -> its first token in this sentence
            for token in sentence:
                for attr, name in _ANCHOR_ATTRS.items():
                    anchor = (attr, getattr(token, name))
                    if anchor in self.by_word and anchor not in runs:
                        runs[anchor] = token.i
            for anchor, start in runs.items():
                found.update((key, start + s, start + e) for key, s, e in self.matcher(anchor)(doc[start:sentence.end]))
        return sorted(found, key=lambda match: (match[1], match[2]))


def _first_problem(error: Exception) -> str:
    """spaCy's pattern errors run to many lines; the first specific one is enough."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    details = [line.lstrip("- ") for line in lines if line.startswith("- [")]
    return "; ".join(details) if details else (lines[0] if lines else type(error).__name__)
