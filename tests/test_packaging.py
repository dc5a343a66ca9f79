"""What a newcomer relies on: the console script works from anywhere, the rules ship
inside the package, and the README's rule table and quick-start output match a real run."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from toneguard.articles import ARTICLES
from toneguard.engine import cached_rules

from conftest import CORPUS, REPO


def _script() -> str:
    found = shutil.which("toneguard") or str(Path(sys.executable).parent / "toneguard")
    assert Path(found).exists(), "the toneguard console script is not installed"
    return found


def test_console_script_finds_its_rules_from_another_directory(tmp_path):
    sample = CORPUS / "examples" / "seed-000-sample.txt"
    (tmp_path / ".toneguard.yaml").write_text("{}\n")
    result = subprocess.run([_script(), "check", str(sample)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout.count(" error placeholder ") == 3


def test_version_and_help(tmp_path):
    result = subprocess.run([_script(), "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and re.fullmatch(r"toneguard, version \d+\.\d+\.\d+\n", result.stdout)


def test_readme_rule_table_matches_the_rules():
    readme = (REPO / "README.md").read_text()
    table = dict(re.findall(r"^\| `([a-z-]+)` \| (error|warning|info) \|", readme, re.M))
    assert table == {rule_id: rule.severity for rule_id, rule in cached_rules(()).items()}


def test_readme_quick_start_output_is_what_a_run_prints():
    readme = (REPO / "README.md").read_text()
    shown = re.search(r"The first command prints[^\n]*\n\n```text\n(.*?)```", readme, re.S).group(1)
    result = subprocess.run([_script(), "check", "corpus/examples/seed-000-sample.txt"], cwd=REPO,
                            capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert (result.returncode, result.stdout) == (1, shown)


def test_every_cited_article_is_in_the_table_and_the_readme_lists_it_as_it_is():
    cited = {article for rule in cached_rules(()).values() for article, _ in rule.sources}
    assert cited <= set(ARTICLES)
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (\d{3}) \| (?:\[(.+?)\]\((\S+)\)|([^|]+?)) \| (.+?) \|$", readme, re.M)
    listed = {number: (linked or plain, publisher, url) for number, linked, url, plain, publisher in rows}
    assert listed == {number: (a.title, a.publisher, a.url) for number, a in ARTICLES.items()}


def test_one_version_and_every_documented_tag_is_its_tag():
    """A release bumps pyproject and toneguard.__version__ together, and the README's
    `rev:` and `@v...` name that version's tag (see the README's Releasing section)."""
    import toneguard

    version = re.search(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M).group(1)
    assert toneguard.__version__ == version
    readme = (REPO / "README.md").read_text()
    releasing = readme.split("### Releasing\n")[1].split("\n#")[0]
    for step in ("`pyproject.toml`", "`toneguard/__init__.py`", "git tag -a vX.Y.Z"):
        assert step in releasing
    tags = re.findall(r"^\s*rev: (\S+)$", readme, re.M) + re.findall(r"toneguard@(v[\w.]+)", readme)
    assert len(tags) >= 2 and set(tags) == {f"v{version}"}, tags
