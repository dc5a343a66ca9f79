"""Time on hostile drafts: shapes that once took minutes at the size limit, each linted whole.

    python benchmarks/hostile.py [--sizes 100000 256000] [--shape NAME]

For each shape, prints the wall-clock seconds to lint it at each size, the seconds per
100 KB at the largest size, and at the end the worst shape at the size limit (the target:
under 10 s). Each draft goes through `lint_text` in one process, after the pipeline is
loaded. Ordinary prose is measured too, for reference, with spaCy's own parse of it (the
floor): how long a draft at the limit takes is set by how many words and marks it holds.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

GREETING = "Hi Priya,\n\n"
# name -> (file suffix, one repeated unit). Each once cost minutes at 256 KB: a pattern
# rescanning to the end from every occurrence, or a rule scanning every sentence per finding.
SHAPES = {
    "markdown [": (".md", "[ "),
    "html comment <!--": (".md", "<!-- "),
    "Thanks for nothing.": (".txt", "Thanks for nothing. "),
    "Great!!": (".txt", "Great!! "),
    "shouted words": (".txt", "I REALLY WANTED THIS "),
    "shouted, one a sentence": (".txt", "I REALLY wanted this. "),
    "2,000-character punctuation": (".txt", "!" * 2_000 + " "),
    "2,000 mixed punctuation": (".txt", "!?.,;:-_()[]\"'" * 142 + "!! "),
    "placeholders [x]": (".txt", "[x] "),
    "one word, no space": (".txt", "a" * 2_000 + "\n"),
    "blank lines": (".txt", "a\n\n"),
}


def draft(unit: str, size: int) -> str:
    """The greeting, then the unit repeated to `size` bytes in UTF-8."""
    body = unit * ((size - len(GREETING)) // len(unit.encode("utf-8")))
    return GREETING + body


def prose(size: int) -> str:
    """Letters' bodies from the speed benchmark's generator, one paragraph each, to `size` bytes."""
    sys.path.insert(0, str(Path(__file__).parent))
    import generate

    rng, bodies, length = random.Random(7), [], 0
    while length < size:
        name, text = generate.draft(rng, len(bodies))
        bodies.append(text.split("\n\n")[2 if name.endswith(".eml") else 1])
        length += len(bodies[-1].encode("utf-8")) + 2
    return (GREETING + "\n\n".join(bodies)).encode("utf-8")[:size].decode("utf-8", "ignore")


def floor_seconds(text: str) -> float:
    """spaCy alone parsing the text's paragraphs, as toneguard would hand them over."""
    from toneguard.config import Settings
    from toneguard.engine import linter_for

    nlp = linter_for(Settings()).nlp
    start = time.perf_counter()
    for _ in nlp.pipe(text.split("\n\n"), batch_size=256):
        pass
    return time.perf_counter() - start


def lint_seconds(text: str, suffix: str) -> tuple[float, str]:
    from toneguard.config import Settings
    from toneguard.engine import lint_text
    from toneguard.errors import ToneguardError

    start = time.perf_counter()
    try:
        report = lint_text(text, path="hostile" + suffix, settings=Settings())
        outcome = f"{len(report.violations)} findings"
    except ToneguardError as error:
        outcome = f"refused: {error.problem}"
    return time.perf_counter() - start, outcome


def main() -> None:
    from toneguard.sources import MAX_BYTES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, MAX_BYTES])
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append")
    options = parser.parse_args()
    lint_seconds("Hi Priya,\n\nThank you.\n", ".txt")  # load the pipeline first
    sizes = sorted(options.sizes)
    worst = (0.0, "")
    print(f"{'shape':32}" + "".join(f"{size:>12,} B" for size in sizes) + "    s/100 KB  outcome at the largest")
    for name in options.shape or SHAPES:
        suffix, unit = SHAPES[name]
        row = []
        for size in sizes:
            seconds, outcome = lint_seconds(draft(unit, size), suffix)
            row.append(seconds)
            if size == MAX_BYTES:
                worst = max(worst, (seconds, name))
        per_100k = row[-1] / sizes[-1] * 100_000
        print(f"{name:32}" + "".join(f"{seconds:12.2f} s" for seconds in row) + f"{per_100k:12.2f}  {outcome}",
              flush=True)
    if worst[1]:
        print(f"worst at the {MAX_BYTES:,}-byte limit: {worst[1]}, {worst[0]:.2f} s (target: under 10 s)")
    if not options.shape:
        text = prose(sizes[-1])
        seconds, outcome = lint_seconds(text, ".txt")
        print(f"for reference, prose at {sizes[-1]:,} B: {seconds:.2f} s ({outcome}); "
              f"spaCy alone parsing it: {floor_seconds(text):.2f} s")


if __name__ == "__main__":
    main()
