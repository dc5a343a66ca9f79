"""Facts a suggestion can reuse from the draft: who it greets, the company, the role, the month.

"Thank you, Ms. Chen, for letting me know about the analyst role" beats "Thank
you for letting me know", so suggestions are templates filled from the parse.
A fact inside an unfilled slot ("[Company]") is no fact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .offsets import Regions

if TYPE_CHECKING:  # the name helpers below serve the cross-draft rules too, which run without spaCy
    from spacy.tokens import Doc, Span

_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Professor)\b\.?", re.I)
_SALUTATION = re.compile(
    r"^\s*(?:dear|hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day))\b[\s,]*", re.I
)
# Addressees that are not a person's name.
_NOT_NAMES = {
    "all", "everyone", "everybody", "team", "folks", "there", "you", "both", "guys", "friends",
    "sir", "madam", "manager", "recruiter", "committee", "hiring", "recruiting", "department",
    "hr", "human", "resources", "talent", "acquisition", "staff", "panel", "colleagues", "applicant",
    "chef", "head", "principal", "dean", "doctor", "owner", "director", "supervisor", "lead", "coordinator",
    "officer", "specialist", "partner", "representative", "administrator", "editor", "superintendent",
    "president", "ceo", "founder", "captain", "foreman", "nurse", "engineer", "attorney", "counsel", "chair",
}


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


@dataclass(frozen=True)
class Facts:
    name: str | None = None
    company: str | None = None
    role: str | None = None
    month: str | None = None  # a month the letter mentions ("the interview in March")
    greeted: bool = False  # the greeting already names `name`, so a sentence after it need not


def find_facts(doc: Doc, greeting: tuple[int, int] | None, content_start: int, slots: list[Span],
               recipient_names: tuple[str, ...] = ()) -> Facts:
    regions = Regions((slot.start, slot.end) for slot in slots)

    def in_slot(span: Span) -> bool:
        return regions.overlap(span.start, span.end)

    greeted = _addressee(doc, greeting, in_slot)
    return Facts(
        name=greeted or next(filter(_is_name, recipient_names), None) or _titled_person(doc, content_start, in_slot),
        greeted=greeted is not None,
        month=next((t.text for t in doc if t.lower_ in _MONTHS and t.ent_type_ == "DATE" and t.idx >= content_start
                    and not in_slot(doc[t.i:t.i + 1])), None),
        company=next((e.text.removeprefix("the ").strip() for e in doc.ents
                      if e.label_ == "ORG" and e.start_char >= content_start and not in_slot(e)), None),
        role=_role(doc, content_start, in_slot),
    )


def _addressee(doc: Doc, greeting, in_slot) -> str | None:
    if not greeting:
        return None
    span = doc.char_span(*greeting, alignment_mode="expand")
    if span is None or in_slot(span):
        return None
    text = _SALUTATION.sub("", span.text).strip(" \t,:;!.")
    return text if _is_name(text) else None


def _titled_person(doc: Doc, content_start: int, in_slot) -> str | None:
    """A person the body names with a title ("Dr. Shah", "Ms. Chen"): the likely addressee."""
    for token in doc:
        if token.idx >= content_start and _HONORIFIC.fullmatch(token.text) and token.i + 1 < len(doc):
            name = doc[token.i + 1]
            if name.is_title and name.pos_ == "PROPN" and not in_slot(doc[token.i:name.i + 1]):
                return doc[token.i:name.i + 1].text
    return None


def _is_name(text: str) -> bool:
    """A person's name ("Ms. Chen", "Priya"), not a group or a title ("Talent Team", "Head Chef")."""
    words = text.split()
    if not words or len(words) > 4 or any(w.lower().strip(".") in _NOT_NAMES for w in words):
        return False
    return " and " not in f" {text.lower()} " and "&" not in text and all(w[0].isupper() for w in words)


def _role(doc: Doc, content_start: int, in_slot) -> str | None:
    from .checks import role_names

    return next((span.text for span in role_names(doc) if span.start_char >= content_start and not in_slot(span)), None)
