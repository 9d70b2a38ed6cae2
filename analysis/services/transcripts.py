"""Import and sync transcripts: read, map speakers, segment, embed (cached), store.

Every file is parsed before anything is written, so one malformed file stops the whole import with
the project unchanged; each transcript is then written in one transaction with one audit event.

A file imported from elsewhere (``storyloom import ~/Downloads/x.txt``, an upload) is then copied
into ``transcripts/`` byte for byte, so that ``sync`` finds it there instead of reporting it
missing; a different file of that name already there is kept beside it as ``<name>.bak`` (the
import replaced that transcript). The report lists ``copied`` (and ``replaced``) names.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any


from analysis.embedding.minilm import text_sha256
from analysis import limits
from analysis.errors import ConflictError, Errors, FileRefusedError, NotFoundError, UnsupportedFormatError, ValidationError
from analysis.ingest import SUPPORTED_SUFFIXES, is_interviewer_label, read_transcript
from analysis.domain.model import Anchor, ParsedTranscript, ParsedTurn, Transcript, Turn
from analysis.domain.timing import Timing, anchors_of, span_time
from analysis.files.participants_csv import ParticipantRow
from analysis.domain.progress import Progress, Step, no_progress
from analysis.domain.segment import Span, sentences
from analysis.store import embeddings as embedding_store, participants as participant_store, transcripts as store
from analysis.services.context import Action, Context, new_guid
from analysis.services.participants import PARTICIPANTS_FILE, ParticipantService
from analysis.services.results import (EmbeddingRun, ListedSpeaker, ParticipantsApplied, Reanchoring, TextCorrection,
                                       TranscriptListing)

if TYPE_CHECKING:
    from analysis.store import Connection

    from analysis.services.codings import CodingService

__all__ = ["PARTICIPANTS_FILE", "Progress", "TranscriptService"]

#: Texts per embedding batch (embed_pending): read, embedded and written together. A killed run loses at
#: most one batch of work; a correction made meanwhile waits at most for one (about 4 s at 250/s).
EMBED_BATCH = 1024


def _as_report(applied: ParticipantsApplied) -> dict[str, Any]:
    """``participants.csv`` applied, as the import and sync reports (plain dicts, printed as JSON) hold it:
    ``{"applied", "written", "conflicts": [{"participant", "attribute", "line", ...}], "warnings": [...]}``."""
    return {"applied": applied.applied, "written": applied.written,
            "conflicts": [asdict(c) for c in applied.conflicts], "warnings": list(applied.warnings)}


@dataclass
class _Prepared:
    name: str
    source_sha: str
    parsed: ParsedTranscript
    sentences: list[list[Span]] = field(default_factory=list)
    data: bytes = b""


class TranscriptService:
    """Import, sync and read transcripts and turns; map speakers (``project.transcripts``)."""

    def __init__(self, ctx: Context, participants: ParticipantService, codings: CodingService) -> None:
        self._embedding = threading.Lock()  # one embedding batch at a time in this process (embed_pending)
        self.ctx = ctx
        self.participants = participants
        self.codings = codings

    # -- import ---------------------------------------------------------------------------------
    def _expand(self, files: Iterable[str | Path]) -> list[tuple[Path, Path | None]]:
        """Each file to read, with the folder it must stay inside (a folder given; None for a file)."""
        out: list[tuple[Path, Path | None]] = []
        for f in files:
            p = Path(f)
            if p.is_dir():
                out.extend((c, p) for c in sorted(p.iterdir()) if c.suffix.lower() in SUPPORTED_SUFFIXES)
            elif not p.exists() and not p.is_symlink():
                raise NotFoundError(Errors.E2010, p=p)
            else:
                out.append((p, None))
        return out

    @staticmethod
    def _read(path: Path, root: Path | None) -> tuple[str, bytes]:
        """A transcript file's bytes: regular files only, capped, links kept inside ``root``."""
        return path.name, limits.read_regular_file(path, cap=limits.TRANSCRIPT_BYTES, root=root, name=path.name)

    def _prepare(self, named: Sequence[tuple[str, bytes]], progress: Progress | None = None) -> list[_Prepared]:
        """Parse every file first (pure: raises before anything is written)."""
        progress = progress or no_progress
        prepared = []
        progress(Step("parse", 0, len(named), "files"))
        for n, (name, data) in enumerate(named, start=1):
            problem = limits.is_importable_name(name)
            if problem is not None:
                raise FileRefusedError(repr(name), Errors.E1554, problem=problem)
            if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                raise UnsupportedFormatError(
                    name, Errors.E1202, v1=Path(name).suffix or '(none)',
                    hint=f"Use one of: {', '.join(sorted(SUPPORTED_SUFFIXES))}.",
                )
            prepared.append(_Prepared(name, hashlib.sha256(data).hexdigest(), read_transcript(name, data), data=data))
            progress(Step("parse", n, len(named), "files", name))
        return prepared

    def import_files(
        self, files: Iterable[str | Path], *, participant: str | None = None, progress: Progress | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Import transcript files (or every transcript in a folder). Returns what happened."""
        named = [self._read(p, root) for p, root in self._expand(files)]
        return self.import_bytes(named, participant=participant, progress=progress, wait=wait)

    def import_bytes(
        self, named: Sequence[tuple[str, bytes]], *, participant: str | None = None,
        progress: Progress | None = None, wait: bool = True,
    ) -> dict[str, Any]:
        """Import transcripts given as ``(file name, bytes)`` (an upload, say). The names are checked
        (no folders, ``..``, control or invisible characters) and every file is parsed before anything
        is written; ``participants.csv``, when present and changed, is applied first (see ``sync``).
        The text is stored and segmented first (readable and codable at once), then embedded: before this
        returns with ``wait``, else later (:meth:`embed_pending`: the workbench's worker, ``storyloom embed``)."""
        prepared = self._prepare(named, progress)
        csv = self.participants.read_csv()
        report = self._import(prepared, csv.rows, participant=participant, progress=progress)
        report.update(self._keep_copies(prepared))
        report["participants"] = _as_report(self.participants.apply_csv(csv))
        report.update(asdict(self.embed_or_queue(wait, progress)))
        return report

    def _keep_copies(self, prepared: Sequence[_Prepared]) -> dict[str, builtins.list[str]]:
        """Copy imported files into ``transcripts/`` (see the module docstring): names copied and
        replaced, and a warning for each copy that could not be written (the import stands)."""
        folder = self.ctx.transcripts_dir
        out: dict[str, builtins.list[str]] = {"copied": [], "replaced": [], "copy_warnings": []}
        for p in prepared:
            target = folder / p.name
            try:
                if target.is_file() and not target.is_symlink() and target.stat().st_size == len(p.data) \
                        and target.read_bytes() == p.data:
                    continue  # imported from transcripts/ itself, or already there
                folder.mkdir(parents=True, exist_ok=True)
                tmp = folder / f".{p.name}.importing"
                tmp.unlink(missing_ok=True)  # never write through a link left there
                with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "wb") as fh:
                    fh.write(p.data)
                if target.exists() or target.is_symlink():
                    os.replace(target, folder / f"{p.name}.bak")
                    out["replaced"].append(p.name)
                os.replace(tmp, target)
                out["copied"].append(p.name)
            except OSError as err:
                if folder.is_dir():
                    (folder / f".{p.name}.importing").unlink(missing_ok=True)
                out["copy_warnings"].append(
                    Errors.E8003.format(name=p.name, folder=f"{folder.name}/", err=err.strerror or type(err).__name__))
        return out

    def _import(
        self, prepared: list[_Prepared], rows: Sequence[ParticipantRow], *, participant: str | None,
        progress: Progress | None, keep_corrected: bool = False,
    ) -> dict[str, Any]:
        """Segment and store parsed transcripts (one transaction each); their segments are then the
        embedding queue (:meth:`embed_or_queue`, the caller's last step). With ``keep_corrected`` (sync),
        a transcript corrected in the app whose file changed too is kept as corrected and reported as a
        conflict (neither side is overwritten); an explicit import replaces it with the file."""
        progress = progress or no_progress
        report: dict[str, Any] = {"added": [], "updated": [], "unchanged": [], "segments_embedded": 0,
                                  "reanchored": 0, "orphaned": 0, "unmapped": [], "conflicts": []}
        with self.ctx.store.read() as conn:
            existing = {t.name: t for t in store.transcript_rows(conn)}
        todo = []
        for p in prepared:
            old = existing.get(p.name)
            if old is not None and old.source_sha256 == p.source_sha and participant is None:
                report["unchanged"].append(p.name)
            elif old is not None and keep_corrected and int(old.corrections or 0):
                report["conflicts"].append(p.name)
            else:
                todo.append(p)
        progress(Step("segment", 0, len(todo), "transcripts", "" if todo else "every transcript unchanged"))
        for i, p in enumerate(todo, start=1):
            p.sentences = sentences(p.parsed.text, [(t.start, t.end) for t in p.parsed.turns])
            progress(Step("segment", i, len(todo), "transcripts", p.name))
        progress(Step("store", 0, len(todo), "transcripts"))
        for i, p in enumerate(todo, start=1):
            moved, unmapped = self._store_transcript(p, rows, participant)
            progress(Step("store", i, len(todo), "transcripts", p.name))
            report["updated" if p.name in existing else "added"].append(p.name)
            report["reanchored"] += moved.reanchored
            report["orphaned"] += moved.orphaned
            report["unmapped"].extend(unmapped)
        return report

    def embed_or_queue(self, wait: bool, progress: Progress | None = None) -> EmbeddingRun:
        """The last step of an import or sync, once its text is stored: embed the queue now (``wait``) or
        leave it to the workbench's worker or a later ``storyloom embed``. Returns ``segments_embedded``
        (vectors stored now) and ``embedding_pending`` (texts left waiting), the report's two keys."""
        if wait:
            return EmbeddingRun(segments_embedded=self.embed_pending(progress), embedding_pending=0)
        with self.ctx.store.read() as conn:
            waiting = embedding_store.pending_count(conn, self.ctx.embedder.model_id)
        return EmbeddingRun(segments_embedded=0, embedding_pending=waiting)

    # -- embedding: the queue (segments without a vector), worked in the background or at once ---------

    def embed_pending(self, progress: Progress | None = None, *, stop: threading.Event | None = None,
                      batch: int = EMBED_BATCH, transcript_id: int | None = None) -> int:
        """Embed every segment whose text has no vector yet (of one transcript only, with
        ``transcript_id``). The queue is that query, so a run killed midway, or a restart, simply continues:
        vectors already stored are never computed again. It goes in batches of ``batch`` texts; each batch
        is read, embedded and its vectors written (a short transaction of its own, not an action: no audit
        event, no undo; the write lock is held for the insert only) under this project's embedding lock, so
        two runs in one process (the workbench's worker and a correction) never embed a text twice: a
        second run waits for the batch in flight, then takes the next. A vector whose text no segment
        holds any more by then (corrected, re-imported, deleted) is dropped. ``stop`` is checked between
        batches. Returns how many vectors this run stored; ``progress`` gets stage ``embed`` steps."""
        progress = progress or no_progress
        model_id = self.ctx.embedder.model_id
        with self.ctx.store.read() as conn:
            total = embedding_store.pending_count(conn, model_id, transcript_id)
        if not total:
            progress(Step("embed", 0, 0, "sentences", "no new sentences"))
            return 0
        progress(Step("embed", 0, total, "sentences"))
        stored = done = 0
        skip: set[str] = set()
        told = [0]
        while not (stop is not None and stop.is_set()):
            with self._embedding:
                texts = self._next_texts(model_id, batch, skip, transcript_id)
                if not texts:
                    break
                base = done

                def tell(n: int, base: int = base) -> None:  # a step every 256 sentences: a bar, not a flood
                    at = min(base + n, total)
                    if at - told[0] >= 256 and at < total:
                        told[0] = at
                        progress(Step("embed", at, total, "sentences"))

                found = self.ctx.embedder.embed(builtins.list(texts.values()), tell)
                with self.ctx.store.write() as conn:
                    stored += embedding_store.insert_fresh(conn, model_id, dict(zip(texts, found)))
            done = told[0] = min(done + len(texts), total)
            if done < total:
                progress(Step("embed", done, total, "sentences"))
        if not (stop is not None and stop.is_set()):
            progress(Step("embed", total, total, "sentences"))  # (texts deleted meanwhile count as done)
        return stored

    def _next_texts(self, model_id: str, batch: int, skip: set[str], transcript_id: int | None) -> dict[str, str]:
        """The queue's next ``batch`` texts, by hash, read from their segments' transcripts. A segment whose
        words no longer hash to its key (its transcript changed between the two reads) is passed over
        this run (``skip``); the next run finds it again."""
        while True:
            with self.ctx.store.read() as conn:
                rows = embedding_store.pending(conn, model_id, batch, skip=sorted(skip), transcript_id=transcript_id)
                texts = embedding_store.texts_of(conn, [r.transcript_id for r in rows])
            out: dict[str, str] = {}
            for r in rows:
                words = texts.get(r.transcript_id, "")[r.start:r.end]
                if text_sha256(words) == r.text_sha256:
                    out[r.text_sha256] = words
                else:
                    skip.add(r.text_sha256)
            if out or not rows:
                return out

    def store_text(self, conn: Connection, tid: int, text: str, turns: Sequence[ParsedTurn],
                   sentences_per_turn: Sequence[Sequence[Span]], speaker_ids: dict[str, int],
                   anchors: Sequence[Anchor]) -> None:
        """Write a transcript's turns, their segments and its anchors inside the caller's action: the one
        store step of every path that adds text. Vectors come after, outside it (:meth:`embed_pending`):
        the new segments are the embedding queue."""
        turn_ids = store.insert_turns(conn, tid, [
            {"idx": idx, "speaker_id": speaker_ids[turn.speaker], "start": turn.start, "end": turn.end,
             "t_start": turn.t_start, "t_end": turn.t_end, "line": turn.line} for idx, turn in enumerate(turns)])
        store.insert_segments(conn, [
            {"transcript_id": tid, "turn_id": turn_id, "start": s.start, "end": s.end,
             "text_sha256": text_sha256(text[s.start:s.end])}
            for turn_id, sents in zip(turn_ids, sentences_per_turn) for s in sents])
        store.replace_sync_points(conn, tid, anchors)

    def _store_transcript(
        self, p: _Prepared, rows: Sequence[ParticipantRow], participant: str | None, *,
        correction: dict[str, Any] | None = None, note: str = "",
    ) -> tuple[Reanchoring, builtins.list[str]]:
        """Store one parsed transcript (text, speakers, turns, segments, anchors) in one action,
        re-anchoring its codings when the text changed: the one path that adds or changes a transcript's
        text (an import, a sync, a correction: ``correction`` is then its audit payload). Returns what the
        re-anchoring did and the speaker labels no participant was mapped to."""
        unmapped: list[str] = []
        # A correction is undoable (Project.undo reverses it with undo_correction, not with row images: its
        # rows are the whole transcript's); the reversal itself and imports are not.
        undoable = bool(correction) and note != "undo"
        with self.ctx.action("transcript.correct" if correction else "transcript.import", undoable=undoable,
                             note=note) as act:
            conn = act.conn
            now = self.ctx.now()
            old = store.by_name(conn, p.name)
            values: dict[str, Any] = dict(
                format=p.parsed.format, text=p.parsed.text, source_sha256=p.source_sha,
                warnings=json.dumps(builtins.list(p.parsed.warnings), ensure_ascii=False), updated_at=now)
            if correction and old:
                values.update(corrections=int(old.corrections or 0) + 1,
                              edited_from_sha256=old.edited_from_sha256 or old.source_sha256)
            if old:
                tid = int(old.id)
                store.update_transcript(conn, tid, **values)
                store.delete_turns(conn, tid)
            else:
                tid = store.insert_transcript(conn, guid=new_guid(), name=p.name, imported_at=now, **values)
            speaker_ids = self._map_speakers(conn, tid, p, rows, participant, unmapped)
            self.store_text(conn, tid, p.parsed.text, p.parsed.turns, p.sentences, speaker_ids, anchors_of(p.parsed))
            moved = Reanchoring(0, 0)
            if old and old.text != p.parsed.text:
                moved = self.codings.reanchor(conn, tid, old.text, p.parsed.text)
                # A change of text is an undo barrier: earlier actions' spans refer to the old text.
                act.barrier = True
            if correction:
                act.target = f"transcript:{p.name}"
                act.summary = correction.pop("summary")
                act.after = {**correction, "reanchored": moved.reanchored, "orphaned": moved.orphaned,
                             "text_sha256": hashlib.sha256(p.parsed.text.encode()).hexdigest()}
            else:
                self._describe(act, p, old is not None, unmapped, moved)
        return moved, unmapped

    @staticmethod
    def _describe(act: Action, p: _Prepared, reimport: bool, unmapped: list[str], moved: Reanchoring) -> None:
        act.action = "transcript.update" if reimport else "transcript.import"
        act.target = f"transcript:{p.name}"
        act.summary = (f"{'Re-imported' if reimport else 'Imported'} {p.name}: {len(p.parsed.turns)} turns, "
                       f"{sum(len(s) for s in p.sentences)} segments")
        act.after = {"warnings": builtins.list(p.parsed.warnings), "unmapped": unmapped,
                     "reanchored": moved.reanchored, "orphaned": moved.orphaned}

    def _map_speakers(
        self, conn: Connection, tid: int, p: _Prepared, rows: Sequence[ParticipantRow], participant: str | None,
        unmapped: list[str],
    ) -> dict[str, int]:
        ids: dict[str, int] = {}
        existing = {r.label: r for r in store.speakers_of(conn, tid)}
        for label in dict.fromkeys(turn.speaker for turn in p.parsed.turns):
            row = next((r for r in rows if p.name in r.transcripts and label in r.speakers), None)
            interviewer = is_interviewer_label(label) or any(
                p.name in r.transcripts and label in r.interviewers for r in rows)
            pid: int | None = None
            if participant and not interviewer:
                pid = self.participants.ensure(conn, participant)
            elif row is not None:  # (its attributes are participants.csv's business: see apply_csv)
                pid = self.participants.ensure(conn, row.pseudonym)
            if label in existing:
                old = existing[label]
                pid = pid if pid is not None else old.participant_id
                store.update_speaker(conn, old.id, participant_id=pid, interviewer=interviewer or bool(old.interviewer))
                ids[label] = int(old.id)
            else:
                ids[label] = store.insert_speaker(conn, tid, label, pid, interviewer)
            if pid is None and not interviewer and not (label in existing and existing[label].interviewer):
                unmapped.append(f"{p.name}: {label}")
        for label, old in existing.items():
            if label not in ids:
                store.delete_speaker(conn, old.id)
        return ids

    def sync(self, *, progress: Progress | None = None, wait: bool = True) -> dict[str, Any]:
        """Rescan ``transcripts/``: import new files, re-import changed ones, report missing ones.

        Also applies ``participants.csv``. (The codebooks folder is synced by ``Project.sync``.) ``wait``:
        embed the new sentences before returning, as :meth:`import_bytes`.
        """
        folder = self.ctx.transcripts_dir
        files = sorted(c for c in folder.iterdir() if c.suffix.lower() in SUPPORTED_SUFFIXES) if folder.exists() else []
        csv = self.participants.read_csv()
        # every file is read and parsed before anything is written: a bad file stops sync here
        prepared = self._prepare([self._read(f, folder) for f in files], progress)
        report = self._import(prepared, csv.rows, participant=None, progress=progress, keep_corrected=True)
        names = {f.name for f in files}
        # after the transcripts, so that new participants are mapped; the step is an undoable action
        report["participants"] = _as_report(self.participants.apply_csv(csv, known_transcripts=names))
        with self.ctx.store.read() as conn:
            report["missing"] = sorted(t.name for t in store.transcript_rows(conn) if t.name not in names)
        report.update(asdict(self.embed_or_queue(wait, progress)))
        return report

    # -- reads ----------------------------------------------------------------------------------
    def list(self) -> builtins.list[TranscriptListing]:
        """One row per transcript: name, format, participants, speakers, segments, warnings, corrections."""
        out = []
        with self.ctx.store.read() as conn:  # three queries, however many transcripts (no text read)
            listing, counts, summaries = store.transcript_listing(conn), store.segment_counts(conn), \
                store.speaker_summaries(conn)
            for tr in listing:
                speakers = summaries.get(tr.id, [])
                segs = counts.get(tr.id, 0)
                warnings = builtins.list(json.loads(tr.warnings))
                warnings += [f"unmapped speaker '{s.label}' ({s.turns} turns): map it to a participant"
                             for s in speakers if not s.interviewer and s.pseudonym is None]
                out.append(TranscriptListing(
                    name=str(tr.name), format=str(tr.format),
                    participants=tuple(sorted({str(s.pseudonym) for s in speakers if s.pseudonym})),
                    speakers=tuple(ListedSpeaker(label=str(s.label), turns=int(s.turns),
                                                 interviewer=bool(s.interviewer),
                                                 participant=None if s.pseudonym is None else str(s.pseudonym))
                                   for s in speakers),
                    segments=int(segs), warnings=tuple(warnings), corrections=int(tr.corrections or 0),
                ))
        return out

    # -- corrections while listening -------------------------------------------------------------
    def correct(self, name: str, *, line: int, text: str | None = None, speaker: str | None = None,
                note: str = "") -> TextCorrection:
        """Correct the words of line ``line`` (numbered as in Read & code's margin) and/or its turn's speaker.

        One recorded action through the same path as an import (:meth:`_store_transcript`): codings outside
        the changed words keep their quotes, codings inside are re-placed or reported as orphaned; the time
        anchors after the line move with the text. The file in ``transcripts/`` is not rewritten: the
        database holds the corrected text and a later ``sync`` keeps it (a file changed too is a conflict,
        reported, neither side overwritten). Undo with :meth:`undo_correction` (``project.undo``)."""
        from analysis.domain.explore import line_starts

        row, turns, anchors = self._as_stored(name)
        full = str(row.text)
        starts = line_starts(full)
        if not 1 <= line <= len(starts):
            raise NotFoundError(Errors.E2504, name=name, line=line, lines=f"{len(starts)} lines")
        lo = starts[line - 1]
        hi = full.find("\n", lo)
        hi = len(full) if hi < 0 else hi
        turn = next((t for t in turns if t.start < hi and t.end > lo), None)
        if turn is None:
            raise ValidationError(Errors.E2505, name=name, line=line)
        a, b = max(lo, turn.start), min(hi, turn.end)
        b = a + len(full[a:b].rstrip())
        words = full[a:b] if text is None else " ".join(text.split())
        if not words:
            raise ValidationError(Errors.E2506)
        label = turn.speaker if speaker is None or not speaker.strip() else " ".join(speaker.split())
        return self._apply_correction(name, row, turns, anchors, (a, b), words, label, line=line, note=note,
                                      summary=f"Corrected line {line} of {name}")

    def _as_stored(self, name: str) -> tuple[Any, builtins.list[Turn], builtins.list[Anchor]]:
        """The transcript's row, turns and anchors as stored: what a correction starts from."""
        with self.ctx.store.read() as conn:
            row = store.by_name(conn, name)
            if row is None:
                raise NotFoundError(Errors.E2003, ref=name)
            tid = int(row.id)
            return row, store.turns_of(conn, tid), store.sync_points_of(conn, tid).get(tid, [])

    def correct_span(self, name: str, start: int, end: int, words: str, *, note: str = "") -> TextCorrection:
        """Correct the words ``[start, end)`` of one turn (a word the recogniser was unsure of, say) to ``words``:
        the same recorded, undoable correction as :meth:`correct`, on a span instead of a whole line."""
        from analysis.domain.explore import line_at, line_starts

        row, turns, anchors = self._as_stored(name)
        full = str(row.text)
        line = line_at(line_starts(full), start)
        turn = next((t for t in turns if t.start <= start and end <= t.end), None)
        if turn is None or not 0 <= start < end <= len(full):
            raise ValidationError(Errors.E2505, name=name, line=line)
        new = " ".join(words.split())
        if not new:
            raise ValidationError(Errors.E2506)
        return self._apply_correction(name, row, turns, anchors, (start, end), new, turn.speaker, line=line, note=note,
                                      summary=f"Corrected '{full[start:end]}' to '{new}' on line {line} of {name}")

    def _apply_correction(
        self, name: str, row: Any, turns: Sequence[Turn], anchors: Sequence[Anchor], span: tuple[int, int],
        words: str, label: str, *, line: int, note: str, summary: str,
    ) -> TextCorrection:
        full = str(row.text)
        a, b = span
        delta = len(words) - (b - a)
        new_text = full[:a] + words + full[b:]

        def moved(offset: int, *, end: bool = False) -> int:
            if offset < a or (offset == a and not end):
                return offset
            if offset >= b:
                return offset + delta
            return a + min(offset - a, len(words))  # inside the changed words: kept in proportion to its place

        holder = next(t for t in turns if t.start <= a and t.end >= b)
        parsed_turns = tuple(
            ParsedTurn(label if t.id == holder.id else t.speaker, moved(t.start), moved(t.end, end=True),
                       t.t_start, t.t_end) for t in turns)
        parsed = ParsedTranscript(new_text, parsed_turns, str(row.format), tuple(json.loads(row.warnings)),
                                  tuple(Anchor(moved(p.offset), p.t_start, p.t_end) for p in anchors))
        prepared = _Prepared(name, str(row.source_sha256), parsed)
        prepared.sentences = sentences(new_text, [(t.start, t.end) for t in parsed_turns])
        outcome, _ = self._store_transcript(prepared, [], None, note=note, correction={
            "summary": summary, "line": line, "start": a, "before": full[a:b], "after": words,
            "speaker_before": holder.speaker, "speaker_after": label})
        with self.ctx.store.read() as conn:
            corrected = store.by_name(conn, name)
            count, tid = int(corrected.corrections), int(corrected.id)  # type: ignore[union-attr]
        self.embed_pending(transcript_id=tid)  # its new sentence or two (waits for a batch in flight, if any)
        return TextCorrection(transcript=name, line=line, start=a, end=a + len(words), text=words, speaker=label,
                              corrections=count, reanchored=outcome.reanchored, orphaned=outcome.orphaned)

    def undo_correction(self, event: Any) -> TextCorrection:
        """Reverse the correction recorded in ``event`` (a ``transcript.correct`` audit event): its words and
        speaker come back, through the same path, as long as the transcript has not changed since."""
        after = event.after or {}
        name = str(event.target).split(":", 1)[1]
        row, turns, anchors = self._as_stored(name)
        if hashlib.sha256(str(row.text).encode()).hexdigest() != after.get("text_sha256"):
            raise ConflictError(Errors.E2507, name=name)
        a = int(after["start"])
        return self._apply_correction(name, row, turns, anchors, (a, a + len(after["after"])), str(after["before"]),
                                      str(after["speaker_before"]), line=int(after["line"]), note="undo",
                                      summary=f"Undid the correction of line {after['line']} of {name}")

    def get(self, name: str) -> Transcript:
        """The transcript called ``name`` (its text and import warnings)."""
        with self.ctx.store.read() as conn:
            return store.transcript(conn, store.transcript_id(conn, name))

    def anchors(self, name: str) -> builtins.list[Anchor]:
        """Every time the transcript's source gave, by offset (:mod:`analysis.domain.timing`)."""
        with self.ctx.store.read() as conn:
            tid = store.transcript_id(conn, name)
            return store.sync_points_of(conn, tid).get(tid, [])

    def all_anchors(self) -> dict[str, builtins.list[Anchor]]:
        """Anchors of every transcript, by transcript name."""
        with self.ctx.store.read() as conn:
            names = {int(t.id): str(t.name) for t in store.transcript_rows(conn)}
            return {names[tid]: points for tid, points in store.sync_points_of(conn).items() if tid in names}

    def time_of(self, name: str, start: int, end: int) -> Timing | None:
        """The time of ``[start, end)`` of transcript ``name`` from its nearest anchors, or None."""
        return span_time(self.anchors(name), start, end)

    def turns(self, name: str) -> builtins.list[Turn]:
        """The speaker turns of transcript ``name``, in order."""
        with self.ctx.store.read() as conn:
            return store.turns_of(conn, store.transcript_id(conn, name))

    # -- researcher actions -----------------------------------------------------------------------
    def map_speaker(self, transcript: str, label: str, participant: str | None, *,
                    interviewer: bool = False, note: str = "") -> None:
        """Map a transcript's speaker label to a participant (or mark it as an interviewer)."""
        with self.ctx.action("speaker.map", note=note) as act:
            tid = store.transcript_id(act.conn, transcript)
            row = store.speaker(act.conn, tid, label)
            if row is None:
                raise NotFoundError(Errors.E2009, transcript=transcript, label=label)
            pid = None if interviewer or not participant else participant_store.participant_id(act.conn, participant)
            act.rec.update("speakers", row.id, participant_id=pid, interviewer=interviewer)
            act.target = f"transcript:{transcript}"
            act.summary = f"Mapped speaker '{label}' in {transcript} to {'interviewer' if interviewer else participant}"
