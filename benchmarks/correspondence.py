"""What comparing the drafts of a folder costs: `check` with the cross-draft rules and without,
and the comparison step alone as the folder grows.

    python benchmarks/correspondence.py [--drafts 2000] [--large 10000] [--jobs 1]

The drafts come from benchmarks/generate.py, as for benchmarks/speed.py. The first two
figures are whole `toneguard check` processes on the same folder, timed from outside; the
others time the comparison step alone (the Notes made from the Letters already read, the
similarity index, the three checks) in this process, at the two sizes, per draft too.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CROSS_DRAFT = "duplicate-note,replied-too-soon,check-in-too-soon"


def check_seconds(folder: Path, jobs: int, *extra: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "toneguard", "check", "--format", "json", "--jobs", str(jobs),
                             *extra, str(folder)], cwd=folder.parent, stdout=subprocess.DEVNULL)
    if result.returncode not in (0, 1):
        raise SystemExit(f"toneguard check failed with exit status {result.returncode}")
    return time.perf_counter() - started


def comparison_seconds(folder: Path) -> tuple[float, int]:
    """The cross-draft step over every draft of the folder, the drafts read beforehand."""
    from toneguard.config import Settings
    from toneguard.correspondence import relate
    from toneguard.engine import cached_rules
    from toneguard.letter import read_letter
    from toneguard.sources import read_source

    rules = cached_rules(())
    paths = sorted(str(p) for p in folder.iterdir())
    drafts = [(read_letter(read_source(path).text, path), Settings(), "first-reply", rules) for path in paths]
    started = time.perf_counter()
    found = relate(drafts)
    return time.perf_counter() - started, sum(bool(f) for f in found)


def generate(folder: Path, count: int) -> None:
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(folder), "--count", str(count)],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=1)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        Path(work, ".toneguard.yaml").write_text("{}\n")
        folder = Path(work, "drafts")
        generate(folder, options.drafts)
        check_seconds(folder, options.jobs, "--select", "bitterness")  # warm the file cache
        without = check_seconds(folder, options.jobs, "--ignore", CROSS_DRAFT)
        with_them = check_seconds(folder, options.jobs)
        rows.append((f"check, {options.drafts:,} drafts, without the cross-draft rules", f"{without:.1f} s", ""))
        rows.append((f"check, {options.drafts:,} drafts, with them", f"{with_them:.1f} s", ""))
        rows.append(("  added", f"{(with_them - without) / without:+.1%}", "<= +10%"))
        started = time.perf_counter()
        import datasketch  # noqa: F401 - loaded once per process, past 500 drafts: timed on its own
        rows.append(("loading datasketch (numpy, scipy)", f"{time.perf_counter() - started:.2f} s", "once a process"))
        small, flagged_small = comparison_seconds(folder)
        large_folder = Path(work, "large")
        generate(large_folder, options.large)
        large, flagged_large = comparison_seconds(large_folder)
        for count, seconds, flagged in ((options.drafts, small, flagged_small), (options.large, large, flagged_large)):
            rows.append((f"the comparison step alone, {count:,} drafts ({flagged:,} with a finding)",
                         f"{seconds:.2f} s", f"{seconds / count * 1000:.2f} ms a draft"))
        rows.append((f"  {options.large:,} against {options.drafts:,} drafts", f"{large / small:.1f} times",
                     f"{options.large / options.drafts:.0f} times the drafts"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"toneguard across a folder of letters, --jobs {options.jobs}, {cores} cores\n")
    print("| figure | value | note |\n|---|---:|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
