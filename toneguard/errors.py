"""Exit codes and the one error type users see."""
from __future__ import annotations

import os
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


def internal_error(error: BaseException, where: str) -> ToneguardError:
    """An unexpected exception while handling one draft (a bug in toneguard) as that draft's
    one-line error, so the other drafts are still reported; TONEGUARD_DEBUG=1 re-raises it."""
    if os.environ.get("TONEGUARD_DEBUG"):
        raise error
    lines = str(error).strip().splitlines()
    detail = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return ToneguardError(f"internal error: {detail} (set TONEGUARD_DEBUG=1 for details, and please report it)",
                          where)
