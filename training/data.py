"""The tone model's training data: loading, validating and counting it.

    python training/data.py check training/data/writers/*.yaml

A data file holds drafts (whole letters, each with the rules that must fire on
it and the labels of its sentences) and single labelled sentences; `unjudged`
names labels its sentences were not judged for (ordinary e-mail has no hiring
details to recall, so `detail` means nothing there). The labels
are defined in training/LABELS.md; rule ids are those of RULES.md.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

LABELS = ("bitter", "challenge", "pleading", "raw_emotion", "feedback_broad", "feedback_narrow",
          "thanks", "door_open", "detail")
RULE_IDS = ("bitterness", "challenges-decision", "mass-cc", "impersonal-greeting", "not-specific", "too-long",
            "broad-feedback-question", "feedback-first", "missing-thanks", "missing-door-open", "pleading",
            "raw-emotion", "placeholder")
FORMATS = ("txt", "md", "eml")
STAGES = ("first-reply", "follow-up", "check-in")


@dataclass(frozen=True)
class Sentence:
    text: str
    labels: frozenset[str]
    source: str  # "<file>:<draft id>" or "<file>:sentences"
    unjudged: frozenset[str] = frozenset()  # labels the writer did not judge (missing, not "no")


@dataclass(frozen=True)
class Draft:
    id: str
    format: str
    stage: str
    rules: tuple[str, ...]
    text: str
    labelled: tuple[Sentence, ...]  # the sentences that carry a label; the rest carry none


class DataError(ValueError):
    pass


def _labels(value, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{where}: labels must be a list of label names")
    unknown = [v for v in value if v not in LABELS]
    if unknown:
        raise DataError(f"{where}: unknown label {unknown[0]!r} (use {', '.join(LABELS)})")
    return frozenset(value)


def _pair(item, where: str) -> tuple[str, frozenset[str]]:
    if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
        raise DataError(f"{where}: expected [\"sentence\", [labels]]")
    text = " ".join(item[0].split())
    if not text:
        raise DataError(f"{where}: empty sentence")
    return text, _labels(item[1], where)


def load(path: str | Path) -> tuple[list[Draft], list[Sentence]]:
    """The drafts and standalone sentences of one data file, validated."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DataError(f"{path}: invalid YAML: {error}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping with 'drafts' and 'sentences'")
    drafts = []
    seen = set()
    for index, item in enumerate(data.get("drafts") or []):
        where = f"{path.name}: drafts[{index}]"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected a mapping")
        draft_id = str(item.get("id", ""))
        if not draft_id or draft_id in seen:
            raise DataError(f"{where}: missing or repeated id {draft_id!r}")
        seen.add(draft_id)
        where = f"{path.name}: {draft_id}"
        fmt, stage = item.get("format", "txt"), item.get("stage", "first-reply")
        if fmt not in FORMATS or stage not in STAGES:
            raise DataError(f"{where}: format is one of {FORMATS}, stage one of {STAGES}")
        rules = item.get("rules") or []
        if not isinstance(rules, list) or any(r not in RULE_IDS for r in rules):
            raise DataError(f"{where}: rules must be rule ids from RULES.md, got {rules!r}")
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: missing text")
        labelled = []
        flat = " ".join(text.split())
        for number, pair in enumerate(item.get("labels") or []):
            sentence, labels = _pair(pair, f"{where}: labels[{number}]")
            if sentence not in flat:
                raise DataError(f"{where}: labels[{number}] is not a sentence of the text: {sentence!r}")
            labelled.append(Sentence(sentence, labels, f"{path.name}:{draft_id}"))
        drafts.append(Draft(draft_id, fmt, stage, tuple(rules), text, tuple(labelled)))
    unjudged = _labels(data.get("unjudged") or [], f"{path.name}: unjudged")
    sentences = [Sentence(*_pair(pair, f"{path.name}: sentences[{i}]"), f"{path.name}:sentences", unjudged)
                 for i, pair in enumerate(data.get("sentences") or [])]
    return drafts, sentences


def counts(drafts: list[Draft], sentences: list[Sentence]) -> str:
    by_label = Counter(label for s in sentences for label in s.labels)
    in_drafts = Counter(label for d in drafts for s in d.labelled for label in s.labels)
    by_rule = Counter(rule for d in drafts for rule in d.rules)
    lines = [f"{len(drafts)} drafts ({sum(not d.rules for d in drafts)} clean), "
             f"{len(sentences)} sentences ({sum(not s.labels for s in sentences)} with no label)"]
    lines += [f"  {label:16} {by_label[label]:5} sentences {in_drafts[label]:5} in drafts" for label in LABELS]
    lines += [f"  {rule:24} {by_rule[rule]:4} drafts" for rule in RULE_IDS]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "check":
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    all_drafts, all_sentences = [], []
    for name in argv[1:]:
        try:
            drafts, sentences = load(name)
        except (DataError, OSError) as error:
            print(f"error: {error}")
            return 1
        all_drafts += drafts
        all_sentences += sentences
    print(counts(all_drafts, all_sentences))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
