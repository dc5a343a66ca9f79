"""`toneguard lsp`: findings, quick fixes and hover in any editor that speaks LSP (stdio).

`initialize` is answered at once: spaCy is imported and the pipeline loaded afterwards, on
the worker thread, and documents opened meanwhile are linted as soon as it is ready.
Linting runs on that one worker thread, so the loaded pipeline is reused and never shared
between threads while the event loop keeps taking in edits. An idle server lints at
once; edits that arrive during a lint are coalesced and only the newest text is linted
next. A result is published only if its document has not changed since it was read,
with the version it was linted at, so an editor never shows findings for stale text.
"""
from __future__ import annotations

import asyncio
import bisect
import itertools
import os
import re
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from . import __version__
from .articles import cite
from .config import CONFIG_FILES, _cached_config, find_config, load_config, settings_for
from .errors import ToneguardError
from .formats import labelled
from .jsonrpc import MessageReader, Protocol, refuse_on
from .report import LineIndex, Report, Suggestion, Violation, severity_rank
from .rules import Rule
from .sources import check_size

SOURCE = "toneguard"
FIX_ALL = "source.fixAll.toneguard"
REWRITE = "source.toneguard.rewriteLetter"  # the whole-letter plan of `fix --all`
UNTITLED = "untitled.txt"  # documents that are not files: plain text, settings from the workspace root
WARM_UP = "Hi Sam,\n\nThank you for letting me know.\n"
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
            "info": lsp.DiagnosticSeverity.Information}
UTF8, UTF16, UTF32 = (lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf16,
                      lsp.PositionEncodingKind.Utf32)
OPTIONS = ("requireConfig",)  # initializationOptions, each true or false
SETTINGS_SUFFIXES = (".yaml", ".yml", ".toml")  # config and rule files: never linted as drafts
RULE_FILES = ("*.yaml", "*.yml")  # what a rule folder holds (see rules.load_rules)
# Half a surrogate pair can arrive in JSON ("\ud800") but is no character of any text: linted
# as U+FFFD, one code point for one, so every offset still holds.
LONE_SURROGATES = {code: "\ufffd" for code in range(0xD800, 0xE000)}


# --- positions -------------------------------------------------------------------------


def units(text: str, encoding: str = UTF16) -> int:
    """How long `text` is in the client's code units (UTF-16 unless negotiated otherwise)."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class Positions:
    """Code-point offsets into one text <-> LSP positions. Lines end at \\r\\n, \\r or \\n,
    as both LSP and toneguard's LineIndex count them; characters are in `encoding` units."""

    def __init__(self, text: str, encoding: str = UTF16):
        self.text = text
        self.encoding = encoding
        self.starts = LineIndex(text).starts

    def _line_end(self, line: int) -> int:
        """Where the line's text ends, before its line break."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        while end > start and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    def position(self, offset: int) -> lsp.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return lsp.Position(line, units(self.text[start:min(offset, self._line_end(line))], self.encoding))

    def offset(self, position: lsp.Position) -> int:
        """The offset of the character at `position`; past a line's end means its end (as LSP
        says), and a position inside a character (half a surrogate pair) means that character."""
        if position.line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[position.line], self._line_end(position.line)
        counted = 0
        for index in range(start, end):
            counted += units(self.text[index], self.encoding)
            if counted > position.character:
                return index
        return end

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(self.position(start), self.position(end))

    def edit(self, start: int, end: int, new_text: str) -> lsp.TextEdit:
        """Replace text[start:end]; an end of the span that falls inside a \\r\\n is moved
        outward, since an LSP position cannot point between the two."""
        if start > 0 and self.text[start - 1:start + 1] == "\r\n":
            start, new_text = start - 1, "\r" + new_text
        if end > 0 and self.text[end - 1:end + 1] == "\r\n":
            end, new_text = end + 1, new_text + "\n"
        return lsp.TextEdit(self.range(start, end), new_text)


# --- linting (on the worker thread) --------------------------------------------------


@dataclass(frozen=True)
class Linted:
    """What one lint of one document version produced; kept for hover and fix-all."""

    version: int | None
    report: Report | None
    rules: dict[str, Rule]
    diagnostics: list[lsp.Diagnostic]
    rule_dirs: tuple[str, ...] = ()  # the rule folders its settings name, to be watched


def lint_document(uri: str, text: str, version: int | None, encoding: str, root: str | None,
                  require_config: bool = False) -> Linted:
    """Lint like `toneguard check` would lint the file at the URI's path; errors in the
    draft or its config, and bugs, become one diagnostic at the top for this version."""
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if path and os.path.basename(path) in CONFIG_FILES:
        return Linted(version, None, {}, check_config(path))
    if not text.strip() or path and path.endswith(SETTINGS_SUFFIXES):
        return Linted(version, None, {}, [])
    where = path or os.path.join(root or os.getcwd(), UNTITLED)
    if require_config and find_config(os.path.dirname(os.path.abspath(where))) is None:
        return Linted(version, None, {}, [])  # not in a letters folder: quiet, as asked
    from .engine import cached_rules, lint_text  # spaCy: imported on the worker, never before `initialize`

    try:
        check_size(len(text.encode("utf-8", "surrogatepass")), path or UNTITLED)
        settings = settings_for(where)
        report = lint_text(text.translate(LONE_SURROGATES), path=path or UNTITLED, settings=settings,
                           correspondence=path is not None)
        rules = cached_rules(settings.rule_dirs)
    except ToneguardError as error:
        return _failed(version, error.problem if error.where in (path, UNTITLED) else str(error))
    except Exception as error:  # a bug in toneguard or a plugin: shown here, and the server carries on
        traceback.print_exc(file=sys.stderr)
        return _failed(version, f"internal error: {type(error).__name__}: {error} (please report it)")
    if not report.editable:  # decoded e-mail text: a rewrite cannot be applied to the file as it is
        report = replace(report, violations=tuple(replace(v, suggestions=()) for v in report.violations))
    positions = Positions(text, encoding)
    diagnostics = [lsp.Diagnostic(
        positions.range(v.start, v.end), v.message, severity=SEVERITY[v.severity], code=v.rule,
        source=SOURCE, data={"version": version, "violation": asdict(v)},
    ) for v in report.violations]
    return Linted(version, report, rules, diagnostics, settings.rule_dirs)


def check_config(path: str) -> list[lsp.Diagnostic]:
    """A config file as toneguard reads it from disk: its error, at its line where the error
    has one. Nothing for a file toneguard does not use (a pyproject.toml without
    [tool.toneguard], a .toneguard.yml beside a .toneguard.yaml)."""
    from .engine import cached_rules

    path = os.path.realpath(path)
    if find_config(os.path.dirname(path)) != path:
        return []
    try:
        settings = load_config(path)
        settings.check_rule_ids(cached_rules(settings.rule_dirs))
    except ToneguardError as error:
        where = error.where or ""
        mark = re.fullmatch(re.escape(path) + r":(\d+):(\d+)", where)
        at = lsp.Position(int(mark[1]) - 1, int(mark[2]) - 1) if mark else lsp.Position(0, 0)
        message = error.problem if where.startswith(path) else str(error)  # a rule file's error names it
        return [lsp.Diagnostic(lsp.Range(at, at), message, severity=lsp.DiagnosticSeverity.Error, source=SOURCE)]
    return []


def _forget_settings(rules: bool) -> None:
    """Config (and, if `rules`, rule files) changed on disk: read them again on next use."""
    find_config.cache_clear()
    _cached_config.cache_clear()
    if rules:
        from . import engine

        engine.cached_rules.cache_clear()
        engine._linter.cache_clear()  # its matchers were compiled from the old rules


def _failed(version: int | None, message: str) -> Linted:
    """One error at the top of the document, in place of its findings."""
    top = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    return Linted(version, None, {}, [lsp.Diagnostic(top, message, severity=lsp.DiagnosticSeverity.Error,
                                                      source=SOURCE)])


def _warm_up(root: str | None) -> None:
    """Load the pipeline before the first real edit, so the first diagnostics come fast."""
    from .engine import lint_text

    try:
        lint_text(WARM_UP, path=UNTITLED, settings=settings_for(os.path.join(root or os.getcwd(), UNTITLED)))
    except Exception:  # noqa: BLE001 - the document's own lint reports whatever is wrong
        pass


# --- the server ------------------------------------------------------------------------


class ToneguardServer(LanguageServer):
    def __init__(self):
        super().__init__(SOURCE, __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full,
                         protocol_cls=Protocol)
        self.linter = ThreadPoolExecutor(1, thread_name_prefix="toneguard-lint")
        self.dirty: set[str] = set()  # documents edited since their text was last read for a lint
        self.running: dict[str, asyncio.Task] = {}
        self.linted: dict[str, Linted] = {}  # the last published result per document
        self.rule_dirs: set[str] = set()  # watched for changes, where the client can
        self.registrations = itertools.count(1)
        self.require_config = False  # initializationOptions.requireConfig: lint only under a config file

    def report_server_error(self, error: Exception, source) -> None:
        """A message the client got wrong was answered already (or, a notification, cannot be):
        it goes to the log, not to the user in a pop-up."""
        if source is JsonRpcException:
            print(f"toneguard lsp: {error}", file=sys.stderr, flush=True)
        else:
            super().report_server_error(error, source)

    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or UTF16

    def document(self, uri: str):
        """The open document, or None (get_text_document would read a closed one from disk)."""
        return self.workspace.text_documents.get(unquote(uri))

    def watch(self, watchers: list[lsp.FileSystemWatcher], relative: bool = False) -> None:
        """Ask the client to tell us when these files change, if it can watch files for us."""
        workspace = self.client_capabilities.workspace
        can = workspace and workspace.did_change_watched_files
        if can and can.dynamic_registration and (can.relative_pattern_support or not relative):
            self.client_register_capability(lsp.RegistrationParams([lsp.Registration(
                f"toneguard-watch-{next(self.registrations)}", lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                lsp.DidChangeWatchedFilesRegistrationOptions(watchers))]))

    def watch_rule_dirs(self, dirs: tuple[str, ...]) -> None:
        new = [d for d in dirs if d not in self.rule_dirs]
        if new:
            self.rule_dirs.update(new)
            self.watch([lsp.FileSystemWatcher(lsp.RelativePattern(from_fs_path(d), pattern))
                        for d in new for pattern in RULE_FILES], relative=True)

    def settings_changed(self, rules: bool) -> None:
        """Forget the config (and rules) read so far and lint every open document again."""
        self.linter.submit(_forget_settings, rules)  # the worker runs it before those lints
        for uri in list(self.workspace.text_documents):
            self.schedule(uri)

    def schedule(self, uri: str) -> None:
        self.dirty.add(uri)
        if uri not in self.running:
            self.running[uri] = asyncio.ensure_future(self._lint_until_current(uri))

    async def _lint_until_current(self, uri: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while uri in self.dirty:
                self.dirty.discard(uri)
                document = self.document(uri)
                if document is None:
                    return
                linted = await loop.run_in_executor(
                    self.linter, lint_document, uri, document.source, document.version,
                    self.encoding, self.workspace.root_path, self.require_config)
                if uri in self.dirty or self.document(uri) is None:
                    continue  # edited or closed meanwhile: this result is stale
                self.linted[uri] = linted
                self.text_document_publish_diagnostics(
                    lsp.PublishDiagnosticsParams(uri, linted.diagnostics, linted.version))
                self.watch_rule_dirs(linted.rule_dirs)
        except Exception as error:  # a bug in toneguard: say so, and keep serving
            self.window_show_message(lsp.ShowMessageParams(
                type=lsp.MessageType.Error, message=f"toneguard: internal error: {type(error).__name__}: {error}"))
        finally:
            self.running.pop(uri, None)

    async def settled(self, uri: str) -> tuple[Positions, Linted] | None:
        """Like `current`, but waits for the lint of the newest text (a fix-on-save request
        often arrives right after the last keystroke)."""
        if self.current(uri) is None and self.document(uri) is not None:
            if uri not in self.running:
                self.schedule(uri)
            await asyncio.shield(self.running[uri])
        return self.current(uri)

    def current(self, uri: str) -> tuple[Positions, Linted] | None:
        """The open document's positions and its findings, if they are for its current text."""
        document, linted = self.document(uri), self.linted.get(uri)
        if document is None or linted is None or linted.report is None or linted.version != document.version:
            return None
        return Positions(document.source, self.encoding), linted


server = ToneguardServer()


@server.feature(lsp.INITIALIZE)
def initialize(ls: ToneguardServer, params: lsp.InitializeParams) -> None:
    options = params.initialization_options
    if options is None:
        return
    if not isinstance(options, dict):
        options, problems = {}, ["expected a mapping"]
    else:
        problems = [f"unknown key '{key}'" for key in options if key not in OPTIONS]
        problems += [f"'{key}' must be true or false" for key in OPTIONS if key in options
                     and not isinstance(options[key], bool)]
    if problems:  # said, not fatal: the server still lints
        ls.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Warning, (
            f"toneguard: initializationOptions: {'; '.join(problems)} (known keys: {', '.join(OPTIONS)})")))
    ls.require_config = options.get("requireConfig") is True


@server.feature(lsp.INITIALIZED)
def initialized(ls: ToneguardServer, params: lsp.InitializedParams) -> None:
    ls.linter.submit(_warm_up, ls.workspace.root_path)
    ls.watch([lsp.FileSystemWatcher(f"**/{name}") for name in CONFIG_FILES])


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched_files_changed(ls: ToneguardServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    paths = [os.path.realpath(to_fs_path(change.uri)) for change in params.changes if change.uri.startswith("file:")]
    rules = any(os.path.dirname(path) in ls.rule_dirs for path in paths)
    if rules or any(os.path.basename(path) in CONFIG_FILES for path in paths):
        ls.settings_changed(rules)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: ToneguardServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: ToneguardServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: ToneguardServer, params: lsp.DidSaveTextDocumentParams) -> None:
    # Saving is when people expect a changed .toneguard.yaml to count, even where the client
    # watches no files: forget the cached one. A saved config or rule file affects every draft.
    uri = params.text_document.uri
    path = os.path.realpath(to_fs_path(uri)) if uri.startswith("file:") else ""
    rules = os.path.dirname(path) in ls.rule_dirs
    if rules or os.path.basename(path) in CONFIG_FILES:
        ls.settings_changed(rules)
    else:
        _forget_settings(rules=False)
        for other in list(ls.workspace.text_documents):  # a saved draft is one the others are compared with
            ls.schedule(other)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: ToneguardServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.dirty.discard(uri)
    ls.linted.pop(uri, None)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))


def _violation(diagnostic: lsp.Diagnostic, version: int | None) -> Violation | None:
    """The finding a diagnostic of ours carries, if it was made from this version of the text."""
    data = diagnostic.data
    if diagnostic.source != SOURCE or not isinstance(data, dict) or data.get("version") != version:
        return None
    fields = data["violation"]
    return Violation(**{**fields, "suggestions": tuple(Suggestion(**s) for s in fields["suggestions"])})


def _nearness(violation: Violation, offset: int) -> tuple:
    """Sort key putting the finding under the cursor before the ones around it: the nearest
    first (a span holding `offset` before one that merely touches it), the narrowest of those,
    then the most severe."""
    start, end = violation.start, violation.end
    holds = start <= offset < end or start == end == offset
    distance = 0 if start <= offset <= end else min(abs(offset - start), abs(offset - end))
    return (distance, not holds, end - start, -severity_rank(violation.severity))


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL, REWRITE]))
async def code_actions(ls: ToneguardServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri, only = params.text_document.uri, params.context.only
    document = ls.document(uri)
    if document is None:
        return []
    positions = Positions(document.source, ls.encoding)
    actions = []
    if _wanted(lsp.CodeActionKind.QuickFix, only):
        ours = [(d, v) for d in params.context.diagnostics if (v := _violation(d, document.version))]
        cursor = positions.offset(params.range.start)
        for diagnostic, violation in sorted(ours, key=lambda pair: _nearness(pair[1], cursor)):
            preferred = next((s for s in violation.suggestions if s.safe), None)
            for suggestion in violation.suggestions:
                edit = positions.edit(suggestion.start, suggestion.end, suggestion.text)
                actions.append(lsp.CodeAction(
                    labelled(suggestion, violation), kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic], is_preferred=suggestion is preferred or None,
                    edit=lsp.WorkspaceEdit(changes={uri: [edit]})))
    current = await ls.settled(uri) if _wanted(FIX_ALL, only) else None
    if current:
        safe = [s for v in current[1].report.violations for s in v.suggestions if s.safe]
        if safe:
            from .fixing import apply

            fixed, _ = apply(document.source, safe)
            actions.append(lsp.CodeAction("Fix all safe suggestions", kind=FIX_ALL,
                                          edit=lsp.WorkspaceEdit(changes={uri: [_whole_edit(positions, fixed)]})))
    if _wanted(REWRITE, only) and only and (current or await ls.settled(uri)):
        # asked for by name only: it lints the letter several times, too slow for every menu
        loop = asyncio.get_running_loop()
        rewritten = await loop.run_in_executor(ls.linter, rewrite_document, uri, document.source,
                                               ls.workspace.root_path)
        if rewritten is not None and rewritten != document.source:
            actions.append(lsp.CodeAction(
                "Rewrite the whole letter (applies every first suggestion; read it before you send it)",
                kind=REWRITE, edit=lsp.WorkspaceEdit(changes={uri: [_whole_edit(positions, rewritten)]})))
    return actions


def rewrite_document(uri: str, text: str, root: str | None) -> str | None:
    """The whole-letter plan (`fix --all`) applied to the document's text; None if it cannot be."""
    from .fixing import fix_text

    path = to_fs_path(uri) if uri.startswith("file:") else None
    try:
        settings = settings_for(path or os.path.join(root or os.getcwd(), UNTITLED))
        return fix_text(text.translate(LONE_SURROGATES), path=path or UNTITLED, settings=settings, plan=True).text
    except ToneguardError:
        return None


def _whole_edit(positions: Positions, new: str) -> lsp.TextEdit:
    """One edit turning the text into `new`: the stretch between their common start and end."""
    old = positions.text
    start = len(os.path.commonprefix([old, new]))
    same_end = 0
    while same_end < min(len(old), len(new)) - start and old[-1 - same_end] == new[-1 - same_end]:
        same_end += 1
    return positions.edit(start, len(old) - same_end, new[start:len(new) - same_end])


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: ToneguardServer, params: lsp.HoverParams) -> lsp.Hover | None:
    current = ls.current(params.text_document.uri)
    if current is None:
        return None
    positions, linted = current
    offset = positions.offset(params.position)
    hits = [v for v in linted.report.violations if v.start <= offset < v.end or v.start == v.end == offset]
    if not hits:
        return None
    hits.sort(key=lambda v: _nearness(v, offset))
    text = "\n\n---\n\n".join(_explain(v, linted.rules.get(v.rule)) for v in hits)
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text),
                     range=positions.range(min(v.start for v in hits), max(v.end for v in hits)))


def _explain(violation: Violation, rule: Rule | None) -> str:
    lines = [f"**toneguard `{violation.rule}`** ({violation.severity}): {violation.message}"]
    if rule is not None:
        lines.append(f"*Why:* {' '.join(rule.why.split())}")
        lines += [f"*Source:* {cite(article, quote)}" for article, quote in rule.sources]
    return "\n\n".join(lines)


def serve() -> None:
    """Speak LSP on stdin/stdout until the client says exit."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol stream
    server.start_io(MessageReader(stdin, refuse_on(stdout)), stdout)
