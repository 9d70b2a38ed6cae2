"""Plain dataclasses of the domain. No I/O here.

Every span is ``[start, end)`` in Unicode code points into ``Transcript.text`` (NFC, ``\\n`` line
ends), so ``text[start:end]`` is exactly what the span shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHASES: tuple[str, ...] = (
    "familiarising",
    "coding",
    "generating initial themes",
    "developing and reviewing themes",
    "refining, defining and naming themes",
    "writing up",
)

CODE_KINDS: tuple[str, ...] = ("theme", "candidate theme", "code")
CODE_STATUSES: tuple[str, ...] = ("initial code", "candidate theme", "reviewed", "defined")


@dataclass(frozen=True)
class ParsedTurn:
    """One speaker turn as a reader found it; offsets point into ``ParsedTranscript.text``."""

    speaker: str
    start: int
    end: int
    t_start: float | None = None
    t_end: float | None = None
    line: int | None = None  # 1-based line of the source file where the turn begins


@dataclass(frozen=True)
class Anchor:
    """A time the source gave for a place in the text (REFI-QDA's SyncPoint): from code point ``offset`` on,
    the recording is at ``t_start`` seconds; ``t_end`` where the source says when that stretch ends
    (a subtitle cue's end)."""

    offset: int
    t_start: float
    t_end: float | None = None


@dataclass(frozen=True)
class ParsedTranscript:
    """What a reader returns: the canonical text and its turns; ``anchors`` (by offset) are every time the
    source gave, each cue or timestamped block (:func:`analysis.domain.timing.anchors_of` fills them from
    the turns for readers that give none)."""

    text: str
    turns: tuple[ParsedTurn, ...]
    format: str
    warnings: tuple[str, ...] = ()
    anchors: tuple[Anchor, ...] = ()


@dataclass(frozen=True)
class Participant:
    id: int
    guid: str
    pseudonym: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    id: int
    transcript_id: int
    index: int
    speaker: str
    participant: str | None
    interviewer: bool
    start: int
    end: int
    t_start: float | None
    t_end: float | None


@dataclass(frozen=True)
class Transcript:
    id: int
    guid: str
    name: str
    format: str
    text: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    id: int
    transcript_id: int
    turn_id: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Code:
    id: int
    guid: str
    name: str
    parent_id: int | None
    kind: str = "code"
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    colour: str = ""
    status: str = "initial code"
    central_concept: str = ""
    position: int = 0


@dataclass(frozen=True)
class Coding:
    id: int
    guid: str
    code_id: int
    transcript_id: int
    start: int
    end: int
    text: str
    coder: str
    memo: str = ""
    origin: str = "direct"
    orphaned: bool = False


@dataclass(frozen=True)
class Memo:
    id: int
    guid: str
    kind: str  # journal | familiarisation | code | coding | participant
    target_id: int | None
    author: str
    phase: str
    title: str
    body: str
    created_at: str


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: str
    who: str
    action: str
    target: str
    summary: str
    before: Any
    after: Any
    note: str
    state: str  # done | undone | discarded | final
