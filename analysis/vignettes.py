"""Vignettes: a participant's (or a theme's) story told through ordered quotes and narrative.

A vignette is a title and an ordered list of items: quotes (a span of a transcript with the
researcher's rendering, marked edits only: see :mod:`analysis.quotes`) and narrative paragraphs.
It is about a participant, a theme, or a participant within a theme. Every edit is one action with
one audit event, undoable. :meth:`VignetteMixin.draft_vignette` builds a first draft from codings
(status ``draft``); any edit by the researcher makes it ``edited``. Export refuses a draft (or a
vignette with narrative placeholders left) unless asked with ``allow_draft=True``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from uuid import uuid4

import numpy as np
import sqlalchemy as sa

from .coding import locate
from .disclosure import DisclosureMixin
from .errors import ConflictError, InvalidSpanError, NotFoundError
from .explore import format_timestamp
from .export import ExportMixin
from .export.document import PLACEHOLDER
from .quotes import check_quote, clean_source, quote_label

STATUSES = ("draft", "edited")


@dataclass(frozen=True)
class QuoteItem:
    """A quote: ``[start, end)`` of ``transcript`` and ``text``, the researcher's rendering of it.

    ``participant``, ``turn``, ``timestamp``, ``line`` and ``source`` (the span's text) are derived
    when the vignette is read."""

    transcript: str
    start: int
    end: int
    text: str
    coding_id: int | None = None
    code: str | None = None
    kind: str = "quote"
    participant: str | None = None
    turn: int | None = None
    timestamp: str = ""
    line: int | None = None
    source: str = ""


@dataclass(frozen=True)
class NarrativeItem:
    """A paragraph of the researcher's own writing."""

    text: str
    kind: str = "narrative"


Item = QuoteItem | NarrativeItem


@dataclass(frozen=True)
class Vignette:
    id: int
    guid: str
    title: str
    participant: str | None
    theme: str | None
    status: str
    items: tuple[Item, ...]
    created_at: str
    updated_at: str

    @property
    def quotes(self) -> list[QuoteItem]:
        return [i for i in self.items if isinstance(i, QuoteItem)]


def _item(data: Item | dict[str, Any]) -> Item:
    if isinstance(data, (QuoteItem, NarrativeItem)):
        return data
    kind = data.get("kind", "quote" if "transcript" in data else "narrative")
    if kind == "narrative":
        return NarrativeItem(str(data.get("text", "")))
    if kind != "quote":
        raise ConflictError(f"A vignette item is a 'quote' or a 'narrative', not '{kind}'.")
    missing = [k for k in ("transcript", "start", "end") if data.get(k) is None]
    if missing:
        raise ConflictError(f"A quote needs transcript, start and end; missing: {', '.join(missing)}.")
    return QuoteItem(str(data["transcript"]), int(data["start"]), int(data["end"]), str(data.get("text") or ""),
                     data.get("coding_id"), data.get("code"), source=str(data.get("source") or ""))


def _stored(item: Item) -> dict[str, Any]:
    if isinstance(item, NarrativeItem):
        return {"kind": "narrative", "text": item.text}
    return {"kind": "quote", "transcript": item.transcript, "start": item.start, "end": item.end, "text": item.text,
            "coding_id": item.coding_id, "code": item.code, "source": item.source}


class VignetteMixin(ExportMixin, DisclosureMixin):
    """Project methods for vignettes (composing, drafting; export and disclosure via the bases)."""

    # -- reads ----------------------------------------------------------------------------------
    def vignettes(self: Any) -> list[Vignette]:
        """All vignettes, oldest first."""
        v = self.t.vignettes
        with self.store.read() as conn:
            rows = conn.execute(sa.select(v).order_by(v.c.id)).all()
        return [self._vignette(r) for r in rows]

    def vignette(self: Any, vignette_id: int) -> Vignette:
        with self.store.read() as conn:
            return self._vignette(self._vignette_row(conn, vignette_id))

    def _vignette_row(self: Any, conn: Any, vignette_id: int) -> Any:
        v = self.t.vignettes
        row = conn.execute(sa.select(v).where(v.c.id == int(vignette_id))).first()
        if row is None:
            ids = [str(r[0]) for r in conn.execute(sa.select(v.c.id).order_by(v.c.id))]
            raise NotFoundError(f"No vignette with id {vignette_id}. Vignettes: {', '.join(ids) or 'none yet'} "
                                f"(`storyloom vignette list`).")
        return row

    def _vignette(self: Any, row: Any) -> Vignette:
        t = self.t
        with self.store.read() as conn:
            who = conn.execute(sa.select(t.participants.c.pseudonym).where(
                t.participants.c.id == row.participant_id)).scalar() if row.participant_id else None
        theme = self.code_paths().get(row.code_id) if row.code_id else None
        return Vignette(row.id, row.guid, row.title, who, theme, row.status, tuple(self._items_of(row)),
                        row.created_at, row.updated_at)

    def _resolve(self: Any, item: Item, cache: dict[str, Any]) -> Item:
        """Derive a quote's participant, turn, timestamp, line and source (re-placed if the transcript changed)."""
        if isinstance(item, NarrativeItem):
            return item
        if item.transcript not in cache:
            try:
                cache[item.transcript] = (self.transcript(item.transcript).text, self.turns(item.transcript))
            except NotFoundError:
                cache[item.transcript] = None
        if cache[item.transcript] is None:
            return replace(item, source="")
        text, turns = cache[item.transcript]
        start, end = item.start, item.end
        if item.source and text[start:end] != item.source:
            found = locate(item.source, "", "", text, start)
            if found:
                start, end = found
        turn = next((tr for tr in turns if tr.start <= start < tr.end), None)
        return replace(
            item, start=start, end=end, source=text[start:end], participant=turn and (turn.participant or turn.speaker),
            turn=turn and turn.index, timestamp=format_timestamp(turn.t_start) if turn else "",
            line=text.count("\n", 0, start) + 1)

    # -- writing --------------------------------------------------------------------------------
    def _checked_items(self: Any, conn: Any, title: str, items: list[Item | dict[str, Any]]) -> list[Item]:
        """Validate items before they are stored: spans inside their transcripts, quotes with marked edits only."""
        out: list[Item] = []
        tr = self.t.transcripts
        for n, raw in enumerate(items, start=1):
            item = _item(raw)
            if isinstance(item, QuoteItem):
                tid = self._transcript_id(conn, item.transcript)
                text = conn.execute(sa.select(tr.c.text).where(tr.c.id == tid)).scalar_one()
                if not (0 <= item.start < item.end <= len(text)):
                    raise InvalidSpanError(f"Vignette '{title}', item {n}: span [{item.start}, {item.end}) is not inside "
                                           f"{item.transcript} (0 to {len(text)}). Pick the quote again from a coding.")
                source = text[item.start:item.end]
                rendering = item.text.strip() or clean_source(source)
                check_quote(rendering, source, where=f"Vignette '{title}', quote {n} ({quote_label(rendering)})")
                item = replace(item, text=rendering, source=source)
            elif not item.text.strip():
                raise ConflictError(f"Vignette '{title}', item {n}: a narrative paragraph needs some text "
                                    f"(remove the item instead).")
            out.append(item)
        return out

    def _save(self: Any, act: Any, row: Any, *, items: list[Item] | None = None, title: str | None = None,
              status: str = "edited") -> None:
        values: dict[str, Any] = {"status": status, "updated_at": self._now()}
        if title is not None:
            values["title"] = title
        if items is not None:
            values["items"] = json.dumps([_stored(i) for i in items], ensure_ascii=False)
        act.rec.update("vignettes", row.id, **values)
        act.target = f"vignette:{row.guid}"

    def _items_of(self: Any, row: Any) -> list[Item]:
        """The stored items, each quote placed again if its transcript was corrected since."""
        cache: dict[str, Any] = {}
        return [self._resolve(_item(d), cache) for d in json.loads(row.items or "[]")]

    def create_vignette(
        self: Any, title: str, *, participant: str | None = None, theme: str | int | None = None,
        items: list[Item | dict[str, Any]] | None = None, note: str = "",
    ) -> Vignette:
        """Create a vignette about a participant, a theme, or a participant within a theme."""
        return self._create(title, participant=participant, theme=theme, items=items or [], status="edited",
                            action="vignette.create", note=note)

    def _create(self: Any, title: str, *, participant: str | None, theme: str | int | None,
                items: list[Item | dict[str, Any]], status: str, action: str, note: str) -> Vignette:
        title = title.strip()
        if not title:
            raise ConflictError("A vignette needs a title, e.g. the participant's pseudonym or the theme's name.")
        with self._action(action, note=note) as act:
            pid = self._participant_id(act.conn, participant) if participant else None
            cid = self._code_row(act.conn, theme).id if theme not in (None, "") else None
            checked = self._checked_items(act.conn, title, items)
            guid, now = str(uuid4()), self._now()
            vid = act.rec.insert("vignettes", guid=guid, title=title, participant_id=pid, code_id=cid, status=status,
                                 items=json.dumps([_stored(i) for i in checked], ensure_ascii=False),
                                 created_at=now, updated_at=now)
            act.target = f"vignette:{guid}"
            act.after = {"title": title, "participant": participant, "theme": theme, "items": len(checked)}
            act.summary = f"{'Drafted' if status == 'draft' else 'Created'} vignette '{title}' ({len(checked)} items)"
        return self.vignette(vid)

    def update_vignette(
        self: Any, vignette_id: int, *, title: str | None = None, items: list[Item | dict[str, Any]] | None = None,
        note: str = "",
    ) -> Vignette:
        """Save the researcher's edits: a new title and/or the whole ordered item list (checked first)."""
        if title is not None and not title.strip():
            raise ConflictError("A vignette needs a title; keep the old one or type a new one.")
        with self._action("vignette.edit", note=note) as act:
            row = self._vignette_row(act.conn, vignette_id)
            new_title = title.strip() if title is not None else row.title
            checked = self._checked_items(act.conn, new_title, items) if items is not None else None
            self._save(act, row, items=checked, title=new_title if title is not None else None)
            changed = [k for k, v in (("title", title), ("items", items)) if v is not None]
            act.before = {"title": row.title, "items": len(self._items_of(row)), "status": row.status}
            act.after = {"title": new_title, "items": len(checked) if checked is not None else act.before["items"]}
            act.summary = f"Edited {' and '.join(changed) or 'nothing'} of vignette '{new_title}'"
        return self.vignette(row.id)

    def _edit_items(self: Any, vignette_id: int, action: str, note: str, change: Any) -> Vignette:
        """Apply ``change(items) -> (items, summary)`` to a vignette's items as one action."""
        with self._action(action, note=note) as act:
            row = self._vignette_row(act.conn, vignette_id)
            items, summary = change(self._items_of(row))
            self._save(act, row, items=self._checked_items(act.conn, row.title, items))
            act.summary = f"{summary} in vignette '{row.title}'"
        return self.vignette(row.id)

    @staticmethod
    def _index(items: list[Item], index: int) -> int:
        if not 0 <= index < len(items):
            raise NotFoundError(f"The vignette has items 0 to {len(items) - 1}; there is no item {index}.")
        return index

    def add_quote(
        self: Any, vignette_id: int, *, coding: int | None = None, transcript: str | None = None,
        start: int | None = None, end: int | None = None, text: str = "", position: int | None = None, note: str = "",
    ) -> Vignette:
        """Add a quote: from a coding, or any span (transcript, start, end). ``text`` is its rendering
        (default: the span with its whitespace normalised)."""
        code = None
        if coding is not None:
            c = self.coding(coding)
            transcript = next(t.name for t in self._transcript_rows() if t.id == c.transcript_id)
            start, end = (start if start is not None else c.start), (end if end is not None else c.end)
            code = self.code_paths().get(c.code_id)
        if transcript is None or start is None or end is None:
            raise ConflictError("Say what to quote: a coding id, or a transcript with start and end offsets.")
        quote = QuoteItem(transcript, start, end, text, coding, code)

        def change(items: list[Item]) -> tuple[list[Item], str]:
            items.insert(len(items) if position is None else position, quote)
            return items, "Added a quote"
        return self._edit_items(vignette_id, "vignette.quote.add", note, change)

    def add_narrative(self: Any, vignette_id: int, text: str, *, position: int | None = None, note: str = "") -> Vignette:
        """Add a narrative paragraph (at the end, or at ``position``)."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            items.insert(len(items) if position is None else position, NarrativeItem(text))
            return items, "Added a narrative paragraph"
        return self._edit_items(vignette_id, "vignette.narrative.add", note, change)

    def edit_item(self: Any, vignette_id: int, index: int, text: str, *, note: str = "") -> Vignette:
        """Change a quote's rendering (marked edits only; checked) or a narrative paragraph's text."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            i = self._index(items, index)
            items[i] = replace(items[i], text=text)
            return items, f"Edited item {i + 1}: {quote_label(text)}"
        return self._edit_items(vignette_id, "vignette.item.edit", note, change)

    def move_item(self: Any, vignette_id: int, index: int, *, to: int, note: str = "") -> Vignette:
        """Move item ``index`` to position ``to`` (0-based)."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            item = items.pop(self._index(items, index))
            items.insert(max(0, min(to, len(items))), item)
            return items, f"Moved item {index + 1} to position {max(0, min(to, len(items) - 1)) + 1}"
        return self._edit_items(vignette_id, "vignette.reorder", note, change)

    def remove_item(self: Any, vignette_id: int, index: int, *, note: str = "") -> Vignette:
        """Remove one item (a quote or a paragraph)."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            gone = items.pop(self._index(items, index))
            return items, f"Removed item {index + 1}: {quote_label(gone.text)}"
        return self._edit_items(vignette_id, "vignette.item.remove", note, change)

    def delete_vignette(self: Any, vignette_id: int, *, note: str = "") -> None:
        """Delete a vignette (undoable)."""
        with self._action("vignette.delete", note=note) as act:
            row = self._vignette_row(act.conn, vignette_id)
            act.rec.delete("vignettes", row.id)
            act.target, act.before = f"vignette:{row.guid}", {"title": row.title, "items": len(self._items_of(row))}
            act.summary = f"Deleted vignette '{row.title}'"

    # -- drafting -------------------------------------------------------------------------------
    def draft_vignette(
        self: Any, *, participant: str | None = None, theme: str | int | None = None, per_code: int = 2,
        title: str | None = None, note: str = "",
    ) -> Vignette:
        """Draft a vignette from codings. Per code, in codebook order, a narrative placeholder and the
        ``per_code`` most central quotes (closest to the code's centroid over all participants). The codes
        are those one level below the vignette's scope: the themes for a participant's vignette, a theme's
        sub-codes for a theme's (each with its sub-codes). Status ``draft`` until the researcher edits it."""
        if not participant and theme in (None, ""):
            raise ConflictError("Say what the vignette is about: --participant NAME, --theme NAME, or both.")
        with self.store.read() as conn:
            if participant:
                self._participant_id(conn, participant)
            scope = self._code_row(conn, theme) if theme not in (None, "") else None
        people = {p.pseudonym for p in self.participants()}
        everything = self.codings_frame()
        everything = everything[everything["participant"].isin(people)]
        frame = everything[everything["participant"] == participant] if participant else everything
        codes = self.codes()
        groups = [(c, self._subtree(codes, c.id)) for c in codes if c.parent_id == (scope.id if scope else None)]
        if scope is not None:
            groups = [(scope, {scope.id}), *groups] if groups else [(scope, {scope.id})]
        if frame[frame["code_id"].isin(set().union(*(ids for _, ids in groups)))].empty:
            about = " and ".join(x for x in (participant, scope and f"theme '{scope.name}'") if x)
            raise NotFoundError(f"There are no codings of {about} to draft from. Code some passages first, or "
                                f"create an empty vignette and pick quotes yourself.")
        vectors = self._coding_vectors(everything)
        items: list[Item] = []
        taken: list[tuple[str, int, int]] = []
        for code, ids in groups:
            rows, peers = frame[frame["code_id"].isin(ids)], everything[everything["code_id"].isin(ids)]
            if rows.empty:
                continue
            centroid = np.mean([vectors[i] for i in peers["coding_id"]], axis=0)
            ranked = sorted(rows.itertuples(), key=lambda r: -float(vectors[r.coding_id] @ centroid))
            picked = []
            for r in ranked:
                if len(picked) < per_code and not any(t == r.transcript and r.start < e and s < r.end for t, s, e in taken):
                    picked.append(r)
                    taken.append((r.transcript, r.start, r.end))
            if not picked:
                continue
            whose = f" for {participant}" if participant else ""
            items.append(NarrativeItem(f"{PLACEHOLDER} what do these quotes show about '{code.name}'{whose}? "
                                       f"Write this paragraph in your own words.]"))
            items += [QuoteItem(r.transcript, r.start, r.end, clean_source(r.text), r.coding_id, r.code_path)
                      for r in picked]
        default = f"{participant}: {scope.name}" if participant and scope else (participant or scope.name)
        return self._create(title or default, participant=participant, theme=theme, items=items, status="draft",
                            action="vignette.draft", note=note)

    @staticmethod
    def _subtree(codes: list[Any], root: int) -> set[int]:
        ids, frontier = {root}, [root]
        while frontier:
            node = frontier.pop()
            for c in codes:
                if c.parent_id == node and c.id not in ids:
                    ids.add(c.id)
                    frontier.append(c.id)
        return ids

    def _coding_vectors(self: Any, frame: Any) -> dict[int, np.ndarray]:
        """A vector per coding: the mean of the segment vectors overlapping it, else its text embedded."""
        index = self.segment_index()
        by_transcript = {name: (g["start"].to_numpy(), g["end"].to_numpy(), g.index.to_numpy())
                         for name, g in index.frame.groupby("transcript")}
        out: dict[int, np.ndarray] = {}
        missing: list[tuple[int, str]] = []
        for r in frame.itertuples():
            starts, ends, rows = by_transcript.get(r.transcript, (np.array([]), np.array([]), np.array([], dtype=int)))
            hit = rows[(starts < r.end) & (ends > r.start)]
            if len(hit):
                vec = index.vectors[hit].mean(axis=0)
                out[r.coding_id] = vec / (np.linalg.norm(vec) or 1.0)
            else:
                missing.append((r.coding_id, r.text))
        if missing:
            for (cid, _), vec in zip(missing, self.embedder.embed([t for _, t in missing])):
                out[cid] = np.asarray(vec, dtype=np.float32)
        return out
