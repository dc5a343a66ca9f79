"""What each rule pattern costs the matcher, so rule authors can see an expensive one.

    python benchmarks/pattern_cost.py [--top 20]

spaCy's Matcher checks every pattern at every token; a pattern is cheap when its
first token is rare (a specific word or lemma) and expensive when its first
token is common ("i", "the", "would") and a wildcard range follows, because
then many partial matches are alive at once. Times are per draft of the corpus.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from spacy.matcher import Matcher

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    from toneguard.config import Settings
    from toneguard.engine import cached_rules, linter_for
    from toneguard.letter import read_letter
    from toneguard.matching import Deadline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20)
    top = parser.parse_args().top
    linter = linter_for(Settings())
    paths = sorted(p for p in (REPO / "corpus").rglob("*") if p.suffix in (".txt", ".md"))
    docs = list(linter.parse([read_letter(p.read_text(encoding="utf-8"), p.name) for p in paths]))
    costs = []
    for rule in cached_rules(()).values():
        for block, spec in rule.blocks.items():
            for index, pattern in enumerate(spec.get("patterns", ())):
                matcher = Matcher(linter.nlp.vocab)
                matcher.add("x", [pattern])
                start = time.perf_counter()
                for doc in docs:
                    matcher(doc)
                costs.append(((time.perf_counter() - start) / len(docs) * 1000, f"{rule.id} {block}.patterns[{index}]"))
    start = time.perf_counter()
    for doc in docs:
        linter.matchers(doc, Deadline("benchmark"))
    combined = (time.perf_counter() - start) / len(docs) * 1000
    print(f"{len(docs)} drafts, {len(costs)} patterns; all matchers together: {combined:.2f} ms per draft")
    print("ms/draft alone  pattern")
    for cost, name in sorted(costs, reverse=True)[:top]:
        print(f"{cost:14.3f}  {name}")


if __name__ == "__main__":
    main()
