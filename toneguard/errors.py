"""Exit codes and the one error type users see."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    ERROR = 2


class ToneguardError(Exception):
    """Bad input, config or rules: shown as one line naming where, then exit 2.

    Anything else escaping is a bug in toneguard, not the user's problem.
    """

    def __init__(self, problem: str, where: str | None = None):
        super().__init__(problem)
        self.problem = problem
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}" if self.where else self.problem
