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
import hashlib
import json
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
    """The trained classifier pipeline: a copy of the parser's tok2vec (frozen in training)
    and one textcat_multilabel listening to it."""
    import spacy

    if not Path(path, "config.cfg").is_file():
        raise ToneguardError("the tone model is missing from the installation (reinstall toneguard, or set "
                             "'tone-model: false' in the config to use patterns only)", path)
    try:
        return spacy.load(path)
    except (OSError, ValueError) as error:
        raise ToneguardError(f"cannot load the tone model: {error}", path) from None


def score_texts(texts: list[str], path: str = str(MODEL_DIR)) -> list[dict[str, float]]:
    """The tone model's scores for sentences given as text (a rewrite being weighed, say)."""
    layer = _LAYERS.get(path)
    if layer is not None and layer.shared:
        docs = [layer.host_tok2vec(layer.host.make_doc(text)) for text in texts]
        return [dict(zip(layer.labels, row)) for row in layer.textcat.predict(docs).tolist()] if docs else []
    return [doc.cats for doc in load_classifier(path).pipe(texts)]


def fingerprint(tok2vec) -> str:
    """The tok2vec's weights, hashed: the model's meta.json keeps the one it was trained on."""
    return hashlib.sha256(tok2vec.model.to_bytes()).hexdigest()


_LAYERS: dict[str, "ToneLayer"] = {}  # the layer loaded for each model folder, for score_texts


class ToneLayer:
    """Scores each sentence of each Doc, batched across Docs so `nlp.pipe` stays fast.

    The classifier was trained on the token vectors of en_core_web_sm's own tok2vec, held
    frozen. When the host pipeline runs that very tok2vec (its weights' hash is the one in
    the model's meta.json), the vectors are already in `doc.tensor`: only the classifier's
    own weights are read (0.02 s, where loading the whole model folder takes 0.4 s) and
    only its small layers run. Any other pipeline gets the model's own copy of the tok2vec,
    at the cost of running it again.
    """

    def __init__(self, nlp: Language, path: str):
        self.path, self.host, self.host_tok2vec = path, nlp, dict(nlp.pipeline).get("tok2vec")
        trained_on = _meta(path).get("tok2vec_sha256")
        self.shared = self.host_tok2vec is not None and trained_on == fingerprint(self.host_tok2vec)
        self.textcat = _classifier_alone(nlp, path) if self.shared else load_classifier(path).get_pipe(
            "textcat_multilabel")
        self.labels = tuple(self.textcat.labels)
        _LAYERS[path] = self

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs, batch_size: int = 64):
        for batch in minibatch(docs, size=batch_size):
            sentences = [words for doc in batch for words in map(_words, doc.sents) if words]
            for token, scores in zip((words[0] for words in sentences), self._score(sentences)):
                token._.tone = scores
            yield from batch

    def _score(self, sentences: list[Span]):
        if not self.shared:
            for scored in load_classifier(self.path).pipe((s.text for s in sentences), batch_size=BATCH):
                yield scored.cats
            return
        for start in range(0, len(sentences), BATCH):
            chunk = [_with_vectors(s) for s in sentences[start:start + BATCH]]
            for row in self.textcat.predict(chunk).tolist():
                yield dict(zip(self.labels, row))


def _meta(path: str) -> dict:
    try:
        return json.loads(Path(path, "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _classifier_alone(nlp: Language, path: str):
    """The model's textcat_multilabel built from its config and weights, without its vocab or
    tok2vec copy; its listener reads the host's vectors from doc.tensor."""
    from spacy.util import load_config

    try:
        config = load_config(Path(path, "config.cfg"), interpolate=True)["components"]["textcat_multilabel"]
        textcat = nlp.create_pipe("textcat_multilabel", config={k: v for k, v in config.items() if k != "factory"})
        return textcat.from_disk(Path(path, "textcat_multilabel"), exclude=["vocab"])
    except (OSError, ValueError, KeyError) as error:
        raise ToneguardError(f"cannot load the tone model: {error}", path) from None


def _words(sentence: Span) -> Span | None:
    """The sentence without the white space tokens at its edges."""
    words = [t.i for t in sentence if not t.is_space]
    return sentence.doc[words[0]:words[-1] + 1] if words else None


def _with_vectors(span: Span) -> Doc:
    """The span as a Doc of its own carrying the host's token vectors, as the classifier's
    listener reads them at prediction time."""
    doc = Doc(span.doc.vocab, words=[t.text for t in span], spaces=[bool(t.whitespace_) for t in span[:-1]] + [False])
    doc.tensor = span.doc.tensor[span.start:span.end]
    return doc


@Language.factory(COMPONENT, default_config={"path": str(MODEL_DIR)}, requires=["token.is_sent_start"])
def make_tone_layer(nlp: Language, name: str, path: str) -> ToneLayer:
    return ToneLayer(nlp, path)
