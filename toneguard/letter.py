"""From a source text to a Letter: what to lint, and where each part sits in the original.

A Letter's `body` is the part of the file a person wrote as the draft, with the
text that is not theirs (front matter, quoted replies, signature blocks, HTML
comments, Markdown link targets) blanked out rather than removed, so offsets
into the body map straight back into the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

import yaml
from email.utils import getaddresses

from .errors import ToneguardError
from . import dates, safeyaml
from .mime import html_comments, read_message
from .model import normalise_quotes
from .offsets import OffsetMap
from .report import LINE_BREAK

STAGES = ("first-reply", "follow-up", "check-in")
DEFAULT_STAGE = "first-reply"
MAX_WORD = 2_000  # characters without whitespace (a long URL is a few hundred)
_LONG_RUN = re.compile(r"(?<!\S)\S{%d,}" % (MAX_WORD + 1))  # tried from the start of each word only
# Words and punctuation marks, each of which the parser takes as a token: what prose at the
# size limit holds (about 51,000). Text denser in marks ("!!!!", "[ [ [") holds up to five
# times more in the same bytes, and parsing time grows with the count, not the bytes.
MAX_TOKENS = 60_000
_TOKEN = re.compile(r"\w+|[^\w\s]")
FRONT_MATTER_KEYS = ("to", "cc", "bcc")

Span = tuple[int, int]


@dataclass(frozen=True)
class Suppression:
    rules: frozenset[str]  # empty: every rule
    start: int  # source offsets
    end: int


@dataclass(frozen=True)
class Letter:
    path: str
    source: str  # the original text
    body: str  # what gets parsed: same length as the draft region it comes from
    offsets: OffsetMap  # body offset -> source offset
    newline: str = "\n"
    stage: str | None = None  # from front matter; None defers to config
    settings: dict = field(default_factory=dict)  # the front matter's `toneguard:` mapping
    recipients: tuple[str, ...] = ()  # addresses across To/Cc/Bcc
    recipient_names: tuple[str, ...] = ()  # their display names, where given
    recipient_fields: tuple[Span, ...] = ()  # source spans of the To/Cc/Bcc lines
    greeting: Span | None = None  # body spans from here on
    signoff: Span | None = None
    ps: Span | None = None
    blanked: tuple[Span, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    named_rules: tuple[tuple[str, int, int], ...] = ()  # each id a toneguard comment names, at its source span
    date: datetime | None = None  # when it was sent: the Date header or front matter `date:`
    date_span: Span | None = None  # where that date is written in the source
    rejected: datetime | None = None  # front matter `rejected:`, else the date of the message it quotes

    @property
    def content_start(self) -> int:
        start = self.greeting[1] if self.greeting else 0
        return start + _leading_space(self.body, start)

    def source_span(self, start: int, end: int) -> Span:
        return self.offsets.span(start, end)

    def in_content(self, start: int, end: int) -> bool:
        return not any(region and start < region[1] and end > region[0]
                       for region in (self.greeting, self.signoff))


def read_letter(text: str, path: str = "-") -> Letter:
    """Parse a whole source: an e-mail message by its suffix, anything else as text."""
    newline = "\r\n" if "\r\n" in text else "\n"
    if path.lower().endswith(".eml"):
        message = read_message(text, path)
        draft, offsets = message.body, message.offsets
        front: dict = {}
        people, fields = message.recipients, message.recipient_fields
        sent, sent_span = dates.from_header(message.date), message.date_span
    else:
        front, start, fields = _front_matter(text, path)
        draft, offsets = text[start:], OffsetMap(start)
        people = tuple(_addresses(front, path))
        sent, sent_span = _front_matter_date(front, "date", path), _front_matter_value(text[:start], "date")
    end = _draft_end(draft)
    rejected = _front_matter_date(front, "rejected", path) or dates.quoted(draft[end:], sent.tzinfo if sent else None)
    markdown = path.lower().endswith((".md", ".markdown"))
    body, blanked = _blank_foreign_text(draft[:end], markdown)
    if not body.strip():
        raise ToneguardError("empty draft: no text to lint", path)
    long_run = _LONG_RUN.search(body)
    if long_run:  # the tokenizer takes quadratic time on these; no letter has one
        line = text.count("\n", 0, offsets[long_run.start()]) + 1
        raise ToneguardError(f"line {line}: {len(long_run.group()):,} characters without a space; "
                             f"a draft's words are limited to {MAX_WORD:,}", path)
    tokens = sum(1 for _ in _TOKEN.finditer(body))
    if tokens > MAX_TOKENS:
        raise ToneguardError(f"{tokens:,} words and punctuation marks; a draft is limited to {MAX_TOKENS:,}", path)
    greeting = _find_greeting(body)
    ps = _find_ps(body, greeting[1] if greeting else 0)
    signoff = _find_signoff(body, greeting[1] if greeting else 0, ps)
    stage = front.get("stage")
    if stage is not None and stage not in STAGES:
        raise ToneguardError(f"front matter: unknown stage {stage!r} (use one of {', '.join(STAGES)})", path)
    settings = _front_matter_settings(front.get("toneguard") or {}, path)
    return Letter(
        path=path, source=text, body=normalise_quotes(body), offsets=offsets, newline=newline,
        stage=stage, settings=settings, recipients=tuple(address for _, address in people),
        recipient_names=tuple(name for name, _ in people if name), recipient_fields=fields,
        greeting=greeting, signoff=signoff, ps=ps, blanked=blanked,
        suppressions=tuple(_suppressions(draft[:end], offsets)),
        named_rules=tuple(_named_rules(draft[:end], offsets)),
        date=sent, date_span=sent_span if sent else None, rejected=rejected,
    )


def stage_of(letter: Letter, settings, stage: str | None = None) -> str:
    """Where the letter stands: --stage, else its front matter, else config, else the default."""
    return stage or letter.stage or settings.stage or DEFAULT_STAGE


def with_recipients(letter: Letter, addresses) -> Letter:
    """The letter with more To/Cc/Bcc addresses, given apart from its text (a form's field)."""
    people = tuple(_addresses({"to": list(addresses)}, letter.path))
    return replace(letter, recipients=letter.recipients + tuple(address for _, address in people),
                   recipient_names=letter.recipient_names + tuple(name for name, _ in people if name))


# --- front matter -----------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def _front_matter(text: str, path: str) -> tuple[dict, int, tuple[Span, ...]]:
    match = _FRONT_MATTER.match(text)
    if not match:
        if text.startswith("---") and text[3:4] in ("\n", "\r"):
            raise ToneguardError("malformed front matter: no closing '---' line", path)
        return {}, 0, ()
    try:
        data = safeyaml.load(match.group(1) or "") or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ToneguardError(f"malformed front matter{where}: {problem}", path) from None
    if not isinstance(data, dict):
        raise ToneguardError("malformed front matter: expected 'key: value' lines", path)
    fields = tuple(
        (m.start(), m.end())
        for m in re.finditer(r"^(?:to|cc|bcc)[ \t]*:.*(?:\r?\n[ \t]+-.*)*", match.group(0), re.M | re.I)
    )
    return data, match.end(), fields


def _front_matter_settings(data, path: str) -> dict[str, tuple[str, ...]]:
    """A draft's own `toneguard:` settings: it can narrow the rules, never widen them."""
    if not isinstance(data, dict):
        raise ToneguardError("front matter: 'toneguard' must be a mapping of settings", path)
    settings = {}
    for key, value in data.items():
        if key not in ("select", "ignore"):
            raise ToneguardError(f"front matter: unknown toneguard setting '{key}' (use select, ignore)", path)
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ToneguardError(f"front matter: toneguard.{key} must be a list of rule ids", path)
        settings[key] = tuple(values)
    return settings


def _front_matter_date(front: dict, key: str, path: str) -> datetime | None:
    if front.get(key) is None:
        return None
    try:
        return dates.from_value(front[key])
    except dates.NotADate:
        raise ToneguardError(f"front matter: {key}: {str(front[key])!r} is not a date and time "
                             "(write it like 2026-03-03 14:30 +01:00)", path) from None


def _front_matter_value(block: str, key: str) -> Span | None:
    """Where a top-level key's value is written in the front matter block."""
    match = re.search(rf"^{key}[ \t]*:[ \t]*(.*?)[ \t]*\r?$", block, re.M)
    return match.span(1) if match else None


def _addresses(front: dict, path: str):
    for key in FRONT_MATTER_KEYS:
        value = front.get(key)
        values = [value] if isinstance(value, str) else value or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ToneguardError(f"front matter: '{key}' must be an address or a list of addresses", path)
        for name, address in getaddresses(values):
            if "@" in address:
                yield name, address


# --- what is not the draft ----------------------------------------------------

_REPLY_MARKERS = re.compile(
    r"^(?:"
    r"On\s[^\r\n]{0,200}(?:\r?\n[^\r\n]{0,200})?\swrote:[ \t]*\r?$"  # Gmail, Apple Mail
    r"|-{2,}\s*Original Message\s*-{2,}"  # Outlook, classic
    r"|_{8,}[ \t]*\r?\n(?=From:)"  # Outlook, new
    r"|From:[^\r\n]*\r?\n(?:[^\r\n]*\r?\n){0,3}?(?:Sent|Date):"  # Outlook header block
    r"|-{4,}\s*Forwarded message\s*-{4,}"
    r"|Begin forwarded message:"
    r"|--[ ]?\r?$"  # signature delimiter
    r")",
    re.M,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>[^\r\n]*", re.M)
# Link text never holds "[": a "[" that opens no link costs a scan to the next "[" only.
_MARKDOWN_LINK = re.compile(r"(!?\[)([^\[\]\r\n]*)(\]\([^)\s]*(?:\s+\"[^\"\r\n]*\")?\))")


def _draft_end(text: str) -> int:
    match = _REPLY_MARKERS.search(text)
    return match.start() if match else len(text)


def _blank(text: str, spans) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] not in "\r\n":
                chars[i] = " "
    return "".join(chars)


def _blank_foreign_text(text: str, markdown: bool) -> tuple[str, tuple[Span, ...]]:
    spans = [m.span() for m in _QUOTED_LINE.finditer(text)]
    spans += [span for span in html_comments(text) if text.endswith("-->", *span)]  # only closed ones
    if markdown:
        for m in _MARKDOWN_LINK.finditer(text):
            spans += [m.span(1), m.span(3)] if m.group(1) == "[" else [m.span()]
    return _blank(text, spans), tuple(sorted(spans))


def _leading_space(text: str, start: int) -> int:
    return len(text[start:]) - len(text[start:].lstrip())


# --- greeting, PS, sign-off ----------------------------------------------------

_SALUTATION = (
    r"(?:dear|hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day)"
    r"|to\s+whom|to\s+the|to\s+all|attn|attention)\b"
)
_GREETING = re.compile(
    r"[ \t]*(?:" + _SALUTATION + r"[^,:;!\r\n]{0,70}?(?:[,:;!]|(?=[ \t]*\r?$))"
    r"|[^\s,:;!.?][^,:;!.?\r\n]{0,40}[,:](?=[ \t]*\r?$))",
    re.I,
)
_PS_LINE = re.compile(r"^[ \t]*P\.?[ \t]?S\.?(?=[\s:\-\u2013\u2014,])", re.M)
_CLOSING = re.compile(
    r"[ \t]*(?:best|best regards|kind regards|kindest regards|warm regards|warmest regards|regards"
    r"|sincerely|sincerely yours|yours sincerely|yours truly|yours|respectfully|respectfully yours"
    r"|thanks|thank you|thanks again|thank you again|thanks so much|thank you so much|many thanks|with thanks"
    r"|cheers|warmly|all the best|all best|best wishes|take care|with gratitude|gratefully"
    r"|with appreciation|appreciatively|talk soon|cordially|god bless|blessings|warm wishes|with best wishes"
    r"|thanks and regards|thanks & regards|regards and thanks|best regards and thanks|with kind regards"
    r"|with warm regards|kindly|love|peace|ta|thx|thanks again for everything|yours faithfully|faithfully)"
    r"[ \t]*(?:,|!|\.|\u2014|-)?[ \t]*\r?$",
    re.I,
)
# A name under a letter: "Jane Doe", "J. Doe", "Rosa Delgado, RN, BSN", or after a dash "- marcus"
_NAME_LINE = re.compile(
    r"[ \t]*(?:(?:[-\u2013\u2014~][ \t]*)?(?:[A-Z][\w'.\-]*|[A-Z]\.)(?:[ \t]+[A-Z][\w'.\-]*){0,3}"
    r"(?:,[ \t]*[A-Z][A-Za-z.]{1,8}){0,3}|[-\u2013\u2014~][ \t]*[a-z][\w'.\-]*)[ \t]*\r?$")


def _lines(text: str, start: int, end: int) -> list[Span]:
    """Non-blank lines of text[start:end], as spans without their line break."""
    spans, position = [], start
    for line in text[start:end].splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            spans.append((position, position + len(stripped)))
        position += len(line)
    return spans


def _find_greeting(body: str) -> Span | None:
    lines = _lines(body, 0, len(body))
    if not lines:
        return None
    start, end = lines[0]
    match = _GREETING.match(body, start, end)
    if not match:
        return None
    greeting_end = match.end()
    if len(body[start:greeting_end].split()) > 8:
        return None
    return start + _leading_space(body[start:greeting_end], 0), greeting_end


def _find_ps(body: str, start: int) -> Span | None:
    match = _PS_LINE.search(body, start)
    if not match:
        return None
    paragraph_end = re.compile(r"\r?\n[ \t]*\r?\n").search(body, match.start())
    end = paragraph_end.start() if paragraph_end else len(body.rstrip())
    return match.start() + _leading_space(body, match.start()), end


def _find_signoff(body: str, start: int, ps: Span | None) -> Span | None:
    """The closing line and the name under it, searched from the end (or just above a PS)."""
    if ps:
        after = _signoff_in(body, _lines(body, ps[1], len(body)))
        return after or _signoff_in(body, _lines(body, start, ps[0]))
    return _signoff_in(body, _lines(body, start, len(body)))


def _signoff_in(body: str, lines: list[Span]) -> Span | None:
    tail = lines[-5:]
    for index in reversed(range(len(tail))):
        start, end = tail[index]
        known = _CLOSING.fullmatch(body, start, end)
        if known or _closing_shaped(body, tail, index):
            if all(len(body[s:e].split()) <= 8 for s, e in tail[index + 1:]):
                return start, tail[-1][1]
            break
    # a name with no closing line, perhaps with a title, a phone number or an address under it
    for below in range(min(3, len(lines) - 1)):
        name = tail[-1 - below]
        extras = tail[len(tail) - below:]
        if _NAME_LINE.fullmatch(body, *name) and all(_SIGNATURE_EXTRA.fullmatch(body, *e) for e in extras):
            first = name
            if len(tail) > below + 2 and _NAME_LINE.fullmatch(body, *tail[-2 - below]):
                first = tail[-2 - below]
            return first[0], tail[-1][1]
    return None


def _closing_shaped(body: str, tail: list[Span], index: int) -> bool:
    """A closing nobody listed ("With respect,", "later,", "Go raibh maith agat,", "Best wishes
    (and a slightly soggy tissue),"): a short line of its own paragraph that ends in a comma,
    with one to three short lines under it that end no sentence."""
    start, end = tail[index]
    under = tail[index + 1:]
    return (bool(_CLOSING_SHAPE.fullmatch(body, start, end)) and len(body[start:end].split()) <= 8
            and 1 <= len(under) <= 3 and re.search(r"\n[ \t]*\r?\n[ \t]*$", body[:start]) is not None
            and not any(body[s:e].rstrip().endswith((".", "!", "?")) and not body[s:e].rstrip().endswith(".com")
                        for s, e in under))


_CLOSING_SHAPE = re.compile(r"[ \t]*[^\r\n.!?:;]{1,50},[ \t]*\r?$")

# What can stand under a name: a title, a phone number, an address (short, no sentence ending)
_SIGNATURE_EXTRA = re.compile(r"[ \t]*[^\r\n.!?]{1,60}?[ \t]*\r?$")


# --- suppression comments ------------------------------------------------------

_DIRECTIVE = re.compile(
    r"<!--\s*toneguard-(disable-next-line|disable|enable)((?:[\s,]+[a-z][a-z0-9-]*)*)\s*-->", re.I
)
_RULE_ID = re.compile(r"[a-z][a-z0-9-]*", re.I)


def _named_rules(draft: str, offsets: OffsetMap):
    """Every rule id the comments name, with where it is, so a misspelt one can be reported."""
    for match in _DIRECTIVE.finditer(draft):
        for name in _RULE_ID.finditer(draft, match.start(2), match.end(2)):
            yield name.group().lower(), offsets[name.start()], offsets.end(name.end())


def _suppressions(draft: str, offsets: OffsetMap):
    """`<!-- toneguard-disable[-next-line] [ids] -->` regions, in source offsets."""
    open_regions: dict[str, int] = {}
    for match in _DIRECTIVE.finditer(draft):
        verb = match.group(1).lower()
        rules = frozenset(_RULE_ID.findall(match.group(2).lower()))
        if verb == "disable-next-line":
            end_of_comment_line = LINE_BREAK.search(draft, match.end())  # \r\n, \n or a lone \r
            if end_of_comment_line:
                end_of_next = LINE_BREAK.search(draft, end_of_comment_line.end())
                yield Suppression(rules, offsets[end_of_comment_line.end()],
                                  offsets[end_of_next.start() if end_of_next else len(draft)])
        elif verb == "disable":
            for rule in rules or {""}:
                open_regions.setdefault(rule, match.end())
        else:
            for rule in rules or set(open_regions):
                if rule in open_regions:
                    start = open_regions.pop(rule)
                    yield Suppression(frozenset({rule} - {""}), offsets[start], offsets[match.start()])
    for rule, start in open_regions.items():
        yield Suppression(frozenset({rule} - {""}), offsets[start], offsets[len(draft)])
