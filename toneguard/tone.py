"""The learned tone layer: a sentence classifier that runs inside the spaCy pipeline.

Patterns catch the phrasings their authors thought of; the tone model judges
meaning (bitter, a challenge, pleading, thanks, an open door...) from how
thousands of letters in many voices were labelled. It is a spaCy
`textcat_multilabel` trained by `training/build.py` and shipped in the package
(`toneguard/tone_model`), so nothing is downloaded at lint time.

The component scores every sentence the parser found and stores the scores on
the sentence's first word (`token._.tone`, a dict label -> probability): token
data survives `Doc.from_docs`, which joins the paragraphs of a letter. Rules
read them through their `model:` condition (see toneguard.kinds).
"""
from __future__ import annotations

import functools
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from spacy.util import minibatch

from .errors import ToneguardError
from .rules import TONE_MODEL_DIR as MODEL_DIR
COMPONENT = "toneguard_tone"
BATCH = 256  # sentences per prediction

if not Token.has_extension("tone"):
    Token.set_extension("tone", default=None)


def sentence_scores(sentence: Span) -> dict[str, float]:
    """The tone model's scores for a sentence (empty when the model did not run)."""
    first = next((t for t in sentence if not t.is_space), None)
    return (first._.tone or {}) if first is not None else {}


@functools.lru_cache(maxsize=2)
def load_classifier(path: str = str(MODEL_DIR)) -> Language:
    """The trained classifier pipeline (a tokenizer and one textcat_multilabel)."""
    import spacy

    if not Path(path, "config.cfg").is_file():
        raise ToneguardError("the tone model is missing from the installation (reinstall toneguard, or set "
                             "'tone-model: false' in the config to use patterns only)", path)
    try:
        return spacy.load(path)
    except (OSError, ValueError) as error:
        raise ToneguardError(f"cannot load the tone model: {error}", path) from None


class ToneLayer:
    """Scores each sentence of each Doc; batched across Docs so `nlp.pipe` stays fast."""

    def __init__(self, path: str):
        self.classifier = load_classifier(path)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int = 64):
        for batch in minibatch(docs, size=batch_size):
            firsts, texts = [], []
            for doc in batch:
                for sentence in doc.sents:
                    words = [t for t in sentence if not t.is_space]
                    if words:
                        firsts.append(words[0])
                        texts.append(doc.text[words[0].idx:words[-1].idx + len(words[-1])])
            for token, scored in zip(firsts, self.classifier.pipe(texts, batch_size=BATCH)):
                token._.tone = scored.cats
            yield from batch


@Language.factory(COMPONENT, default_config={"path": str(MODEL_DIR)}, requires=["token.is_sent_start"])
def make_tone_layer(nlp: Language, name: str, path: str) -> ToneLayer:
    return ToneLayer(path)
