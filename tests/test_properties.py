"""Property-based tests: whatever text arrives, no exception escapes, every reported
position points into the original text, and fixing never loses a character outside
the spans it edits."""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from toneguard.config import Settings
from toneguard.engine import lint_text
from toneguard.errors import ToneguardError
from toneguard.fixing import apply, fix_text
from toneguard.report import LineIndex

PHRASES = [
    "Hi Priya,", "Dear Hiring Manager,", "Hi all,", "Thanks for nothing.", "Thank you for your time.",
    "I REALLY wanted this!!", "Why wasn't I selected?", "Please reconsider.", "I’m desperate.",
    "[open position]", "{{name}}", "Please keep me in mind.", "I was devastated.", "xyz", "____",
    "> quoted line", "On Tue, Priya wrote:", "-- ", "Best,", "Jane", "PS - still keen.", "café 🎉",
    "<!-- toneguard-disable -->", "<!-- toneguard-disable-next-line bitterness -->", "“quoted”", "n’t",
]
NEWLINES = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", " ", "\t", "\u2028", "\x0b", "\x00"])
WILD = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)


@st.composite
def drafts(draw):
    pieces = draw(st.lists(st.one_of(st.sampled_from(PHRASES), WILD, NEWLINES), max_size=30))
    body = "".join(pieces)
    front = draw(st.one_of(
        st.just(""),
        st.dictionaries(st.sampled_from(["stage", "to", "cc", "bcc", "toneguard", "title"]),
                        st.one_of(st.sampled_from(["first-reply", "follow-up", "check-in", "a@b.example"]),
                                  st.lists(st.sampled_from(["a@b.example", "Priya <p@acme.example>", ""]), max_size=3),
                                  st.integers(), st.none(), WILD), max_size=4
                        ).map(lambda d: "---\n" + yaml.safe_dump(d, allow_unicode=True) + "---\n"),
        WILD.map(lambda junk: "---\n" + junk + "\n---\n"),
    ))
    return front + body


PATHS = st.sampled_from(["draft.txt", "draft.md", "draft.eml"])
SETTINGS = Settings()
HYPOTHESIS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_positions(text, report):
    lines = LineIndex(text)
    for v in report.violations:
        assert 0 <= v.start <= v.end <= len(text)
        assert v.text == text[v.start:v.end]
        assert (v.line, v.column) == lines.position(v.start)
        assert (v.end_line, v.end_column) == lines.position(v.end)
        for s in v.suggestions:
            assert 0 <= s.start <= s.end <= len(text)


LONE_SURROGATES = "Hi Priya,\n\nThanks for nothing \udfff. I REALLY\ud800 wanted this!!\n"  # an editor can send these


@HYPOTHESIS
@given(drafts(), PATHS)
@example("\ud800", "draft.txt")
@example(LONE_SURROGATES, "draft.md")
def test_lint_text_never_raises_and_positions_point_into_the_text(text, path):
    try:
        report = lint_text(text, path=path, settings=SETTINGS)
    except ToneguardError as error:
        assert "\n" not in str(error)  # a one-line message, naming the draft
        assert str(error).startswith(path)
        return
    check_positions(text, report)


@HYPOTHESIS
@given(drafts(), st.sampled_from(["draft.txt", "draft.md"]))
@example(LONE_SURROGATES, "draft.txt")
def test_fix_only_changes_the_spans_it_edits(text, path):
    try:
        report = lint_text(text, path=path, settings=SETTINGS)
    except ToneguardError:
        return
    safe = sorted({s for v in report.violations for s in v.suggestions if s.safe}, key=lambda s: (s.start, s.end))
    fixed, count = apply(text, safe)
    # Rebuild the expected result from the untouched stretches and the applied edits.
    position, expected, last_end = 0, [], -1
    for s in safe:
        if s.start < last_end or (expected and s.start == s.end == last_end):
            continue
        expected += [text[position:s.start], s.text]
        position = last_end = s.end
    expected.append(text[position:])
    assert fixed == "".join(expected)
    try:
        result = fix_text(text, path=path, settings=SETTINGS)
    except ToneguardError:
        return
    again = fix_text(result.text, path=path, settings=SETTINGS)
    assert again.text == result.text and again.applied == 0  # idempotent


@settings(max_examples=8, deadline=None)
@given(st.integers(min_value=10_000, max_value=60_000), st.sampled_from(["a", "word ", "!", "?!", "_", "😀", "\r\n"]))
def test_huge_lines_are_linted(length, unit):
    text = "Hi Priya,\n\n" + unit * (length // len(unit))
    try:
        report = lint_text(text, path="draft.txt", settings=SETTINGS)
    except ToneguardError:
        return
    check_positions(text, report)


def test_lone_surrogates_are_linted_where_they_stand():
    """The parser sees U+FFFD in their place, one for one, so every offset still holds."""
    report = lint_text(LONE_SURROGATES, path="draft.txt", settings=SETTINGS)
    check_positions(LONE_SURROGATES, report)
    found = {(v.rule, v.text) for v in report.violations}
    assert {("bitterness", "Thanks for nothing \udfff."), ("raw-emotion", "REALLY"), ("raw-emotion", "!!")} <= found
