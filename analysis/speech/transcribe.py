"""Speech to timed text on this machine: faster-whisper (CTranslate2) with Whisper base, int8 on the CPU.

:func:`decode` reads a recording (any format PyAV's bundled FFmpeg reads) into 16 kHz mono samples, with
a catalogue error (E1701) for a file that is not one; :func:`recognise` runs the recogniser over them with
its voice-activity filter, word timestamps and word probabilities, telling ``progress`` the audio seconds
done after every recognised segment and checking ``cancel`` between segments (the recogniser decodes
lazily, so stopping there stops the work). The model is loaded once per process and compute type, from
the verified local folder of :func:`analysis.speech.models.prepare`, never from a hub.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from analysis.errors import Errors, ImportFormatError, ProjectError, StoryloomError, ValidationError
from analysis.speech import models

SAMPLE_RATE = 16_000
MAX_BEAM = 10
#: A word the recogniser gave less than this probability is "unsure" (marked for review).
UNSURE_BELOW = 0.5
#: What an ordinary model load is called in the transcript's record and the methods report.
Audio = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str  # as the recogniser spelled it, with its leading space
    probability: float


@dataclass
class Segment:
    """One recognised passage: times in seconds, its text, its words, the speaker (from 0) once known."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: int = 0


@dataclass
class Recognised:
    language: str
    language_probability: float
    duration: float  # seconds of audio
    segments: list[Segment]
    compute_type: str
    beam: int


class Cancelled(StoryloomError):
    """The researcher cancelled a transcription (nothing is written)."""

    code = "SL1707"


#: Told (audio seconds done, audio seconds in all, the segment just recognised).
SegmentDone = Callable[[float, float, Segment], None]

_models: dict[tuple[Path, str], Any] = {}
_lock = threading.Lock()


def decode(path: Path) -> Audio:
    """The recording's samples, 16 kHz mono float32; E1701 (naming the file) when it cannot be decoded."""
    import av
    from faster_whisper.audio import decode_audio

    try:
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as err:  # PyAV's kinds (InvalidDataError...)
        reason = getattr(err, "strerror", None) or str(err).split(":")[0] or type(err).__name__
        raise ImportFormatError(path.name, Errors.E1701, err=reason) from None
    return np.asarray(samples, dtype=np.float32)


def check_options(*, language: str | None, beam: int) -> str | None:
    """The language code to give the recogniser (None: detect), or a catalogue error for bad options."""
    if not 1 <= beam <= MAX_BEAM:
        raise ValidationError(Errors.E1705, most=MAX_BEAM, beam=beam)
    if language is None or language.strip().lower() in ("", "auto"):
        return None
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    code = language.strip().lower()
    if code not in _LANGUAGE_CODES:
        raise ValidationError(Errors.E1704, language=language)
    return code


def load(*, compute_type: str = "int8", preparing: models.Preparing | None = None) -> Any:
    """The recogniser for Whisper base, made once per process and compute type (verified first)."""
    folder = models.prepare(preparing)
    key = (folder, compute_type)
    with _lock:
        if key not in _models:
            from faster_whisper import WhisperModel

            if not folder.is_dir():  # never a name: WhisperModel would look a name up on a hub
                raise ProjectError(Errors.E9201, package=models.MODEL_PACKAGES[0])
            _models[key] = WhisperModel(str(folder), device="cpu", compute_type=compute_type,
                                        cpu_threads=min(os.cpu_count() or 1, 8), local_files_only=True)
        return _models[key]


def recognise(
    audio: Audio, *, language: str | None = None, beam: int = 5, compute_type: str = "int8",
    progress: SegmentDone | None = None, cancel: threading.Event | None = None,
    preparing: models.Preparing | None = None, name: str = "the recording",
) -> Recognised:
    """Recognise the speech in ``audio`` (16 kHz mono); raises :class:`Cancelled` when ``cancel`` is set."""
    code = check_options(language=language, beam=beam)
    model = load(compute_type=compute_type, preparing=preparing)
    duration = len(audio) / SAMPLE_RATE
    if cancel is not None and cancel.is_set():
        raise Cancelled(Errors.E1707, recording=name)
    pieces, info = model.transcribe(
        audio, language=code, beam_size=beam, vad_filter=True, word_timestamps=True,
        condition_on_previous_text=False)
    segments: list[Segment] = []
    for piece in pieces:
        if cancel is not None and cancel.is_set():
            raise Cancelled(Errors.E1707, recording=name)
        text = " ".join(piece.text.split())
        if not text:
            continue
        words = [Word(float(w.start), float(w.end), w.word, float(w.probability)) for w in (piece.words or [])]
        seg = Segment(float(piece.start), float(piece.end), text, words)
        segments.append(seg)
        if progress is not None:
            progress(min(seg.end, duration), duration, seg)
    if cancel is not None and cancel.is_set():
        raise Cancelled(Errors.E1707, recording=name)
    if progress is not None and segments:
        progress(duration, duration, segments[-1])
    return Recognised(language=str(info.language), language_probability=float(info.language_probability),
                      duration=duration, segments=segments, compute_type=compute_type, beam=beam)
