"""A real recording made in the test: espeak-ng speaks each cue, sox pads it, PyAV writes AAC (.m4a); the
WebVTT beside it times every cue exactly as it was spoken. No recordings live in the repository."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

WORDS = ("river", "budget", "pilot", "teacher", "ministry", "village", "harvest", "library", "transport", "clinic")


def line_text(n: int) -> str:
    """The words of cue ``n`` (from 1): short, distinct, easy to find in the page."""
    return f"Line {n} is about the {WORDS[n % len(WORDS)]}."


def spoken_interview(folder: Path, cues: int, *, stem: str = "interview", voice: str = "en-us") -> tuple[Path, Path, list[tuple[float, float]]]:
    """``folder/transcripts/STEM.vtt`` (no speaker names) and ``folder/media/STEM.m4a``; the cue times."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: the media tests make speech with espeak-ng and sox "
                        "(apt-get install espeak-ng sox; `make test` installs them)")
    work = folder / ".speech"
    work.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    times: list[tuple[float, float]] = []
    at = 0.0
    for n in range(1, cues + 1):
        raw, part = work / f"{n}.raw.wav", work / f"{n}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "190", "-w", str(raw), line_text(n)], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(part), "pad", "0", "0.35"],
                       check=True)
        with wave.open(str(part)) as w:
            length = w.getnframes() / w.getframerate()
        times.append((round(at, 3), round(at + length - 0.35, 3)))
        at += length
        parts.append(part)
    joined = work / "all.wav"
    subprocess.run(["sox", *map(str, parts), str(joined)], check=True)
    (folder / "media").mkdir(exist_ok=True)
    audio = folder / "media" / f"{stem}.m4a"
    _to_m4a(joined, audio)
    (folder / "transcripts").mkdir(exist_ok=True)
    vtt = folder / "transcripts" / f"{stem}.vtt"
    vtt.write_text("WEBVTT\n\n" + "".join(f"{_stamp(a)} --> {_stamp(b)}\n{line_text(n)}\n\n"
                                          for n, (a, b) in enumerate(times, start=1)), encoding="utf-8")
    shutil.rmtree(work)
    return vtt, audio, times


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms % 3_600_000 // 60_000:02d}:{ms % 60_000 // 1000:02d}.{ms % 1000:03d}"


def _to_m4a(wav: Path, out: Path) -> None:
    import av

    with av.open(str(wav)) as source, av.open(str(out), "w") as target:
        stream = target.add_stream("aac", rate=16000)
        stream.layout = "mono"
        for frame in source.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
