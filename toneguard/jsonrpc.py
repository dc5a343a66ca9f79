"""The language server's side of JSON-RPC over stdio, made safe for whatever arrives.

pygls reads `Content-Length` framed messages and drops what it cannot handle without a
word: a message without a valid length puts it out of step with the stream for good, a
huge length makes it read until it runs out of memory, and a request whose params do not
fit its method is never answered. Here every message is read within fixed bounds, anything
that cannot be handled is answered with a JSON-RPC error (id null where the message's id
cannot be known), and after a framing error reading resumes at the next header.
"""
from __future__ import annotations

import json
import sys
from typing import Any, BinaryIO, Callable

from cattrs import transform_error
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol

MAX_MESSAGE = 64 * 2**20  # a draft's size limit many times over, even JSON-escaped
MAX_HEADER_LINE = 1024
MAX_HEADERS = 32
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS = -32700, -32600, -32602
HEADER = b"content-length:"


class FramingError(Exception):
    """The bytes do not frame a message; reading resumes at the next header."""


class MessageReader:
    """Stands between stdin and pygls's reader (which calls `readline` and `read`) and hands
    it only well-framed JSON-RPC 2.0 messages, answering the rest through `refuse`."""

    def __init__(self, stream: BinaryIO, refuse: Callable[[Any, int, str], None]):
        self.stream = stream
        self.refuse = refuse  # (id, code, message): answer a message that cannot be handled
        self.framing: list[bytes] = []  # what pygls reads next, line by line
        self.body = b""
        self.lost = False  # after a framing error: skipping to the next Content-Length header

    def readline(self) -> bytes:
        if not self.framing:
            body = self._next_message()
            if body is None:
                return b""  # end of input
            self.framing, self.body = [b"Content-Length: %d\r\n" % len(body), b"\r\n"], body
        return self.framing.pop(0)

    def read(self, size: int) -> bytes:
        body, self.body = self.body, b""
        return body

    def _next_message(self) -> bytes | None:
        while True:
            try:
                body = self._frame()
            except FramingError as error:
                self.lost = True
                self.refuse(None, PARSE_ERROR, f"unreadable message: {error}")
                continue
            if body is None:
                return None
            problem = _problem(body)
            if problem is None:
                return body
            self.refuse(*problem)

    def _frame(self) -> bytes | None:
        """The next message's body, read by its Content-Length header; None at the end."""
        length, headers = None, 0
        while True:
            line = self.stream.readline(MAX_HEADER_LINE)
            if not line:
                return None
            if self.lost:
                start = line.lower().find(HEADER)
                if start < 0:
                    continue
                line, self.lost = line[start:], False
            if line in (b"\r\n", b"\n"):
                break
            headers += 1
            if not line.endswith(b"\n"):
                raise FramingError(f"a header line longer than {MAX_HEADER_LINE} bytes")
            if headers > MAX_HEADERS:
                raise FramingError(f"more than {MAX_HEADERS} header lines")
            name, colon, value = line.partition(b":")
            if not colon:
                raise FramingError(f"a header line that is not 'Name: value': {line[:60]!r}")
            if name.strip().lower() == b"content-length":
                value = value.strip()
                if not value.isdigit() or not 0 < int(value) <= MAX_MESSAGE:
                    raise FramingError(f"Content-Length {value.decode('latin-1')[:30]!r} is not a number "
                                       f"from 1 to {MAX_MESSAGE:,}")
                length = int(value)
        if length is None:
            raise FramingError("no Content-Length header")
        body = self.stream.read(length)
        return body if len(body) == length else None


def _problem(body: bytes) -> tuple[Any, int, str] | None:
    """Why a message body cannot be handled (id, code, message), or None if it can."""
    try:
        message = json.loads(body)
    except ValueError as error:  # also bytes that are not UTF-8
        return None, PARSE_ERROR, f"not JSON: {error}"
    ident = message.get("id") if isinstance(message, dict) else None
    if not isinstance(ident, (int, str)):
        ident = None
    if (not isinstance(message, dict) or message.get("jsonrpc") != "2.0"
            or not isinstance(message.get("method", ""), str) or not ("method" in message or "id" in message)):
        return ident, INVALID_REQUEST, "not a JSON-RPC 2.0 request, notification or response"
    return None


def refuse_on(stream: BinaryIO) -> Callable[[Any, int, str], None]:
    """Answers a refused message on `stream`, in one write (so it never splits pygls's own),
    and says why on stderr."""
    def refuse(ident: Any, code: int, message: str) -> None:
        print(f"toneguard lsp: {message}", file=sys.stderr, flush=True)
        body = json.dumps({"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}).encode()
        stream.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        stream.flush()
    return refuse


class Protocol(LanguageServerProtocol):
    """pygls's protocol, except that a request whose params do not fit its method gets an
    error answer, as JSON-RPC requires, instead of none."""

    def structure_message(self, data: dict):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "method" in data and isinstance(data.get("id"), (int, str)):
                cause = error.__cause__
                details = "; ".join(transform_error(cause)) if cause is not None else error.message
                self._send_response(data["id"], error=JsonRpcException(
                    f"invalid params for {data['method']}: {details}"[:1000], INVALID_PARAMS).to_response_error())
            raise
