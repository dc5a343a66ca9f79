"""The language server, run for real: `python -m toneguard lsp` in a subprocess, spoken to
over its pipes (see lsp_client.py); the process is killed at the end whatever happens.
Plus unit tests of the offset <-> position mapping.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from lsprotocol.types import Position

from conftest import RULE_TEMPLATE
from lsp_client import Client, changed
from toneguard.articles import ARTICLES
from toneguard.lsp import UTF8, UTF16, UTF32, Positions
from toneguard.rules import load_rules
from toneguard.sources import MAX_BYTES

CLEAN = ("Hi Priya,\n\nThank you for letting me know. I enjoyed meeting the team at Acme and "
         "would love to be considered for future roles.\n\nBest,\nSam\n")


def utf16_offset(text: str, position: dict) -> int:
    """The code-point offset of an LSP position in UTF-16 units, computed independently."""
    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)
    start = sum(len(line) for line in lines[:position["line"]])
    line = lines[position["line"]].rstrip("\r\n")
    encoded = line.encode("utf-16-le")[:2 * position["character"]]
    return start + len(encoded.decode("utf-16-le"))


def apply_edits(text: str, edits: list[dict]) -> str:
    spans = [(utf16_offset(text, e["range"]["start"]), utf16_offset(text, e["range"]["end"]), e["newText"])
             for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("lsp")
    (root / ".toneguard.yaml").write_text("{}\n")
    client = Client(root)
    yield client
    client.stop()


# --- the protocol -----------------------------------------------------------------------


def test_lifecycle_utf32_and_where_settings_come_from(tmp_path):
    root = tmp_path / "letters"
    (root / "bad").mkdir(parents=True)
    (root / ".toneguard.yaml").write_text("ignore: [raw-emotion]\n")
    (root / "bad" / ".toneguard.yaml").write_text("stage: someday\n")
    client = Client(root, encodings=["utf-32", "utf-16"], cwd=tmp_path)  # cwd has no config
    try:
        capabilities = client.initialized["capabilities"]
        assert capabilities["positionEncoding"] == "utf-32"
        assert capabilities["textDocumentSync"]["change"] == 1  # full text on every change
        assert capabilities["hoverProvider"] and capabilities["codeActionProvider"]
        assert client.initialized["serverInfo"]["name"] == "toneguard"

        text = "Hi Priya,\n\nI smiled 🙂🙂 twice. Thanks for nothing!!\n"
        uri = client.open("draft.txt", text)
        found = {d["code"]: d for d in client.diagnostics(uri, 1)["diagnostics"]}
        column = text.index("Thanks for nothing") - text.index("I smiled")
        assert found["bitterness"]["range"]["start"] == {"line": 2, "character": column}  # an emoji is 1
        assert "raw-emotion" not in found  # ignored by the folder's config

        untitled = "untitled:Untitled-1"  # not a file: plain text, the workspace root's settings
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": untitled, "languageId": "plaintext", "version": 3, "text": text}})
        codes = {d["code"] for d in client.diagnostics(untitled, 3)["diagnostics"]}
        assert "bitterness" in codes and "raw-emotion" not in codes

        (root / ".toneguard.yaml").write_text("{}\n")  # a changed config counts from the next save
        client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        assert "raw-emotion" in {d["code"] for d in client.diagnostics(uri, 1)["diagnostics"]}

        [error] = client.diagnostics(client.open("bad/draft.txt", text), 1)["diagnostics"]
        assert str(root / "bad" / ".toneguard.yaml") in error["message"] and "stage" in error["message"]
    finally:
        code = client.stop()
    assert code == 0


def test_initialize_is_answered_without_importing_spacy():
    """Everything `toneguard lsp` imports before it answers `initialize`: no spaCy, which takes
    a second or more; the pipeline is loaded afterwards, on the lint thread."""
    probe = "import sys, toneguard.cli, toneguard.lsp; print(sorted({m.split('.')[0] for m in sys.modules} & {'spacy', 'thinc'}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr


def test_diagnostic_range_is_in_utf16_units(server):
    text = "Hi Priya,\r\n\r\nI read “your note” 🙂 twice. Thanks for nothing.\r\nBest,\r\nSam\r\n"
    uri = server.open("emoji.txt", text)
    published = server.diagnostics(uri, 1)
    assert published["version"] == 1
    [bitter] = [d for d in published["diagnostics"] if d["code"] == "bitterness"]
    line = text.split("\r\n")[2]
    before = line[:line.index("Thanks for nothing.")]
    start = len(before.encode("utf-16-le")) // 2
    assert start == len(before) + 1  # the emoji is two UTF-16 units, the quotes one each
    assert bitter["range"] == {"start": {"line": 2, "character": start},
                               "end": {"line": 2, "character": start + len("Thanks for nothing.")}}
    assert bitter["severity"] == 1 and bitter["source"] == "toneguard"
    assert bitter["message"].startswith("This sounds bitter")
    assert utf16_offset(text, bitter["range"]["start"]) == text.index("Thanks for nothing.")


def test_fixing_the_text_clears_diagnostics_for_the_last_version(server):
    uri = server.open("change.txt", "Hi Priya,\n\nThanks for nothing.\n")
    assert server.diagnostics(uri, 1)["diagnostics"]
    server.change(uri, 7, CLEAN)
    published = server.diagnostics(uri)
    assert published == {"uri": uri, "version": 7, "diagnostics": []}


def test_code_action_rewrites_the_finding_away(server):
    text = "Hi Priya,\n\nThank you for letting me know. Thanks for nothing. I would love to be considered for future roles at Acme.\n\nBest,\nSam\n"
    uri = server.open("action.txt", text)
    [bitter] = [d for d in server.diagnostics(uri, 1)["diagnostics"] if d["code"] == "bitterness"]
    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": bitter["range"], "context": {"diagnostics": [bitter]}})
    rewrite = next(a for a in actions if "I was disappointed to hear the news" in a["title"])
    assert rewrite["kind"] == "quickfix" and rewrite["diagnostics"] == [bitter]
    assert not any(a.get("isPreferred") for a in actions)  # none of these is safe
    fixed = apply_edits(text, rewrite["edit"]["changes"][uri])
    assert "Thanks for nothing" not in fixed and "I was disappointed to hear the news" in fixed
    server.change(uri, 2, fixed)
    assert "bitterness" not in {d["code"] for d in server.diagnostics(uri, 2)["diagnostics"]}


def test_safe_fixes_are_preferred_and_fix_all_applies_them(server):
    text = CLEAN.replace("know.", "know!!")
    uri = server.open("safe.txt", text)
    [emotion] = server.diagnostics(uri, 1)["diagnostics"]
    assert emotion["code"] == "raw-emotion" and emotion["severity"] == 3
    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": emotion["range"], "context": {"diagnostics": [emotion]}})
    assert [a["title"] for a in actions if a.get("isPreferred")] == ["replace “!!” with “!” [safe fix]"]
    only = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": emotion["range"],
        "context": {"diagnostics": [], "only": ["source.fixAll"]}})
    [fix_all] = only
    assert fix_all["kind"] == "source.fixAll.toneguard" and fix_all["title"] == "Fix all safe suggestions"
    assert apply_edits(text, fix_all["edit"]["changes"][uri]) == CLEAN.replace("know.", "know!")


def test_fix_on_save_right_after_an_edit_waits_for_its_lint(server):
    """Editors send fix-all as the file is saved, often before the last edit was linted."""
    uri = server.open("save.txt", CLEAN)
    server.diagnostics(uri, 1)
    loud = CLEAN.replace("know.", "know!!")
    server.change(uri, 2, loud)
    [fix_all] = server.request("textDocument/codeAction", {  # sent at once, no waiting for diagnostics
        "textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": [], "only": ["source.fixAll.toneguard"]}})
    assert apply_edits(loud, fix_all["edit"]["changes"][uri]) == CLEAN.replace("know.", "know!")


def test_hover_explains_the_rule(server):
    text = "Hi Priya,\n\nThanks for nothing.\n"
    uri = server.open("hover.txt", text)
    server.diagnostics(uri, 1)
    hover = server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 2, "character": 3}})
    rule = load_rules()["bitterness"]
    assert hover["contents"]["kind"] == "markdown"
    assert "`bitterness`" in hover["contents"]["value"]
    assert " ".join(rule.why.split()) in hover["contents"]["value"]
    assert f"*Source:* “{ARTICLES[rule.sources[0][0]].title}”, {ARTICLES[rule.sources[0][0]].publisher}" in hover["contents"]["value"]
    assert server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 0, "character": 1}}) is None


def test_hover_and_quick_fixes_list_the_finding_under_the_cursor_first(server):
    """On "??" two findings overlap (the sentence, the "??"; the letter-wide ones sit where their
    fix goes): with every finding of the letter in the request, the specific safe fix comes
    first, then the sentence's rewrite, then the rest."""
    text = "Hi Priya,\n\nI guess you found someone cheaper. Why was I not selected??\n"
    uri = server.open("nearest.txt", text)
    diagnostics = server.diagnostics(uri, 1)["diagnostics"]
    cursor = {"line": 2, "character": text.split("\n")[2].index("??")}
    here = [d for d in diagnostics if d["range"]["start"]["line"] <= 2 <= d["range"]["end"]["line"]
            and utf16_offset(text, d["range"]["start"]) <= text.index("??") < utf16_offset(text, d["range"]["end"])]
    assert len(here) >= 2 and here[-1]["code"] == "raw-emotion"  # widest first, as editors send them
    assert len(diagnostics) > len(here)
    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri},
                             "range": {"start": cursor, "end": cursor}, "context": {"diagnostics": diagnostics}})
    quick = [a for a in actions if a["kind"] == "quickfix"]
    assert quick[0]["title"] == "replace “??” with “?” [safe fix]" and quick[0]["isPreferred"]
    assert quick[1]["diagnostics"][0]["code"] == "broad-feedback-question"
    under = [a for a in quick if a["diagnostics"][0] in here]
    assert quick[:len(under)] == under  # the findings under the cursor come first
    widths = [utf16_offset(text, a["diagnostics"][0]["range"]["end"]) - utf16_offset(text, a["diagnostics"][0]["range"]["start"])
              for a in under]
    assert widths == sorted(widths)
    hover = server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": cursor})
    order = re.findall(r"\*\*toneguard `([a-z-]+)`\*\*", hover["contents"]["value"])
    assert order[:2] == ["raw-emotion", "broad-feedback-question"] and len(order) == len(here)


def test_bad_front_matter_is_one_error_and_the_server_carries_on(server):
    uri = server.open("front.md", "---\nstage: [oops\n---\nHi Priya,\n\nThanks for nothing.\n", language="markdown")
    [error] = server.diagnostics(uri, 1)["diagnostics"]
    assert error["range"] == {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    assert error["severity"] == 1 and error["source"] == "toneguard"
    assert error["message"].startswith("malformed front matter")
    server.change(uri, 2, "---\nstage: follow-up\n---\n" + CLEAN)
    assert server.diagnostics(uri, 2)["diagnostics"] == []


def test_empty_document_and_close_publish_nothing(server):
    uri = server.open("empty.txt", " \n\n")
    assert server.diagnostics(uri, 1)["diagnostics"] == []
    server.change(uri, 2, "Thanks for nothing.\n")
    assert server.diagnostics(uri, 2)["diagnostics"]
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert server.diagnostics(uri)["diagnostics"] == []


def test_rapid_changes_publish_only_the_latest_version(server):
    """Eleven versions in one write: the server takes them all in while it lints the first,
    so it must drop that result (stale) and lint only the last version."""
    sentence = "I really enjoyed meeting the whole team at Acme last week. "
    uri = (server.root / "rapid.txt").as_uri()
    drafts = {version: "Hi Priya,\n\n" + sentence * (30 + version) + "Thanks for nothing.\n"
              for version in range(1, 12)}
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
                    "uri": uri, "languageId": "plaintext", "version": 1, "text": drafts[1]}}},
                *({"method": "textDocument/didChange", "params": changed(uri, version, drafts[version])}
                  for version in range(2, 12)))
    final = server.diagnostics(uri, 11)
    assert any(d["code"] == "bitterness" for d in final["diagnostics"])
    published = lambda messages: [m["params"]["version"] for m in messages  # noqa: E731
                                  if m.get("method") == "textDocument/publishDiagnostics"
                                  and m["params"]["uri"] == uri]
    assert published(server.inbox) == []  # nothing before the final version (passed over above)
    assert published(server.drain(1.0)) == []  # and nothing after it


# --- offsets <-> positions ----------------------------------------------------------


@pytest.mark.parametrize("encoding, emoji_units, quote_units", [(UTF16, 2, 1), (UTF8, 4, 3), (UTF32, 1, 1)])
def test_positions_count_in_the_negotiated_units(encoding, emoji_units, quote_units):
    text = "“a” 🙂 b"
    positions = Positions(text, encoding)
    b = text.index("b")
    assert positions.position(b) == Position(0, 2 * quote_units + 1 + 1 + emoji_units + 1)
    assert positions.offset(positions.position(b)) == b
    inside_emoji = Position(0, 2 * quote_units + 2 + emoji_units - 1)
    assert positions.offset(inside_emoji) == text.index("🙂")


def test_positions_across_crlf_lone_cr_and_lf():
    text = "one\r\ntwo\rthree\n🙂four\r\n"
    positions = Positions(text)
    assert positions.position(text.index("two")) == Position(1, 0)
    assert positions.position(text.index("three")) == Position(2, 0)
    assert positions.position(text.index("four")) == Position(3, 2)
    assert positions.position(text.index("\n")) == Position(0, 3)  # inside \r\n: the line's end
    assert positions.position(len(text)) == Position(4, 0)
    assert positions.offset(Position(0, 99)) == 3  # past the end of a line: its end
    assert positions.offset(Position(9, 0)) == len(text)
    for offset, char in enumerate(text):
        if char not in "\r\n":
            assert positions.offset(positions.position(offset)) == offset


def test_an_edit_never_splits_a_crlf():
    text = "Hi,\r\nThanks.\r\n"
    positions = Positions(text)
    cut = text.index("\n")  # delete the \n of the first \r\n: the edit must start before the \r
    edit = positions.edit(cut, cut + 1, "")
    assert (edit.range.start, edit.range.end, edit.new_text) == (Position(0, 3), Position(1, 0), "\r")
    as_json = {"range": {"start": {"line": 0, "character": 3}, "end": {"line": 1, "character": 0}},
               "newText": edit.new_text}
    assert apply_edits(text, [as_json]) == text[:cut] + text[cut + 1:]
    edit = positions.edit(0, cut, "Hello,")  # ending between \r and \n: the edit takes the \n too
    assert (edit.range.end, edit.new_text) == (Position(1, 0), "Hello,\n")


# --- hostile input -----------------------------------------------------------------------


def frame(message: dict | bytes, length: bytes | None = None) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: " + (length if length is not None else str(len(body)).encode()) + b"\r\n\r\n" + body


def alive(server, ident: int) -> dict:
    """Proof the server still reads and answers: a hover request, by raw bytes, with this id."""
    server.send_raw(frame({"id": ident, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": (server.root / "nothing.txt").as_uri()}, "position": {"line": 0, "character": 0}}}))
    return server.answer(ident)


def test_a_document_over_the_size_limit_is_refused_at_once_and_holds_up_no_other(server):
    """The CLI's limit: one diagnostic saying so, at once, instead of spaCy's E088 for a
    1M-character paragraph or minutes of parsing for 5.2M characters, during which no other
    document would be linted."""
    limit = f"larger than the {MAX_BYTES:,}-byte limit for a draft"
    paragraph = server.open("paragraph.txt", "Hi Priya,\n\n" + "x" * 1_000_000 + "\n")
    huge = server.open("huge.txt", "Hi Priya,\n\n" + "Thanks for nothing. " * 260_000)
    small = server.open("small.txt", "Hi Priya,\n\nThanks for nothing.\n")
    assert "bitterness" in {d["code"] for d in server.diagnostics(small, 1)["diagnostics"]}
    for uri in (paragraph, huge):
        [refused] = server.diagnostics(uri, 1)["diagnostics"]
        assert refused["message"] == limit and refused["severity"] == 1
        assert refused["range"] == {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    fits = "Hi Priya,\n\n" + "é" * ((MAX_BYTES - 11) // 2)  # the limit counts UTF-8 bytes, as the CLI does
    assert server.diagnostics(server.open("fits.txt", fits), 1)["diagnostics"][0]["message"] != limit
    assert server.diagnostics(server.open("over.txt", fits + "é"), 1)["diagnostics"][0]["message"] == limit


def test_bad_framing_is_answered_and_the_server_reads_on(server):
    """Each badly framed message gets one parse error (id null, as JSON-RPC says), and the
    server finds the next message's header and answers it."""
    message = json.dumps({"jsonrpc": "2.0", "method": "$/unknown", "params": {}}).encode()
    for ident, (bad, why) in enumerate((
            (frame(message, b"abc"), "Content-Length 'abc' is not a number from 1 to 67,108,864"),
            (b"Content-Type: text/plain\r\n\r\n" + message, "no Content-Length header"),
            (frame(b"{}", b"1000000000000"), "Content-Length '1000000000000' is not a number from 1 to 67,108,864"),
            (b"X" * 200_000 + b"\r\n\r\n", "a header line longer than 1024 bytes"),
            (frame(b"{}", b"-5"), "Content-Length '-5' is not a number from 1 to 67,108,864")), start=901):
        server.send_raw(bad)
        assert alive(server, ident)["result"] is None, bad[:40]
        refused = server.wait(lambda m: "id" in m and m["id"] is None and "method" not in m, timeout=1)
        assert refused["error"] == {"code": -32700, "message": f"unreadable message: {why}"}
    assert server.process.poll() is None


def test_malformed_messages_get_a_json_rpc_error(server):
    server.send_raw(frame({"id": 910, "method": "textDocument/hover", "params": {"textDocument": 5, "position": "x"}}))
    answer = server.answer(910)
    assert "result" not in answer and answer["error"]["code"] == -32602  # invalid params, for that request
    assert answer["error"]["message"].startswith(
        "invalid params for textDocument/hover: invalid value for type, expected str @ $.params.text_document.uri;")
    for body, code, why in ((b'{"jsonrpc": "2.0", "id": 911, "method": ', -32700, "not JSON: Expecting value: line 1 column 41 (char 40)"),
                            (b"[1, 2]", -32600, "not a JSON-RPC 2.0 request, notification or response"),
                            (b'"\xff\xfe"', -32700, "not JSON: 'utf-8' codec can't decode byte 0xff")):
        server.send_raw(frame(body))
        refused = server.wait(lambda m: "id" in m and m["id"] is None and "method" not in m, timeout=10)
        assert refused["error"]["code"] == code and refused["error"]["message"].startswith(why), (body, refused)
    server.send_raw(frame({"id": 912, "method": "textDocument/codeAction", "params": {"textDocument": {}}}))
    assert server.answer(912)["error"]["code"] == -32602
    server.send_raw(frame({"method": "textDocument/didOpen", "params": {"textDocument": 5}}))  # no answer due
    assert alive(server, 913)["result"] is None
    assert not [m for m in server.drain(0.2) if m.get("method") == "window/showMessage"]  # the log has them


def test_a_lone_surrogate_is_linted_like_any_other_character(server):
    """JSON can carry half a surrogate pair ("\\ud800"); it takes one position like any
    character, and the findings around it are reported where they are."""
    text = "Hi Priya,\n\nI smiled \ud800. Thanks for nothing.\n"
    uri = server.open("surrogate.txt", text)
    [bitter] = [d for d in server.diagnostics(uri, 1)["diagnostics"] if d["code"] == "bitterness"]
    assert bitter["range"]["start"] == {"line": 2, "character": text.split("\n")[2].index("Thanks")}
    assert not [m for m in server.drain(0.2) if m.get("method") == "window/showMessage"]


BROKEN_PLUGIN = {
    "brokenplugin/__init__.py": "def boom(nlp):\n    def run(doc):\n"
                                "        if 'KABOOM' in doc.text:\n            raise RuntimeError('the check broke')\n"
                                "        return [doc[t.i:t.i + 1] for t in doc if t.lower_ == 'synergy']\n"
                                "    return run\n",
    "brokenplugin/rules/kaboom.yaml": RULE_TEMPLATE.format(id="kaboom").replace("phrases: [synergy]", "check: boom"),
    "brokenplugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 1.0\n",
    "brokenplugin-1.0.dist-info/entry_points.txt": "[toneguard.checks]\nboom = brokenplugin:boom\n",
}


def test_an_internal_error_replaces_the_findings_of_the_version_before(tmp_path):
    """A bug (here a third-party check that raises) is shown on the document it happened in,
    for that version, instead of the previous version's findings; other documents carry on."""
    site = tmp_path / "site"
    for name, content in BROKEN_PLUGIN.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(content)
    root = tmp_path / "letters"
    root.mkdir()
    (root / ".toneguard.yaml").write_text(f"rule-dirs: [{site / 'brokenplugin' / 'rules'}]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    client = Client(root, env=env)
    try:
        uri = client.open("draft.txt", "Hi Priya,\n\nThanks for nothing.\n")
        assert "bitterness" in {d["code"] for d in client.diagnostics(uri, 1)["diagnostics"]}
        client.change(uri, 2, "Hi Priya,\n\nThanks for nothing. KABOOM\n")
        [error] = client.diagnostics(uri, 2)["diagnostics"]
        assert error["message"] == "internal error: RuntimeError: the check broke (please report it)"
        assert error["severity"] == 1
        other = client.open("other.txt", "Hi Priya,\n\nThanks for nothing.\n")
        assert "bitterness" in {d["code"] for d in client.diagnostics(other, 1)["diagnostics"]}
    finally:
        client.stop()


# --- config changes ----------------------------------------------------------------------

WATCHING = {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True, "relativePatternSupport": True}}}


def watched(client) -> list:
    """The glob patterns of the next client/registerCapability for watched files."""
    request = client.wait(lambda m: m.get("method") == "client/registerCapability")
    [registration] = request["params"]["registrations"]
    assert registration["method"] == "workspace/didChangeWatchedFiles"
    return [watcher["globPattern"] for watcher in registration["registerOptions"]["watchers"]]


def test_config_and_rule_file_changes_reach_every_open_draft_and_a_broken_config_is_shown(tmp_path):
    root = tmp_path / "letters"
    (root / "house").mkdir(parents=True)
    config = root / ".toneguard.yaml"
    config.write_text("ignore: [raw-emotion]\n")
    (root / "house" / "synergy.yaml").write_text(RULE_TEMPLATE.format(id="synergy"))
    client = Client(root, capabilities=WATCHING)

    def changed_on_disk(*paths):
        client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": p.as_uri(), "type": 2} for p in paths]})

    def codes(uri):
        return {d["code"] for d in client.diagnostics(uri)["diagnostics"]}

    try:
        assert watched(client) == ["**/.toneguard.yaml", "**/.toneguard.yml", "**/pyproject.toml"]
        draft = client.open("acme.txt", "Hi Priya,\n\nThank you for the synergy!! Thanks for nothing.\n")
        assert "raw-emotion" not in (found := codes(draft)) and "bitterness" in found
        settings = client.open(".toneguard.yaml", config.read_text(), language="yaml")
        assert client.diagnostics(settings)["diagnostics"] == []  # a config file is checked, not linted

        config.write_text("rule-dirs: [house]\n")
        changed_on_disk(config)
        assert {"raw-emotion", "synergy", "bitterness"} <= codes(draft)
        assert watched(client) == [{"baseUri": (root / "house").as_uri(), "pattern": pattern}
                                   for pattern in ("*.yaml", "*.yml")]
        client.diagnostics(settings)

        rule = root / "house" / "synergy.yaml"
        rule.write_text(RULE_TEMPLATE.format(id="synergy").replace('Says "synergy".', "Say what you mean."))
        changed_on_disk(rule)
        [finding] = [d for d in client.diagnostics(draft)["diagnostics"] if d["code"] == "synergy"]
        assert finding["message"] == "Say what you mean."
        client.diagnostics(settings)

        config.write_text("rule-dirs: [house]\nignore: [raw-emotion\n")
        changed_on_disk(config)
        [error] = client.diagnostics(draft)["diagnostics"]
        problem = "invalid YAML: did not find expected ',' or ']'"
        assert error["message"] == f"{config}:3:1: {problem}" and error["severity"] == 1
        [error] = client.diagnostics(settings)["diagnostics"]
        assert error["message"] == problem and error["range"]["start"] == {"line": 2, "character": 0}

        config.write_text("select: [bitternes]\n")
        changed_on_disk(config)
        assert client.diagnostics(draft)["diagnostics"][0]["message"] == \
            f"{config}: select: unknown rule 'bitternes' (see `toneguard rules`)"
        [error] = client.diagnostics(settings)["diagnostics"]
        assert error["message"] == "select: unknown rule 'bitternes' (see `toneguard rules`)"

        config.write_text("{}\n")
        client.notify("textDocument/didSave", {"textDocument": {"uri": settings}})  # a client that watches nothing
        assert "raw-emotion" in codes(draft)
        assert client.diagnostics(settings)["diagnostics"] == []
    finally:
        client.stop()


def test_require_config_keeps_the_server_quiet_outside_a_letters_folder(tmp_path):
    """initializationOptions {"requireConfig": true}: only drafts with a toneguard config at or
    above them are linted (a README.md or notes.txt elsewhere gets no findings)."""
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / ".toneguard.yaml").write_text("{}\n")
    bitter = "Hi Priya,\n\nThanks for nothing.\n"
    client = Client(tmp_path, initialization_options={"requireConfig": True})
    try:
        assert client.diagnostics(client.open("README.md", bitter, language="markdown"))["diagnostics"] == []
        untitled = "untitled:Untitled-1"  # the workspace root has no config either
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": untitled, "languageId": "plaintext", "version": 1, "text": bitter}})
        assert client.diagnostics(untitled)["diagnostics"] == []
        assert "bitterness" in {d["code"] for d in client.diagnostics(client.open("letters/acme.txt", bitter))["diagnostics"]}
    finally:
        client.stop()
    client = Client(tmp_path, initialization_options={"requireConfig": "yes", "quiet": True})
    try:
        warning = client.wait(lambda m: m.get("method") == "window/showMessage")["params"]
        assert warning == {"type": 2, "message": "toneguard: initializationOptions: unknown key 'quiet'; "
                                                 "'requireConfig' must be true or false (known keys: requireConfig)"}
        assert "bitterness" in {d["code"] for d in client.diagnostics(client.open("README.md", bitter))["diagnostics"]}
    finally:
        client.stop()


def test_the_drafts_on_disk_beside_a_document_are_its_correspondence(tmp_path):
    """An open draft is compared with the other drafts of its folder as they are on disk (its
    own file on disk stands aside for the text being edited); saving a draft lints the others
    that are open again, since they are compared with it."""
    note = ("---\nto: {first} Lee <{address}@acme.example>\n---\nHi {first},\n\nThank you for letting me know about "
            "the analyst role. I enjoyed the tour of the warehouse and hearing how the team plans the delivery "
            "routes each morning.\n\nPlease keep me in mind if a similar role opens up at Acme.\n\nBest,\nJane\n")
    own = ("Hi Marcus,\n\nThank you for your time and consideration throughout the interview process. You kept me "
           "posted at every step, and your advice on the case study made the second round much easier.\n\n"
           "Best,\nJane\n")
    letters = tmp_path / "letters"
    letters.mkdir()
    (tmp_path / ".toneguard.yaml").write_text("{}\n")
    (letters / "priya.md").write_text(note.format(first="Priya", address="priya"))
    (letters / "marcus.md").write_text(note.format(first="Marcus", address="marcus"))  # stale: the editor's text wins
    client = Client(tmp_path)
    try:
        uri = client.open("letters/marcus.md", own, language="markdown")
        assert "duplicate-note" not in {d["code"] for d in client.diagnostics(uri, 1)["diagnostics"]}
        client.change(uri, 2, note.format(first="Marcus", address="marcus"))
        found = [d for d in client.diagnostics(uri, 2)["diagnostics"] if d["code"] == "duplicate-note"]
        assert [d["message"].rsplit("(", 1)[1] for d in found] == ["nearly the same as letters/priya.md to Priya)"]
        assert found[0]["severity"] == 2 and found[0]["range"]["start"] == {"line": 5, "character": 0}

        (letters / "priya.md").write_text(own.replace("Marcus", "Priya"))  # rewritten on disk, then saved
        client.notify("textDocument/didSave", {"textDocument": {"uri": (letters / "priya.md").as_uri()}})
        assert "duplicate-note" not in {d["code"] for d in client.diagnostics(uri, 2)["diagnostics"]}
    finally:
        client.stop()
