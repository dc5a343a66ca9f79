"""Reading an RFC 5322 message: recipients, and the draft body with its place in the file.

The standard `email` package decodes bodies but forgets where they came from, so
the MIME structure is walked here on the raw text, and every decoding step
(quoted-printable, base64, charset, HTML) keeps an offset map back into the file.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
from dataclasses import dataclass
from email.parser import HeaderParser
from email.utils import getaddresses
from html.parser import HTMLParser

from .errors import ToneguardError
from .offsets import OffsetMap

_HEADER_END = re.compile(r"\r?\n\r?\n")
_FIRST_HEADER = re.compile(r"[!-9;-~]+:")
_RECIPIENT_HEADER = re.compile(r"^(to|cc|bcc):[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", re.I | re.M)


@dataclass(frozen=True)
class Message:
    body: str
    offsets: OffsetMap
    recipients: tuple[tuple[str, str], ...]  # (display name, address)
    recipient_fields: tuple[tuple[int, int], ...]  # source spans of To/Cc/Bcc lines


def read_message(text: str, path: str) -> Message:
    if not _FIRST_HEADER.match(text):
        raise ToneguardError("malformed e-mail: it does not start with a header line", path)
    headers, header_end, body_start = _split(text, 0, len(text), path)
    recipients, fields = [], []
    for match in _RECIPIENT_HEADER.finditer(text, 0, header_end):
        fields.append((match.start(), match.end()))
    for name in ("to", "cc", "bcc"):
        for display, address in getaddresses(headers.get_all(name, [])):
            if "@" in address:
                recipients.append((display, address))
    part = _find_text_part(text, headers, body_start, len(text), path)
    if part is None:
        raise ToneguardError("malformed e-mail: no text/plain or text/html part", path)
    body, offsets = part
    return Message(body, offsets, tuple(recipients), tuple(fields))


def _split(text: str, start: int, end: int, path: str):
    """Headers of the entity in text[start:end], and where its header block and body begin."""
    match = _HEADER_END.search(text, start, end)
    if match is None:
        header_end = body_start = end
    else:
        header_end, body_start = match.start(), match.end()
    headers = HeaderParser().parsestr(text[start:header_end] + "\n\n")
    if headers.defects:
        raise ToneguardError(f"malformed e-mail headers: {headers.defects[0].__doc__.strip()}", path)
    return headers, header_end, body_start


def _find_text_part(text, headers, start, end, path):
    content_type = headers.get_content_type()
    if content_type.startswith("multipart/"):
        boundary = headers.get_param("boundary")
        if not boundary:
            raise ToneguardError("malformed e-mail: multipart message without a boundary", path)
        parts = _parts(text, start, end, str(boundary), path)
        plain = html_part = None
        for part_start, part_end in parts:
            part_headers, _, part_body = _split(text, part_start, part_end, path)
            if "attachment" in (part_headers.get("content-disposition") or "").lower():
                continue
            part_type = part_headers.get_content_type()
            if part_type.startswith("multipart/"):
                nested = _find_text_part(text, part_headers, part_body, part_end, path)
                if nested is not None:
                    return nested
            elif part_type == "text/plain" and plain is None:
                plain = (part_headers, part_body, part_end)
            elif part_type == "text/html" and html_part is None:
                html_part = (part_headers, part_body, part_end)
        chosen = plain or html_part
        if chosen is None:
            return None
        headers, start, end = chosen
        content_type = headers.get_content_type()
    if content_type not in ("text/plain", "text/html"):
        return None
    body, offsets = _decode_transfer(text, headers, start, end, path)
    if content_type == "text/html":
        body, inner = html_text(body)
        offsets = offsets.compose(inner)
    return body, offsets


def _parts(text: str, start: int, end: int, boundary: str, path: str) -> list[tuple[int, int]]:
    delimiter = re.compile(r"^--" + re.escape(boundary) + r"(--)?[ \t]*\r?$", re.M)
    marks = list(delimiter.finditer(text, start, end))
    if not marks:
        raise ToneguardError(f"malformed e-mail: multipart boundary {boundary!r} not found", path)
    parts = []
    for here, after in zip(marks, marks[1:]):
        if here.group(1):
            break
        part_start = here.end() + (1 if text.startswith("\n", here.end()) else 0)
        part_end = after.start()
        if text.endswith("\n", part_start, part_end):
            part_end -= 2 if text.endswith("\r\n", part_start, part_end) else 1
        parts.append((part_start, max(part_start, part_end)))
    return parts


def _decode_transfer(text, headers, start, end, path) -> tuple[str, OffsetMap]:
    encoding = (headers.get("content-transfer-encoding") or "7bit").strip().lower()
    payload = text[start:end]
    if encoding == "quoted-printable":
        data, byte_offsets = _qp_decode(payload)
    elif encoding == "base64":
        data, byte_offsets = _b64_decode(payload, path)
    else:
        return payload, OffsetMap(start)
    charset = headers.get_content_charset() or "utf-8"
    try:
        decoder = codecs.getincrementaldecoder(charset)(errors="replace")
    except LookupError:
        raise ToneguardError(f"malformed e-mail: unknown charset {charset!r}", path) from None
    chars, table, char_start = [], [], 0
    for index in range(len(data) + 1):
        final = index == len(data)
        produced = decoder.decode(data[index:index + 1], final=final)
        for char in produced:  # a character maps to the first byte it was made of
            chars.append(char)
            table.append(start + byte_offsets[char_start])
        if produced:
            char_start = index + 1
    table.append(start + byte_offsets[len(data)])
    return "".join(chars), OffsetMap(table=table)


def _qp_decode(payload: str) -> tuple[bytes, list[int]]:
    """Quoted-printable to bytes; offsets[i] is where byte i was encoded."""
    out, offsets, index = bytearray(), [], 0
    soft_break = re.compile(r"=[ \t]*(\r\n|\n|\r)")
    while index < len(payload):
        char = payload[index]
        if char == "=":
            soft = soft_break.match(payload, index)
            if soft:
                index = soft.end()
                continue
            hex_digits = payload[index + 1:index + 3]
            if len(hex_digits) == 2 and all(c in "0123456789abcdefABCDEF" for c in hex_digits):
                out.append(int(hex_digits, 16))
                offsets.append(index)
                index += 3
                continue
        encoded = char.encode("utf-8", "surrogatepass")
        out += encoded
        offsets += [index] * len(encoded)
        index += 1
    offsets.append(len(payload))
    return bytes(out), offsets


def _b64_decode(payload: str, path: str) -> tuple[bytes, list[int]]:
    """Base64 to bytes; each decoded byte maps to the start of its 4-character group."""
    positions = [i for i, c in enumerate(payload) if not c.isspace()]
    compact = "".join(payload[i] for i in positions)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ToneguardError("malformed e-mail: invalid base64 body", path) from None
    offsets = [positions[(i // 3) * 4] for i in range(len(data))]
    offsets.append(len(payload))
    return data, offsets


_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
_SKIPPED_TAGS = {"script", "style", "head", "blockquote", "title"}


class _TextExtractor(HTMLParser):
    """Visible text of an HTML body, each character mapped to its place in the markup."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=False)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", markup)]
        self.chars: list[str] = []
        self.table: list[int] = []
        self.skipping = 0

    def _here(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _emit(self, text: str, offsets) -> None:
        if not self.skipping:
            self.chars.extend(text)
            self.table.extend(offsets)

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            here = self._here()
            self._emit("\n" if tag == "br" else "\n\n", [here] * (1 if tag == "br" else 2))

    def handle_endtag(self, tag):
        if tag in _SKIPPED_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        here = self._here()
        self._emit(data, range(here, here + len(data)))

    def handle_entityref(self, name):
        text = html.unescape(f"&{name};")
        self._emit(text, [self._here()] * len(text))

    def handle_charref(self, name):
        text = html.unescape(f"&#{name};")
        self._emit(text, [self._here()] * len(text))


def html_text(markup: str) -> tuple[str, OffsetMap]:
    parser = _TextExtractor(markup)
    parser.feed(markup)
    parser.close()
    parser.table.append(len(markup))
    return "".join(parser.chars), OffsetMap(table=parser.table)
