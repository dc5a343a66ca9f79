"""The rule kinds: one small function each, turning a parsed draft into findings.

Kinds see a Draft (the letter, its Doc and every matcher hit, computed once)
and yield Findings in original-file offsets. The engine adds rule id,
severity, positions and suppression; no kind knows about those.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from functools import cached_property
from string import Formatter
from typing import Callable, Iterator

from spacy.tokens import Doc, Span

from .facts import Facts, find_facts
from .letter import Letter
from .offsets import Regions
from .report import Suggestion
from .rules import Rule, Suggest, as_conditions
from .tone import sentence_scores
_CLITICS = {"n't", "'s", "'re", "'ll", "'ve", "'d", "'m"}


@dataclass(frozen=True)
class Finding:
    start: int  # original-file offsets
    end: int
    detail: str = ""  # appended to the rule's message, e.g. the measured length
    suggestions: tuple[Suggestion, ...] = ()


class Draft:
    """One parsed letter and the questions kinds ask of it, each answered once."""

    def __init__(self, letter: Letter, doc: Doc, matches: dict[str, list[Span]], slots: list[Span],
                 stage: str, settings, rules: dict[str, Rule], related: dict | None = None):
        self.letter, self.doc, self.matches = letter, doc, matches
        self.slots, self.stage, self.settings, self.rules = slots, stage, settings, rules
        self.related = related or {}  # rule id -> what the cross-draft step found (toneguard.correspondence)
        self._hits: dict[str, list[Span]] = {}
        self._starts: dict[str, list[int]] = {}
        self._slots = Regions((slot.start, slot.end) for slot in slots)

    # --- where things are ---------------------------------------------------

    @cached_property
    def sentences(self) -> list[Span]:
        """Sentences of the content (greeting and sign-off excluded), trimmed of spaces."""
        result = []
        for sentence in self.doc.sents:
            words = [t for t in sentence if not t.is_space]
            if words and self.letter.in_content(words[0].idx, words[-1].idx + len(words[-1])):
                result.append(self.doc[words[0].i:words[-1].i + 1])
        return result

    @cached_property
    def _sentence_starts(self) -> tuple[list[int], list[int]]:
        """Where each sentence starts, in tokens and in characters, for bisecting."""
        return [s.start for s in self.sentences], [s.start_char for s in self.sentences]

    def sentence_of(self, span: Span) -> Span:
        index = bisect.bisect_right(self._sentence_starts[0], span.start) - 1
        if index >= 0 and span.start < self.sentences[index].end:
            return self.sentences[index]
        return span

    def sentence_at(self, offset: int) -> Span | None:
        """The sentence holding the body offset, if one does."""
        index = bisect.bisect_right(self._sentence_starts[1], offset) - 1
        if index >= 0 and offset < self.sentences[index].end_char:
            return self.sentences[index]
        return None

    @cached_property
    def content_end(self) -> int:
        """Where the draft's own words end: before the sign-off and before a PS that follows it."""
        ends = [len(self.letter.body)]
        ends += [region[0] for region in (self.letter.signoff, self.letter.ps) if region]
        end = min(ends)
        return len(self.letter.body[:end].rstrip())

    def first_line(self) -> tuple[int, int]:
        """The first line of the content."""
        start = self.letter.content_start
        line_end = self.letter.body.find("\n", start)
        end = len(self.letter.body) if line_end == -1 else line_end
        return start, start + len(self.letter.body[start:end].rstrip())

    def where_fix_goes(self, rule: Rule) -> tuple[int, int]:
        """Where a whole-letter finding is reported: the word its fix goes beside (the first
        word of the content for an opening line, the last one for a closing line), so the
        findings read in the letter's order."""
        words = [t for s in self.sentences if s.end_char <= self.content_end for t in s if not t.is_punct]
        if not words:
            return self.first_line()
        at_end = any(s.action == "insert" and s.at == "end" and self._applies(s, "") for s in rule.suggest)
        word = words[-1] if at_end else words[0]
        return word.idx, word.idx + len(word)

    def source(self, start: int, end: int) -> tuple[int, int]:
        return self.letter.source_span(start, end)

    def original(self, start: int, end: int) -> str:
        """Text of a body span as the user wrote it (the body has straightened quotes)."""
        source_start, source_end = self.source(start, end)
        return self.letter.source[source_start:source_end]

    @cached_property
    def _blanked(self) -> Regions:
        return Regions(self.letter.blanked)

    def editable(self, start: int, end: int) -> bool:
        return not self._blanked.overlap(start, end)

    @cached_property
    def _required_extents(self) -> list[tuple[int, int]]:
        """For each `required` rule that has hits: from its first hit's start to its last's end."""
        extents = []
        for rule in self.rules.values():
            if rule.kind == "required" and self.hits(rule):
                hits = self.hits(rule)
                extents.append((min(h.start_char for h in hits), max(h.end_char for h in hits)))
        return extents

    def carries_required(self, start: int, end: int) -> bool:
        """Whether body[start:end] holds every hit of some `required` rule, so deleting it
        would take away the thanks, the detail or the open door the letter has."""
        return any(start <= first and last <= end for first, last in self._required_extents)

    @cached_property
    def facts(self) -> Facts:
        letter = self.letter
        return find_facts(self.doc, letter.greeting, letter.content_start, self.slots, letter.recipient_names)

    # --- matches --------------------------------------------------------------

    def in_scope(self, span: Span, scope: str) -> bool:
        start, end = span.start_char, span.end_char
        if scope == "body":
            return True
        if scope == "greeting":
            greeting = self.letter.greeting
            return bool(greeting) and greeting[0] <= start and end <= greeting[1]
        if not self.letter.in_content(start, end):
            return False
        if scope == "opening":
            return bool(self.sentences) and self.sentences[0].start_char <= start < self.sentences[0].end_char
        return True

    def hits(self, rule: Rule) -> list[Span]:
        """The rule's matches in scope, outside slots and exceptions, without overlaps."""
        if rule.id not in self._hits:
            self._hits[rule.id] = self._find_hits(rule)
        return self._hits[rule.id]

    def hits_between(self, rule: Rule, start: int, end: int) -> list[Span]:
        """The rule's hits starting at tokens start..end-1, found by bisection: a draft of
        thousands of findings must not rescan all of them for each."""
        hits = self.hits(rule)
        if rule.id not in self._starts:
            self._starts[rule.id] = [h.start for h in hits]
        starts = self._starts[rule.id]
        return hits[bisect.bisect_left(starts, start):bisect.bisect_left(starts, end)]

    def in_slot(self, span: Span) -> bool:
        return self._slots.overlap(span.start, span.end)

    @cached_property
    def scores(self) -> list[dict[str, float]]:
        """The tone model's scores of each sentence (empty dicts when it did not run)."""
        return [sentence_scores(s) for s in self.sentences]

    @cached_property
    def tone_ran(self) -> bool:
        return any(self.scores)

    def model_sentences(self, value, threshold: float | None = None) -> list[Span]:
        """Sentences meeting a block's `model:` conditions (any of them); none when the tone model
        did not run. A condition naming several labels goes by the highest of their scores."""
        found = {}
        for condition in as_conditions(value):
            labels = [condition["label"]] if isinstance(condition["label"], str) else condition["label"]
            for sentence, scores in zip(self.sentences, self.scores):
                if not scores:
                    continue
                score = max(scores[label] for label in labels)
                if score < condition["below"] if "below" in condition else \
                        score >= (threshold if threshold is not None else condition["threshold"]):
                    found[sentence.start] = sentence
        return list(found.values())

    def _find_hits(self, rule: Rule) -> list[Span]:
        excepted = {self.sentence_of(s).start for s in self.matches.get(f"{rule.id}/exceptions", ())}
        excepted.update(s.start for s in self.model_sentences(rule.exceptions.get("model")))
        for other in rule.exceptions.get("rules", ()):
            excepted.update(self.sentence_of(s).start for s in self.hits(self.rules[other]))
        owner = rule.match.get("same-as", rule.id)
        threshold = self.settings.threshold(rule)
        patterns, learned = [], []
        for name, clause in rule.clauses:
            found = self.matches.get(f"{owner}/{name}", ())
            judged = self.model_sentences(clause.get("model"), threshold)
            requires = clause.get("requires", {})
            # a requirement that only the model can judge holds when the model is off
            if requires and (self.tone_ran or set(requires) - {"model"}):
                required = {self.sentence_of(s).start for s in self.matches.get(f"{owner}/{name}/requires", ())}
                required.update(s.start for s in self.model_sentences(requires.get("model")))
                found = [s for s in found if self.sentence_of(s).start in required]
                judged = [s for s in judged if s.start in required]
            patterns.extend(found)
            learned.extend(judged)
        # The patterns' own spans first (they carry the precise fixes), then the sentences the
        # tone model flags that no pattern reached.
        kept: list[Span] = []
        patterns.sort(key=lambda s: (s.start, -len(s)))
        for span in patterns:
            span = _trimmed(span)
            if span is None or not self.in_scope(span, rule.scope):
                continue
            if rule.annotates != "slots" and self.in_slot(span):
                continue
            if self.sentence_of(span).start in excepted:
                continue
            if kept and span.start < kept[-1].end:
                continue
            kept.append(span)
        covered = excepted | {self.sentence_of(span).start for span in kept}
        kept += [s for s in {s.start: s for s in learned}.values()
                 if s.start not in covered and self.in_scope(s, rule.scope) and not self.in_slot(s)]
        kept.sort(key=lambda s: s.start)
        return kept

    # --- suggestions ------------------------------------------------------------

    def target(self, target: str, span: tuple[int, int] | None) -> tuple[int, int] | None:
        """The body span a suggestion rewrites: the match itself, its sentence, or the greeting."""
        if span is None or target == "match":
            return span
        if target == "greeting":
            greeting = self.letter.greeting
            return greeting if greeting and greeting[0] <= span[0] < greeting[1] else None
        sentence = self.sentence_at(span[0])  # a sentence, or the clause within it (see _cut_clause)
        return self.as_written(sentence) if sentence else span

    def as_written(self, sentence: Span) -> tuple[int, int]:
        """The sentence as the writer punctuated it: the parser may end one before "and I was
        tech lead …" when no full stop came, and cutting only that part strands the rest."""
        index = bisect.bisect_right(self._sentence_starts[1], sentence.start_char) - 1
        first = last = index
        while first > max(0, index - 3) and self._runs_on(first - 1):  # a few: a run of 10,000
            first -= 1                                                  # unpunctuated words is no sentence
        while last + 1 < min(len(self.sentences), index + 4) and self._runs_on(last):
            last += 1
        return self.sentences[first].start_char, self.sentences[last].end_char

    def _runs_on(self, index: int) -> bool:
        """Whether sentence `index` has no end mark and the next goes on in the same paragraph."""
        this, following = self.sentences[index], self.sentences[index + 1]
        between = self.letter.body[this.end_char:following.start_char]
        return not _ends_sentence(this) and not any(c in between for c in "\r\n") and \
            following.end_char <= self.content_end

    @cached_property
    def casual(self) -> bool:
        """A note written in lower case, as on a phone: stock lines should not arrive in a suit."""
        starts = [s[0].text[0] for s in self.sentences if s[0].text[:1].isalpha()]
        return len(starts) >= 2 and sum(c.islower() for c in starts) * 2 >= len(starts)

    def _applies(self, suggest: Suggest, matched: str) -> bool:
        lowered = matched.lower()
        if suggest.when and not any(word in lowered for word in suggest.when):
            return False
        if any(word in lowered for word in suggest.unless):
            return False
        if suggest.shouted is not None and suggest.shouted != (matched.isupper() and matched.isalpha()):
            return False
        if suggest.marks is not None and suggest.marks != (bool(matched) and not any(c.isalnum() for c in matched)):
            return False
        if suggest.stages and self.stage not in suggest.stages:
            return False
        return suggest.register is None or suggest.register == ("casual" if self.casual else "formal")

    def _texts(self, suggest: Suggest, span: tuple[int, int] | None) -> Iterator[str]:
        """The suggestion's templates that can be filled here, filled, most specific first. A name
        is not repeated right after a greeting that already has it."""
        matched = self.letter.body[span[0]:span[1]] if span else ""  # what the rules saw
        written = self.original(*span) if span and self.letter.offsets.is_shift else matched  # curly quotes kept
        facts = self.facts
        name = None if facts.greeted and suggest.action == "insert" and suggest.at == "start" else facts.name
        values = {"name": name, "company": facts.company, "role": facts.role, "month": facts.month,
                  "match": written, "match_lower": written.lower()}
        for template in suggest.texts or ("",):
            if all(values.get(f) is not None for _, f, _, _ in Formatter().parse(template) if f):
                text = template.format(**values).replace("\n", self.letter.newline)
                if self.casual and suggest.action in ("insert", "replace") and suggest.target != "match":
                    text = text[:1].lower() + text[1:]
                yield text

    def suggestions(self, rule: Rule, span: tuple[int, int] | None) -> tuple[Suggestion, ...]:
        """The rule's suggestions that apply here, filled with facts, as edits to the original. An
        edit that would break the grammar around it (a doubled word, a dangling preposition, an
        empty greeting) gives way to the next template or suggestion."""
        matched = self.letter.body[span[0]:span[1]] if span else ""
        result = []
        for suggest in rule.suggest:
            if not self._applies(suggest, matched) or suggest.otherwise and result:
                continue
            target = self.target(suggest.target, span)
            if span and target is None:
                continue
            for text in self._texts(suggest, span):  # the most specific template that changes something
                edit = ACTIONS[suggest.action](self, suggest, text, target, rule)
                if edit is None or not self.editable(edit[0], edit[1]):
                    break
                start, end, new_text, where = edit
                old_text = self.original(start, end)
                if new_text == old_text or not self.reads_well(start, end, new_text):
                    continue  # a rewrite that changes nothing, or breaks the sentence, is no suggestion
                kind = {"remove": "delete", "move": "move", "insert": "insert"}.get(suggest.action, "replace")
                if suggest.target == "clause":
                    kind = "delete"
                if suggest.action == "remove" and suggest.target == "match":
                    old_text = self.original(*target)  # the flagged words, not the space or capital around them
                result.append(Suggestion(
                    new_text, *self.source(start, end), safe=suggest.safe, where=where, deletes=kind == "delete",
                    kind=kind, description=self.describe(suggest, kind, start, end, old_text, new_text, where)))
                break
        return tuple(result)

    def reads_well(self, start: int, end: int, new_text: str) -> bool:
        """Whether the sentence around an edit reads at least as well after it as before: no new
        doubled word, dangling preposition, stray punctuation or empty greeting."""
        body, reach = self.letter.body, 200  # a run-on "sentence" of 100 KB is read near the edit only
        near, far = max(0, start - reach), min(len(body), end + reach)
        left = max(body.rfind("\n", near, start), body.rfind(". ", near, start), near - 1) + 1
        right = min((i for i in (body.find("\n", end, far), body.find(". ", end, far)) if i != -1), default=far)
        before, after = body[left:right], body[left:start] + new_text + body[end:right]
        return all(len(pattern.findall(after)) <= len(pattern.findall(before)) for pattern in _BROKEN)

    def describe(self, suggest: Suggest, kind: str, start: int, end: int, old_text: str, new_text: str,
                 where: str) -> str:
        """What the edit does, in words a job seeker reads at a glance; distinct for distinct edits."""
        if kind == "insert":
            return f"add {where}: “{new_text.strip()}”"
        if kind == "move":
            return "move this sentence to the end of the letter, after your thanks"
        if suggest.action == "shorten":
            return f"shorten it to what the budget allows, keeping your thanks, detail and open door: “{new_text}”"
        if suggest.target == "clause":
            return f"keep only “{_brief(new_text)}”{self._drops(start, end, new_text)}"
        if kind == "delete":
            what = "the sentence " if suggest.target == "sentence" else ""
            return f"delete {what}“{_brief(old_text)}”"
        if suggest.target == "greeting":
            return f"change the greeting to “{new_text.strip()}”"
        if suggest.target == "sentence":
            return f"rewrite the sentence as “{new_text.strip()}”{self._drops(start, end, new_text)}"
        return f"replace “{_brief(old_text)}” with “{new_text}”"

    def _drops(self, start: int, end: int, new_text: str) -> str:
        """" (this drops “five years”)": the facts a rewrite of body[start:end] leaves out."""
        dropped = [fact for fact in self.facts_in(start, end) if fact not in new_text]
        return f" (this drops {', '.join(f'“{f}”' for f in dropped)})" if dropped else ""

    @cached_property
    def _entities(self) -> tuple[list[Span], list[int]]:
        entities = list(self.doc.ents)
        return entities, [e.start for e in entities]

    def _entities_between(self, start: int, end: int) -> list[Span]:
        """Entities wholly inside tokens start..end-1 (Span.ents reads the whole doc's each time)."""
        entities, starts = self._entities
        return [e for e in entities[bisect.bisect_left(starts, start):bisect.bisect_left(starts, end)] if e.end <= end]

    def facts_in(self, start: int, end: int) -> list[str]:
        """The names, places, numbers and roles in body[start:end] (as written)."""
        span = self.doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            return []
        facts = [e for e in self._entities_between(span.start, span.end)
                 if e.label_ in _FACT_ENTITIES or e.label_ == "CARDINAL" and _DIGIT.search(e.text)]
        facts += [self.doc[t.i:t.i + 1] for t in span
                  if _DIGIT.search(t.text) and not any(e.start <= t.i < e.end for e in facts)]
        return [self.original(f.start_char, f.end_char) for f in sorted(facts, key=lambda f: f.start)]


# New occurrences of these after an edit mean it broke the sentence around it.
_BROKEN = [re.compile(p, re.I) for p in (
    r"\b(\w+)\s+\1\b",  # "the the"
    r"\b(?:at|for|with|to|of|in|on|from|about|by|as|the|a|an|your|my|our)\s*[.!?,;:]",  # "role at."
    r"^\s*(?:dear|to)\s*[,:]?\s*$",  # "Dear ,"
    r"\s[,.;:!?]", r"[,;:]\s*[.!?]", r",\s*,",  # stray punctuation
    r"\b(?:at|for|with|to|of|in|on|from|about|by|the|a|an)\s+(?:and|or|but)\b",  # "interested in and hope"
    r"\b(?:position|role|job|post|opening)\s+(?:position|role|job|post|opening)\b",  # "the position role"
)]
_FACT_ENTITIES = {"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "DATE", "QUANTITY", "MONEY", "PERCENT",
                  "WORK_OF_ART", "EVENT", "NORP"}
_DIGIT = re.compile(r"\d")


def _brief(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _trimmed(span: Span) -> Span | None:
    """The span without the whitespace tokens at its edges (the parser can tag a line
    break as part of a name); None when nothing else is left."""
    start, end = span.start, span.end
    while start < end and span.doc[start].is_space:
        start += 1
    while end > start and span.doc[end - 1].is_space:
        end -= 1
    return span.doc[start:end] if end > start else None


Edit = tuple[int, int, str, str]  # body start, body end, new text, where


def _replace(draft: Draft, suggest: Suggest, text: str, span, rule) -> Edit | None:
    return (span[0], span[1], text, "") if span else None


def _remove(draft: Draft, suggest: Suggest, text: str, span, rule) -> Edit | None:
    """Delete the span and the space after it, re-capitalising a sentence it started; never
    the only place the letter does what a whole-letter rule requires (its thanks, say). With
    `target: clause`, cut only the clause that does the harm and keep the rest."""
    if suggest.target == "clause":
        return _cut_clause(draft, span, rule)
    if not span or draft.carries_required(*span):
        return None
    body, (start, end) = draft.letter.body, span
    if body.startswith(",", end):
        end += 1
    while end < len(body) and body[end] in " \t":
        end += 1
    if end == span[1]:
        while start > 0 and body[start - 1] in " \t":
            start -= 1
    replacement = ""
    sentence = draft.sentence_at(span[0])
    starts_sentence = sentence is not None and sentence.start_char == span[0]
    whole = sentence is not None and draft.as_written(sentence) == tuple(span)
    if whole and body[body.rfind("\n", 0, start) + 1:start].strip() == "" and body[end:].startswith(("\n", "\r")):
        # a paragraph of its own: the blank line that separated it goes too
        while end < len(body) and body[end] in " \t\r\n" and end < draft.content_end:
            end += 1
        if end >= draft.content_end:  # the last paragraph: take the break before it instead
            end = span[1]
            while start > 0 and body[start - 1] in " \t\r\n":
                start -= 1
    elif starts_sentence and not whole and end < len(body) and body[end].islower():
        replacement, end = body[end].upper(), end + 1  # "XYZ was great" loses XYZ: "Was great"
    return start, end, replacement, ""


_CLAUSES = {"conj", "advcl", "parataxis"}  # clauses a sentence can lose; a complement ("I think [that…]") it cannot
_LINKS = {"cc", "punct", "mark", "prep"}
_CLOSERS = ".!?"


def _cut_clause(draft: Draft, span, rule: Rule) -> Edit | None:
    """The sentence holding the finding with only the clause that does the harm cut out:
    "Thanks for your time, but the process was a mess." keeps "Thanks for your time." The
    clauses come from the parse (coordinated, adverbial and complement clauses, or the main
    clause when a clause coordinated with it can stand alone); the cut must take every
    pattern hit of the rule with it, and what stays must be a sound sentence that the tone
    model, where the rule listens to it, no longer judges as the problem. The smallest cut
    that does all that wins; None when there is none."""
    sentence = draft.sentence_at(span[0]) if span else None
    if sentence is None:
        return None
    doc = draft.doc
    hits = draft.hits_between(rule, sentence.start, sentence.end)
    options = []
    for kept in _clause_splits(sentence):
        if any(set(range(h.start, h.end)) & set(kept) for h in hits):
            continue  # the part that would stay still has the problem in it
        words = [doc[i] for i in kept if not doc[i].is_punct]
        if len(words) >= 3 and _stands_alone(words):
            options.append((kept, _rebuild(draft, sentence, kept, words)))
    options = _still_fine(draft, rule, options)
    if not options:
        return None
    kept, text = max(options, key=lambda option: len(option[0]))
    return sentence.start_char, sentence.end_char, text, "the clause"


def _stands_alone(words: list) -> bool:
    """A sentence of its own: a verb with its subject in what stays, or a request ("Please keep
    me in mind"), and no verb left waiting for the clause that was cut ("I honestly think.")."""
    kept = {t.i for t in words}
    verbs = [t for t in words if t.pos_ in ("VERB", "AUX") and t.head.i not in kept or t.dep_ == "ROOT"]
    if not verbs:
        return False
    head = verbs[0]
    subject = any(c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") and c.i in kept for c in head.children)
    first = min(t.i for t in words if t.lower_ not in ("please", "kindly"))
    request = head.i == first and (head.tag_ == "VB" or head.lemma_ in ("thank", "thanks"))
    wanting = head.lemma_ in _NEEDS_COMPLEMENT and not any(
        c.dep_ in ("ccomp", "xcomp", "dobj", "attr", "acomp", "prep") and c.i in kept for c in head.children)
    return (subject or request) and not wanting


_NEEDS_COMPLEMENT = {"think", "believe", "feel", "say", "know", "guess", "suppose", "hope", "wish", "wonder",
                     "mean", "find", "assume", "expect", "imagine", "suspect", "do", "be"}


def _clause_splits(sentence: Span) -> Iterator[list[int]]:
    """Token indices that stay for each way of cutting one clause out of the sentence."""
    doc, inside = sentence.doc, range(sentence.start, sentence.end)
    for token in sentence:
        if token.dep_ not in _CLAUSES or not sentence.start <= token.head.i < sentence.end:
            continue
        dropped = set(range(token.left_edge.i, token.right_edge.i + 1))
        before = token.left_edge.i - 1  # the "but" or the comma that tied it on
        while before >= sentence.start and (doc[before].dep_ in ("cc", "punct") or doc[before].is_space):
            dropped.add(before)
            before -= 1
        yield [i for i in inside if i not in dropped]
        if token.dep_ in ("conj", "parataxis") and token.head.dep_ == "ROOT":
            yield list(range(token.left_edge.i, token.right_edge.i + 1))  # the main clause goes instead


def _rebuild(draft: Draft, sentence: Span, kept: list[int], words) -> str:
    """The kept tokens as the writer wrote them, trimmed of dangling links, as a sentence."""
    doc = draft.doc
    kept = list(kept)
    while kept and (doc[kept[0]].dep_ in _LINKS or doc[kept[0]].is_punct or doc[kept[0]].is_space):
        kept.pop(0)
    while kept and (doc[kept[-1]].is_punct or doc[kept[-1]].is_space or doc[kept[-1]].dep_ in ("cc", "mark")):
        kept.pop()
    text = "".join(draft.original(doc[i].idx, doc[i].idx + len(doc[i])) + doc[i].whitespace_ for i in kept).strip()
    last = sentence[-1].text
    question = words and words[0].tag_ in ("MD", "VBZ", "VBP", "VBD", "WRB", "WP")
    closer = last if last in _CLOSERS and (last != "?" or question) else "."
    return text[:1].upper() + text[1:] + closer


_TONE = ("bitter", "challenge", "pleading", "raw_emotion")


def _still_fine(draft: Draft, rule: Rule, options: list) -> list:
    """The options whose kept text the tone model clearly clears: under half the rule's own
    threshold, so a dig that only just passes does not stay, and with no other tone problem
    in it (all of them when the model is off)."""
    if not options or not draft.tone_ran:
        return options
    from .tone import score_texts

    threshold = draft.settings.threshold(rule)
    conditions = [c for role, c in rule.model_conditions if role == "match" and "threshold" in c]
    fine = []
    for option, score in zip(options, score_texts([text for _, text in options])):
        if all(max(score[label] for label in _labels(c)) < (threshold if threshold is not None else c["threshold"]) / 2
               for c in conditions) and max(score[label] for label in _TONE) < 0.5:
            fine.append(option)
    return fine


def _labels(condition: dict) -> list[str]:
    return [condition["label"]] if isinstance(condition["label"], str) else list(condition["label"])


def _insert(draft: Draft, suggest: Suggest, text: str, span, rule) -> Edit | None:
    """At the start: after the greeting, or (`after: missing-thanks`) after an opening sentence
    that already thanks them, so the thanks still comes first. At the end: before the sign-off."""
    if suggest.at == "start":
        opening = draft.sentences[0] if draft.sentences else None
        if opening is not None and suggest.after in draft.rules and \
                draft.hits_between(draft.rules[suggest.after], opening.start, opening.end):
            return opening.end_char, opening.end_char, " " + text, "after your opening line"
        position = draft.letter.content_start
        return position, position, text + " ", "at the start, after the greeting"
    position = draft.content_end
    return position, position, " " + text, "at the end, before the sign-off"


def _move(draft: Draft, suggest: Suggest, text: str, span, rule) -> Edit | None:
    """Move the sentence holding the span to the end of the content."""
    if not span:
        return None
    sentence = draft.sentence_at(span[0])
    if sentence is None:
        return None
    start, end = sentence.start_char, draft.content_end
    rest_start = sentence.end_char + len(draft.letter.body[sentence.end_char:end]) - len(
        draft.letter.body[sentence.end_char:end].lstrip())
    if rest_start >= end:
        return None  # nothing after it to move it behind
    rest = draft.original(rest_start, end)
    gap = draft.letter.newline * 2 if "\n\n" in draft.letter.body[rest_start:end].replace("\r", "") else " "
    return start, end, rest + gap + draft.original(sentence.start_char, sentence.end_char), "moved to the end"


def _shorten(draft: Draft, suggest: Suggest, text: str, span, rule) -> Edit | None:
    """Keep the sentences that carry what the letter needs, within the budget."""
    budget = draft.settings.budgets(rule).get(draft.stage, {})
    sentences = [s for s in draft.sentences if s.end_char <= draft.content_end]
    if budget.get("ps-exempt") and draft.letter.ps:
        sentences = [s for s in sentences if not draft.letter.ps[0] <= s.start_char < draft.letter.ps[1]]
    if len(sentences) < 2:
        return None
    max_words = budget.get("words", float("inf"))
    max_sentences = budget.get("sentences", len(sentences))

    # Sentences kept or cut whole: the parser can end one before "so I can close that gap.",
    # and cutting that part would leave the rest without its full stop.
    units: list[list[Span]] = []
    for sentence in sentences:
        if units and not _ends_sentence(units[-1][-1]) and "\n\n" not in draft.letter.body[
                units[-1][-1].end_char:sentence.start_char].replace("\r", ""):
            units[-1].append(sentence)
        else:
            units.append([sentence])

    def carries(unit: list[Span], rule_id: str) -> bool:
        """Whether the unit does what the rule asks for, or holds the slot its fix left to fill."""
        if any(draft.hits_between(draft.rules[rule_id], s.start, s.end) for s in unit):
            return True
        text = draft.letter.body[unit[0].start_char:unit[-1].end_char]
        return any(slot in text for slot in own_slots(draft.rules[rule_id]))

    others = [other.id for other in draft.rules.values() if other.kind == "existence" and other.id != rule.id]
    flags = {id(unit): any(carries(unit, other) for other in others) for unit in units}

    def flagged(unit: list[Span]) -> bool:  # something another rule asks to cut or rewrite
        return flags[id(unit)]

    # One unit for each thing the letter must keep (a sound one when there is a choice), then the
    # rest in order, the ones other findings flag last: they are the first to go.
    order = [min((u for u in units if carries(u, rule_id)), key=flagged, default=None) for rule_id in rule.keep]
    order = [u for u in order if u is not None] + sorted(units, key=flagged)
    kept, words, count = [], 0, 0
    for unit in order:
        unit_words = sum(count_words(s) for s in unit)
        if unit in kept or count + len(unit) > max_sentences or words + unit_words > max_words:
            continue
        kept.append(unit)
        words, count = words + unit_words, count + len(unit)
    kept = [s for unit in sorted(kept, key=lambda u: u[0].start) for s in unit]
    if not kept or len(kept) == len(sentences):
        return None
    pieces = []
    for previous, sentence in zip([None] + kept, kept):
        if previous is not None:
            between = draft.letter.body[previous.end_char:sentence.start_char].replace("\r", "")
            pieces.append(draft.letter.newline * 2 if "\n\n" in between else " ")
        pieces.append(draft.original(sentence.start_char, sentence.end_char))
    return sentences[0].start_char, sentences[-1].end_char, "".join(pieces), "the content, shortened"


def _ends_sentence(sentence: Span) -> bool:
    text = sentence.text.rstrip(" \t\r\n\"')”’»)]")
    return text.endswith((".", "!", "?", "…", ":", ";"))


ACTIONS: dict[str, Callable[..., Edit | None]] = {
    "replace": _replace, "remove": _remove, "insert": _insert, "move": _move, "shorten": _shorten,
}


def count_words(span: Span) -> int:
    return sum(1 for t in span if not (t.is_punct or t.is_space or t.lower_ in _CLITICS))


# --- the kinds -------------------------------------------------------------------


def existence(rule: Rule, draft: Draft) -> Iterator[Finding]:
    """Each hit is a finding; with `span: sentence`, one per sentence, suggestions still see the hit."""
    reported = set()
    for hit in draft.hits(rule):
        region = draft.sentence_of(hit) if rule.span == "sentence" else hit
        if region.start in reported:
            continue
        reported.add(region.start)
        yield Finding(*draft.source(region.start_char, region.end_char),
                      suggestions=draft.suggestions(rule, (hit.start_char, hit.end_char)))


_FILL_IN = re.compile(r"\[[^\[\]\n]{1,60}\]")


def own_slots(rule: Rule) -> set[str]:
    """The fill-in slots the rule's own suggestions put in ("[one moment from the interview]")."""
    return {slot for suggest in rule.suggest for text in suggest.texts for slot in _FILL_IN.findall(text)}


def required(rule: Rule, draft: Draft) -> Iterator[Finding]:
    """A finding when the letter lacks what the rule requires. A fill-in slot of the rule's own
    suggestion in the letter ("[one moment from the interview]") means it is on its way: the
    placeholder rule asks for it to be filled, and one request is enough."""
    if any(slot in draft.letter.body for slot in own_slots(rule)):
        return
    if not draft.hits(rule):
        yield Finding(*draft.source(*draft.where_fix_goes(rule)), suggestions=draft.suggestions(rule, None))


def metric(rule: Rule, draft: Draft) -> Iterator[Finding]:
    budget = draft.settings.budgets(rule).get(draft.stage)
    if not budget:
        return
    ps = draft.letter.ps if budget.get("ps-exempt") else None
    sentences = [s for s in draft.sentences if not (ps and ps[0] <= s.start_char < ps[1])]
    measured = {"words": sum(count_words(s) for s in sentences), "sentences": len(sentences)}
    if "grade" in budget:
        measured["grade"] = readability_grade(" ".join(s.text for s in sentences))
    over = [f"{measured[key]:g} {key} (budget {budget[key]:g})"
            for key in ("words", "sentences", "grade") if key in budget and measured[key] > budget[key]]
    if over:  # reported on what runs over: from the first sentence past the budget to the end
        within, words = 0, 0
        for sentence in sentences:
            words += count_words(sentence)
            if within >= budget.get("sentences", len(sentences)) or words > budget.get("words", float("inf")):
                break
            within += 1
        first = sentences[min(within, len(sentences) - 1)]
        yield Finding(*draft.source(first.start_char, sentences[-1].end_char), detail=f"{draft.stage}: " + ", ".join(over),
                      suggestions=draft.suggestions(rule, None))


def readability_grade(text: str) -> float:
    """Flesch-Kincaid grade level; textstat is imported only when a budget asks for it."""
    import textstat

    return round(textstat.flesch_kincaid_grade(text), 1)


def recipients(rule: Rule, draft: Draft) -> Iterator[Finding]:
    letter = draft.letter
    count = len(letter.recipients)
    if count > rule.max:
        fields = letter.recipient_fields
        span = (fields[0][0], fields[0][1]) if fields else draft.source(*draft.where_fix_goes(rule))
        suggestions = [s for s in draft.suggestions(rule, None)] + list(_one_recipient(letter))
        yield Finding(*span, detail=f"{count} recipients in To/Cc/Bcc", suggestions=tuple(suggestions))
    yield from existence(rule, draft)


def _one_recipient(letter: Letter) -> Iterator[Suggestion]:
    """Rewrite the To/Cc/Bcc lines to address only the first recipient."""
    fields = letter.recipient_fields
    if not fields:
        return
    source = letter.source
    header = "To" if source[fields[0][0]].isupper() else "to"
    pieces = [f"{header}: {letter.recipients[0]}"]
    for (_, previous_end), (next_start, _) in zip(fields, fields[1:]):
        gap = source[previous_end:next_start]  # other headers between them stay
        pieces.append(gap[: -len(letter.newline)] if gap.endswith(letter.newline) else gap)
    yield Suggestion("".join(pieces), fields[0][0], fields[-1][1], safe=False,
                     where="address only the first recipient; write the others their own note",
                     description=f"send it to {letter.recipients[0]} only, and write the others a note of their own")


def correspondence(rule: Rule, draft: Draft) -> Iterator[Finding]:
    """What the cross-draft step found about this draft, at the date it is about (or, as other
    whole-letter findings, where the fix goes), its own edit (a later send date) before the rule
    file's suggestions."""
    related = draft.related.get(rule.id, ())
    if not related:
        return
    own = draft.suggestions(replace(rule, suggest=tuple(s for s in rule.suggest if s.action in ACTIONS)), None)
    for found in related:
        span = found.span or draft.source(*draft.where_fix_goes(rule))
        yield Finding(*span, detail=found.detail, suggestions=found.suggestions + own)


KINDS: dict[str, Callable[[Rule, Draft], Iterator[Finding]]] = {
    "existence": existence, "required": required, "metric": metric, "recipients": recipients,
    "correspondence": correspondence,
}
