"""``Project``: the facade researchers (and the UI, the CLI, notebooks) hold.

A project is composed of small typed services, each given one :class:`~analysis.services.context.Context`:

========================  ==========================================================================
``project.transcripts``   import, sync, read transcripts and turns, map speakers
``project.transcription`` transcribe recordings locally (Whisper base) into speaker-labelled transcripts
``project.participants``  participants and their attributes
``project.codebook``      codes and themes: create, edit, move, merge, split, delete, history
``project.codings``       codes applied to spans; re-anchoring after a transcript changes
``project.media``         recordings attached to transcripts (media/): attach, detach, list, match by name on sync
``project.memos``         memos and the reflexive journal
``project.codebook_files`` codebook/codings YAML, snapshots and their diffs
``project.explore``       DataFrames: codings, theme x participant matrices, co-occurrence
``project.assist``        the segment index and search
``project.suggestions``   "more like this code": suggestions, accept/reject
``project.patterns``      uncoded patterns (clusters) and codes made from them
``project.consistency``   consistency checks of the coding
``project.vignettes``     vignettes: quotes with marked edits, narrative, drafting
``project.disclosure``    disclosure checks and the allow-list
``project.exports``       every export (vignettes, quotes, memos, methods report), recorded in the audit trail
``project.interchange``   REFI-QDA: import .qdpx projects and .qdc codebooks (NVivo, MAXQDA, ATLAS.ti), export both
``project.cases``         cases, conditions, the case x condition matrix, set-theoretic comparison
``project.case_tables``   the matrix's tables: publication, exports (md, docx, tex, html, csv, xlsx), CSV and cases-file imports
``project.story``         events in story time, periods, the story file, the timeline, restorying
``project.chapters``      findings chapters: sections, figures, checks and their export
``project.agreement``     inter-coder agreement (percent, Cohen's kappa, Krippendorff's alpha) for codebook-style studies
``project.researchers``   a team's researchers and their roles (lead, coder, reader), enforced by the action runner
``project.merge``         merge another SQLite copy of the project, coded separately from the same transcripts
``project.guide``         the first-run "Start here" guide: its steps in phase order, shown until hidden
========================  ==========================================================================

This module owns what is not one service's: undo/redo, the audit trail, status, and ``sync`` (which
rescans the transcripts folder, then the codebooks folder).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.embedding.minilm import Embedder, default_embedder
from analysis.errors import ConflictError, Errors, NothingToUndoError, ProjectError
from analysis.domain.model import AuditEvent, Participant
from analysis.domain.progress import Progress
from analysis.services.context import Context, default_user, new_guid
from analysis.domain.roles import check as check_role
from analysis.store import Store, audit as audit_store, researchers as researcher_store, stats, team as team_store

if TYPE_CHECKING:  # the services' modules load on first use (a CLI command needs one or two)
    from analysis.services.agreement import AgreementService
    from analysis.services.assist import AssistService
    from analysis.services.case_tables import CaseTableService
    from analysis.services.cases import CaseService
    from analysis.services.codebook import CodebookService
    from analysis.services.codebook_files import CodebookFileService
    from analysis.services.chapters import ChapterService
    from analysis.services.codings import CodingService
    from analysis.services.consistency import ConsistencyService
    from analysis.services.disclosure import DisclosureService
    from analysis.services.explore import ExploreService
    from analysis.services.exports import ExportService
    from analysis.services.guide import GuideService
    from analysis.services.interchange import InterchangeService
    from analysis.services.media import MediaService
    from analysis.services.memos import MemoService
    from analysis.services.merge import MergeService
    from analysis.services.story import StoryService
    from analysis.services.participants import ParticipantService
    from analysis.services.patterns import PatternService
    from analysis.services.researchers import ResearcherService
    from analysis.services.suggestions import SuggestionService
    from analysis.services.transcription import TranscriptionService
    from analysis.services.transcripts import TranscriptService
    from analysis.services.vignettes import VignetteService

DB_NAME = "project.db"


class Project:
    """A Storyloom project: a folder with ``transcripts/``, ``codebooks/`` and ``project.db``."""

    def __init__(self, path: str | Path, *, embedder: Embedder | None = None, user: str | None = None,
                 create: bool = True, database: str | None = None) -> None:
        self.path = Path(path).resolve()
        if self.path.exists() and not self.path.is_dir():
            raise ProjectError(Errors.E4008, path=self.path, db=DB_NAME)
        on_server = (self.path / team_store.PROJECT_FILE).is_file()
        if not create and not on_server and not (self.path / DB_NAME).is_file():
            raise ProjectError(Errors.E4007, path=self.path)
        if database is not None:  # a team project: project.toml names the server (issue 14)
            url = team_store.check_url(database)
            if (self.path / DB_NAME).is_file():
                raise ProjectError(Errors.E4206, path=self.path, what=DB_NAME)
            if on_server and team_store.read_url(self.path) != url:
                raise ProjectError(Errors.E4206, path=self.path,
                                   what=f"{team_store.PROJECT_FILE} names {team_store.redacted(team_store.read_url(self.path))}")
            self.path.mkdir(parents=True, exist_ok=True)
            if not on_server:
                Store(url).close()  # reach and migrate the server before the folder points at it
                team_store.write_project_file(self.path, url)
        self.path.mkdir(parents=True, exist_ok=True)
        self.store = Store.for_folder(self.path)
        self.user = user or default_user()
        self.ctx = Context(store=self.store, path=self.path, user=self.user,
                           embedder_factory=default_embedder, _embedder=embedder)

    # -- the services, each made on first use ------------------------------------------------
    @cached_property
    def participants(self) -> ParticipantService:
        from analysis.services.participants import ParticipantService

        return ParticipantService(self.ctx)

    @cached_property
    def codebook(self) -> CodebookService:
        from analysis.services.codebook import CodebookService

        return CodebookService(self.ctx)

    @cached_property
    def codings(self) -> CodingService:
        from analysis.services.codings import CodingService

        return CodingService(self.ctx, self.codebook)

    @cached_property
    def transcripts(self) -> TranscriptService:
        from analysis.services.transcripts import TranscriptService

        return TranscriptService(self.ctx, self.participants, self.codings)

    @cached_property
    def media(self) -> MediaService:
        from analysis.services.media import MediaService

        return MediaService(self.ctx)

    @cached_property
    def transcription(self) -> TranscriptionService:
        from analysis.services.transcription import TranscriptionService

        return TranscriptionService(self.ctx, self.transcripts, self.media)

    @cached_property
    def memos(self) -> MemoService:
        from analysis.services.memos import MemoService

        return MemoService(self.ctx)

    @cached_property
    def codebook_files(self) -> CodebookFileService:
        from analysis.services.codebook_files import CodebookFileService

        return CodebookFileService(self.ctx, self.codebook)

    @cached_property
    def explore(self) -> ExploreService:
        from analysis.services.explore import ExploreService

        return ExploreService(self.ctx, self.codebook, self.participants)

    @cached_property
    def assist(self) -> AssistService:
        from analysis.services.assist import AssistService

        return AssistService(self.ctx, self.codebook, self.participants)

    @cached_property
    def suggestions(self) -> SuggestionService:
        from analysis.services.suggestions import SuggestionService

        return SuggestionService(self.ctx, self.assist, self.codebook, self.codings)

    @cached_property
    def patterns(self) -> PatternService:
        from analysis.services.patterns import PatternService

        return PatternService(self.ctx, self.assist, self.codebook, self.codings)

    @cached_property
    def consistency(self) -> ConsistencyService:
        from analysis.services.consistency import ConsistencyService

        return ConsistencyService(self.ctx, self.assist, self.codebook, self.explore, self.suggestions)

    @cached_property
    def vignettes(self) -> VignetteService:
        from analysis.services.vignettes import VignetteService

        return VignetteService(self.ctx, self.codebook, self.codings, self.transcripts, self.participants,
                               self.explore, self.assist)

    @cached_property
    def disclosure(self) -> DisclosureService:
        from analysis.services.disclosure import DisclosureService

        return DisclosureService(self.ctx, self.participants, self.codebook, self.vignettes)

    @cached_property
    def cases(self) -> CaseService:
        from analysis.services.cases import CaseService

        return CaseService(self.ctx, self.codebook, self.participants, self.explore)

    @cached_property
    def case_tables(self) -> CaseTableService:
        from analysis.services.case_tables import CaseTableService

        return CaseTableService(self.ctx, self.cases, self.explore)

    @cached_property
    def exports(self) -> ExportService:
        from analysis.services.exports import ExportService

        return ExportService(self.ctx, self.codebook, self.memos, self.explore, self.participants, self.vignettes,
                             self.disclosure, self.codebook_files, self.cases)

    @cached_property
    def interchange(self) -> InterchangeService:
        from analysis.services.interchange import InterchangeService

        return InterchangeService(self.ctx, self.codebook, self.transcripts)

    @cached_property
    def story(self) -> StoryService:
        from analysis.services.story import StoryService

        return StoryService(self.ctx, self.codebook, self.explore, self.vignettes)

    @cached_property
    def chapters(self) -> ChapterService:
        from analysis.services.chapters import ChapterService

        return ChapterService(self.ctx, self.explore, self.participants, self.vignettes, self.disclosure, self.story,
                              self.cases)

    @cached_property
    def agreement(self) -> AgreementService:
        from analysis.services.agreement import AgreementService

        return AgreementService(self.ctx, self.codebook)

    @cached_property
    def researchers(self) -> ResearcherService:
        from analysis.services.researchers import ResearcherService

        return ResearcherService(self.ctx)

    @cached_property
    def merge(self) -> MergeService:
        from analysis.services.merge import MergeService

        return MergeService(self.ctx, self.codebook)

    @cached_property
    def guide(self) -> GuideService:
        from analysis.services.guide import GuideService

        return GuideService(self.ctx)

    # -- basics --------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return self.ctx.embedder

    @property
    def transcripts_dir(self) -> Path:
        return self.ctx.transcripts_dir

    @property
    def codebooks_dir(self) -> Path:
        return self.ctx.codebooks_dir

    @property
    def actor(self) -> str:
        """Who the next action is recorded as: the ``acting_as`` researcher, else the project user."""
        return self.ctx.actor

    @contextmanager
    def acting_as(self, researcher: str | None) -> Iterator[None]:
        """Record the actions inside the block as made by ``researcher`` (e.g. the UI's sidebar name).

        Context-local, so two browser sessions sharing one open project do not mix up their names."""
        with self.ctx.acting_as(researcher):
            yield

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def version(self) -> int:
        """A counter bumped by every change: caches (e.g. in the UI) key on it."""
        with self.store.read() as conn:
            return audit_store.change_counter(conn)

    def users(self) -> list[str]:
        """The researchers who have acted in this project."""
        with self.store.read() as conn:
            return audit_store.user_names(conn)

    def status(self, *, brief: bool = False) -> dict[str, int]:
        """Counts: transcripts, participants, turns, segments, embedded, codes, codings (``brief``: transcripts,
        participants, codes and codings only, the cheap ones)."""
        with self.store.read() as conn:
            return stats.counts(conn, self.embedder.model_id, brief=brief)

    # -- the folder ----------------------------------------------------------------------------
    def sync(self, *, progress: Progress | None = None, wait: bool = True) -> dict[str, Any]:
        """Rescan ``transcripts/`` (new, changed, missing files; ``participants.csv``), then, when the
        project has no codebook yet, import the codebook and codings found in ``codebooks/``, and the cases
        and story files: the files of ``codebooks/`` are applied in ONE transaction, all or nothing (a valid
        ``cases.yaml`` is not written when ``story.yaml`` is refused). Last, the new sentences are embedded
        (``wait``) or left in the embedding queue (``transcripts.embed_or_queue``)."""
        report = self.transcripts.sync(progress=progress, wait=False)
        if report.get("missing"):  # a REFI-QDA import's sources live in the project, not in transcripts/
            kept = self.interchange.imported_transcripts()
            report["missing"] = [name for name in report["missing"] if name not in kept]
        media = self.media.attach_matching()  # media/<stem>.m4a beside transcripts/<stem>.vtt
        report |= {"media_attached": list(media.media_attached), "media_warnings": list(media.media_warnings)}
        with self.store.transaction():
            book = self.codebook_files.sync_folder()
            report |= {"codebook_imported": book.codebook_imported, "codings_imported": book.codings_imported}
            if book.codings_warnings is not None:
                report["codings_warnings"] = list(book.codings_warnings)
            report["cases_imported"] = self.case_tables.sync_folder()
            report["events_imported"] = self.story.sync_folder()
        embedded = self.transcripts.embed_or_queue(wait, progress)
        report |= {"segments_embedded": embedded.segments_embedded, "embedding_pending": embedded.embedding_pending}
        return report

    # -- actions across two services -----------------------------------------------------------
    def map_speaker_to_new(self, transcript: str, label: str, pseudonym: str, *, note: str = "") -> Participant:
        """Add ``pseudonym`` as a new participant and map ``transcript``'s speaker ``label`` to them: one
        action (one audit event, one undo step), the two services' actions joined in it."""
        with self.ctx.action("speaker.map", note=note) as act:
            participant = self.participants.add(pseudonym, note=note)
            self.transcripts.map_speaker(transcript, label, participant.pseudonym, note=note)
            act.summary = f"Added participant {participant.pseudonym} as speaker '{label}' in {transcript}"
        return participant

    # -- the audit trail and undo --------------------------------------------------------------
    def audit_trail(self, *, action: str | None = None, limit: int | None = None) -> list[AuditEvent]:
        """The audit trail, oldest first (``action`` may end in ``*`` to match a prefix)."""
        with self.store.read() as conn:
            return audit_store.events(conn, action=action, limit=limit)

    def can_undo(self) -> AuditEvent | None:
        """The action :meth:`undo` would reverse: the acting researcher's last (see :attr:`actor`)."""
        with self.store.read() as conn:
            return audit_store.undo_candidate(conn, self.actor)

    def can_redo(self) -> AuditEvent | None:
        with self.store.read() as conn:
            return audit_store.redo_candidate(conn, self.actor)

    #: Kinds whose undo reverses many rows at once (an import, a merge): undo asks first (see :meth:`is_bulk`).
    BULK_KINDS = frozenset({"code.merge", "codebook.import", "codings.import", "refi.import", "case.matrix.import",
                            "case.file.import", "participants.sync", "code.split", "pattern.make_code"})
    #: An action touching more rows than this is bulk whatever its kind.
    BULK_ROWS = 20

    def undo_history(self, limit: int = 20) -> list[AuditEvent]:
        """The last ``limit`` actions that changed data (every researcher's, undos and redos included),
        newest first: who did what, and whether it is done, undone or final."""
        from analysis.domain.audit import KINDS

        kinds = {name for name, kind in KINDS.items() if kind.data}
        with self.store.read() as conn:
            return audit_store.recent_events(conn, limit=limit, kinds=kinds)

    def undo_scope(self, event: AuditEvent) -> dict[str, int]:
        """``{table: rows}`` that undoing ``event`` would change back."""
        with self.store.read() as conn:
            return audit_store.change_counts(conn, event.id)

    def is_bulk(self, event: AuditEvent) -> bool:
        """Whether undoing ``event`` reverses a bulk action: an import or a merge (:data:`BULK_KINDS`), or
        any action that wrote more than :data:`BULK_ROWS` rows."""
        return event.action in self.BULK_KINDS or sum(self.undo_scope(event).values()) > self.BULK_ROWS

    def describe_scope(self, event: AuditEvent) -> str:
        """``"318 codings, 2 codes"``: what undoing ``event`` changes back, in words."""
        scope = self.undo_scope(event)
        words = {"codings": ("coding", "codings"), "codes": ("code", "codes"), "memos": ("memo", "memos"),
                 "participants": ("participant", "participants"), "transcripts": ("transcript", "transcripts"),
                 "participant_attributes": ("attribute value", "attribute values"), "speakers": ("speaker", "speakers"),
                 "cases": ("case", "cases"), "conditions": ("condition", "conditions"),
                 "case_values": ("judged cell", "judged cells"), "case_value_evidence": ("evidence link", "evidence links"),
                 "case_evidence": ("case passage", "case passages"), "case_participants": ("case member", "case members"),
                 "case_attributes": ("case attribute", "case attributes"), "variables": ("attribute", "attributes"),
                 "suggestion_decisions": ("suggestion decision", "suggestion decisions"),
                 "vignettes": ("vignette", "vignettes"), "events": ("event", "events"),
                 "event_evidence": ("event passage", "event passages"), "periods": ("period", "periods"),
                 "chapters": ("chapter", "chapters"), "chapter_sections": ("chapter section", "chapter sections"),
                 "allow_list": ("allow-list entry", "allow-list entries")}
        parts = []
        for table, n in sorted(scope.items(), key=lambda kv: -kv[1]):
            one, many = words.get(table, (f"{table.replace('_', ' ')} row", f"{table.replace('_', ' ')} rows"))
            parts.append(f"{n} {one if n == 1 else many}")
        return ", ".join(parts) or "no rows"

    def undo(self, *, allow_bulk: bool = True, expect: int | None = None) -> AuditEvent:
        """Undo the researcher's last action (works across restarts: the trail is in the project).

        ``allow_bulk=False`` (the UI and CLI) refuses, changing nothing, to undo a bulk action
        (:meth:`is_bulk`) with a message naming it, until the researcher confirms; ``expect`` (the
        event id the researcher confirmed) refuses if the last action is another one by now.

        Per researcher: the last action of :attr:`actor`, never another researcher's (each of a team
        undoes their own work); a change of transcript text after it still stops anyone's undo.

        Refuses, changing nothing, when a row the action wrote has changed since (for instance a
        re-import moved the coding), or when a transcript's text changed after the action."""
        last = self.can_undo()
        if last is not None and last.action == "transcript.correct" and (expect is None or last.id == expect):
            # A correction is reversed by correcting back (the same path as the correction, codings re-placed),
            # refused when the transcript changed since; the reversal is final, and the event is marked undone.
            self.transcripts.undo_correction(last)
            with self.store.write() as conn:
                audit_store.mark_undone(conn, last.id, at=self.ctx.now())
            return last
        if not allow_bulk or expect is not None:
            event = self.can_undo()
            if event is not None and expect is not None and event.id != expect:
                raise ConflictError(Errors.E8102, expected=self._summary_of(expect), summary=event.summary)
            if event is not None and not allow_bulk and self.is_bulk(event):
                raise ConflictError(Errors.E8101, summary=event.summary, scope=self.describe_scope(event),
                                    who=event.who, when=event.at[:16].replace("T", " "))
        return self._replay(inverse=True, expect=expect)

    def _summary_of(self, event_id: int) -> str:
        return next((e.summary for e in self.undo_history(200) if e.id == event_id), f"action {event_id}")

    def redo(self) -> AuditEvent:
        """Redo the action undone last, if nothing was done since."""
        return self._replay(inverse=False)

    def _replay(self, *, inverse: bool, expect: int | None = None) -> AuditEvent:
        with self.store.write() as conn:
            event = audit_store.undo_candidate(conn, self.actor) if inverse else audit_store.redo_candidate(conn, self.actor)
            check_role("undo" if inverse else "redo", self.actor, researcher_store.team(conn))
            if event is None and inverse and (wall := audit_store.last_barrier(conn)) is not None:
                raise NothingToUndoError(Errors.E5304, summary=wall.summary.rstrip("."),
                                         when=wall.at[:16].replace("T", " "))  # name what undo cannot reverse
            if event is None:
                raise NothingToUndoError(Errors.E2401 if inverse else Errors.E2402)
            if expect is not None and event.id != expect:  # another window acted since the check
                raise ConflictError(Errors.E8102, expected=f"action {expect}", summary=event.summary)
            audit_store.replay(conn, event, inverse=inverse, who=self.actor, at=self.ctx.now(), user_guid=new_guid())
        return event


def is_project(path: str | Path) -> bool:
    """Whether folder ``path`` holds a project: ``project.db``, or a team project's ``project.toml``."""
    folder = Path(path)
    return (folder / DB_NAME).is_file() or (folder / team_store.PROJECT_FILE).is_file()


def create_project(path: str | Path, *, embedder: Embedder | None = None) -> Project:
    """Make folder ``path`` a project (or open the one there): ``project.db`` beside ``transcripts/`` and
    ``codebooks/``, both made if missing (``storyloom init``, the start screen's "Create")."""
    project = open_project(path, embedder=embedder, create=True)
    for folder in ("transcripts", "codebooks"):
        (project.path / folder).mkdir(exist_ok=True)
    return project


def open_project(path: str | Path, *, embedder: Embedder | None = None, user: str | None = None,
                 create: bool = True, database: str | None = None) -> Project:
    """Open the project in folder ``path`` (its database is ``path/project.db``, or the server that
    ``path/project.toml`` names).

    A new project is created there unless ``create=False`` (the CLI: only ``init`` creates), in which
    case a folder without ``project.db`` (or ``project.toml``) is refused with a message saying to run
    ``init``. ``database`` (a ``postgresql://USER@HOST/DB`` URL, no password) makes a team project: the
    server's database is brought to the newest schema and ``project.toml`` written to point at it."""
    return Project(path, embedder=embedder, user=user, create=create, database=database)
