"""A small LSP client for tests and the editor benchmark: starts `python -m toneguard lsp`
and speaks JSON-RPC 2.0 with Content-Length framing over its pipes. A reader thread feeds
a queue, so a silent server fails after a timeout instead of hanging the caller."""
from __future__ import annotations

import itertools
import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 30  # seconds for any one answer; the first lint loads the model


class Client:
    def __init__(self, root: Path, encodings: list[str] | None = None, cwd: Path | None = None,
                 env: dict[str, str] | None = None, initialization_options=None, capabilities: dict | None = None):
        self.root = root
        self.stderr = open((cwd or root) / "server.log", "w+b")
        self.process = subprocess.Popen([sys.executable, "-m", "toneguard", "lsp"], cwd=cwd or root, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.incoming: queue.Queue = queue.Queue()
        self.writing = threading.Lock()
        self.inbox: list[dict] = []  # notifications read while waiting for something else
        self.ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True).start()
        general = {"positionEncodings": encodings} if encodings else {}
        self.initialized = self.request("initialize", {
            "processId": None, "rootUri": root.as_uri(), "capabilities": {"general": general, **(capabilities or {})},
            **({"initializationOptions": initialization_options} if initialization_options is not None else {})})
        self.notify("initialized", {})

    def _read(self):
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:  # the server asks (registerCapability): say yes
                self.send({"id": message["id"], "result": None})
            self.incoming.put(message)

    def send(self, *messages: dict):
        """Write the messages in one go, so the server reads them as fast as it can."""
        data = b""
        for message in messages:
            body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
            data += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        self.send_raw(data)

    def send_raw(self, data: bytes):
        """Bytes as they are, framing and all: for testing what the server does with bad input."""
        with self.writing:  # the reader thread answers the server's requests
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def notify(self, method: str, params):
        self.send({"method": method, "params": params})

    def request(self, method: str, params):
        answer = self.call(method, params)
        assert "error" not in answer, answer
        return answer["result"]

    def call(self, method: str, params) -> dict:
        """The whole answer to a request: its result or its error."""
        ident = next(self.ids)
        self.send({"id": ident, "method": method, "params": params})
        return self.answer(ident)

    def answer(self, ident) -> dict:
        return self.wait(lambda m: "id" in m and m["id"] == ident and "method" not in m)

    def wait(self, wanted, timeout: float = TIMEOUT) -> dict:
        for index, message in enumerate(self.inbox):
            if wanted(message):
                return self.inbox.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.incoming.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no answer in {timeout}s; server log:\n{self.log()}") from None
            if wanted(message):
                return message
            self.inbox.append(message)

    def drain(self, seconds: float) -> list[dict]:
        """Everything that arrives within `seconds`, plus what was already waiting."""
        time.sleep(seconds)
        while not self.incoming.empty():
            self.inbox.append(self.incoming.get())
        found, self.inbox = self.inbox, []
        return found

    def diagnostics(self, uri: str, version: int | None = None) -> dict:
        """The next publishDiagnostics for `uri` (for that version, skipping older ones)."""
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri
                         and (version is None or m["params"].get("version") == version))["params"]

    def open(self, name: str, text: str, version: int = 1, language: str = "plaintext") -> str:
        uri = (self.root / name).as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": version, "text": text}})
        return uri

    def change(self, uri: str, version: int, text: str):
        self.notify("textDocument/didChange", changed(uri, version, text))

    def log(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")[-3000:]

    def stop(self) -> int | None:
        """shutdown + exit; the exit code, or None if the server had to be killed."""
        try:
            if self.process.poll() is None:
                self.request("shutdown", None)
                self.notify("exit", None)
                return self.process.wait(timeout=10)
            return self.process.returncode
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            return None
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.stderr.close()


def changed(uri: str, version: int, text: str) -> dict:
    return {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}


def measure_latency(root: Path, text: str, edits: int) -> list[float]:
    """Milliseconds from each didChange to the diagnostics for that version, server warm."""
    client = Client(root)
    try:
        uri = client.open("draft.txt", text)
        client.diagnostics(uri, 1)
        timings = []
        for version in range(2, edits + 2):
            edited = text.replace("Thank you", f"Thank you ({version})", 1)  # new text each time, as typing is
            started = time.perf_counter()
            client.change(uri, version, edited)
            client.diagnostics(uri, version)
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        client.stop()
