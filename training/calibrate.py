"""How each rule that listens to the tone model does at other thresholds, on labelled drafts.

    python training/calibrate.py corpus/tune corpus/holdout

For every rule with a `model:` condition, lints the drafts at each threshold and
prints draft-level precision, recall and F1, so a rule file's threshold is chosen
on figures. Only ever run it on drafts that are not a held-out set still to be
measured: choosing a threshold on a set spends it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders with drafts and a labels.yaml")
    options = parser.parse_args()
    from toneguard.config import Settings
    from toneguard.engine import cached_rules, lint_text

    rules = [rule for rule in cached_rules(()).values()
             if any(block == "match" for block, _ in rule.model_conditions)]
    drafts = []
    for folder in options.folders:
        labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8")) or {}
        drafts += [(folder / name, set(wanted or [])) for name, wanted in labels.items()]
    print(f"{len(drafts)} drafts\n\n| rule | threshold | precision | recall | F1 |\n|---|---:|---:|---:|---:|")
    results = {}
    for threshold in THRESHOLDS:
        settings = Settings(rules={rule.id: {"threshold": threshold} for rule in rules})
        for path, wanted in drafts:
            report = lint_text(path.read_text(encoding="utf-8"), path=str(path), settings=settings)
            fired = {v.rule for v in report.violations}
            for rule in rules:
                counts = results.setdefault((rule.id, threshold), [0, 0, 0])
                hit, expected = rule.id in fired, rule.id in wanted
                counts[0] += hit and expected
                counts[1] += hit and not expected
                counts[2] += expected and not hit
    for rule in rules:
        for threshold in THRESHOLDS:
            tp, fp, fn = results[(rule.id, threshold)]
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            print(f"| `{rule.id}` | {threshold:.1f} | {p:.2f} | {r:.2f} | {f:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
