"""The whole-letter rewrite (`toneguard fix --all`) over every labelled draft, read as a careful
reader would read the result.

    python benchmarks/rewrites.py            # the rate of each check
    python benchmarks/rewrites.py --show     # also every draft that fails a check, before and after

For each draft the plan is applied, and the result must be:
  (a) clean, but for fill-in slots the plan put in on purpose ("[one moment from the interview]")
      and the findings that ask for them to be filled;
  (b) free of repeats: no sentence twice;
  (c) sound: no doubled word, dangling preposition, stray punctuation, empty greeting or empty
      paragraph that the draft did not already have;
  (d) faithful: every name, place, number and role in a sentence no finding touched is still there;
  (e) settled: planning again changes nothing.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
CHECKS = ("clean", "no repeats", "sound", "faithful", "settled")
SLOT = re.compile(r"\[[^\[\]\n]{1,60}\]")
BROKEN = [re.compile(p, re.I | re.M) for p in (
    r"\b(\w+)\s+\1\b",
    r"\b(?:at|for|with|to|of|in|on|from|about|by|as|the|a|an|your|my|our)\s*[.!?,;:]",
    r"^\s*(?:dear|to)\s*[,:]?\s*$",
    r"[ \t][,.;:!?]", r"[,;:]\s*[.!?]", r",\s*,",
    r"\n[ \t]*\r?\n[ \t]*\r?\n",  # an empty paragraph left behind
    r"\b(?:at|for|with|to|of|in|on|from|about|by|the|a|an)\s+(?:and|or|but)\b",
    r"\b(?:position|role|job|post|opening)\s+(?:position|role|job|post|opening)\b",
)]
FACTS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "DATE", "QUANTITY", "MONEY", "PERCENT", "EVENT"}


@dataclass
class Outcome:
    path: str
    before: str
    after: str
    failed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # the findings the rewrite did not clear


def drafts() -> list[Path]:
    paths = []
    for split in ("tune", "holdout"):
        labels = yaml.safe_load((CORPUS / split / "labels.yaml").read_text(encoding="utf-8")) or {}
        paths += [CORPUS / split / name for name in labels]
    return paths


def _sentences(text: str) -> list[str]:
    return [" ".join(s.split()).lower() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]


def check(path: Path) -> Outcome:
    from toneguard.config import Settings
    from toneguard.engine import linter_for, lint_text
    from toneguard.fixing import fix_text
    from toneguard.letter import read_letter

    settings = Settings()
    before = path.read_text(encoding="utf-8")
    report = lint_text(before, path=str(path), settings=settings)
    outcome = Outcome(str(path.relative_to(REPO)), before, before)
    if not report.editable:
        return outcome  # an encoded e-mail is reported, never rewritten
    fixed = fix_text(before, path=str(path), settings=settings, plan=True)
    after = outcome.after = fixed.text
    planted = set(SLOT.findall(after)) - set(SLOT.findall(before))
    # a slot stands for what the writer must add: its placeholder finding, and the not-specific
    # finding a slot for a detail leaves until it is filled, are the request, not a failure
    outcome.left = [f"{v.rule}: {v.text}" for v in fixed.report.violations
                    if not (v.rule == "placeholder" and v.text in planted or v.rule == "not-specific" and planted)]
    if outcome.left:
        outcome.failed.append("clean")
    seen = _sentences(after)
    if len(seen) != len(set(seen)) and len(set(_sentences(before))) == len(_sentences(before)):
        outcome.failed.append("no repeats")
    if any(len(p.findall(after)) > len(p.findall(before)) for p in BROKEN):
        outcome.failed.append("sound")
    # what a finding or its first suggestion may rewrite (a shortened letter keeps only some sentences)
    touched = [(v.start, v.end) for v in report.violations if v.end > v.start]
    touched += [(v.suggestions[0].start, v.suggestions[0].end) for v in report.violations
                if v.suggestions and v.suggestions[0].end > v.suggestions[0].start]
    letter = read_letter(before, str(path))
    [doc] = linter_for(settings).parse([letter])
    for sentence in doc.sents:
        start, end = letter.source_span(sentence.start_char, sentence.end_char)
        if any(start < t_end and t_start < end for t_start, t_end in touched):
            continue
        for entity in sentence.ents:
            if entity.label_ in FACTS and letter.in_content(entity.start_char, entity.end_char):
                written = before[slice(*letter.source_span(entity.start_char, entity.end_char))]
                if written not in after:
                    outcome.failed.append("faithful")
                    break
    if fix_text(after, path=str(path), settings=settings, plan=True).text != after:
        outcome.failed.append("settled")
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every draft that fails a check")
    options = parser.parse_args()
    outcomes = [check(path) for path in drafts()]
    print(f"{len(outcomes)} labelled drafts, rewritten with `toneguard fix --all`\n")
    print("| check | drafts that pass | rate |\n|---|---:|---:|")
    for name in CHECKS:
        passed = sum(name not in o.failed for o in outcomes)
        print(f"| {name} | {passed} | {passed / len(outcomes):.1%} |")
    if options.show:
        for outcome in outcomes:
            if outcome.failed:
                print(f"\n=== {outcome.path}: {', '.join(outcome.failed)}\n{outcome.before.strip()}\n--- after\n"
                      f"{outcome.after.strip()}\n--- left: {outcome.left}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
