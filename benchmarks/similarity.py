"""How alike two notes are: the measures and libraries considered for duplicate-note, side by side.

    pip install '.[bench]' && python benchmarks/similarity.py [--drafts 2000 10000]

Quality: on the labelled pairs of corpus/pairs, with the addressee's names masked as the rule
masks them, each measure's lowest score on a duplicate and highest on a distinct pair that
the rule's other tests (different people, one writer, one employer) let through; the wider
the gap between them, the safer a threshold in it. Scale: finding the near-duplicates among
generated drafts (benchmarks/generate.py) with datasketch's MinHash LSH, as toneguard does
past EXACT_UP_TO comparisons (stock phrasing left out, as there), against comparing every pair
with rapidfuzz's cdist (C, both cores) and with the exact Jaccard similarity in Python.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PAIRS = HERE.parent / "corpus" / "pairs"


def notes_of(paths: list[str]):
    from toneguard.correspondence import note
    from toneguard.letter import read_letter
    from toneguard.sources import read_source

    return [note(read_letter(read_source(path).text, path)) for path in paths]


def labelled_pairs():
    """(duplicate?, gates pass?, note a, note b) for every pair of corpus/pairs."""
    from toneguard import correspondence as c

    rows = []
    for name, label in yaml.safe_load((PAIRS / "labels.yaml").read_text(encoding="utf-8")).items():
        a, b = notes_of(sorted(str(p) for p in (PAIRS / name).iterdir()))
        gates = c.same_person(a, b) is False and c.same_writer(a, b) and c.same_employer(a, b)
        rows.append((label == "duplicate", gates, a, b))
    return rows


def measures() -> dict:
    from datasketch import MinHash
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Indel

    from toneguard import correspondence as c

    def minhash(note):
        signature = MinHash(num_perm=c.NUM_PERM, hashfunc=c._as_is, seed=1)
        signature.update_batch(sorted(note.shingles))
        return signature

    def text(note):
        return " ".join(note.words)

    return {
        "Jaccard, 3-word shingles (exact)": c.jaccard,
        "the same, MinHash estimate (datasketch, 128)": lambda a, b: minhash(a).jaccard(minhash(b)),
        "Indel similarity of the words (rapidfuzz)": lambda a, b: Indel.normalized_similarity(a.words, b.words),
        "fuzz.ratio of the text (rapidfuzz)": lambda a, b: fuzz.ratio(text(a), text(b)) / 100,
        "fuzz.token_set_ratio (rapidfuzz)": lambda a, b: fuzz.token_set_ratio(text(a), text(b)) / 100,
    }


def quality_rows(rows) -> list[str]:
    lines = ["| measure | lowest duplicate | highest distinct | gap | gap / highest distinct |",
             "|---|---:|---:|---:|---:|"]
    for name, measure in measures().items():
        lowest = min(measure(a, b) for duplicate, gates, a, b in rows if duplicate)
        highest = max(measure(a, b) for duplicate, gates, a, b in rows if not duplicate and gates)
        lines.append(f"| {name} | {lowest:.2f} | {highest:.2f} | {lowest - highest:.2f} | "
                     f"{(lowest - highest) / highest:.2f} |")
    return lines


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def import_seconds(module: str) -> float:
    """Seconds to import `module` in a fresh process that has spaCy loaded already, as toneguard has."""
    code = f"import time, spacy; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def scale_rows(counts: list[int]) -> list[str]:
    from toneguard import correspondence as c

    lines = [f"Import, after spaCy: datasketch {import_seconds('datasketch'):.2f} s (it loads scipy), "
             f"rapidfuzz {import_seconds('rapidfuzz.process'):.2f} s", "",
             "| drafts | MinHash LSH: signatures, index, every draft's candidates | candidates per draft | "
             "rapidfuzz cdist, every pair | exact Jaccard, every pair |", "|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as work:
        for count in counts:
            folder = Path(work, str(count))
            subprocess.run([sys.executable, str(HERE / "generate.py"), str(folder), "--count", str(count)],
                           check=True, stdout=subprocess.DEVNULL)
            notes = notes_of(sorted(str(p) for p in folder.iterdir()))
            similar, lsh_seconds = timed(lambda: c._Similar(notes, len(notes)))
            candidates, query_seconds = timed(lambda: sum(len(similar.candidates(n)) - 1 for n in notes))
            pairwise = _cdist_seconds(notes) if count <= 2000 else None
            exact = _exact_seconds(similar) if count <= 2000 else None
            lines.append(f"| {count:,} | {lsh_seconds + query_seconds:.2f} s | {candidates / count:.0f} | "
                         f"{_seconds(pairwise, count)} | {_seconds(exact, count)} |")
    return lines


def _seconds(measured: tuple[int, float] | None, count: int) -> str:
    if measured is None:
        return "(not run: quadratic)"
    return f"{measured[1]:.2f} s"


def _cdist_seconds(notes) -> tuple[int, float]:
    from rapidfuzz import fuzz, process

    texts = [" ".join(n.words) for n in notes]
    return timed(lambda: process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=70, workers=-1))


def _exact_seconds(similar) -> tuple[int, float]:
    from toneguard.correspondence import _jaccard

    sets = similar.sets
    return timed(lambda: sum(_jaccard(a, b) >= 0.35 for i, a in enumerate(sets) for b in sets[i + 1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, nargs="*", default=[2000, 10000])
    options = parser.parse_args()
    rows = labelled_pairs()
    print(f"Labelled pairs: {len(rows)} ({sum(r[0] for r in rows)} duplicates; "
          f"{sum(1 for r in rows if not r[0] and r[1])} distinct pairs pass the other tests)\n")
    print("\n".join(quality_rows(rows)), end="\n\n")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"Finding near-duplicates among generated drafts ({cores} cores):\n")
    print("\n".join(scale_rows(options.drafts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
