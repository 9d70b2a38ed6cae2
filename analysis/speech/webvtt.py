"""Write a recognised recording as WebVTT: one cue per recognised segment, its speaker as a ``<v Speaker k>`` voice.

The file reads back with Storyloom's own reader (:func:`analysis.ingest.subtitles.read_subtitles`), which
merges a speaker's consecutive cues into one turn. A ``NOTE`` block at the top names the model and the
detected language (readers skip notes). Files are written to a temporary name and renamed, so a killed
process never leaves half a transcript where ``sync`` would import it.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from analysis.speech.transcribe import Segment


def speaker_label(index: int) -> str:
    """``Speaker 1`` for the first speaker (index 0)."""
    return f"Speaker {index + 1}"


def stamp(seconds: float) -> str:
    millis = max(0, int(round(seconds * 1000)))
    return f"{millis // 3_600_000:02d}:{millis % 3_600_000 // 60_000:02d}:{millis % 60_000 // 1000:02d}.{millis % 1000:03d}"


def render(segments: Sequence[Segment], *, note: str = "") -> str:
    """The WebVTT text of ``segments`` (each with its ``speaker``)."""
    lines = ["WEBVTT", ""]
    if note:
        lines += ["NOTE " + " ".join(note.split()), ""]
    for n, seg in enumerate(segments, start=1):
        end = max(seg.end, seg.start + 0.001)
        text = html.escape(seg.text, quote=False)
        lines += [str(n), f"{stamp(seg.start)} --> {stamp(end)}", f"<v {speaker_label(seg.speaker)}>{text}", ""]
    return "\n".join(lines)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.writing")
    tmp.unlink(missing_ok=True)
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
