"""Every rule's match and exceptions blocks compiled into one set of spaCy matchers.

One PhraseMatcher, one Matcher and one DependencyMatcher hold every pattern of
every loaded rule, keyed "rule-id/match" or "rule-id/exceptions", so a draft is
scanned once however many rules there are.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from spacy.matcher import DependencyMatcher, Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from .errors import ToneguardError
from .model import normalise_quotes
from .rules import Rule

Check = Callable[[Doc], Iterable[Span]]
CheckFactory = Callable[..., Check]


class Matchers:
    def __init__(self, nlp, rules: Iterable[Rule], checks: dict[str, CheckFactory]):
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.tokens = Matcher(nlp.vocab, validate=True)
        self.dependencies = DependencyMatcher(nlp.vocab, validate=True)
        self.checks: dict[str, list[Check]] = {}
        for rule in rules:
            blocks = {"match": rule.match, "exceptions": rule.exceptions, "requires": rule.match.get("requires")}
            if "same-as" in rule.match:  # compiled under the rule it is the same as
                del blocks["match"], blocks["requires"]
            for block, spec in blocks.items():
                if spec:
                    self._add(nlp, rule, block, spec, checks)

    def _add(self, nlp, rule: Rule, block: str, spec: dict, checks: dict[str, CheckFactory]) -> None:
        key = f"{rule.id}/{block}"
        if spec.get("phrases"):
            self.phrases.add(key, [nlp.make_doc(normalise_quotes(p)) for p in spec["phrases"]])
        for name, matcher in (("patterns", self.tokens), ("dependencies", self.dependencies)):
            for index, pattern in enumerate(spec.get(name, ())):
                try:
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

    def __call__(self, doc: Doc) -> dict[str, list[Span]]:
        found: dict[str, list[Span]] = defaultdict(list)
        strings = doc.vocab.strings
        for match_id, start, end in self.phrases(doc):
            found[strings[match_id]].append(doc[start:end])
        for match_id, start, end in self.tokens(doc):
            found[strings[match_id]].append(doc[start:end])
        for match_id, token_ids in self.dependencies(doc) if len(self.dependencies) else ():
            found[strings[match_id]].append(doc[min(token_ids):max(token_ids) + 1])
        for key, checks in self.checks.items():
            for check in checks:
                found[key].extend(check(doc))
        return found


def _first_problem(error: Exception) -> str:
    """spaCy's pattern errors run to many lines; the first specific one is enough."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    details = [line.lstrip("- ") for line in lines if line.startswith("- [")]
    return "; ".join(details) if details else (lines[0] if lines else type(error).__name__)
