"""Codings: a code applied to any ``[start, end)`` span of a transcript, and re-anchoring.

Codings attach to spans, not segments. Each keeps its quoted text and a little context, so when a
transcript is corrected and re-imported the coding is placed again (:meth:`CodingService.reanchor`):
exactly first, then fuzzily; what cannot be placed is kept as an orphan and reported, never dropped.
"""

from __future__ import annotations

from types import SimpleNamespace
from collections.abc import Iterable
from typing import Any

from analysis.store import Connection

from analysis.domain.coding import coding_from_row, context_of, locate
from analysis.errors import ConflictError, Errors, InvalidSpanError, NotFoundError
from analysis.domain.model import Coding
from analysis.store import codes as code_store, codings as coding_store, transcripts as transcript_store
from analysis.services.codebook import CodebookService
from analysis.services.context import Action, Context, new_guid
from analysis.services.results import Reanchoring

__all__ = ["CodingBatch", "CodingService"]


class CodingBatch:
    """Many codings written by one action in a few statements: the one way bulk paths add codings (the
    REFI-QDA import, the codings import, merge, reconcile).

    A coding already in the project (the same GUID, or the same code, span and coder: codings are unique per
    coder) is matched, not added; so is one added earlier in the same batch. The project's codings of the
    batch's transcripts are read once (those named up front in one statement, others when first met); :meth:`flush` inserts every new one in multi-row
    ``INSERT ... RETURNING`` statements of up to a thousand rows (:meth:`Recorder.insert_many`), each with its
    row image for undo. Where each coding went is a *ticket* until then: :meth:`id` turns one into the
    coding's id once flushed (a coding already here is its own ticket: its id). (Before, each coding cost a GUID look-up, a duplicate look-up and an INSERT:
    three round trips a coding, about 30,000 statements for a 10,000-coding REFI import.)"""

    def __init__(self, act: Action, *, transcripts: Iterable[int] = (), guids: Iterable[str] = ()) -> None:
        self.act = act
        self._by_guid = coding_store.ids_by_guid(act.conn, guids)
        self._loaded = set(transcripts)  # transcripts whose codings were read (others: when first met)
        self._by_span = coding_store.ids_by_span(act.conn, self._loaded)
        self._ids: list[int | None] = []  # ticket -> coding id (None: added, not yet flushed)
        self._rows: list[tuple[int, dict[str, Any]]] = []  # (ticket, row) to insert

    def match(self, *, code_id: int, transcript_id: int, start: int, end: int, coder: str,
              guid: str | None = None) -> int | None:
        """The ticket of the coding already here (or already in this batch) that this one would repeat, or
        None. ``guid`` None: by span alone."""
        found = self.with_guid(guid) if guid else None
        if found is None:
            self._load(transcript_id)
            found = self._by_span.get((int(code_id), int(transcript_id), int(start), int(end), str(coder)))
        return found

    def _load(self, transcript_id: int) -> None:
        if transcript_id not in self._loaded:
            self._loaded.add(transcript_id)
            self._by_span.update(coding_store.ids_by_span(self.act.conn, [transcript_id]))

    def with_guid(self, guid: str) -> int | None:
        """The ticket of the coding here (or in this batch) with GUID ``guid`` (any case), or None."""
        return self._by_guid.get(guid.lower())

    def add(self, **row: Any) -> int:
        """Queue a new coding (every column but ``id``; a GUID is made when it has none); its ticket."""
        row.setdefault("guid", new_guid())
        self._load(int(row["transcript_id"]))
        ticket = self._ticket(None)
        self._rows.append((ticket, row))
        self._by_guid[str(row["guid"]).lower()] = ticket
        self._by_span[(int(row["code_id"]), int(row["transcript_id"]), int(row["start"]), int(row["end"]),
                       str(row["coder"]))] = ticket
        return ticket

    def _ticket(self, coding_id: int | None) -> int:
        self._ids.append(coding_id)
        return -len(self._ids)  # negative: never an id

    def flush(self) -> None:
        """Insert the queued codings (in the order they were added)."""
        if not self._rows:
            return
        ids = self.act.rec.insert_many("codings", [row for _, row in self._rows])
        for (ticket, _), cid in zip(self._rows, ids):
            self._ids[-ticket - 1] = cid
        self._rows = []

    def id(self, ticket: int) -> int:
        """The coding id of a ticket from :meth:`match` or :meth:`add` (after :meth:`flush`)."""
        if ticket >= 0:
            return ticket
        cid = self._ids[-ticket - 1]
        if cid is None:
            raise RuntimeError("CodingBatch.id before flush")
        return cid


class CodingService:
    """``project.codings``: codes applied to spans, and their re-anchoring after a transcript changes."""

    def __init__(self, ctx: Context, codebook: CodebookService) -> None:
        self.ctx = ctx
        self.codebook = codebook

    # -- actions --------------------------------------------------------------------------------
    def add_coding(
        self, *, transcript: str, start: int, end: int, code: str | int, coder: str | None = None,
        memo: str = "", origin: str = "direct", note: str = "",
    ) -> Coding:
        """Apply ``code`` to ``[start, end)`` of ``transcript`` (code points into its text).

        On a team's server this is three round trips: what it reads goes with the transaction's start and
        the role check, the row is inserted (its image read back with it), and the audit event, the change
        counter and the commit go last, together (``tests/store/test_round_trips.py`` counts them)."""
        reads = [*coding_store.add_reads(transcript, start, end, coder or self.ctx.actor), *code_store.code_reads(code)]
        with self.ctx.action("coding.add", note=note, who=coder, reads=reads) as act:
            crow = code_store.code_row(act.conn, code, act.read[2] if len(act.read) > 2 else None)
            made = self._insert(act, transcript, start, end, crow, coder, memo, origin, read=act.read[:2])
        return made

    def add_coding_with_new_code(
        self, *, transcript: str, start: int, end: int, name: str, parent: str | int | None = None,
        definition: str = "", coder: str | None = None, memo: str = "", note: str = "",
    ) -> Coding:
        """Create a code and apply it to ``[start, end)`` in one action (one undo step)."""
        fields: dict[str, Any] = {"name": name, "kind": "code", "definition": definition}
        self.codebook.validate_fields(fields)
        reads = coding_store.add_reads(transcript, start, end, coder or self.ctx.actor)
        with self.ctx.action("coding.add", note=note, who=coder, reads=reads) as act:  # a bad span rolls the new code back too
            code_id = self.codebook.insert_code(act, fields, parent)
            crow = code_store.code_row(act.conn, code_id)
            made = self._insert(act, transcript, start, end, crow, coder, memo, "direct", read=act.read[:2])
            act.summary += f" (new code '{crow.name}')"
        return made

    def _check_span(self, conn: Connection, transcript: str, start: int, end: int,
                    read: list[list[Any]] | None = None) -> tuple[int, str]:
        """The transcript's id and text (from ``read``, the rows of ``coding_store.add_reads``, when it found
        the transcript), once ``[start, end)`` is known to be a span of it with some text."""
        if read and read[0]:
            tid, text = int(read[0][0].id), str(read[0][0].text)
        else:
            tid = transcript_store.transcript_id(conn, transcript)
            text = transcript_store.transcript_text(conn, tid)
        if not (0 <= start < end <= len(text)):
            raise InvalidSpanError(
                Errors.E2301, start=start, end=end, transcript=transcript, n_text=len(text))
        if not text[start:end].strip():
            raise InvalidSpanError(Errors.E2302, start=start, end=end, transcript=transcript)
        return tid, text

    def insert_coding(self, act: Action, transcript: str, start: int, end: int, crow: Any, coder: str | None,
                      memo: str, origin: str) -> int:
        """The coding-creating step of an action: apply the code of row ``crow`` (from
        ``analysis.store.codes.code_row``) to ``[start, end)`` of ``transcript``.

        Refuses a span outside the transcript, an empty or whitespace-only span, and a duplicate of an
        existing coding of the same code. Sets the action's target, ``after`` and summary; an ``origin``
        starting with ``suggestion`` makes the action ``coding.accept_suggestion``. Returns the new id."""
        return self._insert(act, transcript, start, end, crow, coder, memo, origin).id

    def _insert(self, act: Action, transcript: str, start: int, end: int, crow: Any, coder: str | None,
                memo: str, origin: str, *, read: list[list[Any]] | None = None) -> Coding:
        """:meth:`insert_coding`, returning the new coding (as stored: its row came back with the insert);
        ``read``: the rows of ``coding_store.add_reads`` for this span, when the action read them."""
        tid, text = self._check_span(act.conn, transcript, start, end, read)
        coder = coder or self.ctx.actor
        if read and read[0]:
            duplicate = any(int(r.code_id) == int(crow.id) for r in read[1])
        else:
            duplicate = coding_store.duplicate(act.conn, int(crow.id), tid, start, end, coder=coder) is not None
        if duplicate:
            raise ConflictError(Errors.E2208, name=crow.name, transcript=transcript)
        before, after = context_of(text, start, end)
        guid = new_guid()
        quote = text[start:end]
        act.rec.insert("codings", guid=guid, code_id=crow.id, transcript_id=tid, start=start, end=end,
                       quote=quote, context_before=before, context_after=after,
                       coder=coder, memo=memo, origin=origin, created_at=self.ctx.now())
        act.target = f"coding:{guid} code:{crow.guid} transcript:{transcript}"
        act.after = {"code": crow.name, "transcript": transcript, "start": start, "end": end, "quote": quote,
                     "origin": origin}
        short = quote if len(quote) < 60 else quote[:57] + "..."
        act.summary = f"Coded '{short}' in {transcript} as '{crow.name}'"
        if origin.startswith("suggestion"):
            act.action = "coding.accept_suggestion"
        return coding_from_row(SimpleNamespace(**act.rec.changes[-1]["after"]), text)

    def remove_coding(self, coding_id: int, *, note: str = "") -> None:
        """Uncode: remove one coding (undoable)."""
        with self.ctx.action("coding.remove", note=note) as act:
            row = act.rec.get("codings", coding_id)
            if row is None:
                raise NotFoundError(Errors.E2004, coding_id=coding_id)
            code = code_store.code_row(act.conn, int(row["code_id"]))
            act.rec.delete("codings", coding_id)
            act.target = f"coding:{row['guid']} code:{code.guid}"
            act.before = {"code": code.name, "start": row["start"], "end": row["end"], "quote": row["quote"]}
            act.summary = f"Uncoded '{row['quote'][:57]}' from '{code.name}'"

    def set_coding_memo(self, coding_id: int, memo: str, *, note: str = "") -> None:
        """Write or replace the memo attached to a coding."""
        with self.ctx.action("coding.memo", note=note) as act:
            row = act.rec.get("codings", coding_id)
            if row is None:
                raise NotFoundError(Errors.E2003, coding_id=coding_id)
            act.rec.update("codings", coding_id, memo=memo)
            act.target, act.before, act.after = f"coding:{row['guid']}", {"memo": row["memo"]}, {"memo": memo}
            act.summary = "Edited a coding memo"

    # -- reads ----------------------------------------------------------------------------------
    def get(self, coding_id: int) -> Coding:
        """One coding by id (its text as the transcript now reads, or its quote when orphaned)."""
        with self.ctx.store.read() as conn:
            row = coding_store.with_text(conn, coding_id)
        if row is None:
            raise NotFoundError(Errors.E2003, coding_id=coding_id)
        return coding_from_row(row, row.text)

    def codings_in(self, transcript: str, *, coder: str | None = None) -> list[Coding]:
        """The codings of one transcript, in text order (orphans last); only ``coder``'s when given (the
        blind mode of a team: a coder sees only their own codings until they choose to compare)."""
        with self.ctx.store.read() as conn:
            tid = transcript_store.transcript_id(conn, transcript)
            text = transcript_store.transcript_text(conn, tid)
            rows = coding_store.rows_in(conn, tid)
        return [coding_from_row(r, text) for r in rows if coder is None or r.coder == coder]

    def snap_span(self, transcript: str, start: int, end: int, *, to: str = "word") -> tuple[int, int]:
        """Widen a selection to whole words (``to="word"``) or whole sentences (``to="sentence"``)."""
        with self.ctx.store.read() as conn:
            tid = transcript_store.transcript_id(conn, transcript)
            text = transcript_store.transcript_text(conn, tid)
            start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
            spans = coding_store.segment_spans(conn, tid, start, end) if to == "sentence" else []
        if spans:
            return min(s for s, _ in spans), max(e for _, e in spans)
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'’-"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] in "'’-"):
            end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

    def orphans(self) -> list[Coding]:
        """Codings whose text could not be found again after a transcript changed."""
        with self.ctx.store.read() as conn:
            rows = coding_store.orphan_rows(conn)
        return [coding_from_row(r) for r in rows]

    # -- re-anchoring ---------------------------------------------------------------------------
    def reanchor(self, conn: Connection, tid: int, old_text: str, new_text: str) -> Reanchoring:
        """Place every coding of a changed transcript again (inside the import's transaction).

        Each coding is found by its quote and context (:func:`analysis.domain.coding.locate`); one that cannot
        be found, or that would land exactly on another coding of the same code, is kept as an orphan.
        Returns the codings that moved or were placed again, and those orphaned. ``old_text``
        is the transcript's text before the change (the stored quotes and offsets refer to it)."""
        placed = orphaned = 0
        for r in coding_store.rows_in(conn, tid, text_order=False):
            found = locate(r.quote, r.context_before, r.context_after, new_text, r.start)
            if found is None:
                coding_store.mark_orphaned(conn, r.id)
                orphaned += 1
                continue
            start, end = found
            if coding_store.duplicate(conn, r.code_id, tid, start, end, coder=r.coder, exclude=r.id) is not None:
                coding_store.mark_orphaned(conn, r.id)
                orphaned += 1
                continue
            before, after = context_of(new_text, start, end)
            coding_store.place(conn, r.id, start=start, end=end, quote=new_text[start:end], context_before=before,
                               context_after=after)
            placed += 1 if (start, end) != (r.start, r.end) or r.orphaned else 0
        return Reanchoring(placed, orphaned)
