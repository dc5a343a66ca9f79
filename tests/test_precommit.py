"""The pre-commit hook, run for real: the `pre-commit` executable from this virtualenv
builds the hook's environment from a snapshot of this checkout (pip-installing
toneguard, spaCy and the English pipeline) and lints a throwaway repository of letters.

The `.pre-commit-config.yaml` snippets are read out of the README's pre-commit
section, so the documentation cannot drift from what these tests run.

The snapshot copies the working tree as it is now, committed or not, into a new git
repository under the test's temporary folder, tagged with the `rev:` the README shows (the
tag of the current version); nothing here runs git in the checkout. So these tests prove
the documented hook works from a checkout at that tag, not that the tag is published: the
README's Releasing section says how it is, and test_packaging checks the README names the
current version's tag.
One PRE_COMMIT_HOME is shared by the module, so the environment is built once per run.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import toneguard

from conftest import CORPUS, REPO

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
CLEAN_LETTER = (CORPUS / "examples" / "seed-000-filled.txt").read_text(encoding="utf-8")
BITTER_LETTER = "Hi Priya,\n\nThanks for nothing.\n"
PUBLIC_URL = "https://github.com/toneguard/toneguard"
RELEASE = f"v{toneguard.__version__}"  # the tag the README's snippet names (checked in test_packaging)
# The first build pip-installs spaCy and the model: minutes on a slow connection.
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 300
# Not part of the snapshot: VCS data, virtualenvs, caches, build output.
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", ".tox", ".nox", "__pycache__", "*.pyc", ".pytest_cache",
    ".hypothesis", ".mypy_cache", ".ruff_cache", "build", "dist", "*.egg-info")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")


def _eml(body: str) -> str:
    return ("From: Sam Lee <sam@example.com>\nTo: Priya Shah <priya@acme.example>\n"
            "Subject: Re: Data Analyst position\nContent-Type: text/plain; charset=utf-8\n\n" + body)


def _report(request, line: str) -> None:
    """Show a timing line even under -q with output captured (and print it for -s)."""
    print(line)
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


# --- the documented snippets ---------------------------------------------------------

def _doc_snippet(marker: str) -> str:
    """The ```yaml block of the README holding `marker`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"^```ya?ml\n(.*?)^```", readme, re.S | re.M):
        if marker in block:
            return block
    pytest.fail(f"no ```yaml block with {marker!r} in README.md")


def remote_config(snapshot: Path) -> str:
    snippet = _doc_snippet(f"repo: {PUBLIC_URL}")
    assert f"rev: {RELEASE}" in snippet
    return snippet.replace(PUBLIC_URL, str(snapshot))


def local_config() -> str:
    return _doc_snippet("repo: local")


# --- git and pre-commit in a sealed environment ----------------------------------------

def _env(base: Path) -> dict[str, str]:
    """This process's environment (PATH, pip's settings) minus what would leak in.

    Git reads no global or system config (no hooksPath, templates, signing, identity),
    an outer git hook's GIT_DIR/GIT_INDEX_FILE cannot redirect these repositories, and
    pre-commit keeps its clones and environments in `base/home`.
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GIT_", "PRE_COMMIT")) and key not in ("SKIP", "TONEGUARD_DEBUG")}
    gitconfig = base / "gitconfig"
    gitconfig.touch()
    env.update(GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1",
               PRE_COMMIT_HOME=str(base / "home"), NO_COLOR="1")
    # `language: system` looks `toneguard` up on PATH: the one installed next to this python.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _run(cmd, cwd: Path, env: dict[str, str], timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    result = _run(["git", *args], cwd, env, timeout=60)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def _init(path: Path, env: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, env, "init", "-q")
    _git(path, env, "config", "user.name", "Toneguard Tests")
    _git(path, env, "config", "user.email", "tests@toneguard.invalid")
    _git(path, env, "config", "commit.gpgsign", "false")
    return path


class Sandbox:
    def __init__(self, base: Path, env: dict[str, str], snapshot: Path):
        self.base, self.env, self.snapshot = base, env, snapshot

    def letters_repo(self, path: Path, files: dict[str, str | bytes], config: str) -> Path:
        """A user's repository: the given files plus `.pre-commit-config.yaml`, all staged."""
        repo = _init(path, self.env)
        for name, content in {**files, ".pre-commit-config.yaml": config}.items():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        _git(repo, self.env, "add", "-A")
        return repo

    def pre_commit(self, repo: Path, *args: str, env: dict[str, str] | None = None):
        started = time.monotonic()
        result = _run([PRE_COMMIT, *args], repo, env or self.env)
        result.seconds = time.monotonic() - started
        return result


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, request) -> Sandbox:
    """A snapshot of this checkout as a git repository tagged RELEASE, and the hook's
    environment built from it once, in a PRE_COMMIT_HOME shared by this module."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    assert PRE_COMMIT.exists(), f"{PRE_COMMIT} is missing: pip install -e '.[test]'"
    base = tmp_path_factory.mktemp("pre-commit")
    env = _env(base)

    snapshot = base / "toneguard"
    shutil.copytree(REPO, snapshot, ignore=SNAPSHOT_IGNORE)
    assert (snapshot / ".pre-commit-hooks.yaml").exists()
    _init(snapshot, env)
    _git(snapshot, env, "add", "-A")
    _git(snapshot, env, "commit", "-q", "-m", "snapshot of the working tree")
    _git(snapshot, env, "tag", RELEASE)

    seed = Sandbox(base, env, snapshot).letters_repo(base / "bootstrap", {}, remote_config(snapshot))
    started = time.monotonic()
    result = _run([PRE_COMMIT, "install-hooks"], seed, env, timeout=BUILD_TIMEOUT)
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"building the hook environment failed:\n{result.stdout}\n{result.stderr}"
    _report(request, f"\n[pre-commit] hook environment built in {seconds:.1f} s (PRE_COMMIT_HOME={base / 'home'})")
    return Sandbox(base, env, snapshot)


def _output(result) -> str:
    return result.stdout + result.stderr


# --- the tests ----------------------------------------------------------------------

def test_the_manifest_is_valid_and_selects_drafts_only():
    """Quick: pre-commit accepts the manifest, and its filters pick drafts, not images or dotfiles."""
    from identify import identify

    result = subprocess.run([str(PRE_COMMIT), "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "toneguard" and hook["entry"] == "toneguard check" and hook["language"] == "python"
    assert hook["require_serial"] is True

    def selected(name: str, tags: set[str], files: str = hook["files"]) -> bool:
        return (re.search(files, name) is not None and set(hook["types"]) <= tags
                and re.search(hook["exclude"], name) is None)

    text = {"file", "text", "non-executable"}
    for name in ("acme.txt", "letters/acme.md", "letters/Reply.EML", "a.markdown"):
        assert selected(name, text | identify.tags_from_filename(name)), name
    for name in ("photo.png", "letters/cv.pdf"):
        assert not selected(name, {"file", "binary"} | identify.tags_from_filename(name)), name
    # With a user's `files: ^letters/`, the types and the exclude still apply.
    assert selected("letters/acme.eml", text, "^letters/")
    assert not selected("letters/photo.png", {"file", "binary", "image", "png"}, "^letters/")
    assert not selected("letters/.gitkeep", text, "^letters/")
    assert not selected("letters/.toneguard.yaml", text | {"yaml"}, "^letters/")


def test_the_clean_letter_is_clean(cli, workdir):
    """The premise of the passing runs below, checked directly."""
    (workdir / "acme.txt").write_text(CLEAN_LETTER, encoding="utf-8")
    (workdir / "acme.eml").write_text(_eml(CLEAN_LETTER), encoding="utf-8")
    run = cli("check", "acme.txt", "acme.eml")
    assert run.code == 0, run
    assert "No problems in 2 drafts." in run.out


@pytest.mark.slow
def test_a_bitter_letter_fails_the_hook(sandbox, tmp_path):
    repo = sandbox.letters_repo(tmp_path / "drafts", {
        "letters/acme.txt": CLEAN_LETTER,
        "letters/globex.txt": BITTER_LETTER,
        "notes.txt": BITTER_LETTER,
    }, remote_config(sandbox.snapshot))
    result = sandbox.pre_commit(repo, "run", "--all-files", "--color", "never")
    print(f"[pre-commit] run on a bitter letter: {result.seconds:.1f} s")
    out = _output(result)
    assert result.returncode == 1, out
    assert re.search(r"^toneguard\.+Failed$", out, re.M), out
    assert "- hook id: toneguard" in out
    assert "letters/globex.txt:3:1: error bitterness This sounds bitter" in out
    assert "in 1 of 2 drafts" in out
    assert "notes.txt" not in out


@pytest.mark.slow
def test_clean_letters_pass_in_one_process_and_only_drafts_under_letters_are_linted(sandbox, tmp_path):
    letters = {f"letters/copy-{n:02}.md": CLEAN_LETTER for n in range(10)}
    repo = sandbox.letters_repo(tmp_path / "drafts", {
        **letters,
        "letters/acme.txt": CLEAN_LETTER,
        "letters/acme.eml": _eml(CLEAN_LETTER),
        "letters/photo.png": PNG,
        "letters/.gitkeep": "",
        "letters/.toneguard.yaml": "fail-on: warning\n",
        "notes.txt": BITTER_LETTER,
    }, remote_config(sandbox.snapshot))
    result = sandbox.pre_commit(repo, "run", "--all-files", "--color", "never", "--verbose")
    print(f"[pre-commit] run on 12 clean letters: {result.seconds:.1f} s")
    out = _output(result)
    assert result.returncode == 0, out
    assert re.search(r"^toneguard\.+Passed$", out, re.M), out
    # The 10 .md, the .txt and the .eml; not the picture, the dotfiles or notes.txt.
    # One summary line for all twelve: one toneguard process, one model load.
    assert out.count("No problems in ") == 1 and "No problems in 12 drafts." in out, out


@pytest.mark.slow
def test_git_commit_is_stopped_by_a_bitter_letter_and_goes_through_once_it_is_fixed(sandbox, tmp_path):
    repo = sandbox.letters_repo(tmp_path / "drafts", {
        "letters/globex.txt": BITTER_LETTER,
        "notes.txt": BITTER_LETTER,
    }, remote_config(sandbox.snapshot))
    installed = sandbox.pre_commit(repo, "install")
    assert installed.returncode == 0, _output(installed)

    blocked = _run(["git", "commit", "-m", "reply to Globex"], repo, sandbox.env)
    out = _output(blocked)
    assert blocked.returncode != 0, out
    assert "letters/globex.txt:3:1: error bitterness" in out
    assert _run(["git", "rev-parse", "--verify", "-q", "HEAD"], repo, sandbox.env).returncode != 0

    (repo / "letters" / "globex.txt").write_text(CLEAN_LETTER, encoding="utf-8")
    _git(repo, sandbox.env, "add", "letters/globex.txt")
    passed = _run(["git", "commit", "-m", "reply to Globex"], repo, sandbox.env)
    assert passed.returncode == 0, _output(passed)
    assert sorted(_git(repo, sandbox.env, "ls-files").split()) == [
        ".pre-commit-config.yaml", "letters/globex.txt", "notes.txt"]


@pytest.mark.slow
def test_the_local_variant_uses_the_installed_toneguard(sandbox, tmp_path):
    config = local_config()
    assert "language: system" in config
    files = {"letters/acme.txt": CLEAN_LETTER, "letters/photo.png": PNG, "notes.txt": BITTER_LETTER}
    repo = sandbox.letters_repo(tmp_path / "clean", files, config)
    result = sandbox.pre_commit(repo, "run", "--all-files", "--color", "never", "--verbose")
    assert result.returncode == 0, _output(result)
    assert "No problems in 1 draft." in _output(result)

    repo = sandbox.letters_repo(tmp_path / "bitter", {**files, "letters/globex.md": BITTER_LETTER}, config)
    result = sandbox.pre_commit(repo, "run", "--all-files", "--color", "never")
    out = _output(result)
    assert result.returncode == 1, out
    assert "letters/globex.md:3:1: error bitterness" in out and "in 1 of 2 drafts" in out


@pytest.mark.slow
def test_no_progress_bar_in_the_hook_output_at_a_terminal(sandbox, tmp_path):
    """At a terminal pre-commit runs hooks in a pty (so they colour their output) and
    prints what they wrote afterwards; a progress bar there is just noise."""
    letters = {f"letters/copy-{n:02}.md": CLEAN_LETTER for n in range(20)}
    repo = sandbox.letters_repo(tmp_path / "drafts", letters, remote_config(sandbox.snapshot))
    env = {key: value for key, value in sandbox.env.items() if key not in ("CI", "NO_COLOR")}
    result = sandbox.pre_commit(repo, "run", "--all-files", "--color", "always", "--verbose", env=env)
    out = _output(result)
    assert result.returncode == 0, out
    assert "No problems in 20 drafts." in out
    assert "Linting" not in out, out
