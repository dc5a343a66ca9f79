"""False alarms of the tone rules on ordinary professional e-mail nobody wrote for toneguard.

    python benchmarks/emails.py FOLDER [--list]

FOLDER holds one message body per .txt file (see training/CARD.md for the corpus
used and why it is not in the repository). Every message is linted with the
default rules at the first-reply stage; a tone rule's false-alarm rate is the
share of messages it fires on (none of them is a rejection reply, so none should
be bitter, argue, plead or gush). --list prints every finding for a reader to
judge.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

# The rules that judge wording, and so can misread ordinary text.
TONE_RULES = ("bitterness", "challenges-decision", "pleading", "raw-emotion", "broad-feedback-question",
              "feedback-first")
TARGET = 0.01


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--list", action="store_true", help="print every finding")
    parser.add_argument("--no-tone-model", dest="tone_model", action="store_false",
                        help="patterns only, for comparison")
    options = parser.parse_args()
    from toneguard.config import Settings
    from toneguard.engine import lint_paths

    paths = sorted(str(p) for p in options.folder.glob("*.txt"))
    if not paths:
        print(f"no .txt messages in {options.folder}", file=sys.stderr)
        return 2
    fired: Counter = Counter()
    findings = []
    overrides = Settings(select=TONE_RULES, tone_model=options.tone_model)
    for report in lint_paths(paths, isolated=True, overrides=overrides, jobs=1):
        if report.error:
            continue
        rules = {v.rule for v in report.violations}
        fired.update(rules)
        findings += [(Path(report.path).name, v.rule, " ".join(v.text.split())) for v in report.violations]
    print(f"{len(paths)} messages; tone model {'on' if options.tone_model else 'off'}\n")
    print("| rule | messages it fires on | rate | target | holds |\n|---|---:|---:|---|---|")
    for rule in TONE_RULES:
        rate = fired[rule] / len(paths)
        print(f"| `{rule}` | {fired[rule]} | {rate:.1%} | <= {TARGET:.0%} | {'yes' if rate <= TARGET else 'no'} |")
    if options.list:
        print()
        for name, rule, text in findings:
            print(f"- {name} `{rule}`: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
