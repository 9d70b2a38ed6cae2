"""What service methods return when no domain object says it: frozen dataclasses, one per kind of result,
instead of ``dict[str, Any]`` (the CLI prints them as JSON through :func:`dataclasses.asdict`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from analysis.domain.agreement import Stats


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
# (The set-theoretic comparison, project.cases.compare, is analysis.domain.cases.Comparison: the domain computes it
# and prints it in the matrix's publication, and the domain imports no service.)
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


# -- participants (project.participants) --------------------------------------------------------------------
@dataclass(frozen=True)
class AttributeConflict:
    """An attribute ``participants.csv`` changed that was also edited in the app: the participant, the
    attribute, the file's line, the value in the app (``in_app``), the file's new value (``in_file``) and the
    value ``kept`` (the in-app one: never overwritten)."""

    participant: str
    attribute: str
    line: int
    in_app: str
    in_file: str
    kept: str


@dataclass(frozen=True)
class ParticipantsApplied:
    """What applying ``participants.csv`` did: whether it was ``applied`` (False when it is empty or unchanged
    since the last sync), the attribute values ``written``, the in-app edits kept (``conflicts``) and a warning
    per row naming a transcript the folder does not hold."""

    applied: bool
    written: int
    conflicts: tuple[AttributeConflict, ...]
    warnings: tuple[str, ...]


# -- the team (project.researchers) --------------------------------------------------------------------------
@dataclass(frozen=True)
class Researcher:
    """A registered researcher: name, GUID, role (lead, coder, reader), who added them and when."""

    name: str
    guid: str
    role: str
    added_by: str
    added_at: str


# -- inter-coder agreement (project.agreement) ---------------------------------------------------------------
@dataclass(frozen=True)
class CodeAgreement:
    """One code's agreement in a comparison: its path and the statistics of :class:`Stats` (``units``: those
    at least two coders rated, for Krippendorff's alpha; ``units_all_coders``: those every coder rated, for
    percent agreement and Cohen's kappa, which is None for more than two coders or where undefined)."""

    code: str
    units: int
    units_all_coders: int
    percent_agreement: float | None
    cohen_kappa: float | None
    krippendorff_alpha: float | None


@dataclass(frozen=True)
class AgreementResult:
    """A comparison of coders: the unit, the coders, the transcripts (by name), each code's agreement and the
    ``overall`` agreement pooled over codes, the caveat (``note``), how many of the transcripts each coder
    coded, and the methods-section sentence (``methods``) saying it all."""

    unit: str
    coders: tuple[str, ...]
    transcripts: tuple[str, ...]
    codes: tuple[CodeAgreement, ...]
    overall: Stats
    note: str
    transcripts_per_coder: Mapping[str, int]
    methods: str = ""


@dataclass(frozen=True)
class PassageCoding:
    """A coder's coding of the code overlapping a passage where coders disagree: its id and GUID, its
    ``[start, end)``, its quote and its memo."""

    id: int
    guid: str
    start: int
    end: int
    quote: str
    memo: str


@dataclass(frozen=True)
class Disagreement:
    """A passage where coders disagree whether ``code`` applies: the code (path and id), the transcript, the
    passage's ``[start, end)`` and ``text``, the coders who coded some of it and those who coded none of it,
    and each coder's codings of the code overlapping it (``codings``: coder -> codings, empty where none)."""

    code: str
    code_id: int
    transcript: str
    start: int
    end: int
    text: str
    coded_by: tuple[str, ...]
    not_coded_by: tuple[str, ...]
    codings: Mapping[str, tuple[PassageCoding, ...]]


@dataclass(frozen=True)
class Reconciliation:
    """What reconciling a passage did: the other coders' codings removed, the copies of the ``accepted``
    coder's codings added, and the coders they were copied ``into``."""

    removed: int
    added: int
    accepted: str
    into: tuple[str, ...]


# -- merging another copy (project.merge) --------------------------------------------------------------------
@dataclass(frozen=True)
class MergedTranscripts:
    """The transcripts of a merge, matched by name: how many ``matched``, those whose text differs between the
    copies (``changed``: their codings were placed by their quote) and those this project lacks (``missing``)."""

    matched: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class MergeConflict:
    """A matched code the copies disagree on: its path, the ``field`` that differs (``place`` for a code
    matched by GUID under another name or parent, else a definition field), this project's text (kept) and
    the other copy's (``theirs``: written as a memo on the code)."""

    code: str
    field: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class MergedCodes:
    """The codes of a merge, by path: matched by GUID, matched by path, added (with their GUID), and the
    conflicts between matched codes."""

    matched_by_guid: tuple[str, ...]
    matched_by_path: tuple[str, ...]
    added: tuple[str, ...]
    conflicts: tuple[MergeConflict, ...]


@dataclass(frozen=True)
class MergedCodings:
    """The codings of a merge: already here (``matched``), added, of those placed by their quote on a changed
    transcript and kept as orphans to review, and those on a transcript this project lacks (``unplaced``)."""

    matched: int
    added: int
    placed_by_quote: int
    orphaned: int
    unplaced: int


@dataclass(frozen=True)
class MergedMemos:
    """The memos of a merge: already here (same GUID), added, and those whose code, coding, transcript or
    participant is not in this project (``unplaced``)."""

    matched: int
    added: int
    unplaced: int


@dataclass(frozen=True)
class MergeReport:
    """What merging another copy did (or, a ``dry_run``, would do): the other copy's folder, its transcripts,
    codes, codings and memos as matched and added, and the rows of the tables not merged (``not_merged``:
    table -> rows, only those with rows)."""

    other: str
    transcripts: MergedTranscripts
    codes: MergedCodes
    codings: MergedCodings
    memos: MergedMemos
    not_merged: Mapping[str, int]
    dry_run: bool = False


# -- REFI-QDA interchange (project.interchange) --------------------------------------------------------------
@dataclass(frozen=True)
class RefiCodebookImport:
    """What importing a REFI-QDA codebook (``.qdc``) did (or, a dry run, would do): the file, the program it
    came from (``origin``; empty when unknown), the codes and code sets it holds, and the codes added,
    changed and left unchanged (all 0 in a dry run)."""

    file: str
    origin: str
    codes: int
    sets: int
    added: int = 0
    changed: int = 0
    unchanged: int = 0


# -- the semantic assist (project.assist) ---------------------------------------------------------------------
@dataclass(frozen=True)
class EmbeddingCoverage:
    """How much of the project semantic search covers: ``embedded`` of ``segments``, ``pending`` (waiting for
    their vector), ``percent`` (whole, rounded down: 100 only when all are embedded), ``complete``, and
    ``text``: the sentence the workbench shows while it is partial (empty when complete)."""

    embedded: int
    segments: int
    pending: int
    percent: int
    complete: bool
    text: str


@dataclass(frozen=True)
class SearchHit:
    """A segment as a search hit: who said it (``participant``, else the speaker's label), the transcript, its
    ``[start, end)`` and text, the ``score``, the speaker, its turn's span and text (for context); the keyword
    ``matches`` (``[start, end)`` offsets in the transcript; None but for a keyword or hybrid match), and where
    it is as the researcher reads it: ``line`` (Read & code's margin) and ``timestamp`` (the turn's, ``~`` an
    earlier one's; ``""`` before the first time), None until :meth:`AssistService.with_places` placed it."""

    participant: str
    transcript: str
    start: int
    end: int
    text: str
    score: float
    speaker: str
    turn_start: int
    turn_end: int
    turn_text: str
    matches: tuple[tuple[int, int], ...] | None = None
    line: int | None = None
    timestamp: str | None = None


# -- transcripts (project.transcripts) ----------------------------------------------------------------------
@dataclass(frozen=True)
class TextCorrection:
    """What a correction of a transcript's words (or its turn's speaker) did, or the undoing of one: the
    transcript, the line it is on (as numbered in Read & code's margin), the new words' ``[start, end)`` and
    ``text``, the turn's speaker (after it), the transcript's corrections so far, and the codings re-anchored
    or orphaned by it."""

    transcript: str
    line: int
    start: int
    end: int
    text: str
    speaker: str
    corrections: int
    reanchored: int
    orphaned: int


@dataclass(frozen=True)
class EmbeddingRun:
    """The last step of an import or sync (``transcripts.embed_or_queue``): vectors stored now
    (``segments_embedded``), and texts left waiting in the embedding queue (``embedding_pending``; 0 when the
    step waited for them). Import and sync reports carry both under these names."""

    segments_embedded: int
    embedding_pending: int


@dataclass(frozen=True)
class ListedSpeaker:
    """A speaker label of a listed transcript: its ``label``, its turns, whether it is an interviewer, and the
    participant (pseudonym) it is mapped to (None when unmapped)."""

    label: str
    turns: int
    interviewer: bool
    participant: str | None


@dataclass(frozen=True)
class TranscriptListing:
    """One transcript as the project lists it: its name, format, the participants its speakers are mapped to
    (sorted), its speakers (in order), segments, warnings (the import's, then one per unmapped speaker) and
    how many corrections were made to it in the app."""

    name: str
    format: str
    participants: tuple[str, ...]
    speakers: tuple[ListedSpeaker, ...]
    segments: int
    warnings: tuple[str, ...]
    corrections: int


# -- transcribing recordings (project.transcription) --------------------------------------------------------
@dataclass(frozen=True)
class TranscribedRecording:
    """One recording transcribed and imported: the recording, its transcript and the copy in ``media/``, the
    model (with its compute type) and beam, the language detected (and with what probability), the duration
    in seconds, the segments (cues), words, unsure words and speakers, and its warnings."""

    recording: str
    transcript: str
    media: str
    model: str
    beam: int
    language: str
    language_probability: float
    duration: float
    segments: int
    words: int
    unsure: int
    speakers: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Transcription:
    """What a transcription did: each recording transcribed, in order, every warning, and the imports' lists
    joined (``imported``: ``added``, ``unmapped`` speakers, ``copied`` ... as the transcript import reports
    them; the CLI's JSON calls it ``import``)."""

    transcribed: tuple[TranscribedRecording, ...]
    warnings: tuple[str, ...]
    imported: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class UnsureWord:
    """A word the recogniser was unsure of, still to review: its ``[start, end)`` in the transcript's text
    (as it reads now), its ``text``, its ``time`` (seconds into the recording) and the recogniser's
    ``probability``."""

    start: int
    end: int
    text: str
    time: float
    probability: float


@dataclass(frozen=True)
class WordCorrection:
    """An unsure word corrected while listening (a span correction): the transcript, the line it is on, the
    new words' ``[start, end)`` and ``text``, the turn's speaker, the transcript's corrections so far, and
    the codings re-anchored or orphaned by it."""

    transcript: str
    line: int
    start: int
    end: int
    text: str
    speaker: str
    corrections: int
    reanchored: int
    orphaned: int


__all__ = ["AcceptedTerm", "AgreementResult", "AttributeConflict", "CellSuggestion", "CodeAgreement", "CodeChange",
           "CodebookImport", "CodebookSync", "CodingsImport", "ConsistencyReport", "Disagreement", "DisclosureFlag",
           "DismissedPattern", "EmbeddingCoverage", "EmbeddingRun", "ListedSpeaker", "MatrixCounts", "MatrixImport",
           "MediaMatches", "MergeConflict", "MergeReport", "MergedCodes", "MergedCodings", "MergedMemos",
           "MergedTranscripts", "OutlyingCoding", "ParticipantsApplied", "PassageCoding", "Reanchoring",
           "Reconciliation", "RefiCodebookImport", "Researcher", "SearchHit", "SectionWords", "SimilarCodes",
           "Snapshot", "SnapshotDiff", "StoryFileImport", "TextCorrection", "ThemeGap", "TranscribedRecording",
           "TranscriptListing", "Transcription", "UnsureWord", "WordCorrection", "WordCounts"]
