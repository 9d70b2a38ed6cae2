"""Transcript readers: bytes of a ``.txt``, ``.md``, ``.docx``, ``.vtt`` or ``.srt`` file ->
:class:`~analysis.model.ParsedTranscript` (canonical NFC text with ``\\n`` line ends, speaker
turns with exact code-point offsets, optional timestamps). Readers are pure functions.
"""

from __future__ import annotations

from pathlib import PurePath

from analysis import limits
from analysis.errors import Errors, UnsupportedFormatError
from analysis.ingest.docx import read_docx
from analysis.ingest.subtitles import read_subtitles
from analysis.ingest.text import is_interviewer_label, read_text
from analysis.model import ParsedTranscript

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".vtt", ".srt")

__all__ = ["SUPPORTED_SUFFIXES", "is_interviewer_label", "read_transcript"]


def read_transcript(name: str, data: bytes) -> ParsedTranscript:
    """Read a transcript file, choosing the reader by the extension of ``name`` (any case).

    Raises ``UnsupportedFormatError`` for other extensions, ``FileRefusedError`` for more than
    :data:`analysis.limits.TRANSCRIPT_BYTES` bytes, and ``ImportFormatError`` (naming the file, and
    the line where one is known) for content that cannot be read.
    """
    if len(data) > limits.TRANSCRIPT_BYTES:
        raise limits.too_big(name, "the file", limits.TRANSCRIPT_BYTES, size=len(data))
    suffix = PurePath(name).suffix.lower()
    if suffix in (".txt", ".md"):
        return read_text(name, data, fmt=suffix[1:])
    if suffix == ".docx":
        return read_docx(name, data)
    if suffix in (".vtt", ".srt"):
        return read_subtitles(name, data, fmt=suffix[1:])
    shown = f"'{suffix}'" if suffix else "a file without an extension"
    raise UnsupportedFormatError(
        name,
        Errors.E1201, shown=shown,
        hint="Save the transcript in one of those formats and import it again.",
    )
