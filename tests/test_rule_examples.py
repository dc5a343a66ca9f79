"""Every rule's own examples, run through the whole pipeline: a rule can never
contradict its documentation. Plus checks on the rule data itself."""
from __future__ import annotations

import re

import pytest

from toneguard import dates
from toneguard.config import Settings
from toneguard.engine import cached_rules, lint_texts
from toneguard.rules import builtin_rules_dir

from conftest import lint

RULES = cached_rules(())

# The public interface from the rule catalog: ids and default severities.
CATALOG = {
    "bitterness": "error", "challenges-decision": "error", "mass-cc": "error",
    "impersonal-greeting": "warning", "not-specific": "warning", "too-long": "warning",
    "broad-feedback-question": "warning", "feedback-first": "warning", "missing-thanks": "warning",
    "missing-door-open": "warning", "pleading": "warning", "raw-emotion": "info", "placeholder": "error",
    "duplicate-note": "warning", "replied-too-soon": "info", "check-in-too-soon": "warning",
}


def run(example):
    """The report on an example; a cross-draft rule's example is judged on its last draft, with
    the drafts before it as the rest of its folder."""
    if not example.earlier and example.now is None:
        return lint(example.text, path=example.path)
    now = dates.parse(example.now, whole=True) if example.now else None
    return lint_texts({**dict(example.earlier), example.path: example.text}, settings=Settings(), now=now)[-1]


def _examples(kind):
    return [pytest.param(rule, example, id=f"{rule.id}-{kind}-{index}")
            for rule in RULES.values() for index, example in enumerate(getattr(rule, kind))]


@pytest.mark.parametrize("rule, example", _examples("fires"))
def test_rule_fires_on_its_examples(rule, example):
    report = run(example)
    assert rule.id in {v.rule for v in report.violations}, example.text


@pytest.mark.parametrize("rule, example", _examples("quiet"))
def test_rule_is_quiet_on_its_counter_examples(rule, example):
    report = run(example)
    assert [v.text for v in report.violations if v.rule == rule.id] == [], example.text


def test_the_catalog_is_complete_with_its_severities():
    assert {rule_id: rule.severity for rule_id, rule in RULES.items()} == CATALOG


@pytest.mark.parametrize("rule", RULES.values(), ids=lambda r: r.id)
def test_every_rule_documents_itself(rule):
    assert rule.message and rule.why and rule.sources
    assert rule.fires and rule.quiet and rule.suggest
    for article, quote in rule.sources:
        assert re.fullmatch(r"00[0-4]", article), article
        assert quote, f"{rule.id}: quote the article briefly"
    assert (builtin_rules_dir() / f"{rule.id}.yaml").is_file()


@pytest.mark.parametrize("rule, example", _examples("fires"))
def test_every_finding_on_an_example_offers_a_rewrite(rule, example):
    report = run(example)
    for violation in report.violations:
        assert violation.suggestions, f"{violation.rule} on {violation.text!r} has no suggestion"
