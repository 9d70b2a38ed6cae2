"""What the project knows of an attached recording (:class:`MediaInfo`), and what attaching did (:class:`Attached`):
the typed results of :class:`analysis.services.media.MediaService`, importable by the front ends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Attached", "MediaInfo"]


@dataclass(frozen=True)
class MediaInfo:
    """A recording attached to a transcript."""

    transcript: str
    file: str  # its name inside media/
    format: str
    kind: str  # audio | video
    mime: str
    duration: float | None
    codec: str
    channels: int | None
    sample_rate: int | None
    size: int
    sha256: str
    path: Path


@dataclass(frozen=True)
class Attached:
    """What :meth:`MediaService.attach` did: the recording, whether it was copied into media/, warnings."""

    media: MediaInfo
    copied: bool
    warnings: tuple[str, ...] = ()
