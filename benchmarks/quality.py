"""Per-rule precision, recall and F1 of the built-in rules over the labeled corpus.

    python benchmarks/quality.py              # tables for tune, holdout and all
    python benchmarks/quality.py --misses     # also list every disagreement

A rule's prediction on a draft is "it fired at least once"; the label is whether
`labels.yaml` lists it. Counts are per draft. Rules run with default settings
(no config file), exactly as shipped.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SPLITS = ("tune", "holdout")


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list = field(default_factory=list)  # (path, "missed" | "false alarm")

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def labels(split: str) -> dict[str, list[str]]:
    path = CORPUS / split / "labels.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}


def evaluate(splits=SPLITS) -> dict[str, dict[str, Score]]:
    """{split: {rule id: Score}}, plus "all"; linted once per draft with default settings."""
    from toneguard.engine import cached_rules, lint_paths

    rule_ids = list(cached_rules(()))
    results: dict[str, dict[str, Score]] = {"all": {r: Score() for r in rule_ids}}
    for split in splits:
        expected = labels(split)
        scores = results[split] = {r: Score() for r in rule_ids}
        paths = [str(CORPUS / split / name) for name in expected]
        for path, report in zip(paths, lint_paths(paths, isolated=True, jobs=1)):
            if report.error:
                raise SystemExit(f"corpus draft could not be read: {report.error}")
            fired = {v.rule for v in report.violations}
            wanted = set(expected[Path(path).name] or [])
            for rule in rule_ids:
                for score in (scores[rule], results["all"][rule]):
                    if rule in fired and rule in wanted:
                        score.tp += 1
                    elif rule in fired:
                        score.fp += 1
                        score.misses.append((path, "false alarm"))
                    elif rule in wanted:
                        score.fn += 1
                        score.misses.append((path, "missed"))
    return results


def table(scores: dict[str, Score], title: str) -> str:
    lines = [f"**{title}**", "", "| rule | drafts with it | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for rule, s in scores.items():
        lines.append(f"| `{rule}` | {s.tp + s.fn} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every disagreement with the labels")
    parser.add_argument("--split", choices=SPLITS, action="append", help="only these splits")
    options = parser.parse_args()
    splits = tuple(options.split or SPLITS)
    results = evaluate(splits)
    for split in (*splits, "all"):
        count = sum(len(labels(s)) for s in (splits if split == "all" else (split,)))
        print(table(results[split], f"{split} ({count} drafts)"), end="\n\n")
        if options.misses and split != "all":
            for rule, score in results[split].items():
                for path, kind in score.misses:
                    print(f"  {kind:11} {rule:24} {Path(path).relative_to(REPO)}")
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
