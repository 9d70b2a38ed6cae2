"""The registry of transcript formats: the one place that says which files Storyloom reads.

Each :class:`TranscriptFormat` names its suffixes, a label for people, the MIME type, and its reader
(a pure function ``(file name, bytes) -> ParsedTranscript``). The CLI help, the UI's uploader, the
error messages and the README's list all come from :data:`TRANSCRIPT_FORMATS`.

To add a format: write its reader in ``analysis/ingest/<name>.py`` (pure; exact code-point offsets;
errors naming the file and line), add one entry here, and a test in tests/formats/test_ingest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from analysis.domain.model import ParsedTranscript
from analysis.ingest.docx import read_docx
from analysis.ingest.subtitles import read_subtitles
from analysis.ingest.text import read_text

Reader = Callable[[str, bytes], ParsedTranscript]


@dataclass(frozen=True)
class TranscriptFormat:
    name: str  # stored as the transcript's format
    suffixes: tuple[str, ...]
    label: str
    mime: str
    reader: Reader


TRANSCRIPT_FORMATS: tuple[TranscriptFormat, ...] = (
    TranscriptFormat("txt", (".txt",), "plain text (speaker labels, timestamps)", "text/plain",
                     lambda name, data: read_text(name, data, fmt="txt")),
    TranscriptFormat("md", (".md",), "Markdown", "text/markdown", lambda name, data: read_text(name, data, fmt="md")),
    TranscriptFormat("docx", (".docx",), "Word document", 
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", read_docx),
    TranscriptFormat("vtt", (".vtt",), "WebVTT subtitles (Zoom, Teams)", "text/vtt",
                     lambda name, data: read_subtitles(name, data, fmt="vtt")),
    TranscriptFormat("srt", (".srt",), "SubRip subtitles (diarised)", "application/x-subrip",
                     lambda name, data: read_subtitles(name, data, fmt="srt")),
    TranscriptFormat("sbv", (".sbv",), "YouTube subtitles (SubViewer)", "text/plain",
                     lambda name, data: read_subtitles(name, data, fmt="sbv")),
)

BY_SUFFIX: dict[str, TranscriptFormat] = {s: f for f in TRANSCRIPT_FORMATS for s in f.suffixes}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(BY_SUFFIX)


def format_for(name: str) -> TranscriptFormat | None:
    """The format of a file named ``name`` (by its suffix, any case), or None."""
    return BY_SUFFIX.get(PurePath(name).suffix.lower())


def suffix_list(sep: str = ", ") -> str:
    """``.txt, .md, .docx, .vtt, .srt, .sbv``: for messages and help texts."""
    return sep.join(SUPPORTED_SUFFIXES)
