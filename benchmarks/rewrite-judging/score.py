"""Figures from a reader's scores (see packet.py for what they judged).

    python benchmarks/rewrite-judging/score.py benchmarks/rewrite-judging/round2/scores.yaml
"""
from __future__ import annotations

import sys
from collections import Counter, defaultdict

import yaml


def figures(path: str) -> str:
    drafts = yaml.safe_load(open(path, encoding="utf-8"))
    findings = [f for d in drafts for f in d["findings"]]
    rewritten = [d["after_fix_all"] for d in drafts if d.get("after_fix_all")]
    first = [f["first"] for f in findings]
    best = [f["best"] for f in findings if "best" in f]
    lines = [f"{len(drafts)} drafts, {len(findings)} findings "
             f"({sum(f['finding'] == 'right' for f in findings)} right)",
             f"first suggestion, mean score (0-2): {sum(first) / len(first):.2f}"]
    if best:
        lines.append(f"best suggestion, mean score (0-2): {sum(best) / len(best):.2f}")
    lines.append(f"sendable unchanged after fix --all: {sum(bool(r.get('sendable')) for r in rewritten)} "
                 f"of {len(rewritten)}")
    verdicts = Counter(r.get("better") for r in rewritten if r.get("better"))
    if verdicts:
        lines.append("after fix --all against the draft: " + ", ".join(
            f"{verdicts[v]} {v}" for v in ("better", "same", "worse")))
    by_rule = defaultdict(list)
    for f in findings:
        by_rule[f["rule"]].append(f["first"])
    lines += ["", "| rule | findings | first suggestion, mean |", "|---|---:|---:|"]
    lines += [f"| `{rule}` | {len(scores)} | {sum(scores) / len(scores):.2f} |"
              for rule, scores in sorted(by_rule.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(f"**{path}**\n\n{figures(path)}\n")
