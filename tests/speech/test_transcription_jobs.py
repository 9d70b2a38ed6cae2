"""The background job behind the Project page's Transcribe action, with a stand-in for the recogniser."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis import Project
from analysis.domain.progress import Step
from analysis.errors import Errors
from analysis.services.results import TranscribedRecording, Transcription
from analysis.workbench import transcription_jobs as jobs
from analysis.speech.transcribe import Cancelled


def transcribed(recording: str, *, language: str = "en", words: int = 9, speakers: int = 1,
                unsure: int = 0) -> Transcription:
    """What ``project.transcription.transcribe`` returns for one recording (a stand-in's report)."""
    stem = Path(recording).stem
    entry = TranscribedRecording(recording=recording, transcript=f"{stem}.vtt", media=f"media/{recording}",
                                 model="Whisper base (int8)", beam=5, language=language, language_probability=1.0,
                                 duration=60.0, segments=1, words=words, unsure=unsure, speakers=speakers,
                                 warnings=())
    return Transcription(transcribed=(entry,), warnings=(), imported={"added": (entry.transcript,)})


def _fake(release: threading.Event, seen: list[list[Path]]) -> Callable[..., Transcription]:
    def transcribe(paths: list[Path], *, progress: Any, passage: Any, cancel: threading.Event, **_: Any) -> Transcription:
        seen.append(list(paths))
        progress(Step("recognise", 0, 60, "audio s", paths[0].name))
        passage(paths[0].name, "", 0.0, "Hello there.")
        progress(Step("recognise", 20, 60, "audio s", "2 words"))
        release.wait(10)
        if cancel.is_set():
            raise Cancelled(Errors.E1707, recording=paths[0].name)
        progress(Step("recognise", 60, 60, "audio s", "9 words"))
        return transcribed("a.wav")
    return transcribe


def test_a_job_runs_in_the_background_and_reports_progress(make_project: Callable[..., Project],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project, release, seen = make_project(), threading.Event(), []
    monkeypatch.setattr(project.transcription, "transcribe", _fake(release, seen))
    registry = jobs.Jobs()
    registry.start(project, [("a.wav", b"RIFF....")], speakers=2, language="auto", beam=5, researcher="R")
    for _ in range(200):
        state = registry.current(project)
        if state is not None and state.words == 2:
            break
        threading.Event().wait(0.02)
    assert state is not None and state.status == "running" and state.audio_done == 20 and state.audio_total == 60
    assert state.passages == ["[00:00] Hello there."] and state.seconds_left is not None
    assert json.loads(jobs.state_path(project.path).read_text())["status"] == "running"  # on disk too
    release.set()
    final = registry.wait(project, 10)
    assert final is not None and final.status == "done" and final.words == 9 and final.report["transcribed"]
    assert seen[0][0].name == "a.wav" and not jobs.recordings_dir(project.path).exists()


def test_cancel_ends_the_job_with_nothing_written(make_project: Callable[..., Project],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    project, release = make_project(), threading.Event()
    monkeypatch.setattr(project.transcription, "transcribe", _fake(release, []))
    registry = jobs.Jobs()
    registry.start(project, [("a.wav", b"RIFF")], speakers=1, language="en", beam=1, researcher=None)
    registry.cancel(project)
    release.set()
    final = registry.wait(project, 10)
    assert final is not None and final.status == "cancelled" and "SL1707" in final.error
    assert list(project.transcripts_dir.glob("*")) == []


def test_a_job_killed_with_the_server_is_interrupted_and_restarts(make_project: Callable[..., Project],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project()
    kept = jobs.recordings_dir(project.path)
    kept.mkdir(parents=True)
    (kept / "b.wav").write_bytes(b"RIFF")
    state = jobs.JobState(["b.wav"], 2, "auto", 5, "R", audio_done=30, audio_total=90)
    jobs.save_state(project.path, {**state.__dict__, "pid": 1})  # what a killed server left
    registry = jobs.Jobs()  # a new server process
    found = registry.current(project)
    assert found is not None and found.status == "interrupted" and found.recordings == ["b.wav"]
    release, seen = threading.Event(), []
    release.set()
    monkeypatch.setattr(project.transcription, "transcribe", _fake(release, seen))
    registry.start(project, None, speakers=found.speakers, language=found.language, beam=found.beam,
                   researcher="R", restart_of=found)
    final = registry.wait(project, 10)
    assert final is not None and final.status == "done" and seen[0][0] == kept / "b.wav"
    registry.dismiss(project)
    assert registry.current(project) is None
