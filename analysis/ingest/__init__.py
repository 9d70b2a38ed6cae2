"""Transcript readers: bytes of a transcript file -> :class:`~analysis.domain.model.ParsedTranscript`
(canonical NFC text with ``\\n`` line ends, speaker turns with exact code-point offsets, optional
timestamps). Readers are pure functions; which file suffix goes to which reader is the registry in
:mod:`analysis.ingest.formats`.
"""

from __future__ import annotations

from pathlib import PurePath

from analysis import limits
from analysis.errors import Errors, ImportFormatError, UnsupportedFormatError
from analysis.ingest.formats import SUPPORTED_SUFFIXES, TRANSCRIPT_FORMATS, format_for, suffix_list
from analysis.ingest.text import is_interviewer_label
from analysis.domain.model import ParsedTranscript

__all__ = ["SUPPORTED_SUFFIXES", "TRANSCRIPT_FORMATS", "format_for", "is_interviewer_label", "read_transcript",
           "suffix_list"]


def read_transcript(name: str, data: bytes) -> ParsedTranscript:
    """Read a transcript file, choosing the reader by the extension of ``name`` (any case).

    Raises ``UnsupportedFormatError`` for other extensions, ``FileRefusedError`` for more than
    :data:`analysis.limits.TRANSCRIPT_BYTES` bytes, and ``ImportFormatError`` (naming the file, and
    the line where one is known) for content that cannot be read or text over
    :data:`analysis.limits.TRANSCRIPT_CHARS` characters (SL1551, before anything is segmented).
    """
    if len(data) > limits.TRANSCRIPT_BYTES:
        raise limits.too_big(name, "the file", limits.TRANSCRIPT_BYTES, size=len(data))
    fmt = format_for(name)
    if fmt is not None:
        parsed = fmt.reader(name, data)
        if len(parsed.text) > limits.TRANSCRIPT_CHARS:  # before segmenting: its time grows with the length
            raise ImportFormatError(name, Errors.E1551, what=f"its text ({len(parsed.text):,} characters)",
                                    cap=f"{limits.TRANSCRIPT_CHARS:,} characters", got="",
                                    hint="Split it into shorter files (a two-hour interview is about 100,000).")
        return parsed
    suffix = PurePath(name).suffix.lower()
    shown = f"'{suffix}'" if suffix else "a file without an extension"
    raise UnsupportedFormatError(name, Errors.E1201, shown=shown, formats=suffix_list(),
                                 hint="Save the transcript in one of those formats and import it again.")
