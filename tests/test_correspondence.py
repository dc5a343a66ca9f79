"""Rules across a folder of letters: duplicate-note, replied-too-soon, check-in-too-soon.

Real drafts on disk (front matter, .eml files), run through the command line or the
library, time zones included; the labelled pairs of corpus/pairs held to the quality bar.
"""
from __future__ import annotations

import importlib.util
import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone

import pytest

from conftest import REPO
from toneguard import config, correspondence, dates
from toneguard.config import Settings
from toneguard.engine import lint_paths, lint_text
from toneguard.fixing import apply

spec = importlib.util.spec_from_file_location("quality", REPO / "benchmarks" / "quality.py")
quality = importlib.util.module_from_spec(spec)
sys.modules.setdefault("quality", quality)
spec.loader.exec_module(quality)

NOTE = """\
---
to: {name} <{address}>
{extra}---
Hi {first},

Thank you for letting me know about the analyst role. I enjoyed the tour of the warehouse
and hearing how the team plans the delivery routes each morning, and {first}, your question
about the winter peak has stayed with me.

Please keep me in mind if a similar role opens up at Acme.

Best,
Jane
"""
OTHER_NOTE = """\
---
to: Dana Novak <dana@acme.example>
---
Hi Dana,

Thank you for your time and consideration throughout the interview process. You kept me
posted at every step, and your advice on the case study made the second round much easier.

Best,
Jane
"""
REPLY_EML = """\
From: Jane Doe <jane@example.com>
To: Priya Shah <priya@acme.example>
Subject: Re: Your application
Date: {date}
Content-Type: text/plain; charset=utf-8

Hi Priya,

Thank you for letting me know, and for the tour of the warehouse. Please keep me in mind
for future openings.

Best,
Jane

On Tue, 3 Mar 2026 at 09:12 +0100, Priya Shah <priya@acme.example> wrote:
> Thank you for interviewing with us. We have decided to move forward with another candidate.
"""


def note(first: str, surname: str, domain: str = "acme.example", extra: str = "") -> str:
    return NOTE.format(name=f"{first} {surname}", address=f"{first.lower()}@{domain}", first=first, extra=extra)


def write(folder, files: dict[str, str]):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def findings(run, rule: str) -> dict[str, list[dict]]:
    document = json.loads(run.out)
    return {f["path"]: [v for v in f["violations"] if v["rule"] == rule] for f in document["files"]}


# --- duplicate-note ---------------------------------------------------------------------


def test_the_labelled_pairs_meet_the_bar():
    score, one_sided = quality.evaluate_pairs()
    assert score.precision >= 0.95 and score.recall >= 0.95, score.misses
    assert one_sided == []  # each draft of a flagged pair names the other
    assert len(quality.pair_labels()) >= 60


def test_a_folder_is_compared_and_each_copy_names_the_other(cli, workdir):
    write(workdir, {"letters/acme/priya.md": note("Priya", "Shah"), "letters/acme/marcus.md": note("Marcus", "Lee"),
                    "letters/acme/dana.md": OTHER_NOTE})
    run = cli("check", "letters", "--format", "json", "--select", "duplicate-note")
    found = findings(run, "duplicate-note")
    assert [v["message"].split("(")[-1] for v in found["letters/acme/marcus.md"]] == [
        "nearly the same as letters/acme/priya.md to Priya)"]
    assert [v["message"].split("(")[-1] for v in found["letters/acme/priya.md"]] == [
        "nearly the same as letters/acme/marcus.md to Marcus)"]
    assert found["letters/acme/dana.md"] == []  # shares a stock line, nothing more
    violation = found["letters/acme/priya.md"][0]
    # where its fix goes, as other whole-letter findings: the first word of the content
    assert (violation["line"], violation["column"], violation["text"], violation["severity"]) == (
        6, 1, "Thank", "warning")
    # the greeting names her already, so the added line does not name her again
    added = violation["suggestions"][0]
    assert added["text"] == "It meant a lot that you took the time to talk with me yourself. "
    assert (added["kind"], added["description"]) == (
        "insert", "add at the start, after the greeting: “It meant a lot that you took the time to talk with me "
                  "yourself.”")
    assert run.code == 1


def test_one_draft_checked_alone_reads_the_others_but_lints_only_it(cli, workdir):
    """As pre-commit runs it: only the changed draft is named; the drafts beside it are read
    for comparison (a broken one is passed over) and never reported."""
    write(workdir, {"letters/priya.md": note("Priya", "Shah"), "letters/marcus.md": note("Marcus", "Lee"),
                    "letters/sub/dana.md": note("Dana", "Novak"), "letters/broken.md": "---\nto: [x\n---\nHi\n",
                    "letters/.hidden/sam.md": note("Sam", "Patel")})
    run = cli("check", "letters/marcus.md", "--format", "json", "--select", "duplicate-note")
    found = findings(run, "duplicate-note")
    assert list(found) == ["letters/marcus.md"] and json.loads(run.out)["errors"] == []
    assert found["letters/marcus.md"][0]["message"].endswith(
        "(nearly the same as letters/priya.md to Priya and letters/sub/dana.md to Dana)")


def test_a_draft_and_its_revision_to_the_same_person_are_no_copies(cli, workdir):
    revised = note("Priya", "Shah").replace("Hi Priya", "Dear Ms. Shah").replace("and Priya,", "and Ms. Shah,")
    write(workdir, {"letters/priya-draft.md": note("Priya", "Shah"), "letters/priya.md": revised})
    run = cli("check", "letters", "--format", "json", "--select", "duplicate-note")
    assert findings(run, "duplicate-note") == {"letters/priya-draft.md": [], "letters/priya.md": []}


def test_the_same_note_to_two_employers_is_no_copy(cli, workdir):
    write(workdir, {"letters/acme.md": note("Priya", "Shah"),
                    "letters/northwind.md": note("Marcus", "Lee", "northwind.example").replace("Acme", "Northwind")})
    run = cli("check", "letters", "--format", "json", "--select", "duplicate-note")
    assert all(found == [] for found in findings(run, "duplicate-note").values())


@pytest.fixture
def fresh_config():
    """Each run reads the config files again (the command line caches them for its one run)."""
    yield
    config.find_config.cache_clear()
    config._cached_config.cache_clear()


def reread():
    config.find_config.cache_clear()
    config._cached_config.cache_clear()


def test_the_root_and_the_similarity_come_from_config(cli, workdir, fresh_config):
    changed = note("Marcus", "Lee").replace("Please keep me in mind if a similar role opens up at Acme.",
                                            "I have since signed up for a course in logistics planning.")
    write(workdir, {"letters/priya/note.md": note("Priya", "Shah"), "letters/marcus/note.md": changed})
    run = cli("check", "letters/marcus/note.md", "--format", "json", "--select", "duplicate-note")
    assert findings(run, "duplicate-note")["letters/marcus/note.md"] == []  # its folder holds no other draft
    (workdir / ".toneguard.yaml").write_text("correspondence-root: letters\n")
    reread()
    run = cli("check", "letters/marcus/note.md", "--format", "json", "--select", "duplicate-note")
    assert "letters/priya/note.md to Priya" in findings(run, "duplicate-note")["letters/marcus/note.md"][0]["message"]
    (workdir / ".toneguard.yaml").write_text("correspondence-root: letters\nrules:\n  duplicate-note: {similarity: 0.9}\n")
    reread()
    run = cli("check", "letters/marcus/note.md", "--format", "json", "--select", "duplicate-note")
    assert findings(run, "duplicate-note")["letters/marcus/note.md"] == []  # one sentence in four is its own


def test_a_suppression_comment_silences_it(cli, workdir):
    silenced = note("Marcus", "Lee").replace("Hi Marcus,", "<!-- toneguard-disable duplicate-note -->\nHi Marcus,")
    write(workdir, {"letters/priya.md": note("Priya", "Shah"), "letters/marcus.md": silenced})
    run = cli("check", "letters", "--format", "json", "--select", "duplicate-note")
    found = findings(run, "duplicate-note")
    assert found["letters/marcus.md"] == [] and len(found["letters/priya.md"]) == 1


def test_a_big_folder_finds_its_copies_through_lsh(tmp_path):
    """Past EXACT_UP_TO comparisons (a folder of 520 drafts, each linted) the candidates come
    from MinHash LSH; the copies are still found, and only they."""
    folder = tmp_path / "letters"
    count = math.isqrt(correspondence.EXACT_UP_TO) + 20
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november".split()
    for n in range(count):  # each its own note: a different run of made-up words
        pick = random.Random(n)
        body = " ".join(pick.choice(words) + str(pick.randrange(100)) for _ in range(40))
        write(folder, {f"n{n:04}.txt": f"Hi Person{n},\n\n{body}.\n\nBest,\nJane\n"})
    write(folder, {"x-priya.md": note("Priya", "Shah"), "x-marcus.md": note("Marcus", "Lee")})
    found = {r.path: [v for v in r.violations if v.rule == "duplicate-note"]
             for r in lint_paths([str(folder)], isolated=True, jobs=1, overrides=Settings(select=("duplicate-note",)))}
    flagged = sorted(path for path, violations in found.items() if violations)
    assert [p.rsplit("/", 1)[1] for p in flagged] == ["x-marcus.md", "x-priya.md"]


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("Tue, 3 Mar 2026 at 09:12 +0100", "2026-03-03T09:12:00+01:00"),  # Gmail with a zone
    ("Tue, Mar 3, 2026 at 9:12 PM -0500", "2026-03-03T21:12:00-05:00"),
    ("Tuesday, March 3, 2026 9:12 AM EST", "2026-03-03T09:12:00-05:00"),  # Outlook
    ("Mar 3, 2026, at 09:12 UTC", "2026-03-03T09:12:00+00:00"),  # Apple Mail
    ("2026-03-03 09:12 +01:00", "2026-03-03T09:12:00+01:00"),
    ("2026-03-03T09:12:00Z", "2026-03-03T09:12:00+00:00"),
    ("3rd March 2026 12:05 a.m. GMT+2", "2026-03-03T00:05:00+02:00"),
])
def test_dates_as_mail_clients_and_people_write_them(text, expected):
    assert dates.parse(text, whole=True).isoformat() == expected


@pytest.mark.parametrize("text", ["03/04/2026 09:12", "next tuesday", "2026-02-30", "Mar 3, 2026 13:00 PM"])
def test_what_cannot_be_read_without_guessing_is_no_date(text):
    with pytest.raises(dates.NotADate):
        dates.parse(text, whole=True)


# --- replied-too-soon -----------------------------------------------------------------------


@pytest.mark.parametrize("sent, fires", [
    ("Tue, 03 Mar 2026 03:30:00 -0500", True),  # 08:30 UTC, 18 minutes after 08:12 UTC
    ("Tue, 03 Mar 2026 14:00:00 -0500", True),  # 19:00 UTC: 10 hours 48 minutes after
    ("Tue, 03 Mar 2026 20:30:00 -0500", False),  # 01:30 UTC the next day: past the 12 hours
    ("Tue, 03 Mar 2026 02:00:00 -0500", False),  # 07:00 UTC: before the rejection, so no answer to it
])
def test_an_eml_reply_against_the_quoted_rejection_in_another_zone(cli, workdir, sent, fires):
    """The Date header is in -0500, the quoted original in +0100: compared as moments, not as
    the clock times written (03:30 looks earlier than 09:12 and is not)."""
    write(workdir, {"letters/reply.eml": REPLY_EML.format(date=sent)})
    run = cli("check", "letters/reply.eml", "--format", "json", "--select", "replied-too-soon", "--fail-on", "info")
    found = findings(run, "replied-too-soon")["letters/reply.eml"]
    assert bool(found) == fires, run
    if fires:
        text = (workdir / "letters/reply.eml").read_text()
        [violation] = found
        assert violation["severity"] == "info" and violation["text"] == sent  # at the Date header
        assert "after the rejection of 2026-03-03 09:12 +01:00" in violation["message"]
        [suggestion] = violation["suggestions"]
        assert suggestion["text"] == "Tue, 03 Mar 2026 15:12:00 -0500"  # 21:12 +0100, in the draft's own zone
        assert (suggestion["kind"], suggestion["description"]) == (
            "replace", "send it no sooner than 2026-03-03 15:12 -05:00: change its date to "
                       "“Tue, 03 Mar 2026 15:12:00 -0500”")
        write(workdir, {"letters/reply.eml": apply(text, [_suggestion(suggestion)])[0]})
        again = cli("check", "letters/reply.eml", "--format", "json", "--select", "replied-too-soon")
        assert findings(again, "replied-too-soon")["letters/reply.eml"] == []


def _suggestion(fields: dict):
    from toneguard.report import Suggestion

    return Suggestion(fields["text"], fields["start"], fields["end"])


def test_an_undated_draft_goes_out_now_and_now_can_be_fixed(cli, workdir):
    write(workdir, {"letters/reply.md": "---\nrejected: 2026-03-03 09:12 +01:00\n---\n"
                                        "Hi Priya,\n\nThank you for letting me know.\n"})
    soon = cli("check", "letters/reply.md", "--format", "json", "--select", "replied-too-soon",
               "--now", "2026-03-03T10:00+01:00")
    [violation] = findings(soon, "replied-too-soon")["letters/reply.md"]
    assert "48 minutes after the rejection" in violation["message"] and violation["line"] == 6
    [suggestion] = violation["suggestions"]  # a send date, added to the front matter
    assert (suggestion["text"], suggestion["start"]) == ("date: 2026-03-03 21:12 +01:00\n", 4)
    assert (suggestion["kind"], suggestion["description"]) == (
        "insert", "send it no sooner than 2026-03-03 21:12 +01:00: add “date: 2026-03-03 21:12 +01:00” to the "
                  "front matter")
    later = cli("check", "letters/reply.md", "--format", "json", "--select", "replied-too-soon",
                "--now", "2026-03-04T10:00+01:00")
    assert findings(later, "replied-too-soon")["letters/reply.md"] == []
    # Without --now it is the clock: a rejection of 2026 is long past by the time this runs again.
    rejected = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(sep=" ", timespec="minutes")
    write(workdir, {"letters/reply.md": f"---\nrejected: {rejected}\n---\nHi Priya,\n\nThank you.\n"})
    now = cli("check", "letters/reply.md", "--format", "json", "--select", "replied-too-soon")
    assert "1 hour after the rejection" in findings(now, "replied-too-soon")["letters/reply.md"][0]["message"]


def test_the_window_comes_from_config(cli, workdir, fresh_config):
    write(workdir, {"letters/reply.eml": REPLY_EML.format(date="Wed, 04 Mar 2026 08:30:00 -0500"),
                    ".toneguard.yaml": "rules:\n  replied-too-soon: {window: 2d}\n"})
    run = cli("check", "letters/reply.eml", "--format", "json", "--select", "replied-too-soon")
    assert "29 hours after the rejection" in findings(run, "replied-too-soon")["letters/reply.eml"][0]["message"]


def test_an_outlook_sent_line_dates_the_rejection(tmp_path):
    text = ("Hi Priya,\n\nThank you for letting me know.\n\n-----Original Message-----\n"
            "From: Priya Shah <priya@acme.example>\nSent: Tuesday, March 3, 2026 9:12 AM -0500\nTo: Jane\n\nNo.\n")
    report = lint_text(text, path=str(tmp_path / "reply.txt"), settings=Settings(select=("replied-too-soon",)),
                       now=datetime(2026, 3, 3, 15, 0, tzinfo=timezone.utc))
    assert [v.message.rsplit("(", 1)[1] for v in report.violations] == [
        "48 minutes after the rejection of 2026-03-03 09:12 -05:00)"]


# --- check-in-too-soon ----------------------------------------------------------------------


def test_a_check_in_soon_after_the_last_note_to_the_same_person(cli, workdir, fresh_config):
    check_in = ("---\nto: priya@acme.example\nstage: check-in\n{date}---\nHi Priya,\n\n"
                "I finished the route-planning course you mentioned.\n\nP.S. I would still love to join the team.\n")
    write(workdir, {
        "letters/acme/1-reply.eml": REPLY_EML.format(date="Wed, 04 Mar 2026 10:00:00 -0500"),
        "letters/acme/2-thanks.md": note("Priya", "Shah", extra="date: 2026-03-10 09:00 +01:00\n"),  # the last one
        "letters/acme/3-undated.md": note("Priya", "Shah"),  # never guessed at
        "letters/acme/4-marcus.md": note("Marcus", "Lee", extra="date: 2026-03-30 09:00 +01:00\n"),  # someone else
        "letters/acme/5-check-in.md": check_in.format(date="date: 2026-04-01 09:00 +02:00\n"),
    })
    run = cli("check", "letters/acme/5-check-in.md", "--format", "json", "--select", "check-in-too-soon")
    [violation] = findings(run, "check-in-too-soon")["letters/acme/5-check-in.md"]
    assert violation["message"].endswith(
        "(3 weeks after letters/acme/2-thanks.md of 2026-03-10 09:00 +01:00 to Priya)"), violation["message"]
    assert violation["text"] == "2026-04-01 09:00 +02:00" and violation["suggestions"][0]["text"] == "2026-04-07 10:00 +02:00"
    write(workdir, {"letters/acme/5-check-in.md": check_in.format(date="date: 2026-04-08 09:00 +02:00\n")})
    run = cli("check", "letters/acme/5-check-in.md", "--format", "json", "--select", "check-in-too-soon")
    assert findings(run, "check-in-too-soon")["letters/acme/5-check-in.md"] == []
    # Undated, it goes out now; a gap of 6 weeks from config makes that too soon again.
    write(workdir, {"letters/acme/5-check-in.md": check_in.format(date=""),
                    ".toneguard.yaml": "rules:\n  check-in-too-soon: {gap: 6w}\n"})
    reread()
    run = cli("check", "letters/acme/5-check-in.md", "--format", "json", "--select", "check-in-too-soon",
              "--now", "2026-04-08T09:00+02:00")
    assert "4 weeks after letters/acme/2-thanks.md" in \
        findings(run, "check-in-too-soon")["letters/acme/5-check-in.md"][0]["message"]


def test_a_first_reply_is_no_check_in(cli, workdir):
    write(workdir, {"letters/1.md": note("Priya", "Shah", extra="date: 2026-03-10 09:00 +01:00\n"),
                    "letters/2.md": note("Priya", "Shah", extra="date: 2026-03-11 09:00 +01:00\n")})
    run = cli("check", "letters", "--format", "json", "--select", "check-in-too-soon")
    assert all(found == [] for found in findings(run, "check-in-too-soon").values())


def test_a_quoted_time_without_a_zone_is_in_the_zone_of_the_reply():
    """Gmail writes "On Tue, Mar 3, 2026 at 9:12 AM … wrote:" in the replier's own time: the
    zone of the reply's Date header, not that of the machine running toneguard."""
    from toneguard.letter import read_letter

    text = REPLY_EML.format(date="Tue, 03 Mar 2026 11:00:00 -0500").replace(
        "On Tue, 3 Mar 2026 at 09:12 +0100, Priya Shah <priya@acme.example> wrote:",
        "On Tue, Mar 3, 2026 at 9:12 AM Priya Shah <priya@acme.example> wrote:")
    letter = read_letter(text, "reply.eml")
    assert letter.rejected.isoformat() == "2026-03-03T09:12:00-05:00"
    assert letter.date - letter.rejected == timedelta(hours=1, minutes=48)


def test_drafts_are_read_once_and_the_others_only_to_compare(cli, workdir, monkeypatch):
    reads = []
    real = correspondence.read_source
    monkeypatch.setattr(correspondence, "read_source", lambda path: reads.append(path) or real(path))
    write(workdir, {"letters/priya.md": note("Priya", "Shah"), "letters/marcus.md": note("Marcus", "Lee"),
                    "letters/dana.md": OTHER_NOTE})
    cli("check", "letters", "--select", "duplicate-note")
    assert reads == []  # every draft was linted: its Letter is what it is compared as
    cli("check", "letters/marcus.md", "--select", "duplicate-note")
    assert sorted(reads) == ["letters/dana.md", "letters/priya.md"]


def test_stock_phrasing_shared_by_dozens_of_drafts_makes_no_copies():
    """A paragraph in 60 drafts is the folder's stock phrasing; what each adds is its own. Two
    real copies among them are still copies."""
    from toneguard.engine import lint_texts

    stock = ("Thank you for letting me know about your decision, and for the time you and the team gave me "
             "during the interviews. I was disappointed, but I understand there were many strong candidates, "
             "and I would still love to join the company, so please keep me in mind for future openings.")
    pick = random.Random(7)
    words = "warehouse routes forecast pallets night shift scanner dock audit safety training forklift".split()
    drafts = {}
    for n in range(60):
        own = " ".join(pick.choice(words) for _ in range(30))
        drafts[f"letters/n{n:02}.md"] = f"---\nto: p{n}@acme.example\n---\nHi Person{n},\n\n{stock} {own}.\n\nBest,\nJane\n"
    drafts["letters/x-priya.md"] = note("Priya", "Shah")
    drafts["letters/y-marcus.md"] = note("Marcus", "Lee")
    reports = lint_texts(drafts, settings=Settings(select=("duplicate-note",)))
    assert [r.path for r in reports if r.violations] == ["letters/x-priya.md", "letters/y-marcus.md"]


def test_worker_processes_report_what_the_comparison_found(cli, workdir):
    write(workdir, {"letters/priya.md": note("Priya", "Shah"), "letters/marcus.md": note("Marcus", "Lee"),
                    "letters/dana.md": OTHER_NOTE})
    one, two = (cli("check", "letters", "--format", "json", "--jobs", jobs) for jobs in ("1", "2"))
    assert json.loads(one.out) == json.loads(two.out)
    assert len(findings(two, "duplicate-note")["letters/priya.md"]) == 1
