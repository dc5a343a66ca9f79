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
from typing import Iterator

from .errors import ToneguardError
from .offsets import OffsetMap

MAX_DEPTH = 20  # multipart parts within parts; mail clients nest three or four
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


def _find_text_part(text, headers, start, end, path, depth=1):
    content_type = headers.get_content_type()
    if content_type.startswith("multipart/"):
        if depth > MAX_DEPTH:
            raise ToneguardError(f"malformed e-mail: multipart parts nested more than {MAX_DEPTH} deep", path)
        boundary = headers.get_boundary()  # RFC 2231 (boundary*=utf-8''x) decoded too
        if not boundary:
            raise ToneguardError("malformed e-mail: multipart message without a boundary", path)
        parts = _parts(text, start, end, boundary, path)
        plain = html_part = None
        for part_start, part_end in parts:
            part_headers, _, part_body = _split(text, part_start, part_end, path)
            if "attachment" in (part_headers.get("content-disposition") or "").lower():
                continue
            part_type = part_headers.get_content_type()
            if part_type.startswith("multipart/"):
                nested = _find_text_part(text, part_headers, part_body, part_end, path, depth + 1)
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
        data, spans = _qp_decode(payload)
    elif encoding == "base64":
        data, spans = _b64_decode(payload, path)
    else:
        return payload, OffsetMap(start)
    charset = headers.get_content_charset() or "utf-8"
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        raise ToneguardError(f"malformed e-mail: unknown charset {charset!r}", path) from None
    if not codec._is_text_encoding or codec.name in _NOT_CHARSETS:
        raise ToneguardError(f"malformed e-mail: charset {charset!r} is not a text encoding", path)
    decoder = codec.incrementaldecoder(errors="replace")
    chars, starts, ends, first_byte = [], [], [], 0
    for index in range(len(data) + 1):
        produced = decoder.decode(data[index:index + 1], final=index == len(data))
        last_byte = min(index, len(data) - 1)
        # A character spans the bytes it was made of. A decoder may hold a byte back and
        # give its replacement only at the end (GB2312 "\xb0\xff"): it then spans the last byte.
        first = min(first_byte, last_byte)
        for char in produced:
            chars.append(char)
            starts.append(start + spans[first][0])
            ends.append(start + spans[last_byte][1])
        if produced:
            first_byte = index + 1
    return "".join(chars), OffsetMap.table(starts, ends, end)


# Python codecs that turn bytes into text but are no charset: domain names, escapes, none.
_NOT_CHARSETS = {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"}


def _qp_decode(payload: str) -> tuple[bytes, list[tuple[int, int]]]:
    """Quoted-printable to bytes; spans[i] is where byte i was written in the payload."""
    out, spans, index = bytearray(), [], 0
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
                spans.append((index, index + 3))
                index += 3
                continue
        encoded = char.encode("utf-8", "surrogatepass")
        out += encoded
        spans += [(index, index + 1)] * len(encoded)
        index += 1
    return bytes(out), spans


def _b64_decode(payload: str, path: str) -> tuple[bytes, list[tuple[int, int]]]:
    """Base64 to bytes; each decoded byte spans the 4-character group it came from."""
    positions = [i for i, c in enumerate(payload) if not c.isspace()]
    compact = "".join(payload[i] for i in positions)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ToneguardError("malformed e-mail: invalid base64 body", path) from None
    spans = []
    for i in range(len(data)):
        group = (i // 3) * 4
        spans.append((positions[group], positions[min(group + 3, len(positions) - 1)] + 1))
    return data, spans


_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
_SKIPPED_TAGS = {"script", "style", "head", "blockquote", "title"}
_SPECIAL = re.compile(r"[<&]")
# A tag never holds "<", not even in a quoted value: so a "<" that opens no tag costs a scan
# to the next "<" only, and the whole pass stays linear however the markup is broken.
_TAG = re.compile(r"""<(/?)([A-Za-z][^\s/<>]*)(?:[^<>"']|"[^"<]*"|'[^'<]*')*>""")
_DECLARATION = re.compile(r"<[!?][^<>]*>")  # doctype, CDATA, processing instruction
_REFERENCE = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{0,31});?")


def html_comments(text: str) -> Iterator[tuple[int, int]]:
    """Spans of `<!-- ... -->` comments, in one pass; a comment never closed ends the search,
    and its start is the last span's end (it runs to the end of the text, as in a browser)."""
    position = 0
    while (start := text.find("<!--", position)) != -1:
        end = text.find("-->", start + 4)
        if end == -1:
            yield start, len(text)
            return
        yield start, end + 3
        position = end + 3


def html_text(markup: str) -> tuple[str, OffsetMap]:
    """The visible text of an HTML body, each character mapped to where it was written: text
    one for one, a reference (`&amp;`) all from its source, a line break for a block tag
    from nowhere (width 0). Linear in the length of the markup."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    skipping = 0

    def emit(text: str, at: int, width: int = 1) -> None:
        if skipping:
            return
        for i, char in enumerate(text):
            start = at + i if width == 1 else at
            chars.append(char)
            starts.append(start)
            ends.append(start + width)

    comments = html_comments(markup)
    comment = next(comments, None)
    position = 0
    while position < len(markup):
        found = _SPECIAL.search(markup, position)
        special = found.start() if found else len(markup)
        if comment is not None and comment[0] < special:
            special = comment[0]
        emit(markup[position:special], position)
        position = special
        if position == len(markup):
            break
        if comment is not None and comment[0] == position:
            position = comment[1]
            comment = next(comments, None)
        elif (reference := _REFERENCE.match(markup, position)) is not None:
            emit(html.unescape(reference.group() if reference.group().endswith(";") else reference.group() + ";"),
                 position, width=reference.end() - position)
            position = reference.end()
        elif (tag := _TAG.match(markup, position)) is not None:
            name = tag.group(2).lower()
            if name in _SKIPPED_TAGS:
                skipping = max(0, skipping + (-1 if tag.group(1) else 1))
            elif name in _BLOCK_TAGS and not tag.group(1):
                emit("\n" if name == "br" else "\n\n", position, width=0)
            position = tag.end()
        elif (declaration := _DECLARATION.match(markup, position)) is not None:
            position = declaration.end()
        else:
            emit(markup[position], position)
            position += 1
    return "".join(chars), OffsetMap.table(starts, ends, len(markup))
