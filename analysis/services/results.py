"""What service methods return when no domain object says it: frozen dataclasses, one per kind of result,
instead of ``dict[str, Any]`` (the CLI prints them as JSON through :func:`dataclasses.asdict`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


# -- the story (project.story) and the chapters (project.chapters) ---------------------------------------------
@dataclass(frozen=True)
class StoryFileImport:
    """What a story file (``codebooks/story.yaml``) brought in: periods, events and evidence links added,
    chapters and their sections."""

    periods: int
    events: int
    links: int
    chapters: int
    sections: int


@dataclass(frozen=True)
class SectionWords:
    heading: str
    words: int


@dataclass(frozen=True)
class WordCounts:
    """A chapter's words as they would print: per section, in order, and in all (with the introduction)."""

    sections: tuple[SectionWords, ...]
    total: int


# -- the case matrix (project.cases, project.case_tables) ----------------------------------------------------
@dataclass(frozen=True)
class CellSuggestion:
    """A machine suggestion for a cell (never written by itself): ``value`` 1 (present) with the ``evidence``
    (coding ids) it comes from and the ``reason`` in words."""

    case: str
    condition: str
    value: float
    evidence: tuple[int, ...]
    reason: str
    machine: bool = True


@dataclass(frozen=True)
class MatrixCounts:
    """How the matrix was built, for the methods report: cases (and their kinds), conditions besides the
    outcome, the outcome, cells in all, judged, partial, with evidence, with a note, accepted machine
    suggestions, imported (a spreadsheet or a cases file), and the evidence links in all."""

    cases: int
    kinds: tuple[str, ...]
    conditions: int
    outcome: str | None
    cells: int
    judged: int
    partial: int
    with_evidence: int
    with_note: int
    suggestions_accepted: int
    imported: int
    evidence_links: int


@dataclass(frozen=True)
class MatrixImport:
    """What a matrix CSV or a cases file brought in: every case and condition it names, the cells it set,
    its outcome, the cases and conditions that were new, and (a cases file) the evidence links attached."""

    cases: tuple[str, ...]
    conditions: tuple[str, ...]
    cells: int
    outcome: str | None
    new_cases: tuple[str, ...]
    new_conditions: tuple[str, ...]
    evidence: int = 0


# -- the codebook's files (project.codebook_files) -----------------------------------------------------------
@dataclass(frozen=True)
class CodebookImport:
    """What a codebook file brought in: codes created, and codes (matched by path) updated."""

    created: int
    updated: int


@dataclass(frozen=True)
class CodingsImport:
    """What a codings file brought in: codings placed (by offsets or re-anchored by their quote), kept as
    orphans to review, skipped (already present), and a warning per coding that was not placed as written."""

    placed: int
    orphaned: int
    skipped: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class CodebookSync:
    """What a sync brought in from ``codebooks/``: codes created, codings placed, and the codings file's
    warnings (None when no codings file was imported)."""

    codebook_imported: int
    codings_imported: int
    codings_warnings: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Snapshot:
    """A frozen codebook: its label, phase and the code tree with counts (as ``codebook_tree`` gives it)."""

    label: str
    phase: str
    codes: list[dict[str, Any]]


# -- patterns in the uncoded text (project.patterns) -----------------------------------------------------------
@dataclass(frozen=True)
class DismissedPattern:
    """A machine-grouped pattern the researcher dismissed (and did not undo): its ``id`` (a fingerprint of its
    passages), its distinctive ``words`` and its ``segments`` as (transcript, start, end)."""

    id: str
    words: tuple[str, ...]
    segments: tuple[tuple[str, int, int], ...]


# -- the team (project.researchers) --------------------------------------------------------------------------
@dataclass(frozen=True)
class Researcher:
    """A registered researcher: name, GUID, role (lead, coder, reader), who added them and when."""

    name: str
    guid: str
    role: str
    added_by: str
    added_at: str


__all__ = ["CellSuggestion", "CodebookImport", "CodebookSync", "CodingsImport", "DismissedPattern", "MatrixCounts", "MatrixImport", "Researcher", "SectionWords",
           "Snapshot", "StoryFileImport", "WordCounts"]
