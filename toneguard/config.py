"""Configuration: `[tool.toneguard]` in pyproject.toml or `.toneguard.yaml`, found by
walking up from each draft, validated once at load with errors naming the file and key.

```yaml
select: [bitterness, placeholder]   # default: every rule
ignore: [raw-emotion]
stage: first-reply
model: en_core_web_sm               # any installed spaCy pipeline
tone-model: true                    # false: the tone rules use their patterns only
rule-dirs: [house-rules]            # extra rule folders, relative to this file
fail-on: warning
correspondence-root: .              # the folder of letters compared with each other
rules:
  too-long:
    severity: info
    budgets: {first-reply: {words: 180}}
  bitterness:
    threshold: 0.7                  # how sure the tone model must be (0-1)
serve:                              # `toneguard serve` only
  allow-origins: [chrome-extension://oldceeleldhonbafppcapldpdifcinji]
```
"""
from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import safeyaml
from .errors import ToneguardError
from .letter import STAGES
from .report import SEVERITIES

if TYPE_CHECKING:  # rules load on demand: `check --server` finds the config without them
    from .rules import Rule

CONFIG_FILES = (".toneguard.yaml", ".toneguard.yml", "pyproject.toml")
KEYS = ("select", "ignore", "stage", "model", "tone-model", "rule-dirs", "fail-on", "rules", "serve",
        "correspondence-root")
RULE_OPTIONS = ("severity", "budgets", "threshold")  # and a cross-draft rule's (rules.OPTIONS)
SERVE_OPTIONS = ("allow-origins",)
ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s?#]+", re.I)  # scheme://host[:port], as browsers send it


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] | None = None  # None: every rule
    ignore: tuple[str, ...] = ()
    stage: str | None = None
    model: str | None = None
    tone_model: bool | None = None  # None: on
    rule_dirs: tuple[str, ...] = ()
    fail_on: str | None = None
    rules: dict = field(default_factory=dict, hash=False, compare=False)  # id -> options
    allow_origins: tuple[str, ...] = ()  # serve: web origins whose browser requests are answered
    correspondence_root: str | None = None  # the folder whose tree is one correspondence (absolute)
    origin: str | None = None  # the file these came from
    flags: "Settings | None" = field(default=None, compare=False)  # what the command line set, if merged

    def merged(self, overrides: "Settings") -> "Settings":
        """Settings with every field that `overrides` sets taking precedence (CLI flags win)."""
        changes = {name: getattr(overrides, name) for name in ("select", "stage", "model", "tone_model", "fail_on")
                   if getattr(overrides, name) is not None}
        if overrides.ignore:
            changes["ignore"] = tuple(dict.fromkeys(self.ignore + overrides.ignore))
        if overrides.rule_dirs:
            changes["rule_dirs"] = self.rule_dirs + overrides.rule_dirs
        return replace(self, **changes, flags=overrides)

    def selected(self, rules: dict[str, Rule], front: dict | None = None) -> list[Rule]:
        """Rules this draft runs: select minus ignore, narrowed by the draft's front matter."""
        chosen = [rules[r] for r in (self.select or rules)]
        front = front or {}
        if front.get("select"):
            chosen = [r for r in chosen if r.id in front["select"]]
        skip = set(self.ignore) | set(front.get("ignore", ()))
        return [r for r in chosen if r.id not in skip]

    def severity(self, rule: Rule) -> str:
        return self.rules.get(rule.id, {}).get("severity", rule.severity)

    def threshold(self, rule: Rule) -> float | None:
        """The configured threshold for the rule's tone-model conditions, if any."""
        return self.rules.get(rule.id, {}).get("threshold")

    def budgets(self, rule: Rule) -> dict:
        overrides = self.rules.get(rule.id, {}).get("budgets", {})
        return {stage: {**rule.budgets.get(stage, {}), **overrides.get(stage, {})}
                for stage in STAGES if stage in rule.budgets or stage in overrides}

    def check_rule_ids(self, rules: dict[str, Rule]) -> None:
        """Unknown ids are mistakes: report them against the flag or the file that named them."""
        for key, ids in (("select", self.select or ()), ("ignore", self.ignore), ("rules", self.rules)):
            flagged = set(getattr(self.flags, key) or ()) if self.flags is not None else set()
            check_ids([rule_id for rule_id in ids if rule_id in flagged], rules, f"--{key}", None)
            check_ids(ids, rules, key, self.origin)
        for rule_id, options in self.rules.items():
            if "budgets" in options and rules[rule_id].kind != "metric":
                raise ToneguardError(f"rules.{rule_id}: option 'budgets' only applies to length rules",
                                     self.origin)
            if "threshold" in options and not any("threshold" in c for block, c in rules[rule_id].model_conditions
                                                       if block == "match"):
                raise ToneguardError(f"rules.{rule_id}: option 'threshold' only applies to rules that listen to "
                                     "the tone model (see `toneguard explain`)", self.origin)
            for option in set(options) - set(RULE_OPTIONS) - set(rules[rule_id].options):
                raise ToneguardError(f"rules.{rule_id}: option '{option}' does not apply to this rule "
                                     f"(see `toneguard explain {rule_id}`)", self.origin)


def check_ids(ids, rules: dict[str, Rule], key: str, where: str | None) -> None:
    """The one check of rule ids, wherever they are written: config, command line, front matter."""
    for rule_id in ids:
        if rule_id not in rules:
            raise ToneguardError(f"{key}: unknown rule '{rule_id}' (see `toneguard rules`)", where)


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ToneguardError(f"'{key}' must be a list of rule ids", where)
    return tuple(value)


def parse_settings(data: Any, where: str, base_dir: Path | None = None) -> Settings:
    if not isinstance(data, dict):
        from .rules import _KIND_NAMES

        kind = type(data).__name__
        raise ToneguardError(f"the configuration must be a mapping of keys, not {_KIND_NAMES.get(kind, kind)}", where)
    for key in data:
        if key not in KEYS:
            raise ToneguardError(f"unknown key '{key}' (known keys: {', '.join(KEYS)})", where)
    stage = data.get("stage")
    if stage is not None and stage not in STAGES:
        raise ToneguardError(f"stage: {stage!r} is not one of {', '.join(STAGES)}", where)
    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise ToneguardError(f"fail-on: {fail_on!r} is not one of {', '.join(SEVERITIES)}", where)
    model = data.get("model")
    if model is not None and not isinstance(model, str):
        raise ToneguardError("model: expected the name of an installed spaCy pipeline", where)
    tone_model = data.get("tone-model")
    if tone_model is not None and not isinstance(tone_model, bool):
        raise ToneguardError("tone-model: expected true or false", where)
    dirs = _strings(data.get("rule-dirs", []), "rule-dirs", where)
    if base_dir is not None:
        dirs = tuple(str((base_dir / d).resolve()) for d in dirs)
    root = data.get("correspondence-root")
    if root is not None:
        if not isinstance(root, str) or not (base_dir or Path.cwd()).joinpath(root).is_dir():
            raise ToneguardError(f"correspondence-root: {root!r} is not a folder (it is relative to this file)", where)
        root = str((base_dir or Path.cwd()).joinpath(root).resolve())
    return Settings(
        select=_strings(data["select"], "select", where) if "select" in data else None,
        ignore=_strings(data.get("ignore", []), "ignore", where),
        stage=stage, model=model, tone_model=tone_model, rule_dirs=dirs, fail_on=fail_on,
        rules=_rule_options(data.get("rules", {}), where), correspondence_root=root,
        allow_origins=_serve_options(data.get("serve", {}), where), origin=where,
    )


def _serve_options(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, dict):
        raise ToneguardError("serve: expected a mapping of options (allow-origins)", where)
    for option in value:
        if option not in SERVE_OPTIONS:
            raise ToneguardError(f"unknown option 'serve.{option}' (options: {', '.join(SERVE_OPTIONS)})", where)
    origins = value.get("allow-origins", [])
    if not isinstance(origins, list):
        raise ToneguardError("serve.allow-origins: expected a list of origins", where)
    for origin in origins:
        if not isinstance(origin, str) or not ORIGIN.fullmatch(origin):
            raise ToneguardError(f"serve.allow-origins: {origin!r} is not an origin "
                                 "(scheme://host[:port], as in chrome-extension://ID)", where)
    return tuple(origins)


def _rule_options(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ToneguardError("rules: expected a mapping of rule id to options", where)
    for rule_id, options in value.items():
        if not isinstance(options, dict):
            raise ToneguardError(f"rules.{rule_id}: expected a mapping of options", where)
        for option, setting in options.items():
            if option not in RULE_OPTIONS:
                from .rules import OPTIONS, parse_option  # a cross-draft rule's options

                if option not in OPTIONS:
                    raise ToneguardError(f"unknown option '{option}' for rule '{rule_id}' "
                                         f"(options: {', '.join((*RULE_OPTIONS, *OPTIONS))})", where)
                try:
                    parse_option(option, setting)
                except ValueError as error:
                    raise ToneguardError(f"rules.{rule_id}.{option}: {error}", where) from None
            if option == "severity" and setting not in SEVERITIES:
                raise ToneguardError(f"rules.{rule_id}.severity: {setting!r} is not one of "
                                     f"{', '.join(SEVERITIES)}", where)
            if option == "threshold" and (not isinstance(setting, (int, float)) or isinstance(setting, bool)
                                          or not 0 <= setting <= 1):
                raise ToneguardError(f"rules.{rule_id}.threshold: expected a number from 0 to 1", where)
            if option == "budgets":
                if not isinstance(setting, dict):
                    raise ToneguardError(f"rules.{rule_id}.budgets: expected a mapping of stage to budget", where)
                for stage, budget in setting.items():
                    key = f"rules.{rule_id}.budgets.{stage}"
                    if stage not in STAGES or not isinstance(budget, dict):
                        raise ToneguardError(f"{key}: expected one of {', '.join(STAGES)} with a mapping", where)
                    from .rules import validate_budget

                    validate_budget(budget, lambda problem, key=key: _raise(f"{key}: {problem}", where))
    return value


def _raise(problem: str, where: str):
    raise ToneguardError(problem, where)


def load_config(path: str | Path) -> Settings:
    path = Path(path)
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ToneguardError(f"cannot read config: {error.strerror or error}", where) from None
    if path.name == "pyproject.toml":
        data = _toneguard_table(_toml(raw, where))
        where = f"{where} [tool.toneguard]"
    else:
        try:
            data = safeyaml.load(raw) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            if mark:
                where = f"{where}:{mark.line + 1}:{mark.column + 1}"
            raise ToneguardError(f"invalid YAML: {getattr(error, 'problem', None) or error}", where) from None
    return parse_settings(data, where, path.parent.resolve())


def _toneguard_table(document: dict) -> Any:
    """`tool.toneguard` (whatever it holds), or None when the file has none."""
    tool = document.get("tool")
    return tool.get("toneguard") if isinstance(tool, dict) else None


def _toml(raw: bytes, where: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ToneguardError(f"invalid TOML: {error}", where) from None


@functools.lru_cache(maxsize=256)
def find_config(directory: str) -> str | None:
    """The nearest config file at or above `directory`: .toneguard.yaml, or a pyproject.toml
    that has a [tool.toneguard] table."""
    here = Path(directory).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_toneguard_table(candidate)):
                return str(candidate)
    return None


def _has_toneguard_table(pyproject: Path) -> bool:
    """Whether pyproject.toml sets `tool.toneguard` (as a table or, by mistake, as anything else)."""
    raw = pyproject.read_bytes()
    return b"toneguard" in raw and _toneguard_table(_toml(raw, str(pyproject))) is not None


def settings_for(path: str, explicit: str | None = None, isolated: bool = False) -> Settings:
    """The settings that apply to a draft at `path` ("-" means the current directory)."""
    if isolated:
        return Settings()
    config = explicit or find_config(os.path.dirname(os.path.abspath(path)) if path != "-" else os.getcwd())
    return _cached_config(config) if config else Settings()


@functools.lru_cache(maxsize=64)
def _cached_config(path: str) -> Settings:
    return load_config(path)
