"""Participants: pseudonyms and their attributes, and the project's ``participants.csv``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import ConflictError, Errors, ValidationError
from ..model import Participant
from ..participants import ParticipantRow, parse_participants
from ..store import meta, participants as store
from ..store.recorder import Recorder
from .context import Context, new_guid

if TYPE_CHECKING:
    from ..store import Connection

__all__ = ["PARTICIPANTS_FILE", "ParticipantService"]

PARTICIPANTS_FILE = "participants.csv"
_CSV_SHA_KEY = "participants_csv_sha256"  # the meta key of the participants.csv last applied


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
            vid = store.insert_variable(conn, guid=new_guid(), name=key)
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
    def rows_from_csv(self) -> builtins.list[ParticipantRow]:
        """The rows of ``transcripts/participants.csv`` (none if there is no such file)."""
        csv_path = self.ctx.transcripts_dir / PARTICIPANTS_FILE
        if not csv_path.exists():
            return []
        return parse_participants(str(csv_path.relative_to(self.ctx.path)), csv_path.read_bytes())

    def apply_csv(self, rows: Sequence[ParticipantRow], csv_sha: str) -> bool:
        """Apply ``participants.csv`` (its ``rows``; ``csv_sha`` is the file's sha256) as one
        ``participants.sync`` action. A file already applied unchanged is not applied (nor logged)
        again. Returns whether it was applied."""
        if not rows:
            return False
        with self.ctx.store.read() as conn:
            applied = meta.get(conn, _CSV_SHA_KEY)
        if csv_sha == applied:
            return False
        with self.ctx.action("participants.sync", undoable=False) as act:
            for r in rows:
                self.ensure(act.conn, r.pseudonym, r.attributes)
            meta.set(act.conn, _CSV_SHA_KEY, csv_sha)
            act.summary = f"Applied {PARTICIPANTS_FILE}: {len(rows)} participants"
        return True
