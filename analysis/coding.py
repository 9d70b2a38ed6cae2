"""Codings: a code applied to any ``[start, end)`` span of a transcript, and re-anchoring.

Codings attach to spans, not segments. Each keeps its quoted text and a little context, so when a
transcript is corrected and re-imported the coding is placed again: exactly first, then fuzzily;
what cannot be placed is kept as an orphan and reported, never dropped.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from rapidfuzz import fuzz

from .errors import ConflictError, InvalidSpanError, NotFoundError
from .model import Coding

CONTEXT = 40
FUZZY_CUTOFF = 85.0


def _coding(row: Any, text: str | None = None) -> Coding:
    shown = row.quote if row.orphaned or text is None else text[row.start:row.end]
    return Coding(row.id, row.guid, row.code_id, row.transcript_id, row.start, row.end, shown, row.coder,
                  row.memo, row.origin, bool(row.orphaned))


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    return text[max(0, start - CONTEXT):start], text[end:end + CONTEXT]


def _refine(quote: str, text: str, start: int, end: int, *, slack: int = 4) -> tuple[int, int]:
    """Nudge fuzzy match edges (a few characters each way) to the best full-string similarity."""
    best = (fuzz.ratio(quote, text[start:end]), start, end)
    for ds in range(-slack, slack + 1):
        for de in range(-slack, slack + 1):
            s, e = start + ds, end + de
            if 0 <= s < e <= len(text):
                score = fuzz.ratio(quote, text[s:e])
                if score > best[0]:
                    best = (score, s, e)
    return best[1], best[2]


def locate(quote: str, before: str, after: str, text: str, hint: int) -> tuple[int, int] | None:
    """Find where ``quote`` now sits in ``text``: exact (best context match), else fuzzy, else None."""
    if not quote:
        return None
    hits = [m.start() for m in re.finditer(re.escape(quote), text)]
    if hits:
        def score(pos: int) -> tuple[int, int]:
            ctx = (text[max(0, pos - len(before)):pos] == before) + (text[pos + len(quote):pos + len(quote) + len(after)] == after)
            return (-ctx, abs(pos - hint))

        best = min(hits, key=score)
        return best, best + len(quote)
    # Fuzzy: search a window around the old position first, then the whole text.
    for lo, hi in ((max(0, hint - 4 * len(quote) - 500), hint + 5 * len(quote) + 500), (0, len(text))):
        window = text[lo:hi]
        if not window:
            continue
        al = fuzz.partial_ratio_alignment(quote, window, score_cutoff=FUZZY_CUTOFF)
        if al is not None and al.dest_end > al.dest_start:
            start, end = _refine(quote, text, lo + al.dest_start, lo + al.dest_end)
            # Do not let a fuzzy match swallow much more or much less than the quote.
            if 0.7 * len(quote) <= end - start <= 1.3 * len(quote):
                return start, end
    return None


class CodingMixin:
    """Project methods for codings."""

    def add_coding(
        self: Any, *, transcript: str, start: int, end: int, code: str | int, coder: str | None = None,
        memo: str = "", origin: str = "direct", note: str = "",
    ) -> Coding:
        """Apply ``code`` to ``[start, end)`` of ``transcript`` (code points into its text)."""
        with self._action("coding.add", note=note, who=coder) as act:
            cid = self._insert_coding(act, transcript, start, end, self._code_row(act.conn, code), coder, memo, origin)
        return self.coding(cid)

    def add_coding_with_new_code(
        self: Any, *, transcript: str, start: int, end: int, name: str, parent: str | int | None = None,
        definition: str = "", coder: str | None = None, memo: str = "", note: str = "",
    ) -> Coding:
        """Create a code and apply it to ``[start, end)`` in one action (one undo step)."""
        fields = {"name": name, "kind": "code", "definition": definition}
        self._validate(fields)
        with self._action("coding.add", note=note, who=coder) as act:  # a bad span rolls the new code back too
            code_id = self._insert_code(act, fields, parent)
            crow = self._code_row(act.conn, code_id)
            cid = self._insert_coding(act, transcript, start, end, crow, coder, memo, "direct")
            act.summary += f" (new code '{crow.name}')"
        return self.coding(cid)

    def _check_span(self: Any, conn: Any, transcript: str, start: int, end: int) -> tuple[int, str]:
        tid = self._transcript_id(conn, transcript)
        text = conn.execute(sa.select(self.t.transcripts.c.text).where(self.t.transcripts.c.id == tid)).scalar_one()
        if not (0 <= start < end <= len(text)):
            raise InvalidSpanError(
                f"Span [{start}, {end}) is not inside {transcript} (0 to {len(text)}) or is empty/inverted; "
                f"select some text and try again.")
        if not text[start:end].strip():
            raise InvalidSpanError(f"Span [{start}, {end}) of {transcript} is only whitespace; select some words.")
        return tid, text

    def _insert_coding(self: Any, act: Any, transcript: str, start: int, end: int, crow: Any, coder: str | None,
                       memo: str, origin: str) -> int:
        """The coding-creating step of an action."""
        cd = self.t.codings
        tid, text = self._check_span(act.conn, transcript, start, end)
        if act.conn.execute(sa.select(cd.c.id).where(cd.c.code_id == crow.id, cd.c.transcript_id == tid,
                                                      cd.c.start == start, cd.c.end == end)).first():
            raise ConflictError(f"'{crow.name}' is already applied to exactly this span of {transcript}.")
        before, after = _context(text, start, end)
        guid = str(uuid4())
        quote = text[start:end]
        cid = act.rec.insert("codings", guid=guid, code_id=crow.id, transcript_id=tid, start=start, end=end,
                             quote=quote, context_before=before, context_after=after,
                             coder=coder or self.actor, memo=memo, origin=origin, created_at=self._now())
        act.target = f"coding:{guid} code:{crow.guid} transcript:{transcript}"
        act.after = {"code": crow.name, "transcript": transcript, "start": start, "end": end, "quote": quote,
                     "origin": origin}
        short = quote if len(quote) < 60 else quote[:57] + "..."
        act.summary = f"Coded '{short}' in {transcript} as '{crow.name}'"
        if origin.startswith("suggestion"):
            act.action = "coding.accept_suggestion"
        return int(cid)

    def coding(self: Any, coding_id: int) -> Coding:
        cd, tr = self.t.codings, self.t.transcripts
        with self.store.read() as conn:
            row = conn.execute(sa.select(cd, tr.c.text).join(tr, tr.c.id == cd.c.transcript_id)
                               .where(cd.c.id == coding_id)).first()
        if row is None:
            raise NotFoundError(f"No coding with id {coding_id}.")
        return _coding(row, row.text)

    def codings_in(self: Any, transcript: str) -> list[Coding]:
        """The codings of one transcript, in text order (orphans last)."""
        cd, tr = self.t.codings, self.t.transcripts
        with self.store.read() as conn:
            tid = self._transcript_id(conn, transcript)
            text = conn.execute(sa.select(tr.c.text).where(tr.c.id == tid)).scalar_one()
            rows = conn.execute(sa.select(cd).where(cd.c.transcript_id == tid).order_by(cd.c.orphaned, cd.c.start, cd.c.end)).all()
        return [_coding(r, text) for r in rows]

    def remove_coding(self: Any, coding_id: int, *, note: str = "") -> None:
        """Uncode: remove one coding (undoable)."""
        with self._action("coding.remove", note=note) as act:
            row = act.rec.get("codings", coding_id)
            if row is None:
                raise NotFoundError(f"No coding with id {coding_id}; it may have been removed already.")
            code = act.conn.execute(sa.select(self.t.codes.c.name, self.t.codes.c.guid)
                                    .where(self.t.codes.c.id == row["code_id"])).one()
            act.rec.delete("codings", coding_id)
            act.target = f"coding:{row['guid']} code:{code.guid}"
            act.before = {"code": code.name, "start": row["start"], "end": row["end"], "quote": row["quote"]}
            act.summary = f"Uncoded '{row['quote'][:57]}' from '{code.name}'"

    def set_coding_memo(self: Any, coding_id: int, memo: str, *, note: str = "") -> None:
        """Write or replace the memo attached to a coding."""
        with self._action("coding.memo", note=note) as act:
            row = act.rec.get("codings", coding_id)
            if row is None:
                raise NotFoundError(f"No coding with id {coding_id}.")
            act.rec.update("codings", coding_id, memo=memo)
            act.target, act.before, act.after = f"coding:{row['guid']}", {"memo": row["memo"]}, {"memo": memo}
            act.summary = "Edited a coding memo"

    def snap_span(self: Any, transcript: str, start: int, end: int, *, to: str = "word") -> tuple[int, int]:
        """Widen a selection to whole words (``to="word"``) or whole sentences (``to="sentence"``)."""
        text = self.transcript(transcript).text
        start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
        if to == "sentence":
            sg = self.t.segments
            with self.store.read() as conn:
                tid = self._transcript_id(conn, transcript)
                rows = conn.execute(sa.select(sg.c.start, sg.c.end).where(
                    sg.c.transcript_id == tid, sg.c.end > start, sg.c.start < end)).all()
            if rows:
                return min(r.start for r in rows), max(r.end for r in rows)
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "'’-"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] in "'’-"):
            end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        return start, end

    def orphans(self: Any) -> list[Coding]:
        """Codings whose text could not be found again after a transcript changed."""
        cd = self.t.codings
        with self.store.read() as conn:
            rows = conn.execute(sa.select(cd).where(cd.c.orphaned.is_(True)).order_by(cd.c.id)).all()
        return [_coding(r) for r in rows]

    def _reanchor(self: Any, conn: Any, tid: int, old_text: str, new_text: str) -> dict[str, int]:
        """Place every coding of a changed transcript again (inside the import's transaction)."""
        cd = self.t.codings
        placed = orphaned = 0
        for r in conn.execute(sa.select(cd).where(cd.c.transcript_id == tid)).all():
            found = locate(r.quote, r.context_before, r.context_after, new_text, r.start)
            if found is None:
                conn.execute(cd.update().where(cd.c.id == r.id).values(orphaned=True))
                orphaned += 1
                continue
            start, end = found
            clash = conn.execute(sa.select(cd.c.id).where(cd.c.code_id == r.code_id, cd.c.transcript_id == tid,
                                                          cd.c.start == start, cd.c.end == end, cd.c.id != r.id)).first()
            if clash:
                conn.execute(cd.update().where(cd.c.id == r.id).values(orphaned=True))
                orphaned += 1
                continue
            before, after = _context(new_text, start, end)
            conn.execute(cd.update().where(cd.c.id == r.id).values(
                start=start, end=end, quote=new_text[start:end], context_before=before, context_after=after,
                orphaned=False))
            placed += 1 if (start, end) != (r.start, r.end) or r.orphaned else 0
        return {"reanchored": placed, "orphaned": orphaned}
