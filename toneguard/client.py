"""`check --server` and `fix --server`: lint on a running `toneguard serve`.

The point is a fast answer for one file (a pre-commit hook, an editor filter), so
this module and everything it imports leave spaCy alone. Each draft is read and
its configuration found here, exactly as a local run would; the server lints it
with those settings and the answer is printed by the same formatters. If the
server cannot answer, one line on stderr says so and the rest is linted here.
The rules across a folder of letters are judged here before any request: they
need the drafts beside each one, which the server never sees, and no parse.
"""
from __future__ import annotations

import http.client
import json
import sys
from dataclasses import replace
from datetime import datetime
from typing import Iterable, Iterator
from urllib.parse import urlsplit

from .config import Settings, settings_for
from .errors import ToneguardError
from .formats import report_from_document
from .report import Report
from .sources import STDIN, discover, read_source

TIMEOUT = 30  # seconds; the server's own limit per request is shorter


class Unavailable(Exception):
    """The server did not answer (or answered that it cannot lint this); lint here."""


class DraftError(ToneguardError):
    """The server found the draft itself unlintable: reported like a local run reports it."""


class SettingsError(ToneguardError):
    """The server found the settings wrong (an unknown rule id, say), as they would be here."""


class Server:
    def __init__(self, url: str):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ToneguardError(f"--server: {url!r} is not an http:// address such as http://127.0.0.1:8081")
        self.url = url
        self.address = (parts.hostname, parts.port or 80)
        self.prefix = parts.path.rstrip("/")
        self.connection: http.client.HTTPConnection | None = None
        self.down = False  # after one failure every draft is linted here, without asking again

    def post(self, route: str, fields: dict) -> dict:
        if self.down:
            raise Unavailable
        if self.connection is None:
            self._introduce()
        status, data = self._request("POST", route, json.dumps(fields, ensure_ascii=False).encode("utf-8"))
        if status == 200:
            try:
                return json.loads(data)
            except ValueError:
                self._give_up("answered something that is not JSON")
        reason = data.decode("utf-8", "replace").strip().removeprefix("Error: ")
        if status == 422:
            raise DraftError(reason)
        if status == 400 and reason:  # the settings are wrong, as they would be here
            raise SettingsError(reason)
        self._give_up(f"answered {status} ({reason.splitlines()[0] if reason else 'no reason'})")

    def _introduce(self):
        """Make sure it is toneguard serve (not, say, LanguageTool on the same port)."""
        self.connection = http.client.HTTPConnection(*self.address, timeout=TIMEOUT)
        status, data = self._request("GET", "/health")
        try:
            healthy = status == 200 and json.loads(data).get("status") == "ok"
        except (ValueError, AttributeError):
            healthy = False
        if not healthy:
            self._give_up(f"is not toneguard serve (GET /health answered {status})")

    def _request(self, method: str, route: str, body: bytes | None = None) -> tuple[int, bytes]:
        for retry in (True, False):  # a kept-alive connection the server has closed meanwhile: once more
            try:
                self.connection.request(method, self.prefix + route, body, {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as problem:
                self.connection.close()
                if not retry:
                    self._give_up(f"closed the connection ({problem})")
            except (OSError, http.client.HTTPException) as problem:
                why = getattr(problem, "strerror", None) or problem or type(problem).__name__
                self._give_up(f"is not reachable ({why})")

    def _give_up(self, why: str):
        self.down = True
        print(f"toneguard: the server at {self.url} {why}; linting here instead", file=sys.stderr, flush=True)
        raise Unavailable

    def lint(self, text: str, path: str, settings: Settings, stage: str | None) -> Report:
        [report] = report_from_document(self.post("/api/check", _fields(text, path, settings, stage)))
        return replace(report, fail_on=settings.fail_on)  # as a local run notes it, for the exit status

    def fix(self, text: str, *, path: str, settings: Settings, stage: str | None = None, plan: bool = False):
        """fixing.fix_text's contract, done by the server (or here, if it cannot)."""
        from .fixing import Fixed, fix_text

        try:
            answer = self.post("/api/fix", {**_fields(text, path, settings, stage), "mode": "all" if plan else "safe"})
        except Unavailable:
            return fix_text(text, path=path, settings=settings, stage=stage, plan=plan)
        [report] = report_from_document(answer["report"])
        return Fixed(answer["text"], answer["applied"], report)


def _fields(text: str, path: str, settings: Settings, stage: str | None) -> dict:
    """A request that makes the server use these settings: the config as found here (the
    command line's choices merged in) and the command line's own, for its error messages."""
    config = {"ignore": list(settings.ignore), "rules": settings.rules, "rule-dirs": list(settings.rule_dirs)}
    for key, value in (("select", settings.select), ("stage", settings.stage), ("model", settings.model),
                       ("tone-model", settings.tone_model), ("fail-on", settings.fail_on)):
        if value is not None:
            config[key] = list(value) if isinstance(value, tuple) else value
    flags = settings.flags or Settings()
    fields = {"text": text, "path": path, "config": config, "select": list(flags.select or ()),
              "ignore": list(flags.ignore)}
    if settings.origin:
        fields["config_file"] = settings.origin
    if stage:
        fields["stage"] = stage
    return fields


def lint_paths(url: str, paths: Iterable[str], *, stage: str | None = None, overrides: Settings | None = None,
               config: str | None = None, isolated: bool = False, stdin_name: str | None = None,
               jobs: int | None = None, now: datetime | None = None) -> Iterator[Report]:
    """engine.lint_paths, one request per draft to the server at `url` (`jobs` has no say:
    the server lints one draft at a time). The rules across a folder of letters need the
    drafts beside each one, which the server never sees: they are judged here first, with no
    parse, and a draft they find something in is linted here, so the output is a local run's."""
    server = Server(url)
    overrides = overrides or Settings()
    drafts: list[Report | tuple[str, Settings, str]] = []
    for item in discover(list(paths)):
        if isinstance(item, ToneguardError):
            drafts.append(Report(item.where or "", error=str(item)))
            continue
        display = (stdin_name or STDIN) if item == STDIN else item
        try:
            settings = settings_for(stdin_name or STDIN if item == STDIN else item, config, isolated).merged(overrides)
        except ToneguardError as error:
            drafts.append(Report(display, error=str(error), config_error=True))
            continue
        try:
            drafts.append((display, settings, read_source(item, stdin_name).text))
        except ToneguardError as error:
            drafts.append(Report(display, error=str(error)))
    judged = _across_the_folder([d for d in drafts if not isinstance(d, Report)], stage, now)
    for draft in drafts:
        if isinstance(draft, Report):
            yield draft
            continue
        display, settings, text = draft
        related, cross_draft = judged.get(display, ({}, ()))
        if related:
            yield _lint_here(text, display, settings, stage, related)
            continue
        try:  # judged here already: the server, seeing the draft alone, leaves those rules out
            yield server.lint(text, display, replace(settings, ignore=settings.ignore + cross_draft), stage)
        except SettingsError as error:
            yield Report(display, error=str(error), config_error=True)
        except DraftError as error:
            yield Report(display, error=str(error))
        except Unavailable:
            yield _lint_here(text, display, settings, stage)


def _across_the_folder(drafts: list[tuple[str, Settings, str]], stage: str | None,
                       now: datetime | None) -> dict[str, tuple[dict | ToneguardError, tuple[str, ...]]]:
    """For each draft by path: what the rules across a folder found (or the error that stopped
    them), and those rules' ids. A draft whose text or settings cannot be read is left to the
    server, which says why."""
    from . import correspondence
    from .letter import read_letter, stage_of
    from .rules import load_rules

    rule_sets: dict[tuple[str, ...], dict] = {}
    readable = []
    for path, settings, text in drafts:
        try:
            if settings.rule_dirs not in rule_sets:
                rule_sets[settings.rule_dirs] = load_rules(settings.rule_dirs)
            rules = rule_sets[settings.rule_dirs]
            settings.check_rule_ids(rules)
            correspondence.validate(rules)
            letter = read_letter(text, path)
        except ToneguardError:
            continue
        readable.append((letter, settings, stage_of(letter, settings, stage), rules))
    found = correspondence.relate(readable, now)
    return {letter.path: (result, tuple(r.id for r in rules.values() if r.kind == "correspondence"))
            for (letter, _, _, rules), result in zip(readable, found)}


def _lint_here(text: str, path: str, settings: Settings, stage: str | None,
               related: dict | ToneguardError | None = None) -> Report:
    from .engine import draft_job, lint_jobs

    if isinstance(related, ToneguardError):
        return Report(path, error=str(related))
    job = draft_job(path, settings, lambda: text)
    return next(lint_jobs([replace(job, related=related) if related and job.letter else job], stage))
