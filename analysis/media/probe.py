"""What a recording holds, read with a real decoder (PyAV: FFmpeg inside its wheel, no system binary).

:func:`probe` opens the file, reads its duration, codec, channels and sample rate from the audio stream,
and decodes its last seconds to tell a complete file from a truncated one. Every failure is an
:class:`~analysis.errors.ImportFormatError` naming the file: not a recording, empty, over the size cap
(:data:`analysis.limits.MEDIA_BYTES`), unreadable, no sound track, cut short.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis import limits
from analysis.errors import Errors, FileRefusedError, ImportFormatError
from analysis.media.formats import MediaFormat, media_format_for, media_suffix_list

__all__ = ["Probe", "duration_warning", "probe"]


@dataclass(frozen=True)
class Probe:
    """A recording as the decoder found it."""

    format: MediaFormat
    duration: float | None  # seconds
    codec: str
    channels: int | None
    sample_rate: int | None
    size: int
    video: bool  # it has a picture too


def _stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def probe(path: Path, *, name: str | None = None, root: Path | None = None) -> Probe:
    """Read ``path``'s recording facts, or raise an error naming the file (``name``, else its file name).
    Only a regular file is opened (a FIFO would block the decoder); with ``root``, a link leading out of
    that folder is refused (a link in media/ must not make the app serve a file from elsewhere)."""
    shown = name or path.name
    fmt = media_format_for(path.name)
    if fmt is None:
        raise ImportFormatError(shown, Errors.E1601, suffix=path.suffix or "(no suffix)",
                                supported=media_suffix_list())
    try:
        if root is not None and not path.resolve(strict=True).is_relative_to(root.resolve()):
            raise FileRefusedError(shown, Errors.E1507, root=root, target=path.resolve())
        info = os.stat(path)
    except (OSError, RuntimeError) as err:
        raise ImportFormatError(shown, Errors.E1604, err=_short(err)) from err
    if not stat.S_ISREG(info.st_mode):
        raise FileRefusedError(shown, Errors.E1506, st_mode="a folder" if stat.S_ISDIR(info.st_mode)
                               else "a pipe, device or socket")
    size = info.st_size
    if size == 0:
        raise ImportFormatError(shown, Errors.E1602)
    if size > limits.MEDIA_BYTES:
        raise ImportFormatError(shown, Errors.E1603, size=limits.human_size(size),
                                cap=limits.human_size(limits.MEDIA_BYTES))
    import av  # FFmpeg's libraries, loaded only when a recording is read

    try:
        container: Any = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as err:
        raise ImportFormatError(shown, Errors.E1604, err=_short(err)) from err
    try:
        audio = next(iter(container.streams.audio), None)
        if audio is None:
            kinds = sorted({s.type for s in container.streams}) or ["nothing"]
            raise ImportFormatError(shown, Errors.E1605, streams=", ".join(kinds))
        duration = _duration(container, audio)
        codec = str(audio.codec_context.name or "")
        channels = int(audio.codec_context.channels or 0) or None
        rate = int(audio.codec_context.sample_rate or 0) or None
        video = bool(container.streams.video)
        _check_complete(container, audio, duration, shown)
    finally:
        container.close()
    return Probe(fmt, duration, codec, channels, rate, size, video)


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _duration(container: Any, audio: Any) -> float | None:
    if audio.duration is not None and audio.time_base is not None:
        return float(audio.duration * audio.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000  # av.time_base: microseconds
    return None


def _check_complete(container: Any, audio: Any, duration: float | None, shown: str) -> None:
    """Decode the first frames and the last seconds: a file cut short fails here, not mid-listening."""
    import av

    seen = 0.0
    try:
        for frame in container.decode(audio):
            seen = float(frame.time or 0.0)
            break
        if duration and duration > 2:
            container.seek(int(max(0.0, duration - 2.0) / audio.time_base), stream=audio, any_frame=False,
                           backward=True)
            for frame in container.decode(audio):
                seen = max(seen, float(frame.time or 0.0))
    except (av.error.FFmpegError, ValueError, OSError) as err:
        raise ImportFormatError(shown, Errors.E1606, at=_stamp(seen), err=_short(err)) from err
    if duration and duration > 4 and seen < duration * 0.5:
        raise ImportFormatError(shown, Errors.E1606, at=_stamp(seen), err="no sound where the file says it lasts")


def duration_warning(name: str, duration: float | None, last_time: float | None) -> str | None:
    """A warning when the recording is much shorter than the transcript's last timestamp (or much longer):
    the tolerance is :data:`analysis.limits.MEDIA_DURATION_TOLERANCE` seconds or 5 %, whichever is larger."""
    if duration is None or last_time is None:
        return None
    tolerance = max(limits.MEDIA_DURATION_TOLERANCE, 0.05 * duration)
    if last_time > duration + tolerance:
        return (f"{name} lasts {_stamp(duration)} but the transcript's last timestamp is {_stamp(last_time)}: "
                "is it the right recording, or cut short?")
    if duration > last_time + max(tolerance, 0.5 * duration):
        return (f"{name} lasts {_stamp(duration)}, much longer than the transcript's last timestamp "
                f"({_stamp(last_time)}): is it the right recording?")
    return None
