"""Import and sync transcripts: read, map speakers, segment, embed (cached), store.

Every file is parsed before anything is written, so one malformed file stops the whole import with
the project unchanged; each transcript is then written in one transaction with one audit event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import numpy as np
import sqlalchemy as sa

from .embed import text_sha256
from .errors import NotFoundError, UnsupportedFormatError
from .ingest import SUPPORTED_SUFFIXES, is_interviewer_label, read_transcript
from .model import ParsedTranscript, Participant, Transcript, Turn
from .participants import ParticipantRow, parse_participants
from .segment import Span, sentences

Progress = Callable[[str, float], None]
PARTICIPANTS_FILE = "participants.csv"


@dataclass
class _Prepared:
    name: str
    source_sha: str
    parsed: ParsedTranscript
    sentences: list[list[Span]] = field(default_factory=list)


def _noop(_stage: str, _fraction: float) -> None:
    return None


def _guid() -> str:
    return str(uuid4())


class ImportMixin:
    """Project methods: import, sync, participants and speakers, transcript reads."""

    # -- participants file -----------------------------------------------------------------------
    def _participant_rows(self: Any) -> list[ParticipantRow]:
        csv_path = self.transcripts_dir / PARTICIPANTS_FILE
        if not csv_path.exists():
            return []
        return parse_participants(str(csv_path.relative_to(self.path)), csv_path.read_bytes())

    def _ensure_participant(self: Any, conn: Any, pseudonym: str, attributes: dict[str, str] | None = None) -> int:
        t = self.t
        row = conn.execute(sa.select(t.participants.c.id).where(t.participants.c.pseudonym == pseudonym)).first()
        if row:
            pid = int(row[0])
        else:
            pid = conn.execute(t.participants.insert().values(
                guid=_guid(), pseudonym=pseudonym, created_at=self._now())).inserted_primary_key[0]
        for key, value in (attributes or {}).items():
            self._set_attribute(conn, pid, key, value)
        return pid

    def _set_attribute(self: Any, conn: Any, pid: int, key: str, value: str, rec: Any = None) -> None:
        t = self.t
        var = conn.execute(sa.select(t.variables.c.id).where(t.variables.c.name == key)).first()
        vid = var[0] if var else conn.execute(t.variables.insert().values(guid=_guid(), name=key)).inserted_primary_key[0]
        pa = t.participant_attributes
        existing = conn.execute(sa.select(pa.c.id).where(pa.c.participant_id == pid, pa.c.variable_id == vid)).first()
        if rec is None:
            if existing:
                conn.execute(pa.update().where(pa.c.id == existing[0]).values(value=value))
            else:
                conn.execute(pa.insert().values(participant_id=pid, variable_id=vid, value=value))
        elif existing:
            rec.update("participant_attributes", existing[0], value=value)
        else:
            rec.insert("participant_attributes", participant_id=pid, variable_id=vid, value=value)

    @staticmethod
    def _now() -> str:
        from .project import now_iso

        return now_iso()

    # -- import ---------------------------------------------------------------------------------
    def _expand(self: Any, files: Iterable[str | Path]) -> list[Path]:
        out: list[Path] = []
        for f in files:
            p = Path(f)
            if p.is_dir():
                out.extend(sorted(c for c in p.iterdir() if c.suffix.lower() in SUPPORTED_SUFFIXES))
            elif not p.exists():
                raise NotFoundError(f"{p}: no such file or folder. Check the path and try again.")
            else:
                out.append(p)
        return out

    def _prepare(self: Any, named: Sequence[tuple[str, bytes]]) -> list[_Prepared]:
        """Parse every file first (pure: raises before anything is written)."""
        prepared = []
        for name, data in named:
            if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                raise UnsupportedFormatError(
                    name, f"'{Path(name).suffix or '(none)'}' is not a transcript format Storyloom reads.",
                    hint=f"Use one of: {', '.join(sorted(SUPPORTED_SUFFIXES))}.",
                )
            prepared.append(_Prepared(name, hashlib.sha256(data).hexdigest(), read_transcript(name, data)))
        return prepared

    def import_files(
        self: Any, files: Iterable[str | Path], *, participant: str | None = None, progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Import transcript files (or every transcript in a folder). Returns what happened."""
        paths = self._expand(files)
        return self.import_bytes([(p.name, p.read_bytes()) for p in paths], participant=participant, progress=progress)

    def import_bytes(
        self: Any, named: Sequence[tuple[str, bytes]], *, participant: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Import transcripts given as ``(file name, bytes)`` (an upload, say)."""
        return self._import(self._prepare(named), self._participant_rows(), participant=participant,
                            progress=progress)

    def _import(
        self: Any, prepared: list[_Prepared], rows: list[ParticipantRow], *, participant: str | None,
        progress: Progress | None,
    ) -> dict[str, Any]:
        """Segment, embed and store parsed transcripts (one transaction each)."""
        progress = progress or _noop
        report: dict[str, Any] = {"added": [], "updated": [], "unchanged": [], "segments_embedded": 0,
                                  "reanchored": 0, "orphaned": 0, "unmapped": []}
        existing = {t.name: t for t in self._transcript_rows()}
        todo = []
        for p in prepared:
            old = existing.get(p.name)
            if old is not None and old.source_sha256 == p.source_sha and participant is None:
                report["unchanged"].append(p.name)
            else:
                todo.append(p)
        for i, p in enumerate(todo):
            progress(f"Segmenting {p.name}", i / max(len(todo), 1))
            p.sentences = sentences(p.parsed.text, [(t.start, t.end) for t in p.parsed.turns])
        vectors = self._embed_missing(todo, progress)
        report["segments_embedded"] = len(vectors)  # (the store step consumes ``vectors``)
        for p in todo:
            progress(f"Saving {p.name}", 1.0)
            outcome = self._store_transcript(p, rows, participant, vectors)
            report["updated" if p.name in existing else "added"].append(p.name)
            report["reanchored"] += outcome["reanchored"]
            report["orphaned"] += outcome["orphaned"]
            report["unmapped"].extend(outcome["unmapped"])
        progress("Done", 1.0)
        return report

    def _embed_missing(self: Any, todo: Sequence[_Prepared], progress: Progress) -> dict[str, np.ndarray]:
        texts: dict[str, str] = {}
        for p in todo:
            for turn_sents in p.sentences:
                for s in turn_sents:
                    seg = p.parsed.text[s.start:s.end]
                    texts.setdefault(text_sha256(seg), seg)
        if not texts:
            return {}
        emb = self.t.embeddings
        model_id = self.embedder.model_id
        have: set[str] = set()
        keys = list(texts)
        with self.store.read() as conn:
            for i in range(0, len(keys), 500):
                have.update(r[0] for r in conn.execute(sa.select(emb.c.text_sha256).where(
                    emb.c.model_id == model_id, emb.c.text_sha256.in_(keys[i:i + 500]))))
        missing = [k for k in keys if k not in have]
        out: dict[str, np.ndarray] = {}
        batch = 256
        for i in range(0, len(missing), batch):
            progress(f"Embedding sentences {i}/{len(missing)}", i / max(len(missing), 1))
            chunk = missing[i:i + batch]
            for key, vec in zip(chunk, self.embedder.embed([texts[k] for k in chunk])):
                out[key] = vec
        return out

    def _store_transcript(
        self: Any, p: _Prepared, rows: list[ParticipantRow], participant: str | None, vectors: dict[str, np.ndarray],
    ) -> dict[str, Any]:
        t = self.t
        unmapped: list[str] = []
        with self._action("transcript.import", undoable=False) as act:
            conn = act.conn
            # New vectors this transcript needs, each stored once (``vectors`` is consumed as it goes).
            keys = dict.fromkeys(text_sha256(p.parsed.text[s.start:s.end]) for sents in p.sentences for s in sents)
            fresh = [{"model_id": self.embedder.model_id, "text_sha256": k, "dim": len(vectors[k]),
                      "vector": vectors.pop(k).astype(np.float32).tobytes()} for k in keys if k in vectors]
            if fresh:
                conn.execute(t.embeddings.insert(), fresh)
            now = self._now()
            old = conn.execute(sa.select(t.transcripts).where(t.transcripts.c.name == p.name)).first()
            values = dict(format=p.parsed.format, text=p.parsed.text, source_sha256=p.source_sha,
                          warnings=json.dumps(list(p.parsed.warnings), ensure_ascii=False), updated_at=now)
            if old:
                tid = old.id
                conn.execute(t.transcripts.update().where(t.transcripts.c.id == tid).values(**values))
                conn.execute(t.turns.delete().where(t.turns.c.transcript_id == tid))
            else:
                tid = conn.execute(t.transcripts.insert().values(
                    guid=_guid(), name=p.name, imported_at=now, **values)).inserted_primary_key[0]
            speaker_ids = self._map_speakers(conn, tid, p, rows, participant, unmapped)
            for idx, (turn, sents) in enumerate(zip(p.parsed.turns, p.sentences)):
                turn_id = conn.execute(t.turns.insert().values(
                    transcript_id=tid, idx=idx, speaker_id=speaker_ids[turn.speaker], start=turn.start,
                    end=turn.end, t_start=turn.t_start, t_end=turn.t_end, line=turn.line)).inserted_primary_key[0]
                if sents:
                    conn.execute(t.segments.insert(), [
                        {"transcript_id": tid, "turn_id": turn_id, "start": s.start, "end": s.end,
                         "text_sha256": text_sha256(p.parsed.text[s.start:s.end])} for s in sents])
            moved = {"reanchored": 0, "orphaned": 0}
            if old and old.text != p.parsed.text:
                moved = self._reanchor(conn, tid, old.text, p.parsed.text)
                act.barrier = moved["reanchored"] + moved["orphaned"] > 0
            act.action = "transcript.update" if old else "transcript.import"
            act.target = f"transcript:{p.name}"
            act.summary = (f"{'Re-imported' if old else 'Imported'} {p.name}: {len(p.parsed.turns)} turns, "
                           f"{sum(len(s) for s in p.sentences)} segments")
            act.after = {"warnings": list(p.parsed.warnings), "unmapped": unmapped, **moved}
        return {**moved, "unmapped": unmapped}

    def _map_speakers(
        self: Any, conn: Any, tid: int, p: _Prepared, rows: list[ParticipantRow], participant: str | None,
        unmapped: list[str],
    ) -> dict[str, int]:
        t = self.t
        ids: dict[str, int] = {}
        existing = {r.label: r for r in conn.execute(sa.select(t.speakers).where(t.speakers.c.transcript_id == tid))}
        for label in dict.fromkeys(turn.speaker for turn in p.parsed.turns):
            row = next((r for r in rows if p.name in r.transcripts and label in r.speakers), None)
            interviewer = is_interviewer_label(label) or any(
                p.name in r.transcripts and label in r.interviewers for r in rows)
            pid = None
            if participant and not interviewer:
                pid = self._ensure_participant(conn, participant)
            elif row is not None:
                pid = self._ensure_participant(conn, row.pseudonym, row.attributes)
            if label in existing:
                old = existing[label]
                pid = pid if pid is not None else old.participant_id
                conn.execute(t.speakers.update().where(t.speakers.c.id == old.id).values(
                    participant_id=pid, interviewer=interviewer or bool(old.interviewer)))
                ids[label] = old.id
            else:
                ids[label] = conn.execute(t.speakers.insert().values(
                    transcript_id=tid, label=label, participant_id=pid, interviewer=interviewer)).inserted_primary_key[0]
            if pid is None and not interviewer and not (label in existing and existing[label].interviewer):
                unmapped.append(f"{p.name}: {label}")
        for label, old in existing.items():
            if label not in ids:
                conn.execute(t.speakers.delete().where(t.speakers.c.id == old.id))
        return ids

    def sync(self: Any, *, progress: Progress | None = None) -> dict[str, Any]:
        """Rescan ``transcripts/``: import new files, re-import changed ones, report missing ones.

        Also applies ``participants.csv`` and, when the project has no codebook yet, imports the
        codebook and codings found in ``codebooks/``.
        """
        folder = self.transcripts_dir
        files = sorted(c for c in folder.iterdir() if c.suffix.lower() in SUPPORTED_SUFFIXES) if folder.exists() else []
        rows = self._participant_rows()
        prepared = self._prepare([(f.name, f.read_bytes()) for f in files])  # a bad file stops sync here
        csv_path = self.transcripts_dir / PARTICIPANTS_FILE
        csv_sha = hashlib.sha256(csv_path.read_bytes()).hexdigest() if rows else ""
        with self.store.read() as conn:
            applied = self.store.get_meta(conn, "participants_csv_sha256")
        if rows and csv_sha != applied:  # an unchanged file is not applied (nor logged) again
            with self._action("participants.sync", undoable=False) as act:
                for r in rows:
                    self._ensure_participant(act.conn, r.pseudonym, r.attributes)
                self.store.set_meta(act.conn, "participants_csv_sha256", csv_sha)
                act.summary = f"Applied {PARTICIPANTS_FILE}: {len(rows)} participants"
        report = self._import(prepared, rows, participant=None, progress=progress)
        names = {f.name for f in files}
        report["missing"] = sorted(t.name for t in self._transcript_rows() if t.name not in names)
        report.update(self._sync_codebook())
        return report

    # -- reads ----------------------------------------------------------------------------------
    def _transcript_rows(self: Any) -> list[Any]:
        t = self.t.transcripts
        with self.store.read() as conn:
            return list(conn.execute(sa.select(t.c.id, t.c.name, t.c.format, t.c.source_sha256, t.c.warnings)
                                     .order_by(t.c.name)))

    def _transcript_id(self: Any, conn: Any, name: str) -> int:
        t = self.t.transcripts
        row = conn.execute(sa.select(t.c.id).where(t.c.name == name)).first()
        if row is None:
            names = [r[0] for r in conn.execute(sa.select(t.c.name).order_by(t.c.name))]
            raise NotFoundError(f"No transcript named '{name}'. Transcripts: {', '.join(names) or 'none yet'}.")
        return int(row[0])

    def transcript(self: Any, name: str) -> Transcript:
        t = self.t.transcripts
        with self.store.read() as conn:
            tid = self._transcript_id(conn, name)
            r = conn.execute(sa.select(t).where(t.c.id == tid)).one()
        return Transcript(r.id, r.guid, r.name, r.format, r.text, tuple(json.loads(r.warnings)))

    def turns(self: Any, name: str) -> list[Turn]:
        t = self.t
        q = (sa.select(t.turns, t.speakers.c.label, t.speakers.c.interviewer, t.participants.c.pseudonym)
             .join(t.speakers, t.speakers.c.id == t.turns.c.speaker_id)
             .outerjoin(t.participants, t.participants.c.id == t.speakers.c.participant_id)
             .order_by(t.turns.c.idx))
        with self.store.read() as conn:
            tid = self._transcript_id(conn, name)
            rows = conn.execute(q.where(t.turns.c.transcript_id == tid)).all()
        return [Turn(r.id, r.transcript_id, r.idx, r.label, r.pseudonym, bool(r.interviewer), r.start, r.end,
                     r.t_start, r.t_end) for r in rows]

    def transcripts(self: Any) -> list[dict[str, Any]]:
        """One row per transcript: name, format, participants, speakers, segments, warnings."""
        t = self.t
        out = []
        with self.store.read() as conn:
            for tr in conn.execute(sa.select(t.transcripts).order_by(t.transcripts.c.name)):
                speakers = conn.execute(
                    sa.select(t.speakers.c.label, t.speakers.c.interviewer, t.participants.c.pseudonym,
                              sa.func.count(t.turns.c.id))
                    .outerjoin(t.participants, t.participants.c.id == t.speakers.c.participant_id)
                    .outerjoin(t.turns, t.turns.c.speaker_id == t.speakers.c.id)
                    .where(t.speakers.c.transcript_id == tr.id).group_by(t.speakers.c.id).order_by(t.speakers.c.id)
                ).all()
                segs = conn.execute(sa.select(sa.func.count()).select_from(t.segments)
                                    .where(t.segments.c.transcript_id == tr.id)).scalar_one()
                warnings = list(json.loads(tr.warnings))
                warnings += [f"unmapped speaker '{s.label}' ({s[3]} turns): map it to a participant"
                             for s in speakers if not s.interviewer and s.pseudonym is None]
                out.append({
                    "name": tr.name, "format": tr.format,
                    "participants": sorted({s.pseudonym for s in speakers if s.pseudonym}),
                    "speakers": [{"label": s.label, "turns": int(s[3]), "interviewer": bool(s.interviewer),
                                  "participant": s.pseudonym} for s in speakers],
                    "segments": int(segs), "warnings": warnings,
                })
        return out

    def participants(self: Any) -> list[Participant]:
        t = self.t
        with self.store.read() as conn:
            people = conn.execute(sa.select(t.participants).order_by(t.participants.c.pseudonym)).all()
            attrs = conn.execute(
                sa.select(t.participant_attributes.c.participant_id, t.variables.c.name, t.participant_attributes.c.value)
                .join(t.variables, t.variables.c.id == t.participant_attributes.c.variable_id)).all()
        by_pid: dict[int, dict[str, str]] = {}
        for pid, name, value in attrs:
            by_pid.setdefault(pid, {})[name] = value
        return [Participant(p.id, p.guid, p.pseudonym, by_pid.get(p.id, {})) for p in people]

    def _participant_id(self: Any, conn: Any, pseudonym: str) -> int:
        t = self.t.participants
        row = conn.execute(sa.select(t.c.id).where(t.c.pseudonym == pseudonym)).first()
        if row is None:
            names = [r[0] for r in conn.execute(sa.select(t.c.pseudonym).order_by(t.c.pseudonym))]
            raise NotFoundError(f"No participant '{pseudonym}'. Participants: {', '.join(names) or 'none yet'}.")
        return int(row[0])

    # -- researcher actions on participants ------------------------------------------------------
    def add_participant(self: Any, pseudonym: str, *, attributes: dict[str, str] | None = None, note: str = "") -> Participant:
        """Create a participant (a pseudonym and attributes)."""
        from .errors import ConflictError

        pseudonym = pseudonym.strip()
        if not pseudonym:
            raise ConflictError("A participant needs a pseudonym, e.g. 'Leader A'.")
        with self._action("participant.add", note=note) as act:
            t = self.t.participants
            if act.conn.execute(sa.select(t.c.id).where(t.c.pseudonym == pseudonym)).first():
                raise ConflictError(f"A participant '{pseudonym}' already exists; choose another pseudonym.")
            pid = act.rec.insert("participants", guid=_guid(), pseudonym=pseudonym, created_at=self._now())
            for k, v in (attributes or {}).items():
                self._set_attribute(act.conn, pid, k, v, rec=act.rec)
            act.target, act.summary = f"participant:{pseudonym}", f"Added participant {pseudonym}"
            act.after = {"pseudonym": pseudonym, "attributes": attributes or {}}
        return next(p for p in self.participants() if p.pseudonym == pseudonym)

    def set_participant_attributes(self: Any, pseudonym: str, attributes: dict[str, str], *, note: str = "") -> None:
        """Set (add or change) attributes of a participant, e.g. ``{"unit": "Trades"}``."""
        with self._action("participant.attributes", note=note) as act:
            pid = self._participant_id(act.conn, pseudonym)
            before = next(p.attributes for p in self.participants() if p.id == pid)
            for k, v in attributes.items():
                self._set_attribute(act.conn, pid, str(k), "" if v is None else str(v), rec=act.rec)
            act.target, act.summary = f"participant:{pseudonym}", f"Edited attributes of {pseudonym}"
            act.before, act.after = before, {**before, **attributes}

    def map_speaker(self: Any, transcript: str, label: str, participant: str | None, *,
                    interviewer: bool = False, note: str = "") -> None:
        """Map a transcript's speaker label to a participant (or mark it as an interviewer)."""
        t = self.t.speakers
        with self._action("speaker.map", note=note) as act:
            tid = self._transcript_id(act.conn, transcript)
            row = act.conn.execute(sa.select(t).where(t.c.transcript_id == tid, t.c.label == label)).first()
            if row is None:
                raise NotFoundError(f"{transcript} has no speaker labelled '{label}'.")
            pid = None if interviewer or not participant else self._participant_id(act.conn, participant)
            act.rec.update("speakers", row.id, participant_id=pid, interviewer=interviewer)
            act.target = f"transcript:{transcript}"
            act.summary = f"Mapped speaker '{label}' in {transcript} to {'interviewer' if interviewer else participant}"
