"""The packet a reader judges: each draft, its findings with every suggestion in the words
`toneguard check` uses, and the letter after `toneguard fix --all`.

    python benchmarks/rewrite-judging/packet.py DRAFTS_FOLDER > packet.md

The reader scores each finding (right or wrong) and its first suggestion (0 harmful or
wrong, 1 usable with edits, 2 paste as is), and says whether the rewritten letter could be
sent unchanged. `score.py` turns their scores into the figures in README.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

from toneguard.config import settings_for
from toneguard.engine import lint_text
from toneguard.fixing import fix_text
from toneguard.formats import describe


def packet(folder: Path) -> str:
    parts = ["# Drafts, findings and rewrites to judge\n"]
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        text = path.read_text(encoding="utf-8")
        settings = settings_for(str(path), None, True)
        report = lint_text(text, path=path.name, settings=settings)
        parts += [f"## {path.name}\n", "### Draft", "```", text.rstrip("\n"), "```\n",
                  f"### Findings ({len(report.violations)})"]
        for n, v in enumerate(report.violations, 1):
            parts.append(f"{n}. `{v.rule}` ({v.severity}) at line {v.line}: flagged text “{v.text}”")
            parts.append(f"   - message: {v.message}")
            for i, s in enumerate(v.suggestions, 1):
                parts.append(f"   - suggestion {i}{' (FIRST)' if i == 1 else ''}: {describe(s, v)}")
        fixed = fix_text(text, path=path.name, settings=settings, plan=True)
        left = ", ".join(f"`{v.rule}`" for v in fixed.report.violations) or "none"
        parts += ["", "### After `toneguard fix --all`", "```", fixed.text.rstrip("\n"), "```",
                  f"Findings left after the rewrite: {left}\n"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(packet(Path(sys.argv[1])))
