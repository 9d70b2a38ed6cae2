"""The registry of recording formats, in the style of :data:`analysis.ingest.formats.TRANSCRIPT_FORMATS`:
each entry names its suffixes, a label for people, the MIME type the local app serves it with, whether it
is audio or video, and its probe (:func:`analysis.media.probe.probe`, the same decoder for all)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

__all__ = ["MEDIA_FORMATS", "MEDIA_SUFFIXES", "RECORDING_SUFFIXES", "MediaFormat", "media_format_for", "media_suffix_list"]


@dataclass(frozen=True)
class MediaFormat:
    name: str  # stored as the recording's format
    suffixes: tuple[str, ...]
    label: str
    mime: str
    kind: str  # audio | video


MEDIA_FORMATS: tuple[MediaFormat, ...] = (
    MediaFormat("wav", (".wav",), "WAV audio", "audio/wav", "audio"),
    MediaFormat("mp3", (".mp3",), "MP3 audio", "audio/mpeg", "audio"),
    MediaFormat("m4a", (".m4a", ".aac"), "AAC audio (phones, Zoom, Teams)", "audio/mp4", "audio"),
    MediaFormat("ogg", (".ogg", ".oga"), "Ogg Vorbis audio", "audio/ogg", "audio"),
    MediaFormat("opus", (".opus",), "Opus audio (WhatsApp, Signal)", "audio/ogg", "audio"),
    MediaFormat("flac", (".flac",), "FLAC audio (lossless)", "audio/flac", "audio"),
    MediaFormat("mp4", (".mp4", ".m4v"), "MP4 video (Zoom, Teams)", "video/mp4", "video"),
    MediaFormat("webm", (".webm",), "WebM video", "video/webm", "video"),
    MediaFormat("mov", (".mov",), "QuickTime video", "video/quicktime", "video"),
)

_BY_SUFFIX: dict[str, MediaFormat] = {s: f for f in MEDIA_FORMATS for s in f.suffixes}
MEDIA_SUFFIXES: tuple[str, ...] = tuple(_BY_SUFFIX)


# What the transcriber decodes (FFmpeg reads more than the player plays): the player's formats and a few more.
RECORDING_SUFFIXES: tuple[str, ...] = (*MEDIA_SUFFIXES, ".mkv", ".wma", ".aiff", ".aif")


def media_format_for(name: str) -> MediaFormat | None:
    """The format of a recording named ``name`` (by its suffix, any case), or None."""
    return _BY_SUFFIX.get(PurePath(name).suffix.lower())


def media_suffix_list(sep: str = ", ") -> str:
    """``.wav, .mp3, ...``: for messages and help texts."""
    return sep.join(MEDIA_SUFFIXES)
