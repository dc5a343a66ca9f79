"""Rule files: loading, validating and describing them. Nothing here needs spaCy.

A rule file is data. Its `extends` names the kind (existence, required, metric,
recipients), the rest is the kind's settings plus the documentation every rule
carries: message, why, source, suggestions and examples. Mistakes are reported
as `file: rule 'id': key: problem`, never as a traceback.
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

from . import dates, plugins, safeyaml
from .errors import ToneguardError
from .letter import MAX_WORD, STAGES
from .report import SEVERITIES

KINDS = ("existence", "required", "metric", "recipients", "correspondence")
SCOPES = ("content", "greeting", "opening", "body")
MATCH_KEYS = ("phrases", "patterns", "dependencies", "check", "model", "same-as", "requires", "also", "rules")
ACTIONS = ("replace", "insert", "remove", "move", "shorten", "reschedule")
TARGETS = ("match", "clause", "sentence", "greeting")
REGISTERS = ("casual", "formal")
BUDGET_KEYS = ("words", "sentences", "grade", "ps-exempt")
TEMPLATE_FIELDS = ("name", "company", "role", "month", "match", "match_lower")
RULE_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# The trained tone model shipped in the package (see toneguard.tone and training/).
TONE_MODEL_DIR = Path(__file__).resolve().parent / "tone_model"


@dataclass(frozen=True)
class Suggest:
    action: str  # replace | insert | remove | move | shorten
    texts: tuple[str, ...] = ()  # templates, most specific first; the first whose facts are known wins
    at: str = "start"  # insert: start (after the greeting) | end (before the sign-off)
    target: str = "match"  # what a replace/remove covers: the match, its sentence, or the greeting
    safe: bool = False
    when: tuple[str, ...] = ()  # only for violations whose text contains one of these
    unless: tuple[str, ...] = ()  # not for violations whose text contains one of these
    shouted: bool | None = None  # only for violations in capitals ("REALLY"), or (false) only for others
    marks: bool | None = None  # only for violations that are a run of marks ("!!"), or (false) only for others
    stages: tuple[str, ...] = ()  # only for letters at these stages (all when empty)
    register: str | None = None  # only for casual notes ("casual") or only for the others ("formal")
    after: str | None = None  # insert at start: after the opening sentence when that rule matches it
    otherwise: bool = False  # only when none of the suggestions above it applies


@dataclass(frozen=True)
class Example:
    text: str
    path: str = "example.txt"  # its suffix chooses the input format
    earlier: tuple[tuple[str, str], ...] = ()  # for a cross-draft rule: the other drafts (path, text)
    now: str | None = None  # and when a draft without a date goes out


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: str
    message: str
    why: str
    sources: tuple[tuple[str, str], ...]  # (article file prefix, a short quote)
    file: str
    stages: tuple[str, ...] = STAGES
    scope: str = "content"
    match: dict = field(default_factory=dict)
    exceptions: dict = field(default_factory=dict)
    span: str = "match"
    annotates: str | None = None
    max: int = 1
    budgets: dict = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    suggest: tuple[Suggest, ...] = ()
    fires: tuple[Example, ...] = ()
    quiet: tuple[Example, ...] = ()
    check: str | None = None  # a correspondence rule's cross-draft check (toneguard.correspondence)
    options: dict = field(default_factory=dict)  # its settings, which config can override
    builtin: bool = False  # shipped with toneguard: its patterns are validated by the test suite

    @property
    def summary(self) -> str:
        return self.message.split(". ")[0].split(";")[0].rstrip(".")

    @property
    def blocks(self) -> dict[str, dict]:
        """Every block to compile, by the name its matches are filed under: the match block
        (with its `requires`), each `also` clause (with its own), and the exceptions. A rule
        whose match is the same as another's compiles only its exceptions."""
        blocks = {"exceptions": self.exceptions}
        if "same-as" not in self.match:
            for name, clause in self.clauses:
                blocks[name] = clause
                blocks[f"{name}/requires"] = clause.get("requires", {})
        return {name: block for name, block in blocks.items() if block}

    @property
    def clauses(self) -> list[tuple[str, dict]]:
        """The match block and its `also` clauses: ways a sentence can match, each with its own
        `requires`."""
        return [("match", self.match)] + [(f"also.{i}", c) for i, c in enumerate(self.match.get("also", ()))]

    @property
    def model_conditions(self) -> list[tuple[str, dict]]:
        """Every `model:` condition of the rule with the block it is in: "match" (a match
        clause), "requires" (a clause's requirement) or "exceptions"."""
        found = [(role, condition) for _, clause in self.clauses
                 for role, block in (("match", clause), ("requires", clause.get("requires", {})))
                 for condition in as_conditions(block.get("model"))]
        return found + [("exceptions", c) for c in as_conditions(self.exceptions.get("model"))]

    @cached_property  # asked on every lint (engine.linter_for); the answer never changes
    def needs_tone(self) -> bool:
        return bool(self.model_conditions)

    @cached_property  # asked on every lint (engine.linter_for); the answer never changes
    def needs_entities(self) -> bool:
        return any("ENT_TYPE" in str(part) or "ENT_IOB" in str(part)
                   for part in (self.match, self.exceptions))


class _Checker:
    """Validates one rule mapping, naming the file, rule and key in every error."""

    def __init__(self, data: Any, file: str):
        self.file = file
        if not isinstance(data, dict):
            self.fail("a rule file must be a mapping of keys")
        self.data = data
        self.rule_id = data.get("id") if isinstance(data.get("id"), str) else None

    def fail(self, problem: str, key: str | None = None):
        where = f"rule '{self.rule_id}'" if getattr(self, "rule_id", None) else None
        parts = [p for p in (where, key) if p]
        raise ToneguardError(": ".join(parts + [problem]), self.file)

    def get(self, key, kind, default=None, required=False):
        if key not in self.data:
            if required:
                self.fail("missing required key", key)
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.fail(f"expected {_KIND_NAMES.get(names, names)}, got {type(value).__name__}", key)
        return value

    def choice(self, key, options, default=None):
        value = self.get(key, str, default, required=default is None)
        if value not in options:
            self.fail(f"{value!r} is not one of {', '.join(options)}", key)
        return value

    def strings(self, key, value) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail("expected a list of strings", key)
        return tuple(value)


_KIND_NAMES = {"str": "a string", "int": "a whole number", "dict": "a mapping", "list": "a list",
               "bool": "true or false", "int/float": "a number"}
_TOP_KEYS = {
    "id", "extends", "severity", "message", "why", "source", "stages", "scope", "match",
    "exceptions", "span", "annotates", "max", "budgets", "keep", "suggest", "examples", "words", "check", "options",
}


def parse_rule(data: Any, file: str) -> Rule:
    check = _Checker(data, file)
    unknown = sorted(set(check.data) - _TOP_KEYS)
    if unknown:
        check.fail(f"unknown key (known keys: {', '.join(sorted(_TOP_KEYS))})", unknown[0])
    rule_id = check.get("id", str, required=True)
    if not RULE_ID.fullmatch(rule_id):
        check.fail("rule ids are lowercase words joined by hyphens", "id")
    if Path(file).stem != rule_id:
        check.fail(f"the file must be named {rule_id}.yaml", "id")
    kind = check.choice("extends", KINDS)
    _words(check)
    stages = check.strings("stages", check.get("stages", (list, str), list(STAGES)))
    for stage in stages:
        if stage not in STAGES:
            check.fail(f"unknown stage {stage!r} (use {', '.join(STAGES)})", "stages")
    rule = Rule(
        id=rule_id,
        kind=kind,
        severity=check.choice("severity", SEVERITIES, "warning"),
        message=check.get("message", str, required=True).strip(),
        why=check.get("why", str, required=True).strip(),
        sources=_sources(check),
        file=file,
        stages=stages,
        scope=check.choice("scope", SCOPES, "content"),
        match=_match_block(check, "match"),
        exceptions=_match_block(check, "exceptions"),
        span=check.choice("span", ("match", "sentence"), "match"),
        annotates=check.choice("annotates", ("slots",), "slots") if "annotates" in check.data else None,
        max=check.get("max", int, 1),
        budgets=_budgets(check),
        keep=check.strings("keep", check.get("keep", list, [])),
        suggest=_suggestions(check),
        check=check.get("check", str) if kind == "correspondence" else None,
        options=_options(check),
        **_examples(check),
    )
    if kind in ("existence", "required") and not rule.match:
        check.fail(f"a rule that extends {kind} needs a 'match' block", "match")
    if kind == "metric" and not rule.budgets:
        check.fail("a metric rule needs 'budgets'", "budgets")
    if (kind == "correspondence") != ("check" in check.data):
        check.fail("a rule that extends correspondence names its cross-draft check, and only such a rule does",
                   "check")
    if kind != "correspondence" and any(s.action == "reschedule" for s in rule.suggest):
        check.fail("'reschedule' belongs to rules that extend correspondence", "suggest")
    if not rule.suggest:
        check.fail("every rule offers at least one suggestion", "suggest")
    return rule


# The options of the cross-draft checks, each with what it must be.
OPTIONS = {"window": "a length of time such as 12h, 2d or 4w", "gap": "a length of time such as 12h, 2d or 4w",
           "similarity": "a number from 0 to 1"}


def parse_option(key: str, value: Any):
    """A correspondence rule's option as its check uses it; ValueError names what it must be."""
    if key in ("window", "gap") and isinstance(value, str):
        try:
            return dates.duration(value)
        except ValueError:
            pass
    if key == "similarity" and isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return value
    raise ValueError(f"expected {OPTIONS[key]}, got {value!r}")


def _options(check: _Checker) -> dict:
    options = check.get("options", dict, {})
    for key, value in options.items():
        if key not in OPTIONS:
            check.fail(f"unknown option (use {', '.join(OPTIONS)})", f"options.{key}")
        try:
            parse_option(key, value)
        except ValueError as error:
            check.fail(str(error), f"options.{key}")
    return options


def _words(check: _Checker) -> None:
    """`words` names word lists once (`name: &name [...]`) for patterns to share (`*name`);
    the engine reads them only through those YAML aliases."""
    for name, value in check.get("words", dict, {}).items():
        check.strings(f"words.{name}", value)


def _sources(check: _Checker) -> tuple[tuple[str, str], ...]:
    value = check.get("source", (list, dict), required=True)
    items = [value] if isinstance(value, dict) else value
    sources = []
    for index, item in enumerate(items):
        key = f"source[{index}]"
        if not isinstance(item, dict) or set(item) - {"article", "quote"} or "article" not in item:
            check.fail("each source is a mapping with 'article' (e.g. '004') and an optional 'quote'", key)
        sources.append((str(item["article"]).zfill(3), str(item.get("quote", "")).strip()))
    return tuple(sources)


def _match_block(check: _Checker, key: str) -> dict:
    """phrases / patterns / dependencies / check, or same-as; `requires` (a nested block) keeps
    only matches whose sentence also matches it, as `exceptions` drops those whose sentence does;
    `also` adds more match blocks, each with its own `requires` (a word of contempt counts in a
    sentence about them); `rules` in exceptions drops matches in a sentence those rules flag."""
    block = check.get(key, dict, {})
    for name, value in block.items():
        where = f"{key}.{name}"
        if name not in MATCH_KEYS:
            check.fail(f"unknown key (use {', '.join(MATCH_KEYS)})", where)
        if name == "phrases":
            check.strings(where, value)
        elif name == "check":
            if not (isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value)):
                check.fail("expected the name of a registered check, or a list of names", where)
        elif name == "same-as":
            if not isinstance(value, str):
                check.fail("expected a rule id", where)
            if name == "same-as" and len(block) > 1:
                check.fail("'same-as' reuses another rule's match block whole; give nothing else beside it", where)
        elif name == "model":
            _model_condition(check, where, value)
        elif name == "rules":
            if key != "exceptions":
                check.fail("'rules' belongs in the exceptions block", where)
            check.strings(where, value)
        elif name == "requires":
            if key != "match" and not key.startswith("match.also"):
                check.fail("'requires' belongs in the match block", where)
            check.data = {**check.data, where: value}
            _match_block(check, where)
        elif name == "also":
            if key != "match" or not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
                check.fail("'also' is a list of match blocks, in the match block", where)
            for index, clause in enumerate(value):
                if {"also", "same-as"} & set(clause):
                    check.fail("an 'also' clause has no 'also' or 'same-as' of its own", f"{where}[{index}]")
                check.data = {**check.data, f"{where}[{index}]": clause}
                _match_block(check, f"{where}[{index}]")
        elif not isinstance(value, list) or not all(
            isinstance(p, list) and p and all(isinstance(t, dict) for t in p) for p in value
        ):
            check.fail("expected a list of patterns, each a list of token mappings", where)
        else:
            for index, pattern in enumerate(value):
                _check_values(check, f"{where}[{index}]", pattern)
    return block


def _model_condition(check: _Checker, where: str, value: Any) -> None:
    """`model: {label: bitter, threshold: 0.5}` (sentences the tone model scores at least that
    high), `{label: bitter, below: 0.1}` (sentences it scores under that), `label` a list
    (the highest of their scores counts), or a list of such conditions (any of them)."""
    for index, condition in enumerate(value if isinstance(value, list) else [value]):
        at = f"{where}[{index}]" if isinstance(value, list) else where
        if not isinstance(condition, dict) or "label" not in condition \
                or len(set(condition) & {"threshold", "below"}) != 1 or set(condition) - {"label", "threshold", "below"}:
            check.fail("expected {label: NAME, threshold: 0-1} or {label: NAME, below: 0-1}", at)
        labels = check.strings(f"{at}.label", condition["label"])
        known = tone_labels()
        for label in labels:
            if known and label not in known:
                check.fail(f"the tone model has no label {label!r} (it has: {', '.join(known)})", at)
        bound = condition.get("threshold", condition.get("below"))
        if not isinstance(bound, (int, float)) or isinstance(bound, bool) or not 0 <= bound <= 1:
            check.fail("the threshold is a number from 0 to 1", at)


def as_conditions(value: Any) -> list[dict]:
    """A block's `model:` value as a list of conditions."""
    return [] if not value else value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=1)
def tone_labels() -> tuple[str, ...]:
    """The labels of the shipped tone model, read from its meta.json (no spaCy needed)."""
    try:
        meta = json.loads((TONE_MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    return tuple(meta.get("labels", {}).get("textcat_multilabel", ()))


_TEXT_ATTRS = {"ORTH", "TEXT", "LOWER", "LEMMA", "NORM", "TAG", "POS", "DEP", "ENT_TYPE", "SHAPE"}


def _check_values(check: _Checker, where: str, pattern: Any, attr: str = "") -> None:
    """Catch what spaCy's own validation words poorly or allows: YAML turning on/no/yes into
    booleans, unbounded repetition, and regexes that can backtrack catastrophically (patterns
    run on every token of every draft, whatever it contains)."""
    if isinstance(pattern, dict) and isinstance(pattern.get("OP"), str) and _UNBOUNDED_OP.fullmatch(pattern["OP"]):
        check.fail(f"OP {pattern['OP']!r} repeats without bound, which takes quadratic time on a long run "
                   "of tokens; use a bounded range such as \"{1,5}\" (or a Python check)", where)
    if isinstance(pattern, bool) and attr in _TEXT_ATTRS:
        check.fail(f"{attr} has the value {str(pattern).lower()}: YAML reads unquoted yes/no/on/off/true/false "
                   "as booleans, so quote the word (\"on\")", where)
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            if key in ("REGEX", "FUZZY_REGEX") and isinstance(value, str):
                try:
                    parsed = _parse_regex(value)
                except re.error as error:
                    check.fail(f"invalid regular expression {value!r}: {error}", where)
                if _nested_repeat(parsed, False):
                    check.fail(f"regular expression {value!r} repeats a repeated group, "
                               "which can take exponential time; simplify it", where)
                if _shares(parsed) > _MAX_SHARES:
                    check.fail(f"regular expression {value!r} has repeats in a row that can match the same "
                               "characters, which can take polynomial time on a long word; simplify it", where)
            else:
                _check_values(check, where, value, key if key in _TEXT_ATTRS else attr)
    elif isinstance(pattern, list):
        for item in pattern:
            _check_values(check, where, item, attr)


_UNBOUNDED_OP = re.compile(r"[+*]|\{\d*,\}")  # "+", "*", "{1,}"
# How many ways a run of characters may be shared out among repeats that can each match it,
# past which a regex is refused: `\w+s?` shares a word 4,000 ways, `a*a*c` 4,000,000 ways,
# each tried at every start position before a search gives up.
_MAX_SHARES = 10 * MAX_WORD
_PROBES = [chr(code) for code in range(9, 127)] + list("\u00a0\u2028éßΩ中٣😀")  # stand-ins for every character


def _regex_modules():
    try:  # Python 3.11+
        from re import _compiler as compiler, _parser as parser
    except ImportError:  # pragma: no cover
        import sre_compile as compiler
        import sre_parse as parser
    return compiler, parser


def _parse_regex(value: str):
    return _regex_modules()[1].parse(value)


def _nested_repeat(parsed, inside_repeat: bool) -> bool:
    for op, argument in parsed:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = argument
            repeats = high is None or high > 1 or str(high) == "MAXREPEAT"
            if repeats and inside_repeat:
                return True
            if _nested_repeat(sub, inside_repeat or repeats):
                return True
        elif name == "BRANCH":
            if inside_repeat:
                return True
            if any(_nested_repeat(branch, inside_repeat) for branch in argument[1]):
                return True
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            sub = argument[-1]
            if _nested_repeat(sub, inside_repeat):
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _nested_repeat(argument[1], inside_repeat):
                return True
    return False


def _shares(parsed, items=None) -> int:
    """The most ways a run of characters can be shared out among variable-length steps in a row
    that can all match it (nothing between them that they cannot match too): the product of
    their ranges of lengths, an unbounded one counting as MAX_WORD. A last step that may match
    nothing never gives anything back, so it does not count."""
    steps = list(_steps(parsed if items is None else items))
    worst, live = 1, []  # live: (characters, range) of the steps that can still trade characters
    for index, (op, argument) in enumerate(steps):
        name = str(op)
        if name in ("ASSERT", "ASSERT_NOT"):
            worst = max(worst, _shares(parsed, argument[1]))
            continue
        if name == "AT":
            continue
        spread = 1  # one character, a back reference, an atomic group, a possessive repeat
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, high, sub = argument
            worst = max(worst, _shares(parsed, sub))
            spread = min(high, MAX_WORD) - low + 1
            if items is None and low == 0 and index == len(steps) - 1:
                spread = 1
        elif name == "BRANCH":
            worst = max([worst] + [_shares(parsed, branch) for branch in argument[1]])
            spread = len(argument[1])
        chars = _chars(parsed, [(op, argument)])
        overlapping = [length for others, length in live if others & chars]
        if spread > 1:
            worst = max(worst, spread * math.prod(overlapping))
            live.append((chars, spread))
        elif not overlapping:
            live.clear()
    return worst


def _steps(items):
    """A sequence with its plain groups opened up: (?:ab)c is a, b, c."""
    for op, argument in items:
        if str(op) == "SUBPATTERN":
            yield from _steps(argument[-1])
        else:
            yield op, argument


def _chars(parsed, items) -> frozenset[str]:
    """The probe characters that some one-character step within `items` matches."""
    compiler, parser = _regex_modules()
    found: set[str] = set()
    for op, argument in items:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
            single = compiler.compile(parser.SubPattern(parsed.state, [(op, argument)]))
            found.update(char for char in _PROBES if single.fullmatch(char))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            found |= _chars(parsed, argument[2])
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            found |= _chars(parsed, argument[-1])
        elif name == "BRANCH":
            for branch in argument[1]:
                found |= _chars(parsed, branch)
        elif name == "GROUPREF":
            found.update(_PROBES)
    return frozenset(found)


def _budgets(check: _Checker) -> dict:
    budgets = check.get("budgets", dict, {})
    for stage, budget in budgets.items():
        where = f"budgets.{stage}"
        if stage not in STAGES:
            check.fail(f"unknown stage (use {', '.join(STAGES)})", where)
        if not isinstance(budget, dict):
            check.fail("expected a mapping of words / sentences / grade / ps-exempt", where)
        validate_budget(budget, lambda problem, key=where: check.fail(problem, key))
    return budgets


def validate_budget(budget: dict, fail) -> None:
    for key, value in budget.items():
        if key not in BUDGET_KEYS:
            fail(f"unknown budget {key!r} (use {', '.join(BUDGET_KEYS)})")
        expected = bool if key == "ps-exempt" else (int, float)
        if not isinstance(value, expected) or (expected != bool and isinstance(value, bool)) or (
            expected != bool and value <= 0
        ):
            fail(f"{key} must be {'true or false' if expected == bool else 'a positive number'}")


def _suggestions(check: _Checker) -> tuple[Suggest, ...]:
    items = check.get("suggest", list, [])
    result = []
    for index, item in enumerate(items):
        where = f"suggest[{index}]"
        if isinstance(item, str):
            item = {"replace": item}
        if not isinstance(item, dict):
            check.fail("expected a string or a mapping", where)
        if item.get("reschedule", True) is not True:
            check.fail("'reschedule: true' dates the draft the first moment the advice allows", where)
        actions = [a for a in ACTIONS if a in item]
        if len(actions) != 1:
            check.fail(f"give exactly one of {', '.join(ACTIONS)}", where)
        unknown = set(item) - set(ACTIONS) - {"at", "safe", "when", "unless", "target", "shouted", "marks",
                                              "stages", "register", "after", "otherwise"}
        if unknown:
            check.fail(f"unknown key {sorted(unknown)[0]!r}", where)
        action = actions[0]
        texts = item[action] if action in ("replace", "insert") else []
        texts = [texts] if isinstance(texts, str) else texts
        if action in ("replace", "insert") and (
            not texts or not isinstance(texts, list) or not all(isinstance(t, str) for t in texts)
        ):
            check.fail(f"'{action}' takes the text to put in, or a list of variants", where)
        if action == "insert" and item.get("at", "start") not in ("start", "end"):
            check.fail("'at' is start (after the greeting) or end (before the sign-off)", where)
        if item.get("target", "match") not in TARGETS:
            check.fail(f"'target' is one of {', '.join(TARGETS)}", where)
        for flag in ("safe", "shouted", "marks", "otherwise"):
            if not isinstance(item.get(flag, False), bool):
                check.fail(f"'{flag}' is true or false", where)
        stages = check.strings(f"{where}.stages", item.get("stages", []))
        if set(stages) - set(STAGES):
            check.fail(f"'stages' are among {', '.join(STAGES)}", where)
        if "after" in item and (action != "insert" or item.get("at", "start") != "start"
                                or not isinstance(item["after"], str)):
            check.fail("'after' names a rule whose match in the opening sentence this start insert "
                       "goes after", where)
        if item.get("register") not in (None, *REGISTERS):
            check.fail(f"'register' is one of {', '.join(REGISTERS)}", where)
        for text in texts:
            try:
                names = [name for _, name, _, _ in Formatter().parse(text) if name is not None]
            except ValueError as error:
                check.fail(f"bad template {text!r}: {error}", where)
            for name in names:
                if name not in TEMPLATE_FIELDS:
                    check.fail(f"unknown template field {{{name}}} (use {', '.join(TEMPLATE_FIELDS)})", where)
        result.append(Suggest(
            action=action,
            texts=tuple(texts),
            at=item.get("at", "start"),
            target=item.get("target", "match"),
            safe=item.get("safe", False),
            when=check.strings(f"{where}.when", item.get("when", [])),
            unless=check.strings(f"{where}.unless", item.get("unless", [])),
            shouted=item.get("shouted"),
            marks=item.get("marks"),
            stages=stages,
            register=item.get("register"),
            after=item.get("after"),
            otherwise=item.get("otherwise", False),
        ))
    return tuple(result)


def _examples(check: _Checker) -> dict:
    block = check.get("examples", dict, required=True)
    unknown = set(block) - {"fires", "quiet"}
    if unknown:
        check.fail("use 'fires' and 'quiet'", f"examples.{sorted(unknown)[0]}")
    result = {}
    for key in ("fires", "quiet"):
        items = block.get(key)
        if not isinstance(items, list) or not items:
            check.fail("every rule needs at least one example here", f"examples.{key}")
        examples = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                item = {"text": item}
            if isinstance(item, dict) and "drafts" in item:
                examples.append(_drafts_example(check, item, f"examples.{key}[{index}]"))
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str) or set(item) - {"text", "format"}:
                check.fail("an example is a string, or a mapping with 'text' and 'format' (txt, md, eml)",
                           f"examples.{key}[{index}]")
            examples.append(Example(item["text"], "example." + item.get("format", "txt")))
        result[key] = tuple(examples)
    return result


def _drafts_example(check: _Checker, item: dict, where: str) -> Example:
    """A cross-draft rule's example: several drafts by path (`drafts`), judged on the last, and
    optionally `now`, when a draft without a date goes out."""
    drafts = item["drafts"]
    if set(item) - {"drafts", "now"} or not isinstance(drafts, dict) or not drafts or not all(
            isinstance(path, str) and path.lower().endswith((".txt", ".md", ".eml")) and isinstance(text, str)
            for path, text in drafts.items()):
        check.fail("'drafts' maps each draft's path (.txt, .md, .eml) to its text, the last one judged; "
                   "'now' may say when an undated draft goes out", where)
    now = item.get("now")
    if now is not None:
        try:
            dates.from_value(now)
        except dates.NotADate:
            check.fail(f"now: {str(now)!r} is not a date and time", where)
    *earlier, (path, text) = drafts.items()
    return Example(text, path, tuple(earlier), str(now) if now is not None else None)


# --- finding and loading rule files ------------------------------------------------

def builtin_rules_dir() -> Path:
    """Inside the installed wheel, or the repository's rules/ when run from a checkout."""
    packaged = resources.files("toneguard") / "builtin_rules"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "rules"


def plugin_rules_dirs() -> list[Path]:
    """Rule folders that installed packages declare in the `toneguard.rules` entry point group."""
    return [Path(target) for target in plugins.load("toneguard.rules", call=True).values()]


def load_file(path: Path) -> Rule:
    try:
        data = safeyaml.load(path.read_bytes())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ToneguardError(f"invalid YAML: {problem}", where) from None
    except OSError as error:
        raise ToneguardError(f"cannot read rule file: {error.strerror}", str(path)) from None
    return parse_rule(data, str(path))


def load_rules(extra_dirs: tuple[str, ...] = ()) -> dict[str, Rule]:
    """All rules by id: built-in, then plugins, then the config's folders. Ids must be unique."""
    rules: dict[str, Rule] = {}
    builtin = builtin_rules_dir()
    for directory in [builtin, *plugin_rules_dirs(), *map(Path, extra_dirs)]:
        if not directory.is_dir():
            raise ToneguardError("rule folder not found", str(directory))
        for name in sorted(os.listdir(directory)):
            if name.endswith((".yaml", ".yml")) and not name.startswith((".", "_")):
                rule = replace(load_file(directory / name), builtin=directory == builtin)
                if rule.id in rules:
                    raise ToneguardError(
                        f"duplicate rule id '{rule.id}' (also defined in {rules[rule.id].file})", rule.file
                    )
                rules[rule.id] = rule
    for rule in list(rules.values()):
        for key, others in (("keep", rule.keep), ("match.same-as", [rule.match.get("same-as")]),
                            ("suggest.after", [s.after for s in rule.suggest])):
            for other in others:
                if other is not None and other not in rules:
                    raise ToneguardError(f"rule '{rule.id}': {key}: unknown rule '{other}'", rule.file)
        for other in rule.exceptions.get("rules", ()):
            if other not in rules:
                raise ToneguardError(f"rule '{rule.id}': exceptions.rules: unknown rule '{other}'", rule.file)
            if other == rule.id or rule.id in rules[other].exceptions.get("rules", ()):
                raise ToneguardError(f"rule '{rule.id}': exceptions.rules: '{other}' and '{rule.id}' would "
                                     "each wait for the other", rule.file)
        owner = rule.match.get("same-as")
        if owner:
            if "same-as" in rules[owner].match:
                raise ToneguardError(f"rule '{rule.id}': match.same-as: '{owner}' itself reuses another "
                                     "rule's match; point at that rule instead", rule.file)
            rules[rule.id] = replace(rule, match={**rules[owner].match, "same-as": owner})
    return rules
