"""`toneguard serve`: one warm pipeline behind a small HTTP server on this machine.

It speaks LanguageTool's HTTP API (/v2/check, /v2/languages) so LanguageTool's
own clients show toneguard's findings, toneguard's JSON API (/api/check, /api/fix),
and serves a page at / for people who never open a terminal.

Every web page the user visits can send requests to a local server, so: it binds
to loopback unless told otherwise; it refuses requests whose Host is not the bound
name or a loopback name (DNS rebinding) and browser requests from other origins
unless the config allows them; it caps the body at the draft limit and each request
at a time limit; it lints on one worker thread (the pipeline is not thread-safe)
with a bounded number of requests in flight, so a flood waits or is turned away
instead of exhausting memory; a client that trickles its headers is cut off; and
every error is a status with one line of text, `Error: <reason>`, as LanguageTool
answers, never a traceback.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import __version__, languagetool
from .config import Settings, parse_settings
from .engine import cached_rules, linter_for, lint_text
from .errors import ToneguardError
from .fixing import fix_text
from .formats import report_document
from .letter import STAGES
from .sources import MAX_BYTES

WEB = Path(__file__).parent / "web"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8081  # LanguageTool's port, so its clients find it
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WARM_UP = "Hi Sam,\n\nThank you for letting me know.\n"
MAX_CONNECTIONS = 1000  # open connections; past it uvicorn itself answers 503 (a guard for file descriptors)
API_FIELDS = ("text", "path", "stage", "recipients", "select", "ignore", "config", "config_file")
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                    "x-frame-options": "DENY",
                    "content-security-policy": "default-src 'self'; frame-ancestors 'none'; form-action 'none'"}


@dataclass(frozen=True)
class Limits:
    body: int = MAX_BYTES  # bytes; the same limit as a draft read from a file
    seconds: float = 10.0  # per request, from its first byte of body to its answer
    in_flight: int = 128  # requests at once; past it, 503
    head_seconds: float = 10.0  # for a request's headers to arrive (slowloris)


def error(status: int, reason: str, headers: dict | None = None) -> Response:
    """LanguageTool's error shape: a status and one line of plain text."""
    return PlainTextResponse(f"Error: {' '.join(reason.split())}", status, headers=headers)


class Linting:
    """The pipeline and the one thread that may use it; requests queue for it in order."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="toneguard-lint")

    @property
    def rules(self):
        return cached_rules(self.settings.rule_dirs)

    def warm_up(self) -> None:
        """Load the pipeline now, so the first request is as fast as the rest."""
        self.thread.submit(lint_text, WARM_UP, path="warm-up.txt", settings=self.settings).result()

    async def run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.thread, function, *args)


def _lint(text: str, path: str, settings: Settings, stage: str | None, recipients=(), fix: str | None = None):
    """On the worker: a configuration problem is the request's (400), a draft problem the draft's (422)."""
    try:
        linter_for(settings)
    except ToneguardError as problem:
        raise HTTPException(400, str(problem)) from None
    try:
        if fix:
            return fix_text(text, path=path, settings=settings, stage=stage, recipients=recipients, plan=fix == "all")
        return lint_text(text, path=path, settings=settings, stage=stage, recipients=recipients)
    except ToneguardError as problem:
        raise HTTPException(422, str(problem)) from None


# --- LanguageTool's API ------------------------------------------------------------------


async def lt_languages(request: Request) -> Response:
    return JSONResponse(languagetool.languages())


async def lt_healthcheck(request: Request) -> Response:
    return PlainTextResponse("OK")


async def lt_check(request: Request) -> Response:
    linting: Linting = request.app.state.linting
    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    params.update(await _form(request))
    try:
        check = languagetool.parse_check(params, linting.rules)
    except languagetool.BadRequest as problem:
        raise HTTPException(400, str(problem)) from None
    own = linting.settings
    enabled = None if check.enabled is None else tuple(r for r in check.enabled if not own.select or r in own.select)
    if enabled == () or not check.text.strip():
        return JSONResponse(languagetool.check_response(check, None, linting.rules, __version__))
    settings = replace(own, select=enabled or own.select, ignore=own.ignore + check.disabled)
    try:
        report = await linting.run(_lint, check.text, "draft.txt", settings, None)
    except HTTPException as problem:  # LanguageTool's clients show the problem, not the file name
        raise HTTPException(400, problem.detail.removeprefix("draft.txt: ")) from None
    return JSONResponse(languagetool.check_response(check, report, linting.rules, __version__))


async def _form(request: Request) -> dict[str, str]:
    """The form, whatever the Content-Type says: LanguageTool reads every body as a form, and
    LTeX labels its form application/json."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        raise HTTPException(400, "send the parameters form-encoded (application/x-www-form-urlencoded), "
                                 "not as multipart/form-data")
    body = await request.body()
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                              encoding="utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError) as problem:
        raise HTTPException(400, f"malformed form: {problem}") from None


# --- toneguard's JSON API ------------------------------------------------------------------


async def api_check(request: Request) -> Response:
    fields = await _json(request, API_FIELDS)
    report = await request.app.state.linting.run(_lint, *_draft(request, fields))
    return JSONResponse(report_document([report]))


async def api_fix(request: Request) -> Response:
    fields = await _json(request, API_FIELDS + ("mode",))
    mode = fields.get("mode", "safe")
    if mode not in ("safe", "all"):
        raise HTTPException(400, "'mode' must be 'safe' (the safe fixes) or 'all' (the whole-letter rewrite)")
    fixed = await request.app.state.linting.run(_lint, *_draft(request, fields), mode)
    return JSONResponse({"text": fixed.text, "applied": fixed.applied, "report": report_document([fixed.report])})


async def _json(request: Request, known: tuple[str, ...]) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(400, f"send a JSON object (Content-Type: application/json), not {kind or 'untyped data'}")
    try:
        fields = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as problem:
        raise HTTPException(400, f"malformed JSON: {problem}") from None
    if not isinstance(fields, dict):
        raise HTTPException(400, "send a JSON object with at least 'text'")
    for name in fields:
        if name not in known:
            raise HTTPException(400, f"unknown field '{name}' (fields: {', '.join(known)})")
    return fields


def _draft(request: Request, fields: dict) -> tuple:
    """What to lint and with which settings: the server's own, or the request's config
    (as a client in another folder would find it) if it needs no other pipeline."""
    text, path, stage = fields.get("text"), fields.get("path", "draft.txt"), fields.get("stage")
    if not isinstance(text, str):
        raise HTTPException(400, "'text' must be a string: the draft")
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise HTTPException(400, "'text' holds a lone surrogate (\\ud800-\\udfff), which is not text")
    if not isinstance(path, str) or not path:
        raise HTTPException(400, "'path' must be a file name such as draft.txt, letter.md or note.eml")
    if stage is not None and stage not in STAGES:
        raise HTTPException(400, f"'stage' must be one of {', '.join(STAGES)}")
    lists = {}
    for name in ("recipients", "select", "ignore"):
        value = fields.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise HTTPException(400, f"'{name}' must be a list of strings")
        lists[name] = tuple(value)
    own: Settings = request.app.state.linting.settings
    settings = own
    if "config" in fields:
        where = fields.get("config_file") or "the request's config"
        try:
            settings = parse_settings(fields["config"], str(where))
        except ToneguardError as problem:
            raise HTTPException(400, str(problem)) from None
        if (settings.model, settings.rule_dirs) != (own.model, own.rule_dirs):
            raise HTTPException(409, f"this server lints with model {own.model or 'default'} and rule dirs "
                                     f"{list(own.rule_dirs)}; the request's config asks for model "
                                     f"{settings.model or 'default'} and rule dirs {list(settings.rule_dirs)}")
    # The server's own --model stays a flag, so a pipeline folder it was given is still allowed.
    flags = Settings(select=lists["select"] or None, ignore=lists["ignore"], model=own.flags and own.flags.model)
    return text, path, settings.merged(flags), stage, lists["recipients"]


# --- the page and the server's own -------------------------------------------------------


async def page(request: Request) -> Response:
    return FileResponse(WEB / "index.html")


async def health(request: Request) -> Response:
    linting: Linting = request.app.state.linting
    return JSONResponse({"status": "ok", "version": __version__, "rules": len(linting.rules)})


async def http_error(request: Request, problem: HTTPException) -> Response:
    return error(problem.status_code, str(problem.detail))


def internal_error(request: Request | None, problem: Exception) -> Response:
    return error(500, f"internal error ({type(problem).__name__}); see the server's output")


class Guard:
    """The checks every request passes before it reaches a route (see the module docstring)."""

    def __init__(self, app, host: str, allow_origins: tuple[str, ...], limits: Limits, log=None):
        self.app, self.limits, self.allow_origins = app, limits, set(allow_origins)
        self.log = log or (lambda line: print(f"toneguard serve: {line}", file=sys.stderr, flush=True))
        self.hosts = {host.strip("[]").lower(), *LOOPBACK_NAMES}
        self.wildcard = host in ("0.0.0.0", "::", "")
        self.in_flight = 0
        self.refused: set[str] = set()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        response = self.refusal(scope, headers)
        origin = headers.get("origin")
        cors = {"access-control-allow-origin": origin, "vary": "Origin"} if origin in self.allow_origins else {}
        if response is None and scope["method"] == "OPTIONS" and origin:
            response = Response(status_code=204, headers={
                **cors, "access-control-allow-methods": "GET, POST, OPTIONS", "access-control-max-age": "600",
                "access-control-allow-headers": headers.get("access-control-request-headers", "content-type")})
        if response is None and self.in_flight >= self.limits.in_flight:
            response = error(503, f"too many requests at once ({self.limits.in_flight}); try again in a moment")
        if response is not None:
            return await response(scope, receive, self._with(send, cors))
        self.in_flight += 1
        try:
            await self._answer(scope, receive, self._with(send, cors))
        finally:
            self.in_flight -= 1

    def refusal(self, scope, headers: dict) -> Response | None:
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").rstrip(".").lower()
        if not self._allowed_host(name):
            return error(403, f"requests for host '{host}' are refused: this server answers to "
                              f"{', '.join(sorted(self.hosts))} (a guard against DNS rebinding)")
        origin = headers.get("origin")
        if origin and origin != f"http://{host}" and origin not in self.allow_origins:
            if origin not in self.refused and len(self.refused) < 100:  # each named once, and not forever
                self.refused.add(origin)
                self.log(f"refused requests from origin {origin}; to allow it, add it to serve.allow-origins "
                         "in .toneguard.yaml or pass --allow-origin")
            return error(403, f"requests from origin '{origin}' are refused; allow it with serve.allow-origins "
                              "in the server's .toneguard.yaml")
        length = headers.get("content-length", "0")
        if not length.isdigit():
            return error(400, "Content-Length must be a number of bytes")
        if int(length) > self.limits.body:
            return error(413, f"the request is larger than the {self.limits.body:,}-byte limit for a draft")
        return None

    def _allowed_host(self, name: str) -> bool:
        if name in self.hosts or name.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or self.wildcard  # an address typed in is never DNS rebinding

    async def _answer(self, scope, receive, send):
        """Read the body within the limits, then run the route in the time left; a failure is one line."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.seconds
        started = False

        async def watched_send(message):
            nonlocal started
            started = True
            await send(message)

        close = {"connection": "close"}  # the rest of the body is still on its way: no next request
        try:
            body = await asyncio.wait_for(self._body(receive), self.limits.seconds)
        except _TooLarge:
            return await error(413, f"the request is larger than the {self.limits.body:,}-byte limit "
                                    "for a draft", close)(scope, receive, send)
        except asyncio.TimeoutError:
            return await error(408, f"the request did not arrive within {self.limits.seconds:g} s", close)(
                scope, receive, send)
        replayed = False

        async def replay():  # the body once, then whatever comes next (a disconnect)
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            await asyncio.wait_for(self.app(scope, replay, watched_send), max(deadline - loop.time(), 0.001))
        except asyncio.TimeoutError:
            if not started:
                await error(503, f"checking took longer than {self.limits.seconds:g} s, this server's limit")(
                    scope, receive, send)
        except Exception as problem:  # a bug in toneguard: the route answered 500 in one line; keep serving
            self.log(f"internal error on {scope['method']} {scope['path']}: {type(problem).__name__}: {problem}")
            if not started:
                await internal_error(None, problem)(scope, receive, send)

    async def _body(self, receive) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limits.body:
                raise _TooLarge()
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _with(send, extra: dict):
        async def sender(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [(k.encode(), v.encode()) for k, v in {**SECURITY_HEADERS, **extra}.items()
                         if k.encode() not in present]
                message = {**message, "headers": list(message.get("headers", [])) + added}
            await send(message)
        return sender


class _TooLarge(Exception):
    pass


def create_app(settings: Settings, *, host: str = DEFAULT_HOST, limits: Limits = Limits(), log=None):
    """The whole server as an ASGI app; `settings` are what `toneguard check` would use here."""
    routes = [
        Route("/", page),
        Route("/health", health),
        Route("/v2/languages", lt_languages),
        Route("/v2/healthcheck", lt_healthcheck),
        Route("/v2/check", lt_check, methods=["POST"]),
        Route("/api/check", api_check, methods=["POST"]),
        Route("/api/fix", api_fix, methods=["POST"]),
        Mount("/static", StaticFiles(directory=WEB), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: internal_error})
    app.state.linting = Linting(settings)
    return Guard(app, host, settings.allow_origins, limits, log)


# --- running it ---------------------------------------------------------------------------


class _Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, plus a deadline for each request's headers: uvicorn times
    out idle keep-alive connections but not a client that trickles its headers (slowloris),
    which is cut off with a 408 once head_seconds have passed without a whole request (a
    connection that sends nothing at all is closed)."""

    head_seconds = Limits.head_seconds
    _head_timer = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self._await_head()

    def on_response_complete(self):
        self._await_head()
        super().on_response_complete()

    def connection_lost(self, exc):
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _await_head(self):
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.head_seconds, self._head_overdue)

    def _head_overdue(self):
        busy = self.cycle is not None and not self.cycle.response_complete
        if busy or self.transport.is_closing():
            return
        if self.conn.trailing_data[0]:  # part of a request came: say why it is cut off; an idle one just closes
            body = f"Error: the request's headers did not arrive within {self.head_seconds:g} s".encode()
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                 b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        self.transport.close()


def listen(host: str, port: int) -> socket.socket:
    """Bind now, so a port in use is a one-line error before anything loads."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named outright: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it each answer on a kept-alive connection waits 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        return sock
    except OSError as problem:
        sock.close()
        hint = " (is toneguard serve or a LanguageTool server already running?)" if port else ""
        reason = os.strerror(problem.errno) if problem.errno else str(problem)
        raise ToneguardError(f"cannot listen on {host}:{port}: {reason}{hint}") from None


def serve(settings: Settings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, limits: Limits = Limits()):
    """Bind, load the pipeline, say where it listens in one line, serve until SIGINT or SIGTERM."""
    started = time.perf_counter()
    sock = listen(host, port)
    app = create_app(settings, host=host, limits=limits)
    app.app.state.linting.warm_up()
    protocol = type("Protocol", (_Protocol,), {"head_seconds": limits.head_seconds})
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", http=protocol, server_header=False,
        timeout_keep_alive=5, limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=limits.seconds))
    for signum in (signal.SIGINT, signal.SIGTERM):  # uvicorn raises them again once it has stopped
        signal.signal(signum, lambda *_: None)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    rules = len(app.app.state.linting.rules)
    print(f"toneguard serve: http://{shown}:{bound} ready in {time.perf_counter() - started:.1f} s "
          f"({rules} rules); LanguageTool clients: http://{shown}:{bound}/v2; Ctrl+C stops it",
          file=sys.stderr, flush=True)
    asyncio.run(server.serve(sockets=[sock]))
    print("toneguard serve: stopped", file=sys.stderr, flush=True)
