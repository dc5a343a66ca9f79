"""The language server, run for real: `python -m toneguard lsp` in a subprocess, spoken to
over its pipes (see lsp_client.py); the process is killed at the end whatever happens.
Plus unit tests of the offset <-> position mapping.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from lsprotocol.types import Position

from lsp_client import Client, changed
from toneguard.articles import ARTICLES
from toneguard.lsp import UTF8, UTF16, UTF32, Positions
from toneguard.rules import load_rules

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
    assert [a["title"] for a in actions if a.get("isPreferred")] == ["replace with “!” [safe fix]"]
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
    """On "??" five findings overlap (three letter-wide, the sentence, the "??"): the specific
    safe fix comes first, then the sentence's rewrite, then the letter-wide additions."""
    text = "Hi Priya,\n\nI guess you found someone cheaper. Why was I not selected??\n"
    uri = server.open("nearest.txt", text)
    diagnostics = server.diagnostics(uri, 1)["diagnostics"]
    cursor = {"line": 2, "character": text.split("\n")[2].index("??")}
    here = [d for d in diagnostics if d["range"]["start"]["line"] <= 2 <= d["range"]["end"]["line"]
            and utf16_offset(text, d["range"]["start"]) <= text.index("??") < utf16_offset(text, d["range"]["end"])]
    assert len(here) >= 4 and here[-1]["code"] == "raw-emotion"  # widest first, as editors send them
    actions = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": {"start": cursor, "end": cursor}, "context": {"diagnostics": here}})
    quick = [a for a in actions if a["kind"] == "quickfix"]
    assert quick[0]["title"] == "replace with “?” [safe fix]" and quick[0]["isPreferred"]
    assert quick[1]["diagnostics"][0]["code"] == "broad-feedback-question"
    widths = [utf16_offset(text, a["diagnostics"][0]["range"]["end"]) - utf16_offset(text, a["diagnostics"][0]["range"]["start"])
              for a in quick]
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
