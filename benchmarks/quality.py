"""Per-rule precision, recall and F1 of the built-in rules over the labeled corpus.

    python benchmarks/quality.py              # tables for tune, holdout and all, then sentences
    python benchmarks/quality.py --misses     # also list every disagreement

A rule's prediction on a draft is "it fired at least once"; the label is whether
`labels.yaml` lists it. Counts are per draft. Rules run with default settings
(no config file), exactly as shipped.

The sentence banks (corpus/sentences/RULE.yaml: `fires` and `quiet`) test one
rule at a time on many phrasings: each sentence is set in a short letter that is
otherwise clean for that rule, and the rule must fire or stay quiet.

The pairs (corpus/pairs/, labels.yaml) test `duplicate-note`, which compares the
drafts of a folder: each pair's folder is linted on its own.
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
SENTENCES = CORPUS / "sentences"
# A letter that is clean for the rule under test, with the sentence in the middle.
FRAME = "Hi Priya,\n\nThank you for the tour of the lab at Acme. {} Please keep me in mind for future roles.\n\nBest,\nJane\n"
FRAMES = {
    "missing-door-open": "Hi Priya,\n\nThank you for the tour of the lab at Acme. {}\n\nBest,\nJane\n",
    "missing-thanks": "Hi Priya,\n\nI enjoyed the tour of the lab at Acme. {} Please keep me in mind for future roles.\n\nBest,\nJane\n",
    # the sentence opens the letter
    "feedback-first": "Hi Priya,\n\n{} Thank you for the tour of the lab at Acme. Please keep me in mind for future roles.\n\nBest,\nJane\n",
}


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


def evaluate(splits=SPLITS, clean: dict | None = None) -> dict[str, dict[str, Score]]:
    """{split: {rule id: Score}}, plus "all"; linted once per draft with default settings. With
    `clean`, it also counts per split the drafts labelled clean and those of them nothing fired on."""
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
            if clean is not None and not wanted:
                counts = clean.setdefault(split, [0, 0])
                counts[0] += not fired
                counts[1] += 1
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


def sentence_banks() -> dict[str, dict[str, list[str]]]:
    return {path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
            for path in sorted(SENTENCES.glob("*.yaml"))} if SENTENCES.is_dir() else {}


def evaluate_sentences() -> dict[str, Score]:
    """{rule id: Score} over its sentence bank; a miss is recorded with its sentence."""
    from toneguard.config import Settings
    from toneguard.engine import lint_text

    results = {}
    for rule, bank in sentence_banks().items():
        score = results[rule] = Score()
        frame = FRAMES.get(rule, FRAME)
        for wanted, sentences in (True, bank.get("fires") or []), (False, bank.get("quiet") or []):
            for sentence in sentences:
                report = lint_text(frame.format(sentence), path="sentence.txt", settings=Settings(select=(rule,)))
                fired = bool(report.violations)
                score.tp += fired and wanted
                score.fp += fired and not wanted
                score.fn += wanted and not fired
                if fired != wanted:
                    score.misses.append((sentence, "false alarm" if fired else "missed"))
    return results


PAIRS = CORPUS / "pairs"


def pair_labels() -> dict[str, str]:
    """{pair folder: "duplicate" | "distinct"} from corpus/pairs/labels.yaml."""
    path = PAIRS / "labels.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}


def evaluate_pairs() -> tuple[Score, list[str]]:
    """duplicate-note over the labelled pairs: each pair's folder linted on its own, with
    default settings; the prediction is "it fired on a draft of the pair". Also lists the
    duplicates it flagged on one draft only (it must name the other on each)."""
    from toneguard.config import Settings
    from toneguard.engine import lint_paths

    score, one_sided = Score(), []
    for name, label in pair_labels().items():
        reports = list(lint_paths([str(PAIRS / name)], isolated=True, jobs=1,
                                  overrides=Settings(select=("duplicate-note",))))
        if any(report.error for report in reports):
            raise SystemExit(f"corpus pair could not be read: {[r.error for r in reports if r.error]}")
        flagged = [bool(report.violations) for report in reports]
        wanted = label == "duplicate"
        score.tp += any(flagged) and wanted
        score.fp += any(flagged) and not wanted
        score.fn += wanted and not any(flagged)
        if any(flagged) != wanted:
            score.misses.append((name, "false alarm" if any(flagged) else "missed"))
        if any(flagged) and not all(flagged):
            one_sided.append(name)
    return score, one_sided


def pairs_section(misses: bool = False) -> str:
    score, one_sided = evaluate_pairs()
    labels = pair_labels()
    duplicates = sum(label == "duplicate" for label in labels.values())
    lines = [table({"duplicate-note": score}, f"duplicate-note on labelled pairs ({len(labels)} pairs, "
                                                f"{duplicates} duplicates)").replace("drafts with it", "duplicate pairs")]
    if one_sided:
        lines.append(f"flagged on one draft of the pair only: {', '.join(one_sided)}")
    if misses:
        lines += [f"  {kind:11} duplicate-note {name}" for name, kind in score.misses]
    return "\n".join(lines)


def table(scores: dict[str, Score], title: str) -> str:
    lines = [f"**{title}**", "", "| rule | drafts with it | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
    for rule, s in scores.items():
        lines.append(f"| `{rule}` | {s.tp + s.fn} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every disagreement with the labels")
    parser.add_argument("--split", choices=SPLITS, action="append", help="only these splits")
    parser.add_argument("--no-sentences", dest="sentences", action="store_false", help="skip the sentence banks")
    parser.add_argument("--no-pairs", dest="pairs", action="store_false", help="skip the pairs of notes")
    options = parser.parse_args()
    splits = tuple(options.split or SPLITS)
    clean: dict = {}
    results = evaluate(splits, clean)
    for split in (*splits, "all"):
        count = sum(len(labels(s)) for s in (splits if split == "all" else (split,)))
        print(table(results[split], f"{split} ({count} drafts)"), end="\n\n")
        if split in clean:
            quiet, total = clean[split]
            print(f"clean drafts nothing fired on: {quiet} of {total} ({quiet / total:.0%})\n")
        if options.misses and split != "all":
            for rule, score in results[split].items():
                for path, kind in score.misses:
                    print(f"  {kind:11} {rule:24} {Path(path).relative_to(REPO)}")
            print()
    if options.sentences:
        scores = evaluate_sentences()
        print(table(scores, "sentence banks").replace("drafts with it", "sentences that must fire"), end="\n\n")
        if options.misses:
            for rule, score in scores.items():
                for sentence, kind in score.misses:
                    print(f"  {kind:11} {rule:24} {sentence}")
    if options.pairs:
        print(pairs_section(options.misses), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
