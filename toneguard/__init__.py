"""toneguard: a tone linter for the letter you write back after a job rejection.

    >>> import toneguard
    >>> report = toneguard.lint_text("Thanks for nothing.")
    >>> [v.rule for v in report.violations]

The heavy parts (spaCy) load on first use, so importing the package is cheap.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import ExitCode, ToneguardError
from .report import Report, Suggestion, Violation

__all__ = ["lint_text", "lint_texts", "lint_paths", "Report", "Violation", "Suggestion", "ToneguardError",
           "ExitCode", "__version__"]


def lint_text(text, *, stage=None, path=None, settings=None, recipients=(), now=None, correspondence=False):
    """Lint one draft given as a string; see toneguard.engine.lint_text."""
    from .engine import lint_text as run

    return run(text, stage=stage, path=path, settings=settings, recipients=recipients, now=now,
               correspondence=correspondence)


def lint_texts(drafts, **options):
    """Lint several drafts given as text by path, as one folder; see toneguard.engine.lint_texts."""
    from .engine import lint_texts as run

    return run(drafts, **options)


def lint_paths(paths, **options):
    """Lint files, folders and "-" (stdin), yielding a Report per draft; see toneguard.engine.lint_paths."""
    from .engine import lint_paths as run

    return run(paths, **options)
