"""Participants: pseudonyms and their attributes, and the project's ``participants.csv``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from analysis import limits
from analysis.domain.names import check_name
from analysis.errors import ConflictError, Errors, ValidationError
from analysis.domain.model import Participant
from analysis.files.participants_csv import ParticipantRow, parse_participants
from analysis.store import meta, participants as store
from analysis.store.recorder import Recorder, name_key
from analysis.services.context import Context, new_guid
from analysis.services.results import AttributeConflict, ParticipantsApplied

if TYPE_CHECKING:
    from analysis.store import Connection

__all__ = ["PARTICIPANTS_FILE", "ParticipantService", "ParticipantsCsv"]

PARTICIPANTS_FILE = "participants.csv"
_CSV_SHA_KEY = "participants_csv_sha256"  # the meta key of the participants.csv last applied
_CSV_VALUES_KEY = "participants_csv_values"  # what the file last said: {pseudonym key: {attribute: value}}


class ParticipantService:
    """Participants and their attributes (``project.participants``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- reads ------------------------------------------------------------------------------------
    def list(self) -> list[Participant]:
        """Every participant with their attributes, by pseudonym."""
        with self.ctx.store.read() as conn:
            return store.all_participants(conn)

    # -- researcher actions -----------------------------------------------------------------------
    def add(self, pseudonym: str, *, attributes: dict[str, str] | None = None, note: str = "") -> Participant:
        """Create a participant (a pseudonym and attributes)."""
        pseudonym = pseudonym.strip()
        if not pseudonym:
            raise ValidationError(Errors.E2116)
        pseudonym = check_name(pseudonym, what="pseudonym")
        with self.ctx.action("participant.add", note=note) as act:
            # Pseudonyms are unique case-folded (the schema's unique index on pseudonym_key).
            if store.find_participant_by_key(act.conn, pseudonym) is not None:
                raise ConflictError(Errors.E2209, pseudonym=pseudonym)
            pid = act.rec.insert("participants", guid=new_guid(), pseudonym=pseudonym, created_at=self.ctx.now())
            for k, v in (attributes or {}).items():
                self.set_attribute(act.conn, pid, k, v, rec=act.rec)
            act.target, act.summary = f"participant:{pseudonym}", f"Added participant {pseudonym}"
            act.after = {"pseudonym": pseudonym, "attributes": attributes or {}}
        return next(p for p in self.list() if p.pseudonym == pseudonym)

    def set_attributes(self, pseudonym: str, attributes: dict[str, str], *, note: str = "") -> None:
        """Set (add or change) attributes of a participant, e.g. ``{"unit": "Trades"}``."""
        with self.ctx.action("participant.attributes", note=note) as act:
            pid = store.participant_id(act.conn, pseudonym)
            before = store.attributes_of(act.conn, pid)
            for k, v in attributes.items():
                self.set_attribute(act.conn, pid, str(k), "" if v is None else str(v), rec=act.rec)
            act.target, act.summary = f"participant:{pseudonym}", f"Edited attributes of {pseudonym}"
            act.before, act.after = before, {**before, **attributes}

    # -- helpers other services use ---------------------------------------------------------------
    def ensure(self, conn: Connection, pseudonym: str, attributes: dict[str, str] | None = None) -> int:
        """The id of participant ``pseudonym``, created if new, with ``attributes`` set (inside the caller's
        transaction, outside the undo recorder: transcript imports and ``participants.csv``).

        A pseudonym that differs from an existing one only in case (or Unicode form) names that participant,
        since pseudonyms are unique case-folded."""
        pid = store.find_participant(conn, pseudonym)
        if pid is None:
            pid = store.find_participant_by_key(conn, pseudonym)
        if pid is None:
            pid = store.insert_participant(conn, guid=new_guid(), pseudonym=pseudonym, created_at=self.ctx.now())
        for key, value in (attributes or {}).items():
            self.set_attribute(conn, pid, key, value)
        return pid

    def set_attribute(self, conn: Connection, pid: int, key: str, value: str, rec: Recorder | None = None) -> None:
        """Set participant ``pid``'s attribute ``key`` (creating the variable if new); through ``rec``
        (undoable) when given, else written directly."""
        vid = store.variable_id(conn, key)
        if vid is None:
            vid = (store.insert_variable(conn, guid=new_guid(), name=key) if rec is None
                   else rec.insert("variables", guid=new_guid(), name=key))
        existing = store.attribute_id(conn, pid, vid)
        if rec is None:
            if existing is not None:
                store.update_attribute(conn, existing, value)
            else:
                store.insert_attribute(conn, pid, vid, value)
        elif existing is not None:
            rec.update("participant_attributes", existing, value=value)
        else:
            rec.insert("participant_attributes", participant_id=pid, variable_id=vid, value=value)

    # -- participants.csv -------------------------------------------------------------------------
    def read_csv(self) -> ParticipantsCsv:
        """``transcripts/participants.csv`` read and parsed (no rows if there is no such file).

        Only a regular file is read, capped at :data:`analysis.limits.PARTICIPANTS_BYTES`."""
        csv_path = self.ctx.transcripts_dir / PARTICIPANTS_FILE
        if not csv_path.exists() and not csv_path.is_symlink():
            return ParticipantsCsv((), "")
        name = str(csv_path.relative_to(self.ctx.path))
        data = limits.read_regular_file(csv_path, cap=limits.PARTICIPANTS_BYTES, root=self.ctx.transcripts_dir,
                                        name=name)
        return ParticipantsCsv(tuple(parse_participants(name, data)), hashlib.sha256(data).hexdigest())

    def apply_csv(self, csv: ParticipantsCsv, *, known_transcripts: Iterable[str] | None = None) -> ParticipantsApplied:
        """Apply ``participants.csv`` as one undoable ``participants.sync`` action, by this rule:

        * the file is applied only when it changed since the last sync (its sha256 is remembered);
        * an attribute is written only where **the file changed it** since the last sync (or gives it
          for the first time): an attribute the file did not change is left as it is, so an edit made
          in the app survives every later sync;
        * where the file changed an attribute that was also edited in the app (the value in the
          project is neither what the file said last time nor what it says now), the in-app value is
          kept and the clash is reported in ``conflicts``: never overwritten;
        * a cell missing from a short row is "not given" and changes nothing;
        * a row naming a transcript the folder does not hold is a warning.

        Returns whether it was applied, the values written, the in-app edits kept and the warnings."""
        warnings: list[str] = []
        if not csv.rows:
            return ParticipantsApplied(applied=False, written=0, conflicts=(), warnings=())
        if known_transcripts is not None:
            known = set(known_transcripts)
            for r in csv.rows:
                warnings += [f"{PARTICIPANTS_FILE}, line {r.line}: transcript '{t}' is not in transcripts/"
                             for t in r.transcripts if t not in known]
        with self.ctx.store.read() as conn:
            if meta.get(conn, _CSV_SHA_KEY) == csv.sha256:  # an unchanged file is not applied (nor logged) again
                return ParticipantsApplied(applied=False, written=0, conflicts=(), warnings=tuple(warnings))
        written = 0
        conflicts: list[AttributeConflict] = []
        with self.ctx.action("participants.sync") as act:
            applied: dict[str, dict[str, str]] = json.loads(meta.get(act.conn, _CSV_VALUES_KEY, "{}") or "{}")
            for r in csv.rows:
                pid = store.find_participant(act.conn, r.pseudonym) or store.find_participant_by_key(act.conn, r.pseudonym)
                if pid is None:
                    pid = act.rec.insert("participants", guid=new_guid(), pseudonym=r.pseudonym,
                                         created_at=self.ctx.now())
                current = store.attributes_of(act.conn, pid)
                last = applied.setdefault(name_key(r.pseudonym), {})
                for attr, new in r.attributes.items():
                    before = last.get(attr)
                    if new == before:
                        continue  # the file did not change it: whatever the project holds stays
                    now = current.get(attr)
                    if now is None or now == before or now == new:
                        if now != new:
                            self.set_attribute(act.conn, pid, attr, new, rec=act.rec)
                            written += 1
                    else:
                        conflicts.append(AttributeConflict(participant=r.pseudonym, attribute=attr, line=r.line,
                                                           in_app=now, in_file=new, kept=now))
                    last[attr] = new
            meta.set(act.conn, _CSV_VALUES_KEY, json.dumps(applied, ensure_ascii=False, sort_keys=True))
            meta.set(act.conn, _CSV_SHA_KEY, csv.sha256)
            act.target = "participants"
            act.summary = (f"Applied {PARTICIPANTS_FILE}: {len(csv.rows)} participants, {written} values "
                           f"written" + (f", {len(conflicts)} in-app edits kept" if conflicts else ""))
            act.after = {"applied": len(csv.rows), "written": written, "conflicts": [asdict(c) for c in conflicts]}
        return ParticipantsApplied(applied=True, written=written, conflicts=tuple(conflicts), warnings=tuple(warnings))


@dataclass(frozen=True)
class ParticipantsCsv:
    """The rows of ``participants.csv`` and the sha256 of its bytes."""

    rows: tuple[ParticipantRow, ...]
    sha256: str
