"""Recordings beside transcripts, time for every line, corrections while listening (the media issue).

Media are made in the test (PyAV writing a tone; no recordings in the repository). Runs on both dialects."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.errors import ImportFormatError, NotFoundError, NothingToUndoError, ValidationError
from analysis.project import Project

SRT = "".join(f"{i}\n00:00:{2 * i - 2:02d},000 --> 00:00:{2 * i - 1:02d},500\nCue number {i} says word{i}.\n\n"
              for i in range(1, 26))  # 25 cues, no speaker names: one turn, a line per cue


def tone(path: Path, seconds: float, *, rate: int = 16000) -> Path:
    """A real recording written by PyAV (AAC in .m4a, or PCM in .wav): a 440 Hz tone."""
    import av
    import numpy as np

    codec = {"m4a": "aac", "wav": "pcm_s16le", "mp3": "libmp3lame", "flac": "flac"}[path.suffix[1:]]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        n = int(seconds * rate)
        samples = (np.sin(2 * math.pi * 440 * np.arange(n) / rate) * 8000).astype(np.int16)
        for k in range(0, n, 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, k:k + 1024], format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _line_words(project: Project, name: str, line: int) -> tuple[int, str]:
    from analysis.domain.explore import line_starts

    text = project.transcripts.get(name).text
    start = line_starts(text)[line - 1]
    end = text.find("\n", start)
    return start, text[start:end if end >= 0 else len(text)]


def test_unlabelled_subtitles_are_timed_cue_by_cue(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    anchors = p.transcripts.anchors("talk.srt")
    assert len(anchors) == 25 and [a.t_start for a in anchors[:3]] == [0.0, 2.0, 4.0]
    text = p.transcripts.get("talk.srt").text
    start = text.index("word17")
    p.codebook.add_code("Seventeen")
    p.codings.add_coding(transcript="talk.srt", start=start, end=start + 6, code="Seventeen")
    frame = p.explore.codings_frame()
    assert list(frame["timestamp"]) == ["00:00:32"]  # cue 17's start, not the turn's first timestamp
    timing = p.transcripts.time_of("talk.srt", start, start + 6)
    assert timing is not None and (timing.start, timing.end) == (32.0, 33.5)


def test_a_recording_with_the_transcript_s_name_is_attached_on_sync(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    (p.path / "media").mkdir()
    tone(p.path / "media" / "talk.m4a", 50.0)
    report = p.sync()
    assert report["media_attached"] == ["talk.m4a -> talk.srt"] and report["media_warnings"] == []
    info = p.media.require("talk.srt")
    assert (info.kind, info.format, info.codec, info.channels) == ("audio", "m4a", "aac", 1)
    assert info.duration is not None and abs(info.duration - 50.0) < 0.2
    assert p.sync()["media_attached"] == []  # attached once
    p.undo()  # attaching is one undoable action
    assert p.media.of("talk.srt") is None and (p.path / "media" / "talk.m4a").exists()


def test_attach_copies_into_media_and_warns_on_a_length_that_disagrees(
        make_project: Callable[..., Project], tmp_path: Path) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    short = tone(tmp_path / "elsewhere.wav", 3.0)
    done = p.media.attach("talk.srt", short)
    assert done.copied and (p.path / "media" / "elsewhere.wav").read_bytes() == short.read_bytes()
    assert len(done.warnings) == 1 and "last timestamp is 00:00:49" in done.warnings[0]
    assert [m.file for m in p.media.list()] == ["elsewhere.wav"]
    p.media.detach("talk.srt")
    assert p.media.list() == [] and (p.path / "media" / "elsewhere.wav").exists()


@pytest.mark.parametrize("make, needle", [
    (lambda d: d.write_bytes(b""), "is empty (0 bytes)"),
    (lambda d: d.write_bytes(b"ID3 this is not audio at all" * 50), "cannot be read as audio or video"),
    (lambda d: d.write_bytes(tone(d.with_name("whole.m4a"), 20.0).read_bytes()[:2500]), "cannot be read"),
])
def test_bad_recordings_are_refused_naming_the_file(make_project: Callable[..., Project], tmp_path: Path,
                                                   make: Callable[[Path], object], needle: str) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    bad = tmp_path / "bad.m4a"
    make(bad)
    trail = len(p.audit_trail())
    with pytest.raises(ImportFormatError) as err:
        p.media.attach("talk.srt", bad)
    assert "bad.m4a" in str(err.value) and needle in str(err.value)
    assert len(p.audit_trail()) == trail and not (p.path / "media" / "bad.m4a").exists()
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    with pytest.raises(ImportFormatError, match="not a recording Storyloom plays"):
        p.media.attach("talk.srt", text_file)
    with pytest.raises(NotFoundError):
        p.media.require("talk.srt")


def test_a_correction_keeps_codings_outside_it_and_survives_sync(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    p.codebook.add_code("Five")
    p.codebook.add_code("Twenty")
    text = p.transcripts.get("talk.srt").text
    for word, code in (("word5", "Five"), ("word20", "Twenty")):
        at = text.index(word)
        p.codings.add_coding(transcript="talk.srt", start=at, end=at + len(word), code=code)
    before = {c.code_id: c.text for c in p.codings.codings_in("talk.srt")}
    line = next(n for n in range(1, 30) if "word10." in _line_words(p, "talk.srt", n)[1])
    done = p.transcripts.correct("talk.srt", line=line, text="Cue number ten was misheard as word10 before.")
    assert done.corrections == 1 and done.orphaned == 0
    after = {c.code_id: c.text for c in p.codings.codings_in("talk.srt")}
    assert after == before  # both codings keep their exact quotes, the later one moved with the text
    for c in p.codings.codings_in("talk.srt"):
        assert p.transcripts.get("talk.srt").text[c.start:c.end] == c.text
    assert p.transcripts.anchors("talk.srt")[19].t_start == 38.0  # anchors after the line moved with it
    at = p.transcripts.get("talk.srt").text.index("word20")
    assert p.transcripts.time_of("talk.srt", at, at + 6).start == 38.0  # type: ignore[union-attr]
    report = p.sync()  # the file is unchanged: the corrected text stays
    assert "misheard" in p.transcripts.get("talk.srt").text and report["conflicts"] == []
    (p.path / "transcripts" / "talk.srt").write_text(SRT.replace("word3.", "word three."), encoding="utf-8")
    report = p.sync()  # both changed: a conflict, neither side overwritten
    assert report["conflicts"] == ["talk.srt"] and "misheard" in p.transcripts.get("talk.srt").text
    assert [r.corrections for r in p.transcripts.list()] == [1]


def test_undo_of_a_correction_brings_the_words_back(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    original = p.transcripts.get("talk.srt").text
    p.transcripts.correct("talk.srt", line=4, text="A new fourth line.")
    assert "A new fourth line." in p.transcripts.get("talk.srt").text
    event = p.undo()
    assert event.action == "transcript.correct" and p.transcripts.get("talk.srt").text == original
    p.transcripts.correct("talk.srt", line=4, text="Changed once.")
    p.transcripts.correct("talk.srt", line=5, text="Changed twice.")
    p.undo()
    assert "Changed twice." not in p.transcripts.get("talk.srt").text
    assert "Changed once." in p.transcripts.get("talk.srt").text


def test_a_correction_changes_a_speaker_and_refuses_what_is_not_a_turn(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts={"i.txt": "Interviewer: How was it?\n\nAna: It was hard.\n"})
    p.transcripts.correct("i.txt", line=2, speaker="Anna")  # lines are the non-blank ones, as in the margin
    assert [t.speaker for t in p.transcripts.turns("i.txt")] == ["Interviewer", "Anna"]
    with pytest.raises(NotFoundError, match="has no line 9"):
        p.transcripts.correct("i.txt", line=9, text="x")
    with pytest.raises(ValidationError, match="cannot make a turn empty"):
        p.transcripts.correct("i.txt", line=1, text="   ")


def test_undo_of_a_correction_refuses_after_the_text_changed_otherwise(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    p.transcripts.correct("talk.srt", line=2, text="Changed.")
    with p.acting_as("Another Researcher"):
        p.transcripts.correct("talk.srt", line=3, text="Changed by another.")
    with pytest.raises(NothingToUndoError):  # the later change of text is a barrier: nothing is undone
        p.undo()
    assert "Changed." in p.transcripts.get("talk.srt").text


def test_cli_media_and_transcript_edit(make_project: Callable[..., Project], tmp_path: Path) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    rec = tone(tmp_path / "talk.wav", 50.0)
    cli = [sys.executable, "-m", "analysis.cli", "--help"]
    assert subprocess.run(cli, capture_output=True).returncode == 0
    from typer.testing import CliRunner

    from analysis.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["media", "attach", "talk.srt", str(rec), "--project", str(p.path)])
    assert res.exit_code == 0, res.output
    assert "Attached talk.wav (copied into media/; audio, 00:00:50, pcm_s16le) to talk.srt" in res.output
    res = runner.invoke(app, ["media", "list", "--project", str(p.path)])
    assert "talk.wav" in res.output and "00:00:50" in res.output
    res = runner.invoke(app, ["transcript", "edit", "talk.srt", "--line", "2", "Fixed words.", "--project",
                              str(p.path)])
    assert res.exit_code == 0 and "Corrected line 2 of talk.srt (correction 1)" in res.output
    bad = tmp_path / "x.ogg"
    bad.write_bytes(b"\x00" * 100)
    res = runner.invoke(app, ["media", "attach", "talk.srt", str(bad), "--project", str(p.path)])
    assert res.exit_code == 1 and "x.ogg" in res.output and "Traceback" not in res.output


def test_the_methods_report_says_how_transcripts_were_checked(make_project: Callable[..., Project],
                                                              tmp_path: Path) -> None:
    p = make_project(transcripts={"talk.srt": SRT})
    assert "recording" not in p.exports.methods_report().paragraph
    p.media.attach("talk.srt", tone(tmp_path / "talk.wav", 50.0))
    p.transcripts.correct("talk.srt", line=2, text="Fixed once.")
    p.transcripts.correct("talk.srt", line=3, text="Fixed twice.")
    p.undo()  # the second correction, undone: not counted
    paragraph = p.exports.methods_report().paragraph
    assert ("1 transcript had its recording attached and was read beside it (the recordings stayed on the "
            "researcher's computer); the researcher corrected 1 transcript while listening (1 correction).") in paragraph


def test_a_pipe_or_a_link_out_of_media_is_refused_without_blocking(make_project: Callable[..., Project],
                                                                   tmp_path: Path) -> None:
    import os

    p = make_project(transcripts={"talk.srt": SRT})
    (p.path / "media").mkdir()
    os.mkfifo(p.path / "media" / "talk.wav")  # a decoder would wait on it forever
    report = p.sync()
    assert report["media_attached"] == [] and "not a file" in report["media_warnings"][0]
    (p.path / "media" / "talk.wav").unlink()
    outside = tone(tmp_path / "secret.wav", 2.0)
    (p.path / "media" / "talk.wav").symlink_to(outside)
    report = p.sync()
    assert report["media_attached"] == [] and "leads outside the folder" in report["media_warnings"][0]
    assert p.media.list() == []


def _video(path: Path, *, sound: bool) -> Path:
    """A 3 s MP4 (MPEG-4 picture, AAC sound) written by PyAV."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        picture = out.add_stream("mpeg4", rate=10)
        picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=16000) if sound else None
        if audio is not None:
            audio.layout = "mono"
        for i in range(30):
            frame = np.zeros((48, 64, 3), dtype=np.uint8)
            frame[:, :, 0] = i * 8
            for packet in picture.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        if audio is not None:
            samples = (np.sin(2 * math.pi * 440 * np.arange(48000) / 16000) * 8000).astype(np.int16)
            for k in range(0, 48000, 1024):
                chunk = av.AudioFrame.from_ndarray(samples[None, k:k + 1024], format="s16", layout="mono")
                chunk.sample_rate = 16000
                for packet in audio.encode(chunk):
                    out.mux(packet)
        for stream in (picture, audio):
            for packet in stream.encode(None) if stream is not None else []:
                out.mux(packet)
    return path


def test_a_video_is_attached_as_video_and_one_without_sound_is_refused(make_project: Callable[..., Project],
                                                                       tmp_path: Path) -> None:
    p = make_project(transcripts={"clip.vtt": "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nA short clip.\n"})
    done = p.media.attach("clip.vtt", _video(tmp_path / "clip.mp4", sound=True))
    assert (done.media.kind, done.media.format, done.media.mime) == ("video", "mp4", "video/mp4")
    with pytest.raises(ImportFormatError, match="holds no audio"):
        p.media.attach("clip.vtt", _video(tmp_path / "silent.mp4", sound=False))
