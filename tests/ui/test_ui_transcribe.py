"""The Project page's Transcribe action through AppTest, with a stand-in for the recogniser (the job's own
tests are in tests/speech/test_transcription_jobs.py; the real recogniser's in tests/speech/test_transcription.py)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from analysis import Project
from analysis.domain.progress import Step
from analysis.workbench import transcription_jobs as jobs
from analysis.workbench.transcription_jobs import JOBS
from analysis.services.results import Transcription
from tests.speech.test_transcription_jobs import transcribed

REPO = Path(__file__).absolute().parents[2]
PAGE = "analysis/workbench/pages/project.py"


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Iterator[Project]:
    p = make_project()
    old = os.environ.get("STORYLOOM_PROJECT")
    os.environ["STORYLOOM_PROJECT"] = str(p.path)
    yield p
    JOBS.dismiss(p)
    if old is None:
        os.environ.pop("STORYLOOM_PROJECT", None)
    else:
        os.environ["STORYLOOM_PROJECT"] = old


def _open() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_page_offers_transcription(project: Project) -> None:
    at = _open()
    assert any(s.value == "Transcribe recordings" for s in at.subheader)
    assert [n.label for n in at.number_input] == ["Number of speakers"]
    assert {b.label for b in at.button} >= {"Transcribe"}


def test_a_running_job_shows_progress_and_the_growing_transcript(project: Project,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def transcribe(paths: list[Path], *, progress: Any, passage: Any, cancel: threading.Event, **_: Any) -> Transcription:
        progress(Step("recognise", 0, 60, "audio s", paths[0].name))
        passage(paths[0].name, "", 3.0, "We started in the spring.")
        progress(Step("recognise", 20, 60, "audio s", "5 words"))
        release.wait(10)
        return transcribed("a.wav", language="en", words=5, speakers=2, unsure=1)

    monkeypatch.setattr(project.transcription, "transcribe", transcribe)
    JOBS.start(project, [("a.wav", b"RIFF")], speakers=2, language="auto", beam=5, researcher="R")
    for _ in range(200):
        if (s := JOBS.current(project)) is not None and s.words == 5:
            break
        threading.Event().wait(0.02)
    at = _open()
    texts = " ".join(str(getattr(e, "value", "")) for e in at.markdown)
    assert "We started in the spring." in texts
    assert any(b.label == "Cancel transcription" for b in at.button)
    release.set()
    JOBS.wait(project, 10)
    at = _open()
    assert any("Transcribed a.wav into a.vtt" in s.value for s in at.success)


def test_an_interrupted_job_can_be_restarted(project: Project) -> None:
    kept = jobs.recordings_dir(project.path)
    kept.mkdir(parents=True)
    (kept / "b.wav").write_bytes(b"RIFF")
    jobs.save_state(project.path, {**jobs.JobState(["b.wav"], 2, "auto", 5, "R").__dict__, "pid": 1})
    at = _open()
    assert any("server stopped" in e.value for e in at.error)
    assert any(b.label == "Restart the transcription" for b in at.button)


def test_unsure_words_are_reviewed_on_read_and_code(project: Project) -> None:
    from tests.speech.test_speech_files import _transcribed

    _transcribed(lambda: project)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.switch_page("analysis/workbench/pages/read_code.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.label == "Unsure words to review · 4" for e in at.expander)
    assert any("Word 1 of 4" in c.value for c in at.caption)
    next(b for b in at.button if b.key == "unsure_next").click()
    at.run()
    assert any("Word 2 of 4" in c.value for c in at.caption)
    assert at.session_state["rc_selection"]["start"] == project.transcription.unsure("x.vtt")[1].start
    next(b for b in at.button if b.key == "unsure_accept").click()
    at.run()
    assert not at.exception and len(project.transcription.unsure("x.vtt")) == 3
    at.text_input(key=next(t.key for t in at.text_input if t.label == "Correct it to")).input("everyone.")
    at.run()
    next(b for b in at.button if b.key == "unsure_correct").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(project.transcription.unsure("x.vtt")) == 2
