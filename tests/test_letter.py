"""Reading drafts: what is linted, what is not, and where every part sits in the original."""
from __future__ import annotations

import base64

import pytest

from toneguard.errors import ToneguardError
from toneguard.letter import read_letter

from conftest import lint, rules_fired

CLEAN = ("Hi Priya,\n\nThank you for letting me know about the analyst role, and for the tour of the lab. "
         "Please keep me in mind for future openings.\n\nBest,\nJane\n")


def region(letter, name):
    span = getattr(letter, name)
    return letter.body[span[0]:span[1]] if span else None


def test_front_matter_sets_stage_recipients_and_settings():
    letter = read_letter("---\nstage: follow-up\nto: [Priya Shah <priya@acme.example>]\ncc: marcus@acme.example\n"
                         "title: anything else is ignored\ntoneguard:\n  ignore: [too-long]\n---\n" + CLEAN, "a.md")
    assert letter.stage == "follow-up"
    assert letter.recipients == ("priya@acme.example", "marcus@acme.example")
    assert letter.recipient_names == ("Priya Shah",)
    assert letter.settings == {"ignore": ("too-long",)}
    assert letter.source.index("Hi Priya") == letter.offsets[letter.body.index("Hi Priya")]


@pytest.mark.parametrize("text, problem", [
    ("---\nstage: a: b\n---\nHi", "malformed front matter (line 2): mapping values are not allowed in this context"),
    ("---\nstage: first-reply\nHi there\n", "malformed front matter: no closing '---' line"),
    ("---\n- a list\n---\nHi", "malformed front matter: expected 'key: value' lines"),
    ("---\nstage: later\n---\nHi", "front matter: unknown stage 'later'"),
    ("---\ntoneguard:\n  colour: red\n---\nHi", "front matter: unknown toneguard setting 'colour'"),
    ("---\nto: 42\n---\nHi", "front matter: 'to' must be an address or a list of addresses"),
    ("   \n\t\n", "empty draft: no text to lint"),
])
def test_malformed_input_names_the_problem(text, problem):
    with pytest.raises(ToneguardError) as error:
        read_letter(text, "draft.md")
    assert str(error.value).startswith(f"draft.md: {problem}")


def test_greeting_signoff_and_ps_are_found():
    letter = read_letter("Dear Ms. Chen,\n\nThank you.\n\nThanks again,\nJane Doe\n555-0100\n\n"
                         "PS - I'd still love to join the team.\n", "a.txt")
    assert region(letter, "greeting") == "Dear Ms. Chen,"
    assert region(letter, "signoff") == "Thanks again,\nJane Doe\n555-0100"
    assert region(letter, "ps") == "PS - I'd still love to join the team."


@pytest.mark.parametrize("greeting", ["Hi Priya,", "Hello!", "To whom it may concern:", "Priya,",
                                      "Good morning Ms. Chen,", "Dear Hiring Manager"])
def test_greetings(greeting):
    assert region(read_letter(f"{greeting}\n\nThank you for your time.\n", "a.txt"), "greeting") == greeting


def test_a_first_sentence_is_no_greeting():
    letter = read_letter("Thank you for letting me know about the role, it was kind of you.\n", "a.txt")
    assert letter.greeting is None


def test_a_sincere_last_sentence_is_not_taken_for_a_signoff():
    letter = read_letter("Hi Priya,\n\nThank you.\n\nBest,\nJane\n", "a.txt")
    assert region(letter, "signoff") == "Best,\nJane"
    assert rules_fired("Hi Priya,\n\nI got the news.\n\nThanks,\nJane\n") >= {"missing-thanks"}


@pytest.mark.parametrize("reply", [
    "On Tue, 3 Mar 2026 at 10:02, Priya Shah <priya@acme.example> wrote:\n> Dear Applicant, thanks for nothing.\n",
    "On Tue, 3 Mar 2026 at 10:02, Priya Shah\n<priya@acme.example> wrote:\n\nDear Applicant, thanks for nothing.\n",
    "-----Original Message-----\nFrom: Priya\nDear Applicant, thanks for nothing.\n",
    "________________________________\nFrom: Priya Shah\nSent: Tuesday\nTo: Jane\nThanks for nothing.\n",
    "From: Priya Shah <priya@acme.example>\nSent: Tuesday, March 3\nSubject: Re\n\nThanks for nothing.\n",
    "-- \nJane Doe | thanks for nothing consulting\n",
])
def test_quoted_replies_and_signatures_are_not_linted(reply):
    assert rules_fired(CLEAN + "\n" + reply) == set()


def test_quoted_lines_inside_the_draft_are_blanked_not_removed():
    text = "Hi Priya,\n\n> Why wasn't I selected, you asked?\n\nThank you for the tour of the lab. " \
           "Please keep me in mind for future openings.\n\nJane\n"
    letter = read_letter(text, "a.txt")
    assert len(letter.body) == len(text)
    assert "Why" not in letter.body
    assert rules_fired(text) == set()


def test_typographic_quotes_match_like_straight_ones_and_offsets_hold():
    text = "Hi Priya,\n\nI don’t understand why I wasn’t chosen.\n\nJane\n"
    report = lint(text)
    found = [v for v in report.violations if v.rule == "challenges-decision"]
    assert found and found[0].text == "I don’t understand why I wasn’t chosen."
    assert text[found[0].start:found[0].end] == found[0].text


def test_crlf_offsets_and_columns():
    text = CLEAN.replace("\n", "\r\n").replace("Thank you for", "Thanks for nothing. Thank you for")
    report = lint(text)
    bitter = next(v for v in report.violations if v.rule == "bitterness")
    assert (bitter.line, bitter.column) == (3, 1)
    assert text[bitter.start:bitter.end] == bitter.text == "Thanks for nothing."


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_suppression_comments_in_markdown(newline):
    text = ("Hi Priya,\n\n<!-- toneguard-disable-next-line bitterness -->\nThanks for nothing.\n"
            "Thanks for nothing again.\n\n<!-- toneguard-disable raw-emotion -->\nI was devastated!!\n"
            "<!-- toneguard-enable raw-emotion -->\nI was devastated.\n\n"
            "Thank you for the tour of the lab. Please keep me in mind for future openings.\n\nJane\n")
    report = lint(text.replace("\n", newline), path="a.md")
    lines = sorted((v.rule, v.line) for v in report.violations)
    assert lines == [("bitterness", 5), ("raw-emotion", 10)]


def test_markdown_link_targets_are_not_slots():
    text = CLEAN.replace("the lab", "the [lab](https://acme.example/lab)")
    assert rules_fired(text, path="a.md") == set()
    assert "placeholder" in rules_fired(text.replace("(https://acme.example/lab)", ""), path="a.md")


def _eml(body: str, headers: str = "Content-Type: text/plain; charset=utf-8\n") -> str:
    return f"From: jane@example.com\nTo: priya@acme.example\nSubject: Thanks\n{headers}\n{body}"


def test_quoted_printable_body_maps_to_its_encoded_text():
    text = _eml("Hi Priya,\n\nThanks for nothing at the caf=C3=A9 to=\nur.\n\nJane\n",
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n")
    letter = read_letter(text, "a.eml")
    assert "café tour" in letter.body
    bitter = next(v for v in lint(text, path="a.eml").violations if v.rule == "bitterness")
    assert bitter.text == "Thanks for nothing at the caf=C3=A9 to=\nur."
    assert not letter.offsets.is_shift


def test_html_part_is_read_when_there_is_no_plain_part():
    html = "<p>Hi Priya,</p><p>Thanks for nothing &amp; goodbye.</p><blockquote>Dear applicant</blockquote>"
    text = _eml(base64.encodebytes(html.encode()).decode(),
                "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n")
    letter = read_letter(text, "a.eml")
    assert "Thanks for nothing & goodbye." in letter.body and "applicant" not in letter.body
    html_text = _eml(html, "Content-Type: text/html; charset=utf-8\n")
    bitter = next(v for v in lint(html_text, path="a.eml").violations if v.rule == "bitterness")
    assert bitter.text == "Thanks for nothing &amp; goodbye."


def test_multipart_prefers_the_plain_part():
    text = _eml('--B\nContent-Type: text/html\n\n<p>Thanks for nothing</p>\n--B\n'
                'Content-Type: text/plain; charset=utf-8\n\nHi Priya,\n\nThank you.\n--B--\n',
                'Content-Type: multipart/alternative; boundary="B"\n')
    letter = read_letter(text, "a.eml")
    assert letter.body.strip().startswith("Hi Priya,") and "nothing" not in letter.body
    assert text[letter.offsets[0]:].startswith("Hi Priya,")


def test_an_rfc_2231_boundary_is_decoded():
    text = _eml("--B\nContent-Type: text/plain\n\nHi Priya,\n\nThank you.\n--B--\n",
                "Content-Type: multipart/mixed; boundary*=utf-8''B\n")
    assert read_letter(text, "a.eml").body.strip() == "Hi Priya,\n\nThank you."


@pytest.mark.parametrize("text, problem", [
    ("Hi Priya, thanks.\n", "malformed e-mail: it does not start with a header line"),
    (_eml("x", 'Content-Type: multipart/mixed; boundary="B"\n'), "malformed e-mail: multipart boundary 'B' not found"),
    (_eml("x", "Content-Type: multipart/mixed\n"), "malformed e-mail: multipart message without a boundary"),
    (_eml("!!!not base64", "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n"),
     "malformed e-mail: invalid base64 body"),
    (_eml("x", "Content-Type: image/png\n"), "malformed e-mail: no text/plain or text/html part"),
])
def test_malformed_email(text, problem):
    with pytest.raises(ToneguardError) as error:
        read_letter(text, "a.eml")
    assert str(error.value) == f"a.eml: {problem}"


def test_a_misspelt_rule_in_a_suppression_comment_is_reported():
    text = ("Hi Priya,\n\n<!-- toneguard-disable-next-line bitternes, raw-emotion -->\nThanks for nothing!!\n\n"
            "<!-- toneguard-disable Pleading -->\nThank you for the tour of the lab. Please keep me in mind.\n"
            "<!-- toneguard-enable plead -->\n\nJane\n")
    report = lint(text, path="a.md")
    found = [(v.rule, v.severity, v.line, v.text, [s.text for s in v.suggestions]) for v in report.violations]
    assert found == [
        ("unknown-rule", "error", 3, "bitternes", ["bitterness"]),
        ("bitterness", "error", 4, "Thanks for nothing!!", found[1][4]),  # the typo silenced nothing
        ("unknown-rule", "error", 8, "plead", ["pleading"]),
    ]
    typo = report.violations[0]
    assert text[typo.start:typo.end] == "bitternes" and (typo.column, typo.end_column) == (34, 43)
    assert typo.message.endswith("silences nothing by that name. ('bitternes': see `toneguard rules`)")


@pytest.mark.parametrize("key", ["select", "ignore"])
def test_front_matter_rule_ids_are_checked_like_configs(key):
    text = f"---\ntoneguard:\n  {key}: [raw-emotion, bitternes]\n---\nHi Priya,\n\nThanks for nothing.\n"
    with pytest.raises(ToneguardError) as error:
        lint(text, path="a.md")
    assert str(error.value) == f"a.md: front matter: toneguard.{key}: unknown rule 'bitternes' (see `toneguard rules`)"
