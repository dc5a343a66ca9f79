"""Hostile input: one bad draft never costs the others their reports, and nothing hangs."""
from __future__ import annotations

import base64
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from toneguard import engine
from toneguard.config import Settings
from toneguard.engine import lint_text
from toneguard.errors import ToneguardError
from toneguard.letter import read_letter
from toneguard.mime import html_text
from toneguard.sources import MAX_BYTES

GOOD = "Hi Priya,\n\nThank you for the tour of the lab, and for letting me know about the analyst role.\n"
# A GB2312 body ending in a byte the decoder holds back and replaces only at the end.
GB2312 = ("To: priya@acme.example\nContent-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: base64\n\n"
          + base64.encodebytes(GOOD.encode("gb2312") + b"\xb0\xff").decode())


def letters(folder, count: int, **extra: str) -> list[str]:
    """`count` good drafts plus the named extra ones; their paths in the order a run reports them."""
    folder.mkdir()
    for index in range(count):
        (folder / f"good-{index:03}.txt").write_text(GOOD)
    for name, text in extra.items():
        (folder / name).write_text(text)
    return sorted(f"{folder.name}/{path.name}" for path in folder.iterdir())


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_gb2312_body_the_decoder_trips_on_is_linted_with_the_others(cli, workdir, jobs):
    paths = letters(workdir / "letters", 70, **{"crafted.eml": GB2312})
    run = cli("check", "letters", "--jobs", jobs, "--format", "json")
    assert run.err == "" and [f["path"] for f in json.loads(run.out)["files"]] == paths, run
    crafted = workdir / "letters" / "crafted.eml"
    [draft] = [f for f in json.loads(run.out)["files"] if f["path"].endswith("crafted.eml")]
    for violation in draft["violations"]:  # offsets still point into the file
        assert 0 <= violation["start"] <= violation["end"] <= len(crafted.read_text())


BROKEN_CHECK = {
    "brokenplugin/__init__.py": '''
        from pathlib import Path

        rules = Path(__file__).parent / "rules"

        def kaboom(nlp):
            def run(doc):
                if any(token.lower_ == "kaboom" for token in doc):
                    raise RuntimeError("kaboom\\nsecond line")
                return []
            return run
        ''',
    "brokenplugin/rules/no-kaboom.yaml": '''
        id: no-kaboom
        extends: existence
        message: Says kaboom.
        why: Loud.
        source: {article: "003", quote: "Short, simple and non-threatening"}
        match: {check: kaboom}
        suggest: [quiet]
        examples:
          fires: [Thank you.]
          quiet: [Thank you.]
        ''',
    "brokenplugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 1.0\n",
    "brokenplugin-1.0.dist-info/entry_points.txt": '''
        [toneguard.rules]
        broken = brokenplugin:rules

        [toneguard.checks]
        kaboom = brokenplugin:kaboom
        ''',
}


def install(files: dict[str, str], site, monkeypatch) -> None:
    """A real (tiny) distribution on sys.path, its entry points seen by toneguard."""
    for name, text in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(site))
    for cache in (engine.cached_rules, engine._linter):
        cache.cache_clear()


@pytest.fixture
def broken_check(tmp_path, monkeypatch):
    install(BROKEN_CHECK, tmp_path / "site", monkeypatch)
    yield
    sys.modules.pop("brokenplugin", None)  # imported from a folder that is about to go
    for cache in (engine.cached_rules, engine._linter):
        cache.cache_clear()


BOOM = "toneguard: letters/boom.txt: internal error: RuntimeError: kaboom (set TONEGUARD_DEBUG=1 for details, " \
       "and please report it)\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rule_that_raises_on_one_draft_costs_only_that_draft(cli, workdir, broken_check, jobs):
    paths = letters(workdir / "letters", 70, **{"boom.txt": GOOD + "Kaboom.\n"})
    run = cli("check", "letters", "--jobs", jobs, "--format", "json")
    assert (run.code, run.err) == (2, BOOM), run
    assert [f["path"] for f in json.loads(run.out)["files"]] == [p for p in paths if p != "letters/boom.txt"]


def test_fix_gives_the_text_back_when_a_rule_raises(cli, workdir, broken_check):
    text = GOOD + "Kaboom!!\n"
    run = cli("fix", "-", "--stdin-filename", "letters/boom.txt", stdin=text)
    assert (run.code, run.out) == (2, text)
    assert run.err.splitlines()[0] == BOOM.strip()


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")


@needs_fifo
def test_a_pipe_in_a_folder_is_passed_over(workdir):
    """Opening a pipe blocks until something writes to it: never, in a letters folder."""
    paths = letters(workdir / "letters", 2)
    os.mkfifo(workdir / "letters" / "pipe.txt")
    run = subprocess.run([sys.executable, "-m", "toneguard", "check", "letters", "--format", "json"], cwd=workdir,
                         capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr) == (1, "") and [f["path"] for f in json.loads(run.stdout)["files"]] == paths


@needs_fifo
def test_a_pipe_named_on_the_command_line_is_refused_saying_what_it_is(cli, workdir):
    os.mkfifo(workdir / "pipe.txt")
    run = cli("check", "pipe.txt")
    assert (run.code, run.err) == (2, "toneguard: pipe.txt: is a pipe, not a draft file (to read standard input, "
                                      "pass -)\n")


def test_dev_stdin_that_is_a_pipe_is_refused_pointing_at_the_dash(workdir):
    run = subprocess.run([sys.executable, "-m", "toneguard", "check", "/dev/stdin"], input=GOOD, cwd=workdir,
                         capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr) == (
        2, "toneguard: /dev/stdin: is a pipe, not a draft file (to read standard input, pass -)\n")


def test_dev_stdin_that_is_a_file_is_read_like_any_file(workdir):
    (workdir / "a.txt").write_text("Hi Priya,\n\nThanks for nothing.\n")
    with open(workdir / "a.txt") as draft:
        run = subprocess.run([sys.executable, "-m", "toneguard", "check", "/dev/stdin"], stdin=draft, cwd=workdir,
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "/dev/stdin:3:1: error bitterness" in run.stdout, run


@pytest.mark.parametrize("unit", ["<!-- ", "<a ", "<a href='", "<? "])
def test_broken_html_is_read_in_linear_time(unit):
    markup = "<p>Hi Priya,</p><p>Thank you.</p>" + unit * (MAX_BYTES // len(unit))
    started = time.monotonic()
    text, offsets = html_text(markup)
    assert time.monotonic() - started < 10  # about 0.3 s; quadratic, this took minutes
    assert text.startswith("\n\nHi Priya,\n\nThank you.")
    assert len(offsets.starts) == len(text) + 1


def test_an_html_comment_never_closed_hides_the_rest_as_a_browser_does():
    text, offsets = html_text("<p>Hi Priya,</p><!-- <p>Dear applicant</p>")
    assert text == "\n\nHi Priya,"
    assert offsets[len(text) - 1] == len("<p>Hi Priya")  # the comma, where it was written


def test_matching_that_outruns_its_time_stops_with_that_drafts_error(cli, workdir, monkeypatch):
    from toneguard import matching

    monkeypatch.setattr(matching, "MATCH_SECONDS", 0.0)  # every draft outruns it
    paths = letters(workdir / "letters", 2)
    run = cli("check", "letters")
    assert run.code == 2 and run.err == "".join(
        f"toneguard: {path}: matching the rules took over 0 s, so this draft was stopped (a rule's patterns cost "
        "too much on it; --select or --ignore narrow the rules)\n" for path in paths)


@pytest.fixture
def deep_tree(workdir):
    """letters/d/d/…/d, 1,200 folders deep, made and removed one level at a time: pathlib and
    shutil recurse once per level, and pytest's own clean-up of old temporary folders would
    fail on it in every later run."""
    folders = [workdir / "letters"]
    for _ in range(1200):
        folders.append(folders[-1] / "d")
    for folder in folders:
        folder.mkdir()
    yield folders
    for folder in reversed(folders):
        for path in folder.iterdir():
            if not path.is_dir():
                path.unlink()
        folder.rmdir()


def test_a_folder_tree_1200_levels_deep_is_searched_to_a_bound(cli, workdir, deep_tree):
    (deep_tree[-1] / "lost.txt").write_text(GOOD)
    (deep_tree[99] / "found.txt").write_text(GOOD)
    run = cli("check", "letters", "--format", "json")
    assert (run.code, run.err) == (2, "toneguard: letters: folders nested more than 100 levels deep; the deeper "
                                      "ones were not searched\n"), run
    assert [f["path"] for f in json.loads(run.out)["files"]] == [os.path.join("letters", *["d"] * 99, "found.txt")]


def test_standard_input_is_read_no_further_than_the_size_limit(cli, workdir):
    run = cli("check", "-", stdin=b"\0" * 50_000_000)
    assert (run.code, run.err) == (2, "toneguard: -: larger than the 256,000-byte limit for a draft\n")
    assert sys.stdin.buffer.tell() == MAX_BYTES + 1  # the other 49.7 MB were never read


def test_check_dev_zero_is_refused_at_the_size_limit(workdir):
    def at_most_2_gib():
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    with open("/dev/zero", "rb") as zeros:
        run = subprocess.run([sys.executable, "-m", "toneguard", "check", "-"], stdin=zeros, cwd=workdir,
                             capture_output=True, text=True, timeout=120, preexec_fn=at_most_2_gib)
    assert (run.returncode, run.stderr) == (2, "toneguard: -: larger than the 256,000-byte limit for a draft\n")


SLOW_CHECK = {
    "slowplugin/__init__.py": '''
        import os
        import time
        from pathlib import Path

        rules = Path(__file__).parent / "rules"

        def slowly(nlp):
            """Notes the first draft each process lints, then takes 50 ms a draft."""
            def run(doc):
                marker = Path(os.environ["SLOW_MARKERS"]) / str(os.getpid())
                if not marker.exists():
                    marker.write_text("")
                time.sleep(0.05)
                return []
            return run
        ''',
    "slowplugin/rules/slow.yaml": BROKEN_CHECK["brokenplugin/rules/no-kaboom.yaml"].replace(
        "no-kaboom", "slow").replace("check: kaboom", "check: slowly"),
    "slowplugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: slowplugin\nVersion: 1.0\n",
    "slowplugin-1.0.dist-info/entry_points.txt": '''
        [toneguard.rules]
        slow = slowplugin:rules

        [toneguard.checks]
        slowly = slowplugin:slowly
        ''',
}


@pytest.mark.slow
def test_a_worker_killed_from_outside_costs_its_drafts_not_the_run(tmp_path, workdir):
    for name, text in SLOW_CHECK.items():
        (tmp_path / "site" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "site" / name).write_text(textwrap.dedent(text).lstrip())
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "SLOW_MARKERS": str(markers),
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    paths = letters(workdir / "letters", 130)  # chunks of 64, 64 and 2 drafts
    process = subprocess.Popen([sys.executable, "-m", "toneguard", "check", "--jobs", "2", "letters", "--format",
                                "json"], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        started = time.monotonic()
        while not list(markers.iterdir()) and time.monotonic() - started < 60:
            time.sleep(0.02)
        victim = int(next(markers.iterdir()).name)  # a worker, one draft into its 3-second chunk
        os.kill(victim, signal.SIGKILL)  # as the out-of-memory killer would
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the run waited forever for the killed worker")
    lost = err.splitlines()
    assert process.returncode == 2 and len(lost) == 64, err
    suffix = f": not linted: the process linting it (pid {victim}) was killed, from outside or for lack of memory"
    assert all(line.startswith("toneguard: letters/") and line.endswith(suffix) for line in lost), err
    reported = [f["path"] for f in json.loads(out)["files"]]
    assert sorted(reported + [line[len("toneguard: "):-len(suffix)] for line in lost]) == paths


sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import hostile  # noqa: E402  (benchmarks/hostile.py: the shapes that once took minutes)


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(hostile.SHAPES))
def test_every_hostile_shape_at_the_size_limit_is_linted_in_bounded_time(shape):
    suffix, unit = hostile.SHAPES[shape]
    text = hostile.draft(unit, MAX_BYTES)
    started = time.monotonic()
    try:
        report = lint_text(text, path="hostile" + suffix, settings=Settings())
    except ToneguardError as error:
        assert "words and punctuation marks; a draft is limited to" in str(error)
    else:
        for v in report.violations:
            assert v.text == text[v.start:v.end]
    assert time.monotonic() - started < 60  # under 5 s each on a busy 2-core machine; minutes before


def test_a_markdown_link_that_never_closes_is_passed_in_linear_time():
    started = time.monotonic()
    letter = read_letter("Hi Priya,\n\n" + "[ " * 50_000, "a.md")  # 50,000 marks, under the limit
    assert time.monotonic() - started < 5  # 0.1 s; each "[" rescanned the line before: minutes
    assert letter.body.count("[") == 50_000  # nothing blanked: no link


def test_a_long_run_on_paragraph_is_parsed_in_pieces_with_every_offset_kept():
    sentences = [f"I REALLY enjoyed the tour number {n}!! Thanks for nothing, {n}. " for n in range(700)]
    text = "Hi Priya,\n\n" + "".join(sentences)  # one paragraph of 48,000 characters
    report = lint_text(text, path="a.txt", settings=Settings())
    bitter = [v for v in report.violations if v.rule == "bitterness"]
    assert len(bitter) == 700 and all(v.text == text[v.start:v.end] for v in report.violations)
    assert bitter[-1].text == "Thanks for nothing, 699."
