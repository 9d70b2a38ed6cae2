"""End to end with the real models: a two-voice interview made with espeak-ng, transcribed, told apart, imported.

The recording (about 25 s) is transcribed once for the module; the checks read that one result."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from analysis import Project
from analysis.errors import ImportFormatError, ProjectError
from analysis.services.results import Transcription
from analysis.speech import models
from analysis.speech.transcribe import Cancelled
from tests.speech.recordings import Recording, normalise, speaker_accuracy, wer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def transcribed(interview: Recording, tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Transcription, list[Any]]:
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    project = open_project(tmp_path_factory.mktemp("project"), embedder=HashingEmbedder())
    steps: list[Any] = []
    report = project.transcription.transcribe([interview.path], speakers=2, language="auto", beam=5,
                                              progress=steps.append)
    yield project, report, steps
    project.close()


def _hypothesis(project: Project, name: str) -> list[tuple[str, str]]:
    text = project.transcripts.get(name).text
    return [(turn.speaker, w) for turn in project.transcripts.turns(name) for w in normalise(text[turn.start:turn.end])]


def test_the_interview_is_transcribed_accurately(transcribed: Any, interview: Recording) -> None:
    project, report, _ = transcribed
    entry = report.transcribed[0]
    hyp = _hypothesis(project, entry.transcript)
    error = wer([w for _, w in interview.words], [w for _, w in hyp])
    assert error < 0.15, (error, " ".join(w for _, w in hyp))
    assert entry.language == "en" and entry.model == "Whisper base (int8)"


def test_words_are_on_the_right_speaker(transcribed: Any, interview: Recording) -> None:
    project, report, _ = transcribed
    hyp = _hypothesis(project, report.transcribed[0].transcript)
    assert {label for label, _ in hyp} == {"Speaker 1", "Speaker 2"}
    assert speaker_accuracy(interview.words, hyp) >= 0.90
    assert hyp[0][0] == "Speaker 1"  # numbered by first appearance


def test_files_are_written_and_the_cues_imported(transcribed: Any, interview: Recording) -> None:
    project, report, steps = transcribed
    folder = project.path
    vtt = (folder / "transcripts" / "garden_interview.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "<v Speaker 2>" in vtt
    assert vtt.count(" --> ") == report.transcribed[0].segments
    assert (folder / "media" / "garden_interview.wav").read_bytes() == interview.path.read_bytes()
    listing = {t.name: t for t in project.transcripts.list()}
    assert {s.label for s in listing["garden_interview.vtt"].speakers} == {"Speaker 1", "Speaker 2"}
    assert [t.speaker for t in project.transcripts.turns("garden_interview.vtt")][:2] == ["Speaker 1", "Speaker 2"]
    stages = [s.stage for s in steps]
    assert stages.index("recognise") < stages.index("speakers") < stages.index("store")
    recognised = [s for s in steps if s.stage == "recognise"]
    assert recognised[-1].done == recognised[-1].total and "words" in recognised[-1].item


def test_unsure_words_are_kept_beside_the_transcript(transcribed: Any) -> None:
    project, _, _ = transcribed
    sidecar = json.loads((project.transcripts_dir / "garden_interview.unsure.json").read_text(encoding="utf-8"))
    text = project.transcripts.get("garden_interview.vtt").text
    assert sidecar["model"] == "Whisper base (int8)"
    for word in sidecar["words"]:
        assert text[word["start"]:word["end"]] == word["text"] and word["probability"] < 0.5
    assert [asdict(w) for w in project.transcription.unsure("garden_interview.vtt")] == [
        {k: w[k] for k in ("start", "end", "text", "time", "probability")} for w in sidecar["words"]]


def test_the_model_and_language_are_recorded_for_the_methods_report(transcribed: Any) -> None:
    project, _, _ = transcribed
    [event] = project.audit_trail(action="transcript.transcribe")
    assert event.after["language"] == "en" and event.after["model"] == "Whisper base (int8)"
    assert event.target == "transcript:garden_interview.vtt"
    paragraph = project.exports.methods_report().paragraph
    assert "transcribed locally with Whisper base (int8) and corrected by the researcher: 0 corrections" in paragraph


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith("project.db")}


def test_cancel_leaves_the_project_unchanged(make_project: Callable[..., Project], interview: Recording) -> None:
    project = make_project()
    before, trail = _snapshot(project.path), len(project.audit_trail())
    cancel = threading.Event()
    with pytest.raises(Cancelled, match="SL1707"):
        project.transcription.transcribe([interview.path], passage=lambda *_: cancel.set(), cancel=cancel)
    assert _snapshot(project.path) == before and len(project.audit_trail()) == trail
    assert project.transcripts.list() == []


def test_a_silent_recording_is_a_clear_error(make_project: Callable[..., Project], tmp_path: Path) -> None:
    project = make_project()
    silent = tmp_path / "silence.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(silent), "trim", "0", "4"], check=True)
    with pytest.raises(ImportFormatError, match=r"SL1702.*silence\.wav: holds no speech"):
        project.transcription.transcribe([silent])
    assert list(project.transcripts_dir.glob("*")) == [] and not (project.path / "media").exists()


def test_a_hash_mismatch_refuses_before_anything_is_transcribed(
        make_project: Callable[..., Project], interview: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project()
    monkeypatch.setitem(models.WHISPER_BASE_SHA256, "tokenizer.json", "0" * 64)
    models.forget_verified()
    try:
        with pytest.raises(ProjectError, match=r"SL9202.*tokenizer\.json"):
            project.transcription.transcribe([interview.path])
    finally:
        models.forget_verified()
    assert project.transcripts.list() == [] and not (project.path / "media").exists()
