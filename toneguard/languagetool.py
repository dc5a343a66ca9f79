"""LanguageTool's HTTP API (v2) as `toneguard serve` speaks it: a form in, matches out.

LanguageTool's clients (its browser extension, LTeX, language-tool-python) post a
form with `text`, or `data` (the text with its markup, as JSON), and read back
matches whose `offset` and `length` count UTF-16 code units (Java string indices)
into the whole text, markup included. A match's replacements replace exactly its
span, so each finding is placed where its rewrites apply: its own words, widened
to take in rewrites that reach a little past them (a trailing space or comma); a
finding about the whole letter (none of its rewrites touches its words: a missing
thanks, say) sits where its first rewrite goes. An insertion is shown on the word
it goes before, or at the end of the letter on the character it follows, with that
text carried in the replacement: the clients can neither show nor apply an empty
match. Nothing here lints; the server passes the plain text to the engine.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from .offsets import OffsetMap
from .report import Report, Suggestion, Violation
from .rules import Rule

LANGUAGES = (("English", "en", "en"), ("English (Australian)", "en", "en-AU"),
             ("English (Canadian)", "en", "en-CA"), ("English (GB)", "en", "en-GB"),
             ("English (New Zealand)", "en", "en-NZ"), ("English (South African)", "en", "en-ZA"),
             ("English (US)", "en", "en-US"))
CATEGORY = {"id": "TONE", "name": "Tone (toneguard)"}
CONTEXT = 40  # UTF-16 units each side, as LanguageTool's ContextTools gives
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)|\n[ \t]*\n")


class BadRequest(Exception):
    """A request LanguageTool would answer with 400 and this one-line reason."""


@dataclass(frozen=True)
class CheckRequest:
    text: str  # the plain text to lint
    original: str  # the text as sent, markup included: what offsets count into
    offsets: OffsetMap  # plain-text offset -> original offset
    language: tuple[str, str, str]  # name, code, long code
    enabled: tuple[str, ...] | None  # enabledOnly: just these rules
    disabled: tuple[str, ...]


def languages() -> list[dict]:
    return [{"name": name, "code": code, "longCode": long_code} for name, code, long_code in LANGUAGES]


def parse_check(params: dict[str, str], rule_ids) -> CheckRequest:
    """Read /v2/check's parameters; rule ids toneguard does not have are ignored, as
    LanguageTool ignores ids it does not know (clients send their own)."""
    if "text" in params and "data" in params:
        raise BadRequest("Set only 'text' or 'data' parameter, not both")
    if "text" in params:
        text = original = params["text"]
        offsets = OffsetMap(0)
    elif "data" in params:
        text, original, offsets = annotated(params["data"])
    else:
        raise BadRequest("Missing 'text' or 'data' parameter")
    language = _language(params.get("language"))
    known = set(rule_ids)
    ids = lambda key: tuple(i for i in (p.strip() for p in params.get(key, "").split(",")) if i in known)  # noqa: E731
    enabled_only = params.get("enabledOnly", "false").lower() == "true"
    categories = {p.strip() for p in params.get("enabledCategories", "").split(",") if p.strip()}
    if enabled_only and not params.get("enabledRules") and not categories:
        raise BadRequest("'enabledOnly' needs 'enabledRules' or 'enabledCategories'")
    enabled = None
    if enabled_only:
        enabled = tuple(known) if CATEGORY["id"] in categories else ids("enabledRules")
    disabled = ids("disabledRules")
    if CATEGORY["id"] in {p.strip() for p in params.get("disabledCategories", "").split(",")}:
        enabled = ()
    return CheckRequest(text, original, offsets, language, enabled, disabled)


def _language(code: str | None) -> tuple[str, str, str]:
    if not code:
        raise BadRequest("Missing 'language' parameter (use 'auto', or an English code such as 'en-US')")
    wanted = code.strip().replace("_", "-").lower()
    if wanted in ("auto", "en"):
        return LANGUAGES[-1] if wanted == "auto" else LANGUAGES[0]
    for language in LANGUAGES:
        if language[2].lower() == wanted:
            return language
    if wanted.startswith("en-"):
        return LANGUAGES[0]
    raise BadRequest(f"'{code}' is not a language toneguard checks: it checks English "
                     f"({', '.join(long for _, _, long in LANGUAGES)}) or 'auto'")


def annotated(data: str) -> tuple[str, str, OffsetMap]:
    """`data` as LanguageTool reads it: {"text": ...} or {"annotation": [{"text": ...},
    {"markup": ..., "interpretAs": ...}]}. Returns the plain text, the whole text with
    markup, and where each plain character sits in the whole text."""
    try:
        document = json.loads(data)
    except ValueError:
        raise BadRequest("Could not parse JSON from 'data' parameter") from None
    if not isinstance(document, dict):
        raise BadRequest("'data' must be a JSON object with 'text' or 'annotation'")
    if "text" in document and "annotation" in document:
        raise BadRequest("'data' key in JSON requires either 'text' or 'annotation' key, not both")
    if "text" in document:
        nodes = [{"text": document["text"]}]
    elif isinstance(document.get("annotation"), list):
        nodes = document["annotation"]
    else:
        raise BadRequest("'data' key in JSON requires 'text' or 'annotation' key")
    plain, original, starts, ends = [], [], [], []
    position = 0
    for node in nodes:
        shown = json.dumps(node, ensure_ascii=False)[:80]
        if not isinstance(node, dict) or ("text" in node) == ("markup" in node):
            raise BadRequest(f"each item of 'annotation' needs exactly one of 'text' and 'markup': {shown}")
        if "text" in node and "interpretAs" in node:
            raise BadRequest(f"'text' cannot be used with 'interpretAs' (only 'markup' can): {shown}")
        piece, meaning = (node["text"], None) if "text" in node else (node["markup"], node.get("interpretAs", ""))
        if not isinstance(piece, str) or not isinstance(meaning, (str, type(None))):
            raise BadRequest(f"'text', 'markup' and 'interpretAs' must be strings: {shown}")
        if meaning is None:  # text: each character is itself
            plain.append(piece)
            starts.extend(range(position, position + len(piece)))
            ends.extend(range(position + 1, position + len(piece) + 1))
        else:  # markup: what it means takes the markup's place
            plain.append(meaning)
            starts.extend([position] * len(meaning))
            ends.extend([position + len(piece)] * len(meaning))
        original.append(piece)
        position += len(piece)
    return "".join(plain), "".join(original), OffsetMap.table(starts, ends, position)


# --- the response -----------------------------------------------------------------------


class Units:
    """Code-point offsets into one text counted as Java counts them, in UTF-16 code units."""

    def __init__(self, text: str):
        self.astral = [i for i, c in enumerate(text) if ord(c) > 0xFFFF]

    def __call__(self, offset: int) -> int:
        return offset + bisect.bisect_left(self.astral, offset)


def check_response(request: CheckRequest, report: Report | None, rules: dict[str, Rule],
                   version: str) -> dict:
    """LanguageTool's answer to /v2/check for a lint of request.text (None: nothing to lint)."""
    name, _, long_code = request.language
    units = Units(request.original)
    placed = sorted((placement(v, request.text) + (v,) for v in (report.violations if report else ())),
                    key=lambda p: (request.offsets.span(p[0], p[1]), p[3].rule))
    matches = []
    for start, end, values, violation in placed:
        o_start, o_end = request.offsets.span(start, end)
        offset, length = units(o_start), units(o_end) - units(o_start)
        rule = rules.get(violation.rule)
        matches.append({
            "message": violation.message,
            "shortMessage": rule.summary if rule else "",
            "replacements": [{"value": value} for value in values],
            "offset": offset,
            "length": length,
            "context": context(request.original, o_start, o_end, units),
            "sentence": sentence(request.text, start, end),
            "type": {"typeName": "Other"},
            "rule": {"id": violation.rule, "description": rule.summary if rule else violation.rule,
                     "issueType": "style", "category": dict(CATEGORY)},
            "ignoreForIncompleteSentence": False,
            "contextForSureMatch": 0,
        })
    language = {"name": name, "code": long_code}
    return {
        "software": {"name": "toneguard", "version": version, "buildDate": "", "apiVersion": 1,
                     "premium": False, "status": ""},
        "warnings": {"incompleteResults": False},
        "language": {**language, "detectedLanguage": {**language, "confidence": 1.0}},
        "matches": matches,
    }


def placement(violation: Violation, text: str) -> tuple[int, int, list[str]]:
    """Where a finding goes as one match, and its rewrites as replacements of exactly that span."""
    suggestions = list(violation.suggestions)
    start, end = violation.start, violation.end
    if suggestions and not any(_overlaps(s, start, end) for s in suggestions):
        start, end = _shown(suggestions[0], text)  # about the whole letter: where its fix goes
    fitting = [s for s in suggestions if _fits(s, start, end, text)]
    if not fitting:  # only rewrites of more than its words (its sentence): show it on the smallest
        around = [s for s in suggestions if s.start <= start and end <= s.end and s.end - s.start > end - start]
        if around:
            smallest = min(around, key=lambda s: s.end - s.start)
            start, end = smallest.start, smallest.end
            fitting = [s for s in suggestions if _fits(s, start, end, text)]
    start = min([start] + [s.start for s in fitting])
    end = max([end] + [s.end for s in fitting])
    values = []
    for s in fitting:
        value = text[start:s.start] + s.text + text[s.end:end]
        if value != text[start:end] and value not in values:
            values.append(value)
    return start, end, values


def _overlaps(suggestion: Suggestion, start: int, end: int) -> bool:
    return suggestion.start < end and suggestion.end > start and suggestion.end > suggestion.start


def _fits(suggestion: Suggestion, start: int, end: int, text: str) -> bool:
    """A rewrite that touches the span and reaches past it by spaces or punctuation at most."""
    if suggestion.start > end or suggestion.end < start:
        return False
    outside = text[suggestion.start:start] + text[end:suggestion.end]
    return not any(c.isalnum() for c in outside)


def _shown(suggestion: Suggestion, text: str) -> tuple[int, int]:
    """The span a whole-letter finding is shown on: its rewrite's, an insertion widened to the
    word it goes before or, with nothing after it, the character it follows."""
    start, end = suggestion.start, suggestion.end
    if start != end:
        return start, end
    if start < len(text) and not text[start].isspace():
        while end < len(text) and not text[end].isspace():
            end += 1
    elif start > 0 and not text[start - 1].isspace():
        start -= 1
    return start, end


def context(original: str, start: int, end: int, units: Units) -> dict:
    """LanguageTool's context: up to CONTEXT units each side, '...' where cut, lines joined."""
    first = start
    while first > 0 and units(start) - units(first - 1) <= CONTEXT:
        first -= 1
    last = end
    while last < len(original) and units(last + 1) - units(end) <= CONTEXT:
        last += 1
    prefix = "..." if first > 0 else ""
    suffix = "..." if last < len(original) else ""
    text = prefix + original[first:last].replace("\n", " ") + suffix
    return {"text": text, "offset": len(prefix) + units(start) - units(first), "length": units(end) - units(start)}


def sentence(text: str, start: int, end: int) -> str:
    """The sentence the match starts in, cut at . ! ? and blank lines (the report holds no sentences)."""
    begin = 0
    for boundary in _SENTENCE_END.finditer(text, 0, start):
        begin = boundary.end()
    after = _SENTENCE_END.search(text, max(start, min(end, len(text)) - 1))
    return text[begin:after.end() if after else len(text)].strip()
