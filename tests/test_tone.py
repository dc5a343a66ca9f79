"""The learned tone layer: the shipped model, how rules listen to it, and how users turn it down.

Sentences below were chosen because the patterns alone miss them; if a retrained
model stops catching one, these tests say so, as they should.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import spacy

from toneguard.config import Settings, parse_settings
from toneguard.engine import cached_rules, lint_text, linter_for
from toneguard.errors import ToneguardError
from toneguard.letter import read_letter
from toneguard.rules import TONE_MODEL_DIR, parse_rule, tone_labels
from toneguard.tone import sentence_scores

from conftest import REPO, RULE_TEMPLATE

sys.path.insert(0, str(REPO / "training"))
from data import LABELS  # noqa: E402

CARD = (REPO / "training" / "CARD.md").read_text(encoding="utf-8")
META = json.loads((TONE_MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
LETTER = "Hi Sam,\n\nThank you for the tour of the lab at Acme.\n\n{}\n\nPlease keep me in mind for future roles.\n\nBest,\nJo\n"
ONLY_THE_MODEL_SEES = "Hope the new hire works out for you, though I wouldn't put money on it."


def fired(text: str, **settings) -> set[str]:
    return {v.rule for v in lint_text(text, path="draft.txt", settings=Settings(**settings)).violations}


def test_the_shipped_model_has_the_labels_the_training_data_and_the_card_define():
    assert tone_labels() == LABELS
    card_labels = re.findall(r"^\| `([a-z_]+)` \|", CARD.split("## Labels")[1].split("##")[0], re.M)
    assert tuple(card_labels) == LABELS


def test_the_shipped_model_states_its_version_and_spacy_pin_and_the_card_agrees():
    assert f"version {META['version']}" in CARD
    assert spacy.util.is_compatible_version(spacy.about.__version__, META["spacy_version"])
    assert META["spacy_version"] in CARD


def test_every_label_a_rule_listens_to_is_one_the_model_has():
    used = {label for rule in cached_rules(()).values() for _, condition in rule.model_conditions
            for label in ([condition["label"]] if isinstance(condition["label"], str) else condition["label"])}
    assert used and used <= set(LABELS)


def test_a_rule_naming_a_label_the_model_lacks_is_refused_at_load():
    import yaml

    data = yaml.safe_load(RULE_TEMPLATE.format(id="house"))
    data["match"]["model"] = {"label": "smug", "threshold": 0.5}
    with pytest.raises(ToneguardError, match="the tone model has no label 'smug'"):
        parse_rule(data, "house.yaml")
    data["match"]["model"] = {"label": "bitter", "threshold": 1.5}
    with pytest.raises(ToneguardError, match="a number from 0 to 1"):
        parse_rule(data, "house.yaml")


def test_every_sentence_is_scored_in_every_paragraph_of_a_joined_letter():
    linter = linter_for(Settings())
    letter = read_letter(LETTER.format("I enjoyed the walk round the kitchen. " + ONLY_THE_MODEL_SEES))
    [doc] = linter.parse([letter])
    scored = [sentence_scores(s) for s in doc.sents if s.text.strip()]
    assert scored and all(set(scores) == set(LABELS) for scores in scored)


def test_the_model_catches_what_the_patterns_miss_and_can_be_turned_off():
    text = LETTER.format(ONLY_THE_MODEL_SEES)
    assert "bitterness" in fired(text)
    assert "bitterness" not in fired(text, tone_model=False)


def test_a_rule_threshold_in_config_tunes_how_sure_the_model_must_be():
    text = LETTER.format(ONLY_THE_MODEL_SEES)
    assert "bitterness" in fired(text, rules={"bitterness": {"threshold": 0.05}})
    assert "bitterness" not in fired(text, rules={"bitterness": {"threshold": 1.0}})


def test_the_model_finding_spans_the_sentence_it_judged():
    report = lint_text(LETTER.format(ONLY_THE_MODEL_SEES), path="draft.txt", settings=Settings(select=("bitterness",)))
    assert [v.text for v in report.violations] == [ONLY_THE_MODEL_SEES]


@pytest.mark.parametrize("config, problem", [
    ({"tone-model": "no"}, "tone-model: expected true or false"),
    ({"rules": {"bitterness": {"threshold": 2}}}, "rules.bitterness.threshold: expected a number from 0 to 1"),
])
def test_tone_settings_are_validated(config, problem):
    with pytest.raises(ToneguardError, match=re.escape(problem)):
        parse_settings(config, ".toneguard.yaml")


def test_a_threshold_for_a_rule_that_does_not_listen_to_the_model_is_an_error():
    settings = parse_settings({"rules": {"too-long": {"threshold": 0.5}}}, ".toneguard.yaml")
    with pytest.raises(ToneguardError, match="only applies to rules that listen to the tone model"):
        settings.check_rule_ids(cached_rules(()))


def test_explain_says_when_a_rule_listens_to_the_model(cli):
    run = cli("explain", "bitterness")
    assert run.code == 0
    assert "Listens to the tone model" in run.out and "“bitter” counts too" in run.out
    assert "tone-model: false" in run.out
    assert "Listens to the tone model" not in cli("explain", "too-long").out


def test_no_tone_model_flag_on_the_command_line(cli, workdir):
    (workdir / "a.txt").write_text(LETTER.format(ONLY_THE_MODEL_SEES))
    assert "bitterness" in cli("check", "a.txt").out
    assert "bitterness" not in cli("check", "--no-tone-model", "a.txt").out


def test_without_a_rule_that_listens_the_pipeline_skips_the_model():
    assert "toneguard_tone" not in linter_for(Settings(select=("too-long",))).nlp.pipe_names
    assert "toneguard_tone" not in linter_for(Settings(tone_model=False)).nlp.pipe_names
    assert "toneguard_tone" in linter_for(Settings(select=("bitterness",))).nlp.pipe_names


def test_the_model_is_inside_the_package_and_small():
    size = sum(p.stat().st_size for p in Path(TONE_MODEL_DIR).rglob("*") if p.is_file())
    assert size < 25 * 1024 * 1024
