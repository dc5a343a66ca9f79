"""`toneguard serve` in this process: LanguageTool's API, the JSON API, the page, the guards.

Requests go through starlette's TestClient to the real app, which lints with the real
pipeline; tests that need a real socket (slow clients, floods, signals, LanguageTool's
own client) are in test_serve_process.py.
"""
from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import jsonschema
import pytest
from starlette.testclient import TestClient

from conftest import REPO, lint
from toneguard import languagetool
from toneguard.config import Settings
from toneguard.formats import report_document
from toneguard.server import Limits, create_app
from toneguard.sources import MAX_BYTES

SCHEMA = json.loads((REPO / "toneguard" / "schema" / "report-v1.schema.json").read_text())
BASE = "http://127.0.0.1:8081"
BITTER = "Hi Priya,\n\nThanks for nothing. I guess you found someone cheaper.\n\nBest,\nJane\n"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def logged():
    return []


@pytest.fixture(scope="module")
def client(logged):
    app = create_app(Settings(allow_origins=("chrome-extension://oldceeleldhonbafppcapldpdifcinji",)),
                     log=logged.append)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as client:
        yield client


def lt_check(client, **params):
    return client.post("/v2/check", content=urlencode(params), headers=FORM)


def utf16(text: str, offset: int, length: int) -> str:
    """What a Java (or JavaScript) client sees at offset/length: UTF-16 code units."""
    units = text.encode("utf-16-le")
    return units[2 * offset:2 * (offset + length)].decode("utf-16-le")


def one_line_error(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Error: ") and "\n" not in response.text.strip(), response.text
    assert "Traceback" not in response.text
    return response.text


# --- LanguageTool's API -------------------------------------------------------------------


def test_languages_lists_english_as_languagetool_does(client):
    answer = client.get("/v2/languages").json()
    assert {"name": "English (US)", "code": "en", "longCode": "en-US"} in answer
    assert all(set(entry) == {"name", "code", "longCode"} for entry in answer)


def test_check_answers_in_languagetools_shape(client):
    answer = lt_check(client, text=BITTER, language="en-US").json()
    assert answer["software"]["apiVersion"] == 1 and answer["language"]["code"] == "en-US"
    assert answer["matches"], answer
    for match in answer["matches"]:
        assert {"message", "shortMessage", "offset", "length", "replacements", "context", "sentence",
                "rule"} <= set(match)
        assert set(match["rule"]) >= {"id", "description", "issueType", "category"}
        assert set(match["rule"]["category"]) == {"id", "name"}
        assert all(set(r) == {"value"} for r in match["replacements"])
    bitter = next(m for m in answer["matches"] if m["rule"]["id"] == "bitterness")
    assert BITTER[bitter["offset"]:bitter["offset"] + bitter["length"]].startswith("Thanks for nothing.")
    assert "Thanks for nothing." in bitter["sentence"]


def test_offsets_count_utf16_units_past_emoji_and_typographic_quotes(client):
    text = "Hi Priya 👋,\n\nThe “quick” answer 🙂 was kind. Thanks for nothing 😤 at all.\n"
    answer = lt_check(client, text=text, language="en-US").json()
    bitter = next(m for m in answer["matches"] if m["rule"]["id"] == "bitterness")
    [violation] = [v for v in lint(text).violations if v.rule == "bitterness"]
    start, end, _ = languagetool.placement(violation, text)  # code points: the sentence and the space before it
    assert text[start:end].strip() == violation.text == "Thanks for nothing 😤 at all."
    assert (bitter["offset"], bitter["length"]) == (start + 2, end - start + 1)  # 👋 🙂 before, 😤 inside
    assert utf16(text, bitter["offset"], bitter["length"]) == text[start:end]
    context = bitter["context"]
    shown = utf16(context["text"], context["offset"], context["length"])
    assert shown == utf16(text, bitter["offset"], bitter["length"]).replace("\n", " ")


def test_data_offsets_count_into_the_text_with_its_markup(client):
    nodes = [{"markup": "<p>"}, {"text": "Hi Priya,"}, {"markup": "</p><p>", "interpretAs": "\n\n"},
             {"text": "Thanks for nothing. I guess you found someone cheaper."}, {"markup": "</p>"}]
    whole = "".join(n.get("text", n.get("markup")) for n in nodes)
    answer = lt_check(client, data=json.dumps({"annotation": nodes}), language="en").json()
    bitter = next(m for m in answer["matches"] if m["rule"]["id"] == "bitterness")
    assert utf16(whole, bitter["offset"], bitter["length"]).startswith("Thanks for nothing.")
    assert "<p>" not in utf16(whole, bitter["offset"], bitter["length"])


def test_whole_letter_findings_sit_where_their_fix_goes(client):
    text = "Hi Priya,\n\nI got your note about the analyst role at Acme. Why was I not selected?\n\nBest,\nJane\n"
    matches = {m["rule"]["id"]: m for m in lt_check(client, text=text, language="en-US").json()["matches"]}
    thanks, door = matches["missing-thanks"], matches["missing-door-open"]
    assert text[thanks["offset"]:thanks["offset"] + thanks["length"]] == "I"  # the first word, after the greeting
    assert thanks["replacements"][0]["value"].endswith(" I")
    closing = text.index("?\n\nBest")
    assert (door["offset"], door["length"]) == (closing, 1)  # the end of the content, before the sign-off
    for match in (thanks, door):
        value = match["replacements"][0]["value"]
        fixed = text[:match["offset"]] + value + text[match["offset"] + match["length"]:]
        assert match["rule"]["id"] not in {v.rule for v in lint(fixed).violations}


def test_rules_are_chosen_as_languagetool_clients_choose_them(client):
    def ids(**params):
        response = lt_check(client, text=BITTER, language="en-US", **params)
        return {m["rule"]["id"] for m in response.json()["matches"]}

    everything = ids()
    assert {"bitterness", "missing-door-open"} <= everything
    assert ids(disabledRules="bitterness,WHITESPACE_RULE") == everything - {"bitterness"}
    assert ids(enabledRules="bitterness,UPPERCASE_SENTENCE_START", enabledOnly="true") == {"bitterness"}
    assert ids(disabledCategories="TONE") == set()
    assert ids(enabledCategories="TONE", enabledOnly="true") == everything
    one_line_error(lt_check(client, text=BITTER, language="en-US", enabledOnly="true"), 400)


@pytest.mark.parametrize("body, reason", [
    ({"language": "en-US"}, "Missing 'text' or 'data' parameter"),
    ({"language": "en-US", "text": "Hi.", "data": "{}"}, "not both"),
    ({"text": "Hi."}, "Missing 'language' parameter"),
    ({"text": "Hi.", "language": "de-DE"}, "'de-DE' is not a language toneguard checks"),
    ({"data": "{not json", "language": "en"}, "Could not parse JSON from 'data' parameter"),
    ({"data": '{"annotation": [{"text": "a", "markup": "b"}]}', "language": "en"}, "exactly one of"),
])
def test_bad_checks_get_languagetool_style_400s(client, body, reason):
    assert reason in one_line_error(lt_check(client, **body), 400)


@pytest.mark.parametrize("body, headers", [
    (b"text", FORM),  # a field without '='
    (b"language=en&text=%ff%fe", FORM),  # not UTF-8 once decoded
    (b"language=en&text=hello", {"Content-Type": "multipart/form-data; boundary=x"}),
    (b'{"language": "en", "text": "hello"}', {"Content-Type": "application/json"}),  # JSON is no form
])
def test_a_malformed_form_gets_a_400_and_the_server_keeps_serving(client, body, headers):
    assert "form" in one_line_error(client.post("/v2/check", content=body, headers=headers), 400)
    assert client.get("/health").status_code == 200


def test_ltex_request_as_ltex_sends_it(client):
    """LTeX's LanguageToolHttpInterface: a form of language and data, labelled application/json."""
    nodes = [{"markup": "# "}, {"text": "Re: the analyst role"}, {"markup": "\n\n", "interpretAs": "\n\n"},
             {"text": "Hi Priya,\n\nThanks for nothing. I guess you found someone cheaper."}]
    body = urlencode({"language": "en-US", "data": json.dumps({"annotation": nodes})})
    answer = client.post("/v2/check", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    whole = "".join(n.get("text", n.get("markup")) for n in nodes)
    found = {m["rule"]["id"]: utf16(whole, m["offset"], m["length"]) for m in answer.json()["matches"]}
    assert found["bitterness"].strip() in ("Thanks for nothing.", "I guess you found someone cheaper.")


def test_empty_text_has_no_matches(client):
    assert lt_check(client, text="  \n", language="auto").json()["matches"] == []


# --- toneguard's JSON API --------------------------------------------------------------------


ENCODED = ("To: priya@acme.example\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
           "quoted-printable\n\nHi Priya,\n\nThank you for the tour of the lab=21=21 Please keep me in mind.\n")


@pytest.mark.parametrize("name, text", [("acme.md", BITTER), ("encoded.eml", ENCODED)])
def test_api_check_is_exactly_the_json_report_of_check(client, cli, workdir, name, text):
    """(An e-mail encoded quoted-printable has no safe fix: `fix` will not rewrite it.)"""
    (workdir / name).write_text(text)
    local = json.loads(cli("check", "--format", "json", name).out)
    answer = client.post("/api/check", json={"text": text, "path": name}).json()
    jsonschema.validate(answer, SCHEMA)
    assert answer == local and answer["errors"] == [] and answer["files"][0]["violations"]
    assert answer == report_document([lint(text, name)])


def test_api_check_takes_stage_and_recipients_as_fields(client):
    def rules(**fields):
        answer = client.post("/api/check", json={"text": BITTER, **fields}).json()
        return {v["rule"] for v in answer["files"][0]["violations"]}

    assert "mass-cc" in rules(recipients=["priya@acme.example", "Marcus Lee <marcus@acme.example>"])
    assert "mass-cc" not in rules(recipients=["priya@acme.example"])
    assert "missing-door-open" in rules(stage="first-reply")
    assert "missing-door-open" not in rules(stage="follow-up")


@pytest.mark.parametrize("fields, status, reason", [
    ({"path": "a.txt"}, 400, "'text' must be a string"),
    ({"text": "Hi", "colour": "red"}, 400, "unknown field 'colour'"),
    ({"text": "Hi", "stage": "later"}, 400, "'stage' must be one of"),
    ({"text": "Hi", "recipients": "a@b.example"}, 400, "'recipients' must be a list"),
    ({"text": "Hi", "select": ["no-such-rule"]}, 400, "unknown rule 'no-such-rule'"),
    ({"text": "Hi", "config": {"model": "xx_other_model"}}, 409, "this server lints with model"),
    ({"text": "---\nto: [\n---\nHi", "path": "acme.md"}, 422, "acme.md: malformed front matter"),
    ({"text": "   "}, 422, "draft.txt: empty draft"),
])
def test_api_check_refuses_bad_requests_in_one_line(client, fields, status, reason):
    assert reason in one_line_error(client.post("/api/check", json=fields), status)


def test_api_check_needs_json(client):
    one_line_error(client.post("/api/check", content=b"text=hi", headers=FORM), 400)
    one_line_error(client.post("/api/check", content=b"{", headers={"Content-Type": "application/json"}), 400)


def test_a_pipeline_folder_given_to_the_server_stays_allowed_under_a_config(workdir):
    """`toneguard serve --model FOLDER` where a config file applies: the folder came from the
    command line, so requests lint with it, as `check --model FOLDER` does there."""
    from toneguard import model

    (workdir / ".toneguard.yaml").write_text("ignore: [not-specific]\n")
    folder = model.resolve_model(None)
    settings = Settings(origin=str(workdir / ".toneguard.yaml")).merged(Settings(model=folder))
    with TestClient(create_app(settings), base_url=BASE) as client:
        for fields in ({}, {"config": {"model": folder}, "config_file": str(workdir / ".toneguard.yaml")}):
            answer = client.post("/api/check", json={"text": BITTER, **fields})
            assert answer.status_code == 200, answer.text


def test_api_fix_applies_the_safe_fixes(client):
    text = "Hi Priya,\n\nThank you for your time!! I enjoyed our talk about the forecasting project.\n"
    answer = client.post("/api/fix", json={"text": text, "path": "acme.md"}).json()
    assert answer["text"] == text.replace("!!", "!") and answer["applied"] == 1
    jsonschema.validate(answer["report"], SCHEMA)
    assert "raw-emotion" not in {v["rule"] for v in answer["report"]["files"][0]["violations"]}


def test_api_fix_rewrites_the_whole_letter_in_mode_all_as_fix_all_does(client):
    from toneguard.fixing import fix_text

    answer = client.post("/api/fix", json={"text": BITTER, "mode": "all"}).json()
    assert answer["text"] == fix_text(BITTER, path="draft.txt", settings=Settings(), plan=True).text != BITTER
    assert "bitterness" not in {v["rule"] for f in answer["report"]["files"] for v in f["violations"]}
    assert "'mode' must be" in one_line_error(client.post("/api/fix", json={"text": BITTER, "mode": "x"}), 400)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_the_page_needs_nothing_from_elsewhere():
    for path in (REPO / "toneguard" / "web").iterdir():
        text = path.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path


# --- the guards -------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8081", "127.0.0.1.evil.example", "10.0.0.7:8081"])
def test_a_foreign_host_is_refused(client, host):
    assert "DNS rebinding" in one_line_error(client.get("/health", headers={"Host": host}), 403)
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("host", ["localhost:8081", "127.0.0.1:8081", "[::1]:8081", "LOCALHOST", "127.0.0.2"])
def test_loopback_names_are_served(client, host):
    assert client.get("/health", headers={"Host": host}).status_code == 200


def test_a_foreign_origin_is_refused_and_named_once_in_the_log(client, logged):
    headers = {"Origin": "https://evil.example"}
    for _ in range(2):
        response = client.post("/v2/check", content=urlencode({"text": BITTER, "language": "en"}),
                               headers={**FORM, **headers})
        assert "serve.allow-origins" in one_line_error(response, 403)
        assert "access-control-allow-origin" not in response.headers
    assert len([line for line in logged if "https://evil.example" in line]) == 1
    assert client.get("/health").status_code == 200


def test_the_page_itself_and_allowed_origins_are_served(client):
    same = client.post("/api/check", json={"text": BITTER}, headers={"Origin": BASE})
    assert same.status_code == 200
    extension = "chrome-extension://oldceeleldhonbafppcapldpdifcinji"
    allowed = lt_check_with(client, {"Origin": extension})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == extension
    preflight = client.options("/v2/check", headers={"Origin": extension, "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-origin"] == extension


def lt_check_with(client, headers):
    return client.post("/v2/check", content=urlencode({"text": BITTER, "language": "en"}), headers={**FORM, **headers})


def test_an_oversized_body_gets_413(client):
    text = "word " * (MAX_BYTES // 5 + 10)
    assert "256,000-byte limit" in one_line_error(lt_check(client, text=text, language="en"), 413)

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(MAX_BYTES // 1000 + 2):
            yield b"x" * 1000

    chunked = client.post("/v2/check", content=chunks(), headers=FORM)
    assert "limit" in one_line_error(chunked, 413)
    assert client.get("/health").status_code == 200


def test_each_request_has_a_time_limit():
    app = create_app(Settings(), limits=Limits(seconds=0.05))
    long = "Hi Priya,\n\n" + "\n\n".join(f"Paragraph {n} recalls the tour of site {n} in detail." for n in range(40))
    with TestClient(app, base_url=BASE) as client:  # forty paragraphs never parsed before take longer
        response = client.post("/api/check", json={"text": long})
        status, answer = readme_errors()["checking past the time limit"]
        assert (response.status_code, response.text) == (status, answer.replace("10 s", "0.05 s"))


def test_a_body_that_does_not_arrive_in_time_gets_408():
    app = create_app(Settings(), limits=Limits(seconds=0.2))
    sent = []

    async def trickle():
        await asyncio.sleep(1)
        return {"type": "http.request", "body": b"text=hi", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v2/check", "raw_path": b"/v2/check",
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 8081),
             "headers": [(b"host", b"127.0.0.1:8081"), (b"content-type", FORM["Content-Type"].encode())]}
    asyncio.run(app(scope, trickle, send))
    status, answer = readme_errors()["a body still arriving after the time limit"]
    assert (sent[0]["status"], sent[1]["body"].decode()) == (status, answer.replace("10 s", "0.2 s"))


def test_past_the_requests_in_flight_a_flood_gets_503():
    app = create_app(Settings(), limits=Limits(in_flight=0))
    with TestClient(app, base_url=BASE) as client:
        assert "too many requests at once" in one_line_error(client.get("/health"), 503)


def test_a_bug_is_one_line_not_a_traceback(client, logged, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(languagetool, "check_response", broken)
    response = lt_check(client, text=BITTER, language="en")
    assert "internal error (RuntimeError)" in one_line_error(response, 500)
    assert any("RuntimeError: boom" in line for line in logged)
    assert client.get("/health").status_code == 200


# --- the README's table of errors is what the server answers ----------------------------------


def readme_errors() -> dict[str, tuple[int, str]]:
    """The README's table of one-line errors: request -> (status, exact answer)."""
    text = (REPO / "README.md").read_text()
    table = text.split("<!-- serve-errors:start -->")[1].split("<!-- serve-errors:end -->")[0]
    rows = [line.split(" | ") for line in table.strip().splitlines()[2:]]
    return {case.lstrip("| "): (int(status), answer.rstrip(" |").strip("`")) for case, status, answer in rows}


def _flooded(client):
    guard = client.app
    guard.in_flight = guard.limits.in_flight
    try:
        return client.get("/health")
    finally:
        guard.in_flight = 0


CASES = {
    "addressed to another host": lambda c: c.get("/health", headers={"Host": "evil.example"}),
    "from a web origin not allowed": lambda c: c.get("/health", headers={"Origin": "https://evil.example"}),
    "a body over the limit": lambda c: lt_check(c, text="x" * MAX_BYTES, language="en"),
    "more than 128 requests at once": _flooded,
    "`/v2/check` without `text` or `data`": lambda c: lt_check(c, language="en"),
    "`/v2/check` with both": lambda c: lt_check(c, text="Hi", data="{}", language="en"),
    "`/v2/check` without `language`": lambda c: lt_check(c, text="Hi"),
    "`/v2/check` in another language": lambda c: lt_check(c, text="Hi", language="de-DE"),
    "`/v2/check` with a malformed form": lambda c: c.post("/v2/check", content=b"text", headers=FORM),
    "`/v2/check` with `data` that is not JSON": lambda c: lt_check(c, data="{", language="en"),
    "`/v2/check` with `enabledOnly` alone": lambda c: lt_check(c, text="Hi", language="en", enabledOnly="true"),
    "`/api/check` with a form": lambda c: c.post("/api/check", content=b"text=Hi", headers=FORM),
    "`/api/check` with an unknown field": lambda c: c.post("/api/check", json={"text": "Hi", "colour": "red"}),
    "`/api/check` with an unknown stage": lambda c: c.post("/api/check", json={"text": "Hi", "stage": "later"}),
    "`/api/check` with a draft that cannot be linted": lambda c: c.post("/api/check", json={"text": " "}),
    "`/api/fix` with an unknown `\"mode\"`": lambda c: c.post("/api/fix", json={"text": "Hi", "mode": "x"}),
}
TIMED = ("a body still arriving after the time limit", "headers still arriving after 10 s",
         "checking past the time limit")  # checked on a real socket in test_serve_process.py


def test_the_readme_gives_the_exact_errors(client):
    table = readme_errors()
    assert set(table) == set(CASES) | set(TIMED)
    for case, request in CASES.items():
        status, answer = table[case]
        response = request(client)
        assert (response.status_code, response.text) == (status, answer), case


def test_allowed_origins_are_read_from_the_config(cli, workdir):
    """(A malformed one is a bad-input case in test_bad_input.py.)"""
    (workdir / ".toneguard.yaml").write_text(
        "serve: {allow-origins: [moz-extension://4b1e, 'http://127.0.0.1:3000']}\n")
    (workdir / "a.txt").write_text(BITTER)
    assert cli("check", "a.txt").code == 1
    from toneguard.config import settings_for

    assert settings_for(str(workdir / "a.txt")).allow_origins == ("moz-extension://4b1e", "http://127.0.0.1:3000")
