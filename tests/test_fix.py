"""`toneguard fix`: safe suggestions only, atomic writes that keep encoding, line endings
and mode, idempotent, and a filter mode for editors."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


from toneguard import fixing
from toneguard.fixing import apply
from toneguard.report import Suggestion

LOUD = "Hi Priya,\n\nThank you for the tour of the lab!! I REALLY enjoyed it. Please keep me in mind.\n\nJane\n"
FIXED = "Hi Priya,\n\nThank you for the tour of the lab! I really enjoyed it. Please keep me in mind.\n\nJane\n"


def test_fix_in_place_keeps_crlf_bom_and_mode(cli, workdir):
    path = workdir / "a.txt"
    path.write_bytes(b"\xef\xbb\xbf" + LOUD.replace("\n", "\r\n").encode())
    path.chmod(0o640)
    run = cli("fix", "a.txt")
    assert run.code == 0 and "Fixed 2 problems in 1 draft." in run.out
    assert path.read_bytes() == b"\xef\xbb\xbf" + FIXED.replace("\n", "\r\n").encode()
    assert path.stat().st_mode & 0o777 == 0o640
    assert not [p for p in workdir.iterdir() if p.name.startswith(".toneguard-")]


def test_fixing_twice_changes_nothing_the_second_time(cli, workdir):
    path = workdir / "a.md"
    path.write_text(LOUD)
    cli("fix", "a.md")
    once = path.read_bytes()
    run = cli("fix", "a.md")
    assert path.read_bytes() == once and "Fixed 0 problems in 0 drafts." in run.out


def test_diff_prints_and_changes_nothing(cli, workdir):
    path = workdir / "a.txt"
    path.write_text(LOUD)
    run = cli("fix", "--diff", "a.txt")
    assert run.code == 1
    assert "-Thank you for the tour of the lab!! I REALLY" in run.out
    assert "+Thank you for the tour of the lab! I really" in run.out
    assert path.read_text() == LOUD
    path.write_text(FIXED)
    assert cli("fix", "--diff", "a.txt").code == 0


def test_stdin_filter_writes_the_fixed_text_to_stdout(cli, workdir):
    run = cli("fix", "-", stdin=LOUD)
    assert run.code == 0 and run.out == FIXED
    assert "Fixed 2 problems in 1 draft." in run.err


def test_unsafe_suggestions_are_reported_not_applied(cli, workdir):
    bitter = "Hi Priya,\n\nThanks for nothing. I was devastated!!\n\nJane\n"
    path = workdir / "a.txt"
    path.write_text(bitter)
    run = cli("fix", "a.txt")
    assert path.read_text() == bitter.replace("!!", "!")
    assert "error bitterness" in run.out and "→ delete the sentence “Thanks for nothing.”" in run.out


LETTER_WITH_FACTS = ("Hi Ms. Hansen,\n\nThank you for letting me know about the shift lead role. I ran a forklift "
                     "crew for ten years at Dock Street, though it took you seven weeks to tell me no. I'm begging "
                     "you, please give me another chance!!\n\nBest,\nTom\n")


def test_fix_all_rewrites_the_whole_letter_keeping_the_writers_facts(cli, workdir):
    path = workdir / "a.txt"
    path.write_text(LETTER_WITH_FACTS)
    run = cli("fix", "--all", "a.txt")
    fixed = path.read_text()
    assert run.code == 0 and "read it before you send it" in run.out
    assert "forklift crew for ten years at Dock Street" in fixed and "seven weeks" not in fixed
    assert "begging" not in fixed and "!!" not in fixed
    assert fixed.startswith("Hi Ms. Hansen,\n\nThank you for letting me know about the shift lead role.")
    assert fixed.count("keep me in mind") <= 1
    remaining = {line.split()[2] for line in cli("check", "a.txt").out.splitlines()[:-1] if not line.startswith(" ")}
    assert remaining <= {"placeholder"}  # a fill-in slot it asks the writer for, at most
    assert cli("fix", "--all", "a.txt").code == 0 and path.read_text() == fixed  # nothing left to change


def test_fix_all_as_a_filter_and_as_a_diff(cli, workdir):
    (workdir / "a.txt").write_text(LETTER_WITH_FACTS)
    filtered = cli("fix", "--all", "-", "--quiet", stdin=LETTER_WITH_FACTS)
    diff = cli("fix", "--unsafe-fixes", "--diff", "a.txt")
    assert filtered.code == 0 and filtered.out != LETTER_WITH_FACTS and "seven weeks" not in filtered.out
    assert diff.code == 1 and "-Hi Ms. Hansen" not in diff.out and "+" in diff.out
    assert (workdir / "a.txt").read_text() == LETTER_WITH_FACTS  # --diff writes nothing


def test_an_encoded_email_body_is_not_rewritten(cli, workdir):
    path = workdir / "a.eml"
    original = ("To: priya@acme.example\nContent-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: quoted-printable\n\nHi Priya,\n\nThank you=21=21 Best of luck.\n")
    path.write_text(original)
    run = cli("fix", "a.eml")
    assert run.code == 2 and "a.eml: cannot fix: the draft is encoded inside the message" in run.err
    assert path.read_text() == original


def test_apply_takes_the_earliest_of_overlapping_edits():
    text = "abcdef"
    edits = [Suggestion("X", 1, 3), Suggestion("Y", 2, 4), Suggestion("Z", 5, 5), Suggestion("", 4, 5)]
    assert apply(text, edits) == ("aXdZf", 3)


WRITER = r"""
import sys
from toneguard.fixing import write_atomically
path, size = sys.argv[1], int(sys.argv[2])
old, new = b"o" * size, b"n" * size
print("ready", flush=True)
while True:
    write_atomically(path, new)
    write_atomically(path, old)
"""


def test_a_killed_write_leaves_the_old_or_the_new_file(tmp_path):
    path = tmp_path / "letter.txt"
    size = 8_000_000
    path.write_bytes(b"o" * size)
    seen = set()
    for attempt in range(12):
        process = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(size)], stdout=subprocess.PIPE)
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.037 * attempt)
        process.send_signal(signal.SIGKILL)
        process.wait()
        data = path.read_bytes()
        assert data in (b"o" * size, b"n" * size), f"torn file after kill #{attempt}: {len(data)} bytes"
        seen.add(data[:1])
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".toneguard-")]
    assert len(leftovers) <= 12  # a killed process may leave its temporary file, never a torn letter
    assert seen  # the loop ran


def test_filter_mode_quiet_prints_only_the_text(cli, workdir):
    run = cli("fix", "--quiet", "-", "--stdin-filename", "letters/a.md", stdin=LOUD)
    assert (run.code, run.out, run.err) == (0, FIXED, "")


def test_filter_mode_gives_the_text_back_unchanged_on_an_error(cli, workdir):
    (workdir / ".toneguard.yaml").write_text("stage: someday\n")
    run = cli("fix", "-", stdin=LOUD.replace("\n", "\r\n"))
    assert run.code == 2 and run.out == LOUD.replace("\n", "\r\n")
    assert run.err.splitlines()[0].endswith(".toneguard.yaml: stage: 'someday' is not one of first-reply, "
                                            "follow-up, check-in")


def test_filter_mode_keeps_the_byte_order_mark(cli, workdir):
    run = cli("fix", "-", stdin=b"\xef\xbb\xbf" + LOUD.encode())
    assert run.code == 0 and run.out == "\ufeff" + FIXED


def test_filter_mode_gives_bytes_that_are_not_utf8_back_exactly(workdir):
    latin1 = b"Hi,\n\nCaf\xe9!!\n"  # what Vim hands over for a Latin-1 buffer
    run = subprocess.run([sys.executable, "-m", "toneguard", "fix", "-"], input=latin1, capture_output=True,
                         cwd=workdir, timeout=120)
    assert (run.returncode, run.stdout) == (2, latin1)
    assert run.stderr.decode().splitlines()[0] == "toneguard: -: not UTF-8 text (byte 0xe9 at offset 8)"
    assert b"Traceback" not in run.stderr


def test_filter_mode_gives_a_draft_over_the_size_limit_back_whole(cli, workdir):
    huge = b"Hi Priya,\n\n" + b"Thank you!! " * 30_000  # 360 KB
    run = cli("fix", "-", stdin=huge)
    assert run.code == 2 and run.out.encode() == huge
    assert run.err.splitlines()[0] == "toneguard: -: larger than the 256,000-byte limit for a draft"


def test_check_calls_a_draft_fixable_only_when_fix_will_rewrite_it(cli, workdir):
    head = "To: priya@acme.example\nContent-Type: text/plain; charset=utf-8\n"
    body = "\nHi Priya,\n\nThank you for the tour of the lab=21=21 Please keep me in mind.\n\nJane\n"
    (workdir / "encoded.eml").write_text(head + "Content-Transfer-Encoding: quoted-printable\n" + body)
    (workdir / "plain.eml").write_text(head + body.replace("=21=21", "!!"))
    for name, fixable in (("encoded.eml", False), ("plain.eml", True)):
        run = cli("check", "--fail-on", "error", name)
        assert "error" not in run.out and "raw-emotion" in run.out, run
        assert ("[safe fix]" in run.out, "1 fixable with `toneguard fix`" in run.out) == (fixable, fixable)
        report = json.loads(cli("check", "--format", "json", name).out)
        assert [s["safe"] for v in report["files"][0]["violations"] for s in v["suggestions"]] == [fixable]
        assert cli("fix", name).code == (0 if fixable else 2)


def test_fixing_a_symlink_fixes_its_target_and_keeps_the_link(cli, workdir):
    (workdir / "drafts").mkdir()
    target = workdir / "drafts" / "real.txt"
    target.write_text(LOUD)
    (workdir / "link.txt").symlink_to(target)
    run = cli("fix", "link.txt")
    assert run.code == 0 and "Fixed 2 problems in 1 draft." in run.out
    assert (workdir / "link.txt").is_symlink() and os.readlink(workdir / "link.txt") == str(target)
    assert target.read_text() == FIXED


def test_a_hard_linked_file_is_refused_not_split(cli, workdir):
    path = workdir / "a.txt"
    path.write_text(LOUD)
    os.link(path, workdir / "copy.txt")
    run = cli("fix", "a.txt")
    assert (run.code, run.err) == (2, "toneguard: a.txt: cannot fix: the file has 2 hard links, and the others "
                                      "would keep the old text; pipe it through `toneguard fix -` instead\n")
    assert path.read_text() == LOUD and os.path.samefile(path, workdir / "copy.txt")


def test_a_read_only_file_is_refused_unless_forced(cli, workdir):
    path = workdir / "a.txt"
    path.write_text(LOUD)
    path.chmod(0o444)
    run = cli("fix", "a.txt")
    assert (run.code, run.err) == (2, "toneguard: a.txt: cannot fix: the file is read-only (--force fixes it anyway)\n")
    assert path.read_text() == LOUD
    assert cli("fix", "--force", "a.txt").code == 0
    assert path.read_text() == FIXED and path.stat().st_mode & 0o777 == 0o444


def test_a_file_edited_while_it_is_fixed_is_not_written_over(cli, workdir, monkeypatch):
    path = workdir / "a.txt"
    path.write_text(LOUD)
    fix_text = fixing.fix_text

    def slow_fix(*args, **kwargs):  # the user adds a line while the draft is being fixed
        with open(path, "a") as draft:
            draft.write("P.S. One more thing.\n")
        return fix_text(*args, **kwargs)

    monkeypatch.setattr(fixing, "fix_text", slow_fix)
    run = cli("fix", "a.txt")
    assert (run.code, run.err) == (2, "toneguard: a.txt: cannot fix: the file changed while it was being fixed, so "
                                      "nothing was written; run `toneguard fix` again\n")
    assert path.read_text() == LOUD + "P.S. One more thing.\n"
    assert not [p for p in workdir.iterdir() if p.name.startswith(".toneguard-")]


def test_stdin_is_not_fixed_together_with_files(cli, workdir):
    (workdir / "other.txt").write_text(LOUD)
    run = cli("fix", "-", "other.txt", stdin=LOUD)
    assert (run.code, run.out, run.err) == (2, "", "toneguard: fix: '-' cannot be mixed with other paths (standard "
                                                   "input is fixed to standard output, files in place); fix them in "
                                                   "separate runs\n")
    assert (workdir / "other.txt").read_text() == LOUD
    assert cli("check", "-", "other.txt", stdin=LOUD).code == 0  # check reads both, and writes nothing
