"""What service methods return when no domain object says it: frozen dataclasses, one per kind of result,
instead of ``dict[str, Any]`` (the CLI prints them as JSON through :func:`dataclasses.asdict`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
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
    """A frozen codebook: its label, phase, when it was taken (``created_at``) and the code tree with counts
    (its top-level nodes as ``codebook_tree`` gives them: the codebook file's mappings)."""

    label: str
    phase: str
    created_at: str
    codes: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class CodeChange:
    """One change to a code between two snapshots. ``code``: the code (its path; a moved code's name; a split's
    new code); ``was``: its name before a rename, its parent before a move ("(top)" for none), the code a
    split took it from; ``to``: its name after a rename, its parent after a move, the code a merge put it
    into; ``fields``: the definition fields a redefinition changed."""

    code: str
    was: str = ""
    to: str = ""
    fields: tuple[str, ...] = ()

    def parts(self) -> tuple[tuple[str, str], ...]:
        """Its fields that say something, as (name, text) in order, for a listing."""
        named = (("code", self.code), ("was", self.was), ("to", self.to), ("fields", ", ".join(self.fields)))
        return tuple((k, v) for k, v in named if v)


@dataclass(frozen=True)
class SnapshotDiff:
    """What changed from one snapshot to a later one, by kind: codes added, removed, renamed, moved, merged
    (into another code), split (off another code) and redefined."""

    added: tuple[CodeChange, ...] = ()
    removed: tuple[CodeChange, ...] = ()
    renamed: tuple[CodeChange, ...] = ()
    moved: tuple[CodeChange, ...] = ()
    merged: tuple[CodeChange, ...] = ()
    split: tuple[CodeChange, ...] = ()
    redefined: tuple[CodeChange, ...] = ()

    def by_kind(self) -> tuple[tuple[str, tuple[CodeChange, ...]], ...]:
        """Every kind (``added`` ... ``redefined``) with its changes, in that order (empty kinds too)."""
        return tuple((f.name, getattr(self, f.name)) for f in fields(self))

    @property
    def empty(self) -> bool:
        """True when nothing changed between the two snapshots."""
        return not any(changes for _, changes in self.by_kind())


# -- recordings (project.media) --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MediaMatches:
    """What a sync attached from ``media/``: each recording matched to a transcript by name
    (``"<file> -> <transcript>"``), and a warning per recording that could not be read or attached as it was."""

    media_attached: tuple[str, ...] = ()
    media_warnings: tuple[str, ...] = ()


# -- patterns in the uncoded text (project.patterns) -----------------------------------------------------------
@dataclass(frozen=True)
class DismissedPattern:
    """A machine-grouped pattern the researcher dismissed (and did not undo): its ``id`` (a fingerprint of its
    passages), its distinctive ``words`` and its ``segments`` as (transcript, start, end)."""

    id: str
    words: tuple[str, ...]
    segments: tuple[tuple[str, int, int], ...]


# -- the consistency checks (project.consistency) -------------------------------------------------------------
@dataclass(frozen=True)
class OutlyingCoding:
    """A coding far from the rest of its code (a question, not an error): the code's path, the coding and its
    text, its cosine to the centroid of the code's other codings (``similarity``), its leave-one-out ``z`` and
    how many codings the code has."""

    code: str
    coding_id: int
    text: str
    similarity: float
    z: float
    codings: int


@dataclass(frozen=True)
class SimilarCodes:
    """Two codes whose coded material is nearly the same (a merge candidate): their paths and the cosine
    between their centroids."""

    code_a: str
    code_b: str
    similarity: float


@dataclass(frozen=True)
class ThemeGap:
    """A participant with no coding under a theme that most others have (to check, not to fill): the theme,
    the participant, how many of the ``others`` (every other participant) have it."""

    theme: str
    participant: str
    others_with: int
    others: int


@dataclass(frozen=True)
class ConsistencyReport:
    """The consistency checks (:mod:`analysis.domain.consistency`): outlying codings (lowest z first), similar
    code pairs (most similar first) and participants without a theme most others have."""

    outlying_codings: tuple[OutlyingCoding, ...]
    similar_codes: tuple[SimilarCodes, ...]
    participants_without_theme: tuple[ThemeGap, ...]


# -- the codings (project.codings) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Reanchoring:
    """What placing a changed transcript's codings again did: codings that moved or were placed again
    (``reanchored``), and codings kept as orphans to review (``orphaned``)."""

    reanchored: int
    orphaned: int


# -- the disclosure check (project.disclosure, project.chapters) -----------------------------------------------
@dataclass(frozen=True)
class AcceptedTerm:
    """A term a researcher accepted as not identifying (on the allow-list): the term as written, the flag's
    label it was accepted under (PERSON, ORG ...; may be empty), who accepted it and when (``at``)."""

    term: str
    label: str
    accepted_by: str
    at: str


@dataclass(frozen=True)
class DisclosureFlag:
    """A possible identifying detail in what would be published: the ``text`` as printed, its ``label``
    (PERSON, ORG, GPE ... or the unique-attributes label), where it is (``quote``: the quote by its first
    words, the title, a paragraph or heading), the item's index (``item``; None for a place that is no item)
    and, for a combination of attributes only one participant has, the ``detail`` in words."""

    text: str
    label: str
    quote: str
    item: int | None
    detail: str = ""


# -- the team (project.researchers) --------------------------------------------------------------------------
@dataclass(frozen=True)
class Researcher:
    """A registered researcher: name, GUID, role (lead, coder, reader), who added them and when."""

    name: str
    guid: str
    role: str
    added_by: str
    added_at: str


__all__ = ["AcceptedTerm", "CellSuggestion", "CodeChange", "CodebookImport", "CodebookSync", "CodingsImport",
           "ConsistencyReport", "DisclosureFlag", "DismissedPattern", "MatrixCounts", "MatrixImport", "MediaMatches", "OutlyingCoding",
           "Reanchoring", "Researcher", "SectionWords", "SimilarCodes", "Snapshot", "SnapshotDiff", "StoryFileImport", "ThemeGap",
           "WordCounts"]
