"""Shared helpers: lint text with no config around it, and run the CLI in-process."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from toneguard.cli import main
from toneguard.config import Settings
from toneguard.engine import lint_text

REPO = Path(__file__).resolve().parent.parent
# A small valid rule file; format with id=..., then break one thing to test an error.
RULE_TEMPLATE = """\
id: {id}
extends: existence
severity: warning
message: Says "synergy".
why: Jargon.
source: {{article: "002", quote: "be specific"}}
match:
  phrases: [synergy]
suggest: [teamwork]
examples:
  fires: [Great synergy.]
  quiet: [Great teamwork.]
"""
CORPUS = REPO / "corpus"


def lint(text: str, path: str = "draft.txt", stage: str | None = None, **settings):
    """Lint with default settings, ignoring any config file near the test."""
    return lint_text(text, path=path, stage=stage, settings=Settings(**settings))


def rules_fired(text: str, path: str = "draft.txt", stage: str | None = None) -> set[str]:
    return {v.rule for v in lint(text, path, stage).violations}


class Run:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"Run(code={self.code}, out={self.out[:500]!r}, err={self.err[:500]!r})"


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `toneguard ARGS` in this process; returns exit code, stdout and stderr."""

    def run(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None) -> Run:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        if stdin is not None:
            import io
            import sys

            data = stdin.encode() if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 0
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TONEGUARD_DEBUG", raising=False)
    return run


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty folder as the current directory, so no repo config is found."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".toneguard.yaml").write_text("{}\n")
    return tmp_path


os.environ.setdefault("NO_COLOR", "1")
