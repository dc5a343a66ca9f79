"""The floor toneguard is measured against: the same spaCy pipeline parsing the same
drafts with nlp.pipe, and nothing else.

    python benchmarks/floor.py DIR [--batch-size 64]
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--batch-size", type=int, default=64)
    options = parser.parse_args()
    import spacy

    from toneguard.model import resolve_model

    nlp = spacy.load(resolve_model(None))
    paths = sorted(p for p in options.folder.rglob("*") if p.is_file())
    texts = (p.read_text(encoding="utf-8") for p in paths)
    count = sum(1 for _ in nlp.pipe(texts, batch_size=options.batch_size))
    print(f"parsed {count} drafts")


if __name__ == "__main__":
    main()
