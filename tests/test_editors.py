"""Editors, run for real: the README's Vim command in Vim and Neovim, and the README's Neovim
language-server snippets in headless Neovim. The snippets are read out of the README, so
the documentation cannot drift from what runs here. A test whose editor is not installed
(or too old for its snippet) is skipped, saying so; CI installs them (see .ci/run).

Each editor runs with no user configuration (-u NONE or the snippet as init file, a
private HOME and XDG folders), on PATH only what the case needs.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

BIN = Path(sys.executable).parent  # where this virtualenv's `toneguard` is
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
TIMEOUT = 120
LOUD = "Hi Priya,\n\nThank you for your time!! I enjoyed our talk about the forecasting project.\n"


def readme_block(language: str, marker: str) -> str:
    """The ```language block of the README that holds `marker`."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for block in re.findall(rf"^```{language}\n(.*?)^```", readme, re.S | re.M):
        if marker in block:
            return block
    pytest.fail(f"no ```{language} block with {marker!r} in README.md")


def editor(name: str) -> str:
    found = shutil.which(name, path=SYSTEM_PATH)
    if found is None:
        pytest.skip(f"{name} is not installed (CI installs it: apt-get install {'neovim' if name == 'nvim' else name})")
    return found


def private_env(home: Path, path: str) -> dict[str, str]:
    """No user or system editor configuration, no shared state, and PATH as given."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("VIM", "MYVIMRC", "NVIM", "XDG_", "TONEGUARD"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), PATH=path, NO_COLOR="1", XDG_CONFIG_HOME=str(home / "config"),
               XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"),
               XDG_CACHE_HOME=str(home / "cache"))
    return env


# --- :ToneguardFix -------------------------------------------------------------------

FIX_SCRIPT = """\
set shell=/bin/sh
source {snippet}
try
  ToneguardFix
  let g:result = 'ok'
catch
  let g:result = v:exception
endtry
call writefile([g:result], '{result}')
call writefile(getline(1, '$'), '{buffer}', 'b')
qa!
"""


def run_fix(program: str, tmp_path: Path, path: str, draft: Path | None = None,
            lines: list[str] | None = None, options: tuple[str, ...] = ()) -> tuple[str, bytes]:
    """Run :ToneguardFix in `program` on `draft` (or on an unnamed buffer holding `lines`);
    what it said (ok or the error) and the buffer's bytes afterwards."""
    snippet = readme_block("vim", "ToneguardFix")
    if program == "nvim-lua":  # in init.lua, as the README says: wrapped in vim.cmd([[ ]])
        program, snippet_file, snippet = "nvim", tmp_path / "snippet.lua", f"vim.cmd([[\n{snippet}]])\n"
    else:
        snippet_file = tmp_path / "snippet.vim"
    snippet_file.write_text(snippet, encoding="utf-8")
    script = tmp_path / "run.vim"
    script.write_text(FIX_SCRIPT.format(snippet=snippet_file, result=tmp_path / "result.txt",
                                        buffer=tmp_path / "buffer.txt"), encoding="utf-8")
    command = [editor(program), "-u", "NONE", "-i", "NONE", "-n", "-N", "-es", *options]
    if lines is not None:
        command += ["-c", "call setline(1, " + repr(lines).replace("\\'", "''") + ")"]
    command += ["-c", f"source {script}"] + ([str(draft)] if draft else [])
    result = subprocess.run(command, cwd=tmp_path, env=private_env(tmp_path / "home", path),
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    said = (tmp_path / "result.txt").read_text(encoding="latin-1").strip() if (tmp_path / "result.txt").exists() else ""
    assert said, f"{program} did not run the script: {result.stdout!r} {result.stderr!r}"
    return said, (tmp_path / "buffer.txt").read_bytes()


@pytest.fixture(params=["vim", "nvim", "nvim-lua"])
def vim(request) -> str:
    editor(request.param.split("-")[0])
    return request.param


@pytest.fixture
def letters(tmp_path) -> Path:
    folder = tmp_path / "my letters 100%"  # a space and a % (which Vim expands in :!) in the name
    folder.mkdir()
    (folder / ".toneguard.yaml").write_text("{}\n")
    return folder


@pytest.mark.slow
def test_fix_command_fixes_the_buffer_and_leaves_the_file_alone(vim, tmp_path, letters):
    draft = letters / "acme.txt"
    draft.write_text(LOUD)
    said, buffer = run_fix(vim, tmp_path, f"{BIN}:{SYSTEM_PATH}", draft)
    assert said == "ok"
    assert buffer.decode() == LOUD.replace("!!", "!").rstrip("\n")
    assert draft.read_text() == LOUD  # the buffer is fixed, not the file: saving is the user's call


@pytest.mark.slow
def test_fix_command_works_in_a_buffer_with_no_file_name(vim, tmp_path):
    (tmp_path / ".toneguard.yaml").write_text("{}\n")
    said, buffer = run_fix(vim, tmp_path, f"{BIN}:{SYSTEM_PATH}", lines=LOUD.rstrip("\n").split("\n"))
    assert said == "ok"  # not E499
    assert buffer.decode() == LOUD.replace("!!", "!").rstrip("\n")


@pytest.mark.slow
def test_fix_command_leaves_the_buffer_as_it_was_when_toneguard_is_not_on_path(vim, tmp_path, letters):
    assert shutil.which("toneguard", path=SYSTEM_PATH) is None
    draft = letters / "acme.txt"
    draft.write_text(LOUD)
    said, buffer = run_fix(vim, tmp_path, SYSTEM_PATH, draft)
    assert "toneguard is not on PATH; the buffer is unchanged" in said
    assert buffer.decode() == LOUD.rstrip("\n")


@pytest.mark.slow
def test_fix_command_undoes_whatever_a_failing_toneguard_printed(vim, tmp_path, letters):
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "toneguard").write_text("#!/bin/sh\ncat >/dev/null\necho 'half a letter'\nexit 2\n")
    (fake / "toneguard").chmod(0o755)
    draft = letters / "acme.txt"
    draft.write_text(LOUD)
    said, buffer = run_fix(vim, tmp_path, f"{fake}:{SYSTEM_PATH}", draft)
    assert "toneguard fix failed; the buffer is unchanged" in said
    assert buffer.decode() == LOUD.rstrip("\n")


@pytest.mark.slow
def test_fix_command_never_loses_a_latin_1_buffer(vim, tmp_path, letters):
    """A Latin-1 draft reaches the filter as Latin-1, not UTF-8: Vim whose 'encoding' is latin1
    (its default in a C locale) holds the file's bytes as they are, and Neovim converts the
    buffer back to the file's encoding for the filter. Whatever toneguard answers, the
    buffer ends up holding the same text."""
    original = LOUD.replace("forecasting", "caf\xe9")
    draft = letters / "cafe.txt"
    draft.write_bytes(original.encode("latin-1"))
    options = ("--cmd", "set encoding=latin1") if vim == "vim" else ()
    said, buffer = run_fix(vim, tmp_path, f"{BIN}:{SYSTEM_PATH}", draft, options=options)
    held = buffer.decode("latin-1" if vim == "vim" else "utf-8")  # the editor's own encoding
    assert held == original.rstrip("\n"), said
    assert draft.read_bytes() == original.encode("latin-1")


# --- the language server in Neovim -------------------------------------------------------

# The README's Neovim snippets: the oldest version each is for, and a line that finds it.
NVIM_SNIPPETS = {(0, 11): "vim.lsp.config('toneguard'", (0, 8): "vim.lsp.start({", (0, 7): "vim.lsp.start_client({"}
WAIT_SCRIPT = """\
local function clients(buf)  -- attached toneguard clients (vim.lsp.get_clients is new in 0.10)
  local found = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = buf }) or vim.lsp.buf_get_clients(buf)
  local n = 0
  for _ in pairs(found) do n = n + 1 end
  return n
end
local result = {}
vim.cmd('edit @LETTER@')
local letter = vim.api.nvim_get_current_buf()
result.waited = vim.wait(90000, function() return #vim.diagnostic.get(letter) > 0 end, 50)
result.letter = {}
for _, d in ipairs(vim.diagnostic.get(letter)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  table.insert(result.letter, { code = code, message = d.message, lnum = d.lnum, col = d.col, source = d.source })
end
result.letter_clients = clients(letter)
vim.cmd('edit @NOTES@')
local notes = vim.api.nvim_get_current_buf()
vim.wait(3000, function() return #vim.diagnostic.get(notes) > 0 end, 50)
result.notes = #vim.diagnostic.get(notes)
result.notes_clients = clients(notes)
vim.fn.writefile({ vim.fn.json_encode(result) }, '@RESULT@')
vim.cmd('qa!')
"""


def neovims() -> list[tuple[tuple[int, int], str]]:
    """Every Neovim to test with: `nvim` on PATH, and any named in TONEGUARD_TEST_NVIM
    (os.pathsep-separated; CI adds a newer release there), with its version."""
    found = {}
    for candidate in [shutil.which("nvim", path=SYSTEM_PATH) or ""] + os.environ.get("TONEGUARD_TEST_NVIM", "").split(os.pathsep):
        if candidate and os.access(candidate, os.X_OK):
            first = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=30).stdout
            version = re.match(r"NVIM v(\d+)\.(\d+)", first)
            if version:
                found[candidate] = (int(version[1]), int(version[2]))
    return sorted((version, path) for path, version in found.items())


@pytest.mark.slow
@pytest.mark.parametrize("oldest", list(NVIM_SNIPPETS), ids=lambda v: f"snippet-for-{v[0]}.{v[1]}")
def test_neovim_snippet_shows_findings_in_a_letters_folder_and_nothing_elsewhere(oldest, tmp_path):
    installed = neovims()
    usable = [(version, path) for version, path in installed if version >= oldest]
    if not usable:
        have = ", ".join(f"{v[0]}.{v[1]}" for v, _ in installed) or "none"
        pytest.skip(f"needs Neovim {oldest[0]}.{oldest[1]} or later (installed: {have}); "
                    "CI installs Debian's and names a newer one in TONEGUARD_TEST_NVIM")
    letters, notes = tmp_path / "letters", tmp_path / "notes"
    letters.mkdir()
    notes.mkdir()
    (letters / ".toneguard.yaml").write_text("{}\n")
    bitter = "Hi Priya,\n\nThanks for nothing.\n"
    (letters / "acme.txt").write_text(bitter)
    (notes / "README.md").write_text(bitter)  # no letter: outside the letters folder
    (tmp_path / "init.lua").write_text(readme_block("lua", NVIM_SNIPPETS[oldest]), encoding="utf-8")
    for version, nvim in usable:
        result = tmp_path / f"result-{version[0]}.{version[1]}.json"
        script = WAIT_SCRIPT.replace("@LETTER@", str(letters / "acme.txt")).replace("@NOTES@", str(notes / "README.md"))
        (tmp_path / "wait.lua").write_text(script.replace("@RESULT@", str(result)), encoding="utf-8")
        run = subprocess.run([nvim, "--headless", "-u", str(tmp_path / "init.lua"), "-i", "NONE", "-n",
                              "-c", f"luafile {tmp_path / 'wait.lua'}"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                             env=private_env(tmp_path / "home", f"{BIN}:{SYSTEM_PATH}"), capture_output=True,
                             text=True, timeout=TIMEOUT)
        assert result.exists(), f"nvim {version}: {run.stdout[-2000:]} {run.stderr[-2000:]}"
        seen = json.loads(result.read_text())
        where = f"Neovim {version[0]}.{version[1]}"
        assert seen["waited"] and seen["letter_clients"] == 1, (where, seen)
        [bitterness] = [d for d in seen["letter"] if d["code"] == "bitterness"]
        assert (bitterness["lnum"], bitterness["col"], bitterness["source"]) == (2, 0, "toneguard"), where
        assert bitterness["message"].startswith("This sounds bitter"), where
        assert (seen["notes"], seen["notes_clients"]) == (0, 0), (where, seen)
