"""Speed of `toneguard serve`: one request, the --server client, many clients, memory.

    python benchmarks/serve.py [--clients 50] [--per-client 2000]

Starts `toneguard serve` on a free port in a scratch folder and prints a table of
figures and targets:
- /v2/check on a 150-word draft, one request at a time: the same draft again and
  again (an editor re-sending it) and drafts never seen before, p50 and p95;
- `toneguard check --server` on one file, the whole process, median of 15 runs
  (and a local `toneguard check` for comparison);
- CLIENTS clients at once, each sending PER_CLIENT requests on its own keep-alive
  connection, drafts cycling through 100 (their
  paragraphs fit the parse cache, as one person's drafts do): errors, p50, p95, throughput;
- the server's resident memory after 100 requests and after 10,000 of them.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import draft  # noqa: E402
from table import cores, print_table  # noqa: E402

TONEGUARD = str(Path(sys.executable).with_name("toneguard"))


def drafts_of(words: int, count: int, seed: int) -> list[str]:
    """`count` distinct plain-text drafts of about `words` words."""
    rng, found, index = random.Random(seed), [], 0
    while len(found) < count:
        name, text = draft(rng, index)
        index += 1
        if name.endswith(".txt") and abs(len(text.split()) - words) <= 10 and text not in found:
            found.append(text)
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Client:
    def __init__(self, address):
        self.connection = http.client.HTTPConnection(*address, timeout=120)

    def check(self, text: str) -> tuple[int, float]:
        body = urlencode({"text": text, "language": "en-US"})
        start = time.perf_counter()
        self.connection.request("POST", "/v2/check", body, {"Content-Type": "application/x-www-form-urlencoded"})
        response = self.connection.getresponse()
        response.read()
        return response.status, (time.perf_counter() - start) * 1000


def parse_floor(texts: list[str]) -> float:
    """Median ms for the pipeline toneguard loads to parse each text once, in this process."""
    import spacy

    from toneguard.model import resolve_model

    nlp = spacy.load(resolve_model(None))
    nlp(texts[0])
    times = []
    for text in texts:
        start = time.perf_counter()
        nlp(text)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def wall(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=2000, help="0 skips the many-clients part")
    options = parser.parse_args()
    rows = []

    def row(name, value, unit, target=None, holds=None):
        holds = "" if holds is None else ("yes" if holds else "NO")
        rows.append((name, f"{value:.2f} {unit}".strip(), target or "", holds))

    with tempfile.TemporaryDirectory() as work:
        Path(work, ".toneguard.yaml").write_text("{}\n")
        server = subprocess.Popen([TONEGUARD, "serve", "--port", "0"], cwd=work, stderr=subprocess.PIPE, text=True)
        try:
            line = server.stderr.readline()
            host, port = re.search(r"http://([\d.]+):(\d+)", line).groups()
            address = (host, int(port))
            client = Client(address)

            same = drafts_of(150, 1, seed=1)[0]
            for _ in range(20):
                client.check(same)
            times = [client.check(same)[1] for _ in range(500)]
            p50, p95 = statistics.median(times), percentile(times, 0.95)
            row("/v2/check, the same 150-word draft: p50", p50, "ms", "<= 30", p50 <= 30)
            row("/v2/check, the same 150-word draft: p95", p95, "ms", "<= 60", p95 <= 60)
            fresh = drafts_of(150, 300, seed=2)
            times = [client.check(text)[1] for text in fresh]
            p50, p95 = statistics.median(times), percentile(times, 0.95)
            row("/v2/check, 150-word drafts never seen before: p50", p50, "ms", "<= 30", p50 <= 30)
            row("/v2/check, 150-word drafts never seen before: p95", p95, "ms", "<= 60", p95 <= 60)
            row("  the floor: spaCy alone parsing them here (p50)", parse_floor(fresh), "ms")

            letter = Path(work, "letter.txt")
            letter.write_text(same)
            url = f"http://{host}:{port}"
            wall([TONEGUARD, "check", "--server", url, str(letter)], work)
            remote = statistics.median(wall([TONEGUARD, "check", "--server", url, str(letter)], work)
                                       for _ in range(15))
            local = statistics.median(wall([TONEGUARD, "check", str(letter)], work) for _ in range(3))
            row("toneguard check --server, one file, whole process (median)", remote, "s", "<= 0.2", remote <= 0.2)
            row("toneguard check, one file, whole process (median)", local, "s")

            if not options.per_client:
                return report(rows)
            pool = drafts_of(150, 100, seed=3)
            latencies, errors, done, memory = [], [], [0], {}
            lock = threading.Lock()

            def work_for(index: int):
                own = Client(address)
                for n in range(options.per_client):
                    try:
                        status, ms = own.check(pool[(index * 7 + n) % len(pool)])
                    except (OSError, http.client.HTTPException) as problem:
                        status, ms = repr(problem), 0.0
                        own = Client(address)
                    with lock:
                        done[0] += 1
                        latencies.append(ms)
                        if status != 200:
                            errors.append(status)
                        for mark in (100, 10_000):
                            if done[0] == mark:
                                memory[mark] = rss_mib(server.pid)

            started = time.perf_counter()
            threads = [threading.Thread(target=work_for, args=(i,)) for i in range(options.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            total = options.clients * options.per_client
            row(f"{options.clients} clients x {options.per_client} requests: errors", len(errors), "", "0",
                not errors)
            row(f"{options.clients} clients x {options.per_client} requests: p50", statistics.median(latencies), "ms")
            row(f"{options.clients} clients x {options.per_client} requests: p95", percentile(latencies, 0.95), "ms")
            row(f"{options.clients} clients x {options.per_client} requests: throughput", total / elapsed, "requests/s")
            if 10_000 in memory:
                growth = memory[10_000] / memory[100] - 1
                row("server memory after 100 requests", memory[100], "MiB")
                row("server memory after 10,000 requests", memory[10_000], "MiB")
                row("  growth", growth * 100, "%", "<= 10", growth <= 0.10)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return report(rows)


def report(rows) -> int:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return print_table(f"toneguard serve speed, {cores()} cores, load average {load:.1f} at the end", rows)


if __name__ == "__main__":
    sys.exit(main())
