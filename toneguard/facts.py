"""Facts a suggestion can reuse from the draft: who it greets, the company, the role.

"Thank you, Ms. Chen, for letting me know about the analyst role" beats "Thank
you for letting me know", so suggestions are templates filled from the parse.
A fact inside an unfilled slot ("[Company]") is no fact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Span

from .checks import role_names
from .offsets import Regions

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


@dataclass(frozen=True)
class Facts:
    name: str | None = None
    company: str | None = None
    role: str | None = None


def find_facts(doc: Doc, greeting: tuple[int, int] | None, content_start: int, slots: list[Span],
               recipient_names: tuple[str, ...] = ()) -> Facts:
    regions = Regions((slot.start, slot.end) for slot in slots)

    def in_slot(span: Span) -> bool:
        return regions.overlap(span.start, span.end)

    return Facts(
        name=_addressee(doc, greeting, in_slot) or next(filter(_is_name, recipient_names), None),
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


def _is_name(text: str) -> bool:
    """A person's name ("Ms. Chen", "Priya"), not a group or a title ("Talent Team", "Head Chef")."""
    words = text.split()
    if not words or len(words) > 4 or any(w.lower().strip(".") in _NOT_NAMES for w in words):
        return False
    return " and " not in f" {text.lower()} " and "&" not in text and all(w[0].isupper() for w in words)


def _role(doc: Doc, content_start: int, in_slot) -> str | None:
    return next((span.text for span in role_names(doc) if span.start_char >= content_start and not in_slot(span)), None)
