"""Third-party packages extend toneguard through entry points: rule folders, Python checks
and output formats. This installs a real (tiny) distribution on sys.path and uses all three."""
from __future__ import annotations

import sys
import textwrap

import pytest

from toneguard import engine

PLUGIN = {
    "houseplugin/__init__.py": '''
        from pathlib import Path

        def rules_dir():
            return Path(__file__).parent / "rules"

        def exclamations(nlp):
            def run(doc):
                return [doc[t.i:t.i + 1] for t in doc if t.text == "!"]
            return run

        def shout(reports, output):
            for report in reports:
                output.stream.write(f"{report.path}: {len(report.violations)}\\n")
        ''',
    "houseplugin/rules/no-exclamations.yaml": '''
        id: no-exclamations
        extends: existence
        severity: info
        message: House style has no exclamation marks.
        why: Calm reads as confident.
        source: {article: "003", quote: "Short, simple and non-threatening"}
        match: {check: exclamations}
        suggest: [{replace: ".", safe: true}]
        examples:
          fires: [Thank you!]
          quiet: [Thank you.]
        ''',
    "houseplugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: houseplugin\nVersion: 1.0\n",
    "houseplugin-1.0.dist-info/entry_points.txt": '''
        [toneguard.rules]
        house = houseplugin:rules_dir

        [toneguard.checks]
        exclamations = houseplugin:exclamations

        [toneguard.formats]
        counts = houseplugin:shout
        ''',
}


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    for name, text in PLUGIN.items():
        path = tmp_path / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    for cache in (engine.cached_rules, engine._linter):
        cache.cache_clear()
    yield
    for cache in (engine.cached_rules, engine._linter):
        cache.cache_clear()


def test_a_plugin_adds_a_rule_with_its_own_check_and_a_format(plugin, cli, workdir):
    (workdir / "a.txt").write_text("Hi Priya,\n\nThank you for the tour of the lab! Please keep me in mind.\n")
    run = cli("check", "a.txt", "--select", "no-exclamations")
    assert ": info no-exclamations House style has no exclamation marks." in run.out
    assert "→ replace “!” with “.” [safe fix]" in run.out
    assert cli("check", "a.txt", "--format", "counts").out.strip() == "a.txt: 1"
    assert "no-exclamations" in cli("rules").out


@pytest.mark.parametrize("group, target, error", [
    ("toneguard.rules", "nosuchmodule:rules", "ModuleNotFoundError: No module named 'nosuchmodule'"),
    ("toneguard.checks", "badplugin:missing", "AttributeError: module 'badplugin' has no attribute 'missing'"),
    ("toneguard.formats", "badplugin.failing:emit", "RuntimeError: cannot start"),
])
def test_a_broken_plugin_is_one_line_naming_it(cli, workdir, tmp_path, monkeypatch, group, target, error):
    site = tmp_path / "site"
    files = {"badplugin/__init__.py": "", "badplugin/failing.py": "raise RuntimeError('cannot start')\n",
             "badplugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: badplugin\nVersion: 1.0\n",
             "badplugin-1.0.dist-info/entry_points.txt": f"[{group}]\nbroken = {target}\n"}
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    monkeypatch.syspath_prepend(str(site))
    for cache in (engine.cached_rules, engine._linter):
        cache.cache_clear()
    (workdir / "a.txt").write_text("Hi Priya,\n\nThank you for the tour of the lab.\n")
    try:
        run = cli("check", "a.txt")
    finally:
        sys.modules.pop("badplugin", None)  # imported from a folder that is about to go
        for cache in (engine.cached_rules, engine._linter):
            cache.cache_clear()
    assert (run.code, run.err) == (2, f"toneguard: plugin 'broken' from badplugin 1.0 ({group} = {target}) "
                                      f"cannot be loaded: {error}\n"), run
