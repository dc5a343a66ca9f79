"""What installed packages add through entry points: rule folders (`toneguard.rules`), Python
checks (`toneguard.checks`) and output formats (`toneguard.formats`)."""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Callable

from .errors import ToneguardError


def load(group: str, call: bool = False) -> dict[str, Any]:
    """Every plugin of the group by name (its target called, with `call`, when callable). A
    plugin that cannot be loaded is a one-line error naming it and the package it came from."""
    loaded = {}
    for entry in entry_points(group=group):
        try:
            target = entry.load()
            loaded[entry.name] = target() if call and callable(target) else target
        except Exception as error:  # a broken package: anything can come out of its import
            package = f" from {entry.dist.name} {entry.dist.version}" if entry.dist else ""
            detail = (str(error).strip().splitlines() or [""])[0]
            raise ToneguardError(f"plugin '{entry.name}'{package} ({group} = {entry.value}) cannot be loaded: "
                                 f"{type(error).__name__}" + (f": {detail}" if detail else "")) from None
    return loaded


def registrar(table: dict[str, Any]) -> Callable[[str], Callable]:
    """A decorator factory that files built-in functions in `table` under a name:
    `@check("role-name")` beside the plugins an entry point group adds."""
    def named(name: str) -> Callable:
        def register(function):
            table[name] = function
            return function
        return register
    return named
