"""`toneguard serve` run for real, in a subprocess on a real port: LanguageTool's Python
client, `check --server` and `fix --server` against local runs, signals, slow clients,
floods. Marked slow: each server loads the pipeline.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import CORPUS, REPO, RULE_TEMPLATE, lint
from test_serve import readme_errors

pytestmark = pytest.mark.slow

BITTER = "Hi Priya,\n\nThanks for nothing. I guess you found someone cheaper. Why was I not selected??\n\nBest,\nJane\n"
DRAFTS = {
    "bitter.md": BITTER,
    "clean.txt": (CORPUS / "examples" / "seed-000-filled.txt").read_text(),
    "two.eml": ("From: Jane <jane@example.com>\nTo: Priya <priya@acme.example>, marcus@acme.example\n"
                "Subject: Thank you\n\nHi Priya,\n\nThank you for the tour of the warehouse!! I would love to "
                "hear of future openings.\n\nBest,\nJane\n"),
    "broken.md": "---\nto: [\n---\nHi Priya,\n\nThanks.\n",
    "shouting.txt": "Hi Priya,\n\nThank you for your time!! I REALLY enjoyed our talk about the forecasting "
                    "project. Please keep me in mind if a similar role opens up.\n",
}


class Server:
    def __init__(self, args=(), cwd=None, code=None):
        command = [sys.executable, "-m", "toneguard", "serve", "--port", "0", *args] if code is None else \
            [sys.executable, "-c", code]
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.first_line = self.process.stderr.readline()
        match = re.search(r"http://([\d.]+):(\d+)", self.first_line)
        assert match, (self.first_line, self.process.poll())
        self.url = match.group(0)
        self.address = (match.group(1), int(match.group(2)))

    def stop(self, signum=signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=30)
        finally:
            self.process.kill()
        return code, self.process.stderr.read()

    def get(self, route: str):
        with urllib.request.urlopen(self.url + route, timeout=30) as response:
            return response.status, response.read()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("letters")
    (folder / ".toneguard.yaml").write_text("ignore: [not-specific]\n")
    for name, text in DRAFTS.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def server(folder):
    server = Server(cwd=folder)
    yield server
    server.stop()


def toneguard(*args, cwd, stdin=None, env=None):
    run = subprocess.run([sys.executable, "-m", "toneguard", *args], cwd=cwd, input=stdin, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "NO_COLOR": "1", **(env or {})})
    return run.returncode, run.stdout, run.stderr


# --- LanguageTool's own client -------------------------------------------------------------


def test_language_tool_python_gets_the_findings_and_a_sensible_correct(server):
    import language_tool_python

    text = ("Hi Priya 👋,\n\nI read your “update” this morning 🙂. Thanks for nothing. "
            "I guess you found someone cheaper.\n\nBest,\nJane\n")
    tool = language_tool_python.LanguageTool("en-US", remote_server=server.url)
    matches = tool.check(text)
    here = lambda text: lint(text, ignore=("not-specific",)).violations  # noqa: E731 - the folder's config
    assert {m.rule_id for m in matches} == {v.rule for v in here(text)}
    bitter = [m for m in matches if m.rule_id == "bitterness"]
    assert [text[m.offset:m.offset + m.error_length].strip() for m in bitter] == [
        "Thanks for nothing.", "I guess you found someone cheaper."]
    corrected = tool.correct(text)
    assert corrected.startswith("Hi Priya 👋,\n\n") and corrected.endswith("\n\nBest,\nJane\n")
    assert "Thanks for nothing" not in corrected and "cheaper" not in corrected
    left = here(corrected)
    assert not [v for v in left if v.severity == "error"], (corrected, left)
    assert len(left) < len(here(text))
    tool.close()


# --- check --server and fix --server: the same as a local run --------------------------------


@pytest.mark.parametrize("args", [
    ["check", "bitter.md", "clean.txt", "two.eml", "broken.md", "shouting.txt", "missing.txt"],
    ["check", "--format", "json", "."],
    ["check", "--format", "github", "--stage", "follow-up", "bitter.md", "two.eml"],
    ["check", "--format", "sarif", "--select", "bitterness,raw-emotion", "bitter.md"],
    ["check", "--ignore", "no-such-rule", "bitter.md"],
    ["check", "--fail-on", "error", "shouting.txt"],
    ["fix", "--diff", "shouting.txt", "two.eml", "bitter.md"],
])
def test_a_server_run_prints_and_exits_as_a_local_run(server, folder, args):
    local = toneguard(*args, cwd=folder)
    remote = toneguard(*args, "--server", server.url, cwd=folder)
    assert remote == local
    by_environment = toneguard(*args, cwd=folder, env={"TONEGUARD_SERVER": server.url})
    assert by_environment == local


@pytest.mark.parametrize("name", ["shouting.txt", "bitter.md", "broken.md"])
def test_fix_as_a_filter_is_the_same_through_the_server(server, folder, name):
    text = DRAFTS[name]
    args = ["fix", "-", "--stdin-filename", name]
    assert toneguard(*args, "--server", server.url, cwd=folder, stdin=text) == toneguard(*args, cwd=folder, stdin=text)


def test_fix_in_place_writes_the_same_files(server, folder, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    for copy in (here, there):
        shutil.copytree(folder, copy)
    assert toneguard("fix", ".", cwd=here)[:2] == toneguard("fix", ".", "--server", server.url, cwd=there)[:2]
    for name in DRAFTS:
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    assert (there / "shouting.txt").read_text() != DRAFTS["shouting.txt"]


def test_without_a_server_it_says_so_in_one_line_and_lints_here(folder):
    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    local = toneguard("check", "bitter.md", "clean.txt", cwd=folder)
    code, out, err = toneguard("check", "bitter.md", "clean.txt", "--server", url, cwd=folder)
    assert (code, out) == local[:2]
    note, *rest = err.splitlines()
    assert note == f"toneguard: the server at {url} is not reachable (Connection refused); linting here instead"
    assert "\n".join(rest) == local[2].rstrip("\n")


def test_a_server_with_another_configuration_is_not_used(server, folder, tmp_path):
    (tmp_path / "house").mkdir()
    (tmp_path / "house" / "synergy.yaml").write_text(RULE)
    (tmp_path / ".toneguard.yaml").write_text("rule-dirs: [house]\n")
    (tmp_path / "a.txt").write_text("Hi Priya,\n\nThank you for the tour. Great synergy!\n")
    local = toneguard("check", "a.txt", cwd=tmp_path)
    code, out, err = toneguard("check", "a.txt", "--server", server.url, cwd=tmp_path)
    assert "synergy" in local[1] and (code, out) == local[:2]
    assert "answered 409" in err.splitlines()[0] and "linting here instead" in err.splitlines()[0]


RULE = RULE_TEMPLATE.format(id="synergy")


def test_the_tone_model_flag_reaches_the_server(tmp_path):
    """A rule that every sentence's tone scores silence: it fires only with the tone model off
    (with it on, the run either finds nothing or, when the model is not installed, says so)."""
    (tmp_path / "house").mkdir()
    (tmp_path / "house" / "synergy.yaml").write_text(
        RULE.replace("suggest:", "exceptions:\n  model: {label: thanks, below: 1}\nsuggest:"))
    (tmp_path / ".toneguard.yaml").write_text("rule-dirs: [house]\n")
    (tmp_path / "a.txt").write_text("Hi Priya,\n\nThank you for the tour. Great synergy!\n")
    server = Server(["--no-tone-model"], cwd=tmp_path)
    try:
        runs = {}
        for flag in ("--no-tone-model", "--tone-model"):
            runs[flag] = local = toneguard("check", flag, "a.txt", cwd=tmp_path)
            assert toneguard("check", flag, "a.txt", "--server", server.url, cwd=tmp_path) == local, flag
            assert toneguard("fix", "--diff", flag, "a.txt", "--server", server.url, cwd=tmp_path) == \
                toneguard("fix", "--diff", flag, "a.txt", cwd=tmp_path), flag
    finally:
        server.stop()
    assert "synergy" in runs["--no-tone-model"][1] and "synergy" not in runs["--tone-model"][1]


def test_the_client_path_never_loads_spacy(server, folder):
    probe = (
        "import sys\n"
        "from toneguard.cli import main\n"
        f"for args in (['check', '--server', {server.url!r}, 'bitter.md'],\n"
        f"             ['fix', '--diff', '--server', {server.url!r}, 'shouting.txt']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "               ('spacy', 'thinc', 'pygls', 'lsprotocol', 'numpy', 'uvicorn', 'starlette'))\n"
        "print('LOADED', heavy, file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, timeout=60)
    assert "LOADED []" in run.stderr, run.stderr
    assert "bitterness" in run.stdout


# --- running and stopping ------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_it_cleanly(folder, signum):
    server = Server(cwd=folder)
    assert server.first_line.startswith("toneguard serve: http://127.0.0.1:") and "Ctrl+C" in server.first_line
    assert server.get("/health")[0] == 200
    code, rest = server.stop(signum)
    assert code == 0 and rest == "toneguard serve: stopped\n"


def test_a_port_in_use_is_one_line_and_exit_2(server, folder):
    code, out, err = toneguard("serve", "--port", str(server.address[1]), cwd=folder)
    assert code == 2 and out == ""
    assert err == (f"toneguard: cannot listen on 127.0.0.1:{server.address[1]}: Address already in use "
                   "(is toneguard serve or a LanguageTool server already running?)\n")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    bad_input = readme.split("\n## Bad input: exact one-line errors\n", 1)[1].split("\n## ", 1)[0]
    assert f"| `{err.strip().replace(str(server.address[1]), '8081')}` |" in bad_input  # its row, on the default port


def test_a_foreign_host_and_origin_are_refused_on_the_wire(server):
    for headers in ({"Host": "evil.example"}, {"Origin": "https://evil.example"}):
        request = urllib.request.Request(server.url + "/v2/check", data=b"language=en&text=Hi", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403 and refused.value.read().startswith(b"Error: ")
    assert server.get("/health")[0] == 200


# --- slow clients and floods -------------------------------------------------------------------

LIMITED = ("from toneguard.config import Settings\n"
           "from toneguard.server import Limits, serve\n"
           "serve(Settings(), '127.0.0.1', 0, Limits(seconds={seconds}, in_flight={in_flight}, head_seconds=1))\n")


@pytest.fixture(scope="module")
def limited(folder):
    server = Server(cwd=folder, code=LIMITED.format(seconds=2, in_flight=8))
    yield server
    server.stop()


def _read_all(connection: socket.socket) -> bytes:
    connection.settimeout(10)
    data = b""
    while True:
        chunk = connection.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_a_client_trickling_its_headers_is_cut_off(limited):
    started = time.monotonic()
    with socket.create_connection(limited.address) as slow:
        slow.sendall(b"POST /v2/check HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        stop = threading.Event()

        def trickle():  # a header line every 0.2 s, and still no end to them at the deadline (1 s)
            for _ in range(4):  # quiet before the deadline: bytes arriving after a close would reset it
                if stop.wait(0.2):
                    return
                slow.sendall(b"X-Slow: 1\r\n")

        threading.Thread(target=trickle, daemon=True).start()
        assert limited.get("/health")[0] == 200  # others are served meanwhile
        answer = _read_all(slow)
        stop.set()
    expected = readme_errors()["headers still arriving after 10 s"][1].replace("10 s", "1 s")
    assert answer.startswith(b"HTTP/1.1 408 ") and answer.endswith(b"\r\n\r\n" + expected.encode())
    assert 0.9 < time.monotonic() - started < 5
    assert limited.get("/health")[0] == 200


def test_a_client_that_says_nothing_is_cut_off(limited):
    started = time.monotonic()
    with socket.create_connection(limited.address) as silent:
        assert _read_all(silent) == b""  # closed, with nothing to answer
    assert time.monotonic() - started < 5


def test_a_body_trickling_past_the_time_limit_gets_408(limited):
    with socket.create_connection(limited.address) as slow:
        slow.sendall(b"POST /v2/check HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nlang")
        answer = _read_all(slow)
    expected = readme_errors()["a body still arriving after the time limit"][1].replace("10 s", "2 s")
    assert answer.startswith(b"HTTP/1.1 408 ") and answer.endswith(b"\r\n\r\n" + expected.encode())
    assert b"connection: close" in answer.lower()


def test_a_flood_waits_or_is_turned_away_and_the_server_keeps_serving(limited):
    body = json.dumps({"text": BITTER}).encode()

    def post(_):
        request = urllib.request.Request(limited.url + "/api/check", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, b""
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read()

    with ThreadPoolExecutor(100) as pool:
        answers = list(pool.map(post, range(300)))
    codes = {code for code, _ in answers}
    assert codes <= {200, 503}, codes
    assert 200 in codes
    refusals = {reason for code, reason in answers if code == 503}
    assert all(r.startswith(b"Error: too many requests at once (8)") or r.startswith(b"Error: checking took longer")
               for r in refusals), refusals
    assert limited.get("/health")[0] == 200


def test_a_server_that_is_not_toneguard_is_not_used(folder):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class NotToneguard(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    other = HTTPServer(("127.0.0.1", 0), NotToneguard)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{other.server_address[1]}"
    try:
        code, out, err = toneguard("check", "bitter.md", "--server", url, cwd=folder)
    finally:
        other.shutdown()
    assert (code, out) == toneguard("check", "bitter.md", cwd=folder)[:2]
    assert err.splitlines()[0] == (f"toneguard: the server at {url} is not toneguard serve (GET /health answered 404); "
                                   "linting here instead")


def test_the_wheel_carries_the_page(tmp_path):
    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(repo)],
                   check=True, capture_output=True, timeout=600)
    import zipfile

    [wheel] = tmp_path.glob("toneguard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("index.html", "app.js", "style.css"):
        assert f"toneguard/web/{name}" in names
