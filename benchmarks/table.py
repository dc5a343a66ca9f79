"""The figures table the speed benchmarks print, and their exit status: 1 when a target fails."""
from __future__ import annotations

import os


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def print_table(title: str, rows) -> int:
    """rows: (figure, value, target, holds) with holds "yes", "NO" or ""."""
    print(f"{title}\n")
    print("| figure | value | target | holds |\n|---|---:|---|---|")
    for name, value, target, holds in rows:
        print(f"| {name} | {value} | {target} | {holds} |")
    return 0 if all(r[3] != "NO" for r in rows) else 1
