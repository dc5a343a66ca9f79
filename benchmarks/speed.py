"""Speed and memory of toneguard against spaCy's own floor, measured side by side.

    python benchmarks/speed.py [--drafts 2000] [--repeat 5]

Every figure is a whole process timed from outside (wall clock) with its peak
resident memory from the kernel (wait4). Prints a table of figures, targets and
whether each holds, plus the machine's core count.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from table import cores, print_table

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TONEGUARD = [PYTHON, "-m", "toneguard"]


def run(command: list[str], cwd: str | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process run to completion."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed with exit status {code}")
    return wall, usage.ru_maxrss / 1024


def median_pair(a: list[str], b: list[str], repeat: int, cwd: str) -> tuple[float, float]:
    """Median wall time of a and of b, run in turn (a b a b ...) so drift hits both."""
    times_a, times_b = [], []
    run(a, cwd), run(b, cwd)  # warm the file cache
    for _ in range(repeat):
        times_a.append(run(a, cwd)[0])
        times_b.append(run(b, cwd)[0])
    return statistics.median(times_a), statistics.median(times_b)


def lsp_latency(text: str, edits: int, root: Path) -> float:
    """Median ms from a didChange to its diagnostics, with the server warm."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from lsp_client import measure_latency

    return statistics.median(measure_latency(root, text, edits))


def editor_draft(text: str, words: int = 300, paragraphs: int = 4) -> str:
    """A letter of `words` words in `paragraphs` paragraphs, as people write them, from a draft's body."""
    pool = text.split("\n\n")[1].split()
    body = (pool * (words // len(pool) + 1))[:words]
    size = words // paragraphs
    chunks = [" ".join(body[i:i + size]) for i in range(0, words, size)]
    return "Hi Priya,\n\nThank you for the call. " + "\n\n".join(chunks) + ".\n\nBest,\nJane\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each cold-start command")
    options = parser.parse_args()
    from toneguard.model import resolve_model

    model = resolve_model(None)
    rows = []

    def row(name, value, unit, target=None, holds=None):
        rows.append((name, f"{value:.2f} {unit}".strip(), target or "", "" if holds is None else ("yes" if holds else "NO")))

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work, "drafts")
        subprocess.run([PYTHON, str(HERE / "generate.py"), str(folder), "--count", str(options.drafts)],
                       check=True, stdout=subprocess.DEVNULL)
        Path(work, ".toneguard.yaml").write_text("{}\n")
        n = options.drafts

        floor_wall, floor_rss = run([PYTHON, str(HERE / "floor.py"), str(folder)], work)
        one_wall, one_rss = run(TONEGUARD + ["check", "--jobs", "1", "--format", "json", str(folder)], work)
        two_wall, _ = run(TONEGUARD + ["check", "--jobs", "2", "--format", "json", str(folder)], work)
        auto_wall, _ = run(TONEGUARD + ["check", "--format", "json", str(folder)], work)
        row("floor: nlp.pipe throughput", n / floor_wall, "drafts/s")
        row("toneguard --jobs 1 throughput", n / one_wall, "drafts/s")
        row("  ratio to the floor", floor_wall / one_wall, "", ">= 0.70", floor_wall / one_wall >= 0.7)
        row("toneguard --jobs 2 throughput", n / two_wall, "drafts/s")
        row("  ratio to --jobs 1", one_wall / two_wall, "", ">= 1.60", one_wall / two_wall >= 1.6)
        row("toneguard default jobs throughput", n / auto_wall, "drafts/s")
        row("floor: peak memory", floor_rss, "MiB")
        row("toneguard --jobs 1 peak memory", one_rss, "MiB")
        row("  ratio to the floor", one_rss / floor_rss, "", "<= 1.60", one_rss / floor_rss <= 1.6)

        in_folder = sorted(folder.glob("*.txt"))[0]
        text = in_folder.read_text(encoding="utf-8")
        draft = Path(work, "alone", in_folder.name)  # a draft with no others beside it to compare
        draft.parent.mkdir()
        draft.write_text(text, encoding="utf-8")
        bare = [PYTHON, "-c", f"import spacy; nlp = spacy.load({model!r}); nlp(open({str(draft)!r}).read())"]
        cold, floor_cold = median_pair(TONEGUARD + ["check", str(draft)], bare, options.repeat, work)
        row("cold start: spaCy load + parse one draft", floor_cold, "s")
        row("cold start: toneguard check one draft", cold, "s")
        row("  ratio", cold / floor_cold, "", "<= 1.35", cold / floor_cold <= 1.35)
        beside, _ = median_pair(TONEGUARD + ["check", str(in_folder)], bare, options.repeat, work)
        row(f"cold start: one draft among {n} others (compared with them)", beside, "s")

        latency = lsp_latency(editor_draft(text), 30, Path(work, "alone"))
        row("editor: LSP diagnostics after a change, 300 words (median)", latency, "ms", "< 50", latency < 50)
        latency = lsp_latency(editor_draft(text), 30, Path(work))
        row(f"editor: the same beside {n} other drafts on disk (median)", latency, "ms")

    return print_table(f"toneguard speed, {options.drafts} drafts of 80-250 words, {cores()} cores, model {model}", rows)


if __name__ == "__main__":
    sys.exit(main())
