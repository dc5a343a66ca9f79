"""Rebuild the shipped tone model from training/data, deterministically.

    python training/build.py            # train on all data, write toneguard/tone_model
    python training/build.py --cv       # leave-one-writer-out figures, writes nothing

Every sentence of the training drafts becomes an example, with the labels the
writer gave it (sentences they did not list carry none), split into sentences by
the same parser and letter reader toneguard lints with; the standalone sentences
are examples as they are. One writer's data is never split between training and
its evaluation in --cv, so the figures say how the model does on a voice it has
not seen. The seed is fixed, so the same data gives the same model.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from data import LABELS, load  # noqa: E402

DATA = HERE / "data"
CONFIG = HERE / "config.cfg"
TARGET = REPO / "toneguard" / "tone_model"
MODEL_VERSION = "1.0.0"  # bump when the labels or the data change; training/CARD.md states it
SPACY_PIN = ">=3.8.0,<3.9.0"  # the model's weights load in any spaCy 3.8, as pyproject.toml allows
DEV_SHARE = 10  # percent of examples (by a hash of their text) that only score the training run

Example = tuple[str, frozenset, str, frozenset]  # text, labels, group (the writer or source), unjudged labels


def _norm(text: str) -> str:
    from toneguard.model import normalise_quotes

    return " ".join(normalise_quotes(text).split())


def examples(files: list[Path]) -> list[Example]:
    """Labelled sentences from every data file, in a stable order."""
    from toneguard.config import Settings
    from toneguard.engine import linter_for
    from toneguard.kinds import Draft
    from toneguard.letter import read_letter

    settings = Settings(tone_model=False)
    linter = linter_for(settings)
    result: list[Example] = []
    for path in sorted(files):
        group = path.stem
        drafts, sentences = load(path)
        for draft in drafts:
            letter = read_letter(draft.text, f"{draft.id}.{draft.format}")
            [doc] = linter.parse([letter])
            parsed = Draft(letter, doc, {}, [], draft.stage, settings, linter.rules).sentences
            labelled = [(_norm(s.text), s.labels) for s in draft.labelled]
            for sentence in parsed:
                text = _norm(sentence.text)
                labels = frozenset().union(*[ls for lt, ls in labelled if lt in text or text in lt])
                result.append((text, labels, group, frozenset()))
        result += [(_norm(s.text), s.labels, group, s.unjudged) for s in sentences]
    return result


def _docbin(items: list[Example], path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    bin_ = DocBin(store_user_data=False)
    for text, labels, _, unjudged in items:
        doc = nlp.make_doc(text)
        doc.cats = {label: float(label in labels) for label in LABELS if label not in unjudged}
        bin_.add(doc)
    bin_.to_disk(path)


def _in_dev(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 100 < DEV_SHARE


def train(train_items: list[Example], dev_items: list[Example], output: Path, config: Path = CONFIG) -> Path:
    """Train one model; returns the directory of the best model by the dev score."""
    from spacy.cli.train import train as spacy_train

    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        _docbin(train_items, work_dir / "train.spacy")
        _docbin(dev_items, work_dir / "dev.spacy")
        spacy_train(config, output, overrides={"paths.train": str(work_dir / "train.spacy"),
                                               "paths.dev": str(work_dir / "dev.spacy")})
    return output / "model-best"


def score(model_dir: Path, items: list[Example], threshold: float = 0.5) -> dict[str, tuple[float, float, float, int]]:
    """label -> (precision, recall, F1, positives) at the threshold."""
    import spacy

    nlp = spacy.load(model_dir)
    counts = {label: Counter() for label in LABELS}
    for (_, labels, _, unjudged), doc in zip(items, nlp.pipe(text for text, *_ in items)):
        for label, value in doc.cats.items():
            if label in unjudged:
                continue
            hit, wanted = value >= threshold, label in labels
            counts[label]["tp" if hit and wanted else "fp" if hit else "fn" if wanted else "tn"] += 1
    result = {}
    for label, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        result[label] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, c["tp"] + c["fn"])
    return result


def print_scores(title: str, scores: dict) -> None:
    print(f"\n{title}\n| label | sentences with it | precision | recall | F1 |\n|---|---:|---:|---:|---:|")
    for label, (p, r, f, n) in scores.items():
        print(f"| `{label}` | {n} | {p:.2f} | {r:.2f} | {f:.2f} |")


def data_files() -> list[Path]:
    return sorted(DATA.rglob("*.yaml"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="leave-one-writer-out evaluation; writes nothing")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--output", type=Path, default=TARGET, help="where the model goes (default: the package)")
    options = parser.parse_args()
    items = examples(data_files())
    groups = sorted({group for _, _, group, _ in items})
    counts = Counter(label for _, labels, _, _ in items for label in labels)
    print(f"{len(items)} sentences from {len(groups)} sources; " + ", ".join(f"{l} {counts[l]}" for l in LABELS))
    if options.cv:
        for group in groups:
            held = [item for item in items if item[2] == group]
            rest = [item for item in items if item[2] != group]
            with tempfile.TemporaryDirectory() as out:
                best = train([i for i in rest if not _in_dev(i[0])], [i for i in rest if _in_dev(i[0])],
                             Path(out), options.config)
                print_scores(f"held out: {group} ({len(held)} sentences)", score(best, held))
        return 0
    with tempfile.TemporaryDirectory() as out:
        best = train([i for i in items if not _in_dev(i[0])], [i for i in items if _in_dev(i[0])],
                     Path(out), options.config)
        print_scores("dev split (the examples hashed out of training)", score(best, [i for i in items if _in_dev(i[0])]))
        if options.output.exists():
            shutil.rmtree(options.output)
        shutil.copytree(best, options.output)
    # the training run's temporary corpus paths would make two identical builds differ
    config_path = options.output / "config.cfg"
    config_path.write_text(re.sub(r'^(train|dev) = ".*"$', r"\1 = null", config_path.read_text(), flags=re.M))
    meta_path = options.output / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update(name="toneguard_tone", version=MODEL_VERSION, description="toneguard's sentence tone classifier",
                spacy_version=SPACY_PIN, sources=[{"name": g} for g in groups], performance={},
                tok2vec_sha256=_fingerprint(options.output))
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {options.output}")
    return 0


def _fingerprint(model: Path) -> str:
    """The frozen tok2vec's weights, hashed: toneguard shares a host pipeline's vectors only
    when its tok2vec hashes the same."""
    import spacy

    from toneguard.tone import fingerprint

    return fingerprint(spacy.load(model).get_pipe("tok2vec"))


if __name__ == "__main__":
    sys.exit(main())
