"""Vignettes (``project.vignettes``): compose, edit and draft a participant's or a theme's story.

A vignette is a title and an ordered list of items (see :mod:`analysis.domain.vignettes` for the dataclasses):
quotes with the researcher's rendering (marked edits only, checked against the source when saved) and
narrative paragraphs. Every edit is one action with one audit event, undoable. :meth:`VignetteService.draft`
builds a first draft from codings (status ``draft``); any edit by the researcher makes it ``edited``.
Export and the disclosure check live in ``project.exports`` and ``project.disclosure``.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from analysis.domain.coding import locate
from analysis.errors import Errors, InvalidSpanError, NotFoundError, ValidationError
from analysis.domain.explore import format_timestamp
from analysis.domain.timing import own_time
from analysis.export.document import PLACEHOLDER
from analysis.domain.model import Anchor, Code, Turn
from analysis.domain.quotes import check_quote, clean_source, quote_label
from analysis.store import codes as code_store, participants as participant_store, transcripts as transcript_store
from analysis.store import team as team_store, vignettes as vignette_store
from analysis.store.vignettes import VignetteRow
from analysis.domain.vignettes import Item, NarrativeItem, QuoteItem, Vignette, stored_item, to_item
from analysis.services.context import Action, Context, new_guid

if TYPE_CHECKING:
    import pandas as pd
    from analysis.services.assist import AssistService
    from analysis.services.codebook import CodebookService
    from analysis.services.codings import CodingService
    from analysis.services.explore import ExploreService
    from analysis.services.participants import ParticipantService
    from analysis.services.transcripts import TranscriptService

Vector = npt.NDArray[np.float32]
ItemChange = Callable[[list[Item]], tuple[list[Item], str]]
_Sources = dict[str, tuple[str, list[Turn], list[Anchor]] | None]  # name -> (text, turns, anchors); None: gone


class _CodingRow(NamedTuple):
    """The columns of a codings-frame row that drafting uses."""

    coding_id: int
    transcript: str
    start: int
    end: int
    text: str
    code_path: str


def _coding_rows(frame: pd.DataFrame) -> list[_CodingRow]:
    cols = [frame[c].tolist() for c in _CodingRow._fields]
    return [_CodingRow(int(c), str(t), int(s), int(e), str(x), str(p)) for c, t, s, e, x, p in zip(*cols)]


def _subtree(codes: list[Code], root: int) -> set[int]:
    """``root`` and the ids of all codes below it."""
    ids, frontier = {root}, [root]
    while frontier:
        node = frontier.pop()
        for c in codes:
            if c.parent_id == node and c.id not in ids:
                ids.add(c.id)
                frontier.append(c.id)
    return ids


def _index(items: list[Item], index: int) -> int:
    if not 0 <= index < len(items):
        raise NotFoundError(Errors.E2011, v1=len(items) - 1, index=index)
    return index


def _what(items: list[Item], i: int) -> str:
    """Why item ``i`` cannot be joined to the one before it, in the researcher's words."""
    if not isinstance(items[i], QuoteItem):
        return "it is a paragraph of narrative, not a quote"
    if i == 0:
        return "it is the first item"
    return "the item before it is a paragraph of narrative (a short quote runs on in it anyway)"


def _dumps(items: list[Item]) -> str:
    return json.dumps([stored_item(i) for i in items], ensure_ascii=False)


class VignetteService:
    """Vignettes: reading, composing, editing, deleting and drafting."""

    def __init__(
        self, ctx: Context, codebook: CodebookService, codings: CodingService, transcripts: TranscriptService,
        participants: ParticipantService, explore: ExploreService, assist: AssistService,
    ) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.codings = codings
        self.transcripts = transcripts
        self.participants = participants
        self.explore = explore
        self.assist = assist

    # -- reads ----------------------------------------------------------------------------------
    def list(self) -> builtins.list[Vignette]:
        """All vignettes, oldest first."""
        with self.ctx.store.read() as conn:
            rows = vignette_store.vignette_rows(conn)
        return [self._vignette(r) for r in rows]

    def get(self, vignette_id: int) -> Vignette:
        """The vignette with id ``vignette_id``, its quotes placed in their transcripts as they are now."""
        with self.ctx.store.read() as conn:
            row = vignette_store.vignette_row(conn, vignette_id)
        return self._vignette(row)

    def _vignette(self, row: VignetteRow) -> Vignette:
        who = None
        if row.participant_id:
            with self.ctx.store.read() as conn:
                who = vignette_store.participant_pseudonym(conn, row.participant_id)
        theme = self.codebook.code_paths().get(row.code_id) if row.code_id else None
        return Vignette(row.id, row.guid, row.title, who, theme, row.status, tuple(self._items_of(row)),
                        row.created_at, row.updated_at)

    def _resolve(self, item: Item, cache: _Sources) -> Item:
        """Derive a quote's participant, turn, timestamp, line and source (re-placed if the transcript changed)."""
        if isinstance(item, NarrativeItem):
            return item
        if item.transcript not in cache:
            try:
                cache[item.transcript] = (self.transcripts.get(item.transcript).text,
                                          self.transcripts.turns(item.transcript),
                                          self.transcripts.anchors(item.transcript))
            except NotFoundError:
                cache[item.transcript] = None
        found_source = cache[item.transcript]
        if found_source is None:
            return replace(item, source="")
        text, turns, anchors = found_source
        start, end = item.start, item.end
        if item.source and text[start:end] != item.source:
            found = locate(item.source, "", "", text, start)
            if found:
                start, end = found
        turn = next((tr for tr in turns if tr.start <= start < tr.end), None)
        return replace(
            item, start=start, end=end, source=text[start:end],
            participant=(turn.participant or turn.speaker) if turn else None,
            turn=turn.index if turn else None, timestamp=format_timestamp(own_time(anchors, start, turn.start if turn else None)),
            line=text.count("\n", 0, start) + 1)

    def resolve_items(self, stored: Sequence[Item | dict[str, Any]], cache: _Sources | None = None) -> builtins.list[Item]:
        """Items as they read now: each quote of ``stored`` (items or their stored dicts, as in a vignette's or a
        chapter section's JSON) placed again if its transcript was corrected since, with its participant, turn,
        timestamp, line and source derived. ``cache`` (transcript name -> its text and turns, or None when the
        transcript is gone) may be shared by the calls of one read."""
        cache = {} if cache is None else cache
        return [self._resolve(to_item(d), cache) for d in stored]

    def _items_of(self, row: VignetteRow) -> builtins.list[Item]:
        """The stored items, each quote placed again if its transcript was corrected since."""
        return self.resolve_items(json.loads(row.items or "[]"))

    # -- writing --------------------------------------------------------------------------------
    def check_items(self, act: Action, title: str, items: Sequence[Item | dict[str, Any]]) -> builtins.list[Item]:
        """Validate items inside action ``act`` before they are stored (by a vignette, or a chapter's section):
        every quote's span lies inside its transcript and its rendering differs from the source by marked edits
        only (an empty rendering becomes the cleaned source); narrative paragraphs are not empty. Returns the
        items with each quote's ``text`` and ``source`` set; errors name ``title`` and the item's number."""
        conn = act.conn
        out: list[Item] = []
        for n, raw in enumerate(items, start=1):
            item = to_item(raw)
            if isinstance(item, QuoteItem):
                tid = transcript_store.transcript_id(conn, item.transcript)
                text = transcript_store.transcript_text(conn, tid)
                if not (0 <= item.start < item.end <= len(text)):
                    raise InvalidSpanError(Errors.E2303, title=title, n=n, start=item.start, end=item.end, transcript=item.transcript, n_text=len(text))
                source = text[item.start:item.end]
                rendering = item.text.strip() or clean_source(source)
                check_quote(rendering, source, where=f"Vignette '{title}', quote {n} ({quote_label(rendering)})")
                item = replace(item, text=rendering, source=source)
            elif not item.text.strip():
                raise ValidationError(Errors.E2124, title=title, n=n)
            out.append(item)
        return out

    def _save(self, act: Action, row: VignetteRow, *, items: builtins.list[Item] | None = None,
              title: str | None = None, status: str = "edited") -> None:
        values: dict[str, Any] = {"status": status, "updated_at": self.ctx.now()}
        if title is not None:
            values["title"] = title
        if items is not None:
            values["items"] = _dumps(items)
        act.rec.update("vignettes", row.id, **values)
        act.target = f"vignette:{row.guid}"

    def create(
        self, title: str, *, participant: str | None = None, theme: str | int | None = None,
        items: builtins.list[Item | dict[str, Any]] | None = None, note: str = "",
    ) -> Vignette:
        """Create a vignette about a participant, a theme, or a participant within a theme."""
        return self._create(title, participant=participant, theme=theme, items=items or [], status="edited",
                            action="vignette.create", note=note)

    def _create(self, title: str, *, participant: str | None, theme: str | int | None,
                items: Sequence[Item | dict[str, Any]], status: str, action: str, note: str) -> Vignette:
        title = title.strip()
        if not title:
            raise ValidationError(Errors.E2120)
        with self.ctx.action(action, note=note) as act:
            pid = participant_store.participant_id(act.conn, participant) if participant else None
            cid = int(code_store.code_row(act.conn, theme).id) if theme is not None and theme != "" else None
            checked = self.check_items(act, title, items)
            guid, now = new_guid(), self.ctx.now()
            vid = act.rec.insert("vignettes", guid=guid, title=title, participant_id=pid, code_id=cid, status=status,
                                 items=_dumps(checked), created_at=now, updated_at=now)
            act.target = f"vignette:{guid}"
            act.after = {"title": title, "participant": participant, "theme": theme, "items": len(checked)}
            act.summary = f"{'Drafted' if status == 'draft' else 'Created'} vignette '{title}' ({len(checked)} items)"
        return self.get(vid)

    def update(
        self, vignette_id: int, *, title: str | None = None, items: builtins.list[Item | dict[str, Any]] | None = None,
        note: str = "", expected: dict[str, Any] | None = None,
    ) -> Vignette:
        """Save the researcher's edits: a new title and/or the whole ordered item list (checked first).

        ``expected`` (optimistic concurrency, for a team): what the editor read, e.g.
        ``{"updated_at": v.updated_at}`` (every change of a vignette sets it) or ``{"title": ...}``;
        if it has changed since, ConflictError says what and who, and nothing is saved."""
        if title is not None and not title.strip():
            raise ValidationError(Errors.E2121)
        with self.ctx.action("vignette.edit", note=note) as act:
            row = vignette_store.vignette_row(act.conn, vignette_id)
            if expected:
                seen = {k: (_dumps([to_item(i) for i in v]) if k == "items" and not isinstance(v, str) else v)
                        for k, v in expected.items()}
                current = {k: getattr(row, k) for k in ("title", "status", "items", "updated_at")}
                team_store.check_expected(act.conn, current=current, expected=seen,
                                          what=f"The vignette '{row.title}'", entity="vignette", guid=row.guid)
            new_title = title.strip() if title is not None else row.title
            checked = self.check_items(act, new_title, items) if items is not None else None
            self._save(act, row, items=checked, title=new_title if title is not None else None)
            changed = [k for k, v in (("title", title), ("items", items)) if v is not None]
            before_items = len(self._items_of(row))
            act.before = {"title": row.title, "items": before_items, "status": row.status}
            act.after = {"title": new_title, "items": len(checked) if checked is not None else before_items}
            act.summary = f"Edited {' and '.join(changed) or 'nothing'} of vignette '{new_title}'"
        return self.get(row.id)

    def _edit_items(self, vignette_id: int, action: str, note: str, change: ItemChange) -> Vignette:
        """Apply ``change(items) -> (items, summary)`` to a vignette's items as one action."""
        with self.ctx.action(action, note=note) as act:
            row = vignette_store.vignette_row(act.conn, vignette_id)
            items, summary = change(self._items_of(row))
            self._save(act, row, items=self.check_items(act, row.title, items))
            act.summary = f"{summary} in vignette '{row.title}'"
        return self.get(row.id)

    def add_quote(
        self, vignette_id: int, *, coding: int | None = None, transcript: str | None = None,
        start: int | None = None, end: int | None = None, text: str = "", position: int | None = None, note: str = "",
    ) -> Vignette:
        """Add a quote: from a coding, or any span (transcript, start, end). ``text`` is its rendering
        (default: the span with its whitespace normalised)."""
        code = None
        if coding is not None:
            c = self.codings.get(coding)
            with self.ctx.store.read() as conn:
                rows = transcript_store.transcript_rows(conn)
            transcript = next(str(t.name) for t in rows if t.id == c.transcript_id)
            start, end = (start if start is not None else c.start), (end if end is not None else c.end)
            code = self.codebook.code_paths().get(c.code_id)
        if transcript is None or start is None or end is None:
            raise ValidationError(Errors.E2122)
        quote = QuoteItem(transcript, start, end, text, coding, code)

        def change(items: list[Item]) -> tuple[list[Item], str]:
            items.insert(len(items) if position is None else position, quote)
            return items, "Added a quote"
        return self._edit_items(vignette_id, "vignette.quote.add", note, change)

    def add_narrative(self, vignette_id: int, text: str, *, position: int | None = None, note: str = "") -> Vignette:
        """Add a narrative paragraph (at the end, or at ``position``)."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            items.insert(len(items) if position is None else position, NarrativeItem(text))
            return items, "Added a narrative paragraph"
        return self._edit_items(vignette_id, "vignette.narrative.add", note, change)

    def edit_item(self, vignette_id: int, index: int, text: str, *, note: str = "") -> Vignette:
        """Change a quote's rendering (marked edits only; checked) or a narrative paragraph's text."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            i = _index(items, index)
            items[i] = replace(items[i], text=text)
            return items, f"Edited item {i + 1}: {quote_label(text)}"
        return self._edit_items(vignette_id, "vignette.item.edit", note, change)

    def move_item(self, vignette_id: int, index: int, *, to: int, note: str = "") -> Vignette:
        """Move item ``index`` to position ``to`` (0-based)."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            item = items.pop(_index(items, index))
            items.insert(max(0, min(to, len(items))), item)
            return items, f"Moved item {index + 1} to position {max(0, min(to, len(items) - 1)) + 1}"
        return self._edit_items(vignette_id, "vignette.reorder", note, change)

    def join_item(self, vignette_id: int, index: int, *, joined: bool = True, note: str = "") -> Vignette:
        """Print quote ``index`` in one paragraph with the quote before it (``joined=False``: in its own
        paragraph again, the default). Only short quotes run on; a block quote stands alone either way."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            i = _index(items, index)
            item = items[i]
            if not isinstance(item, QuoteItem) or i == 0 or not isinstance(items[i - 1], QuoteItem):
                raise ValidationError(Errors.E8201, n=i + 1, what=_what(items, i))
            items[i] = replace(item, joined=joined)
            how = "Joined quote {n} to the quote before it" if joined else "Gave quote {n} its own paragraph"
            return items, how.format(n=i + 1)
        return self._edit_items(vignette_id, "vignette.join", note, change)

    def set_narrative(self, vignette_id: int, index: int, text: str, *, note: str = "") -> Vignette:
        """Rewrite narrative paragraph ``index`` (e.g. a draft's placeholder) in the researcher's words."""
        with self.ctx.store.read() as conn:
            items = self._items_of(vignette_store.vignette_row(conn, vignette_id))
        if not isinstance(items[_index(items, index)], NarrativeItem):
            raise ValidationError(Errors.E8202, n=index + 1)
        return self.edit_item(vignette_id, index, text, note=note)

    def remove_item(self, vignette_id: int, index: int, *, note: str = "") -> Vignette:
        """Remove one item (a quote or a paragraph)."""
        def change(items: list[Item]) -> tuple[list[Item], str]:
            gone = items.pop(_index(items, index))
            return items, f"Removed item {index + 1}: {quote_label(gone.text)}"
        return self._edit_items(vignette_id, "vignette.item.remove", note, change)

    def delete(self, vignette_id: int, *, note: str = "") -> None:
        """Delete a vignette (undoable)."""
        with self.ctx.action("vignette.delete", note=note) as act:
            row = vignette_store.vignette_row(act.conn, vignette_id)
            act.rec.delete("vignettes", row.id)
            act.target, act.before = f"vignette:{row.guid}", {"title": row.title, "items": len(self._items_of(row))}
            act.summary = f"Deleted vignette '{row.title}'"

    # -- drafting -------------------------------------------------------------------------------
    def draft(
        self, *, participant: str | None = None, theme: str | int | None = None, per_code: int = 2,
        title: str | None = None, note: str = "",
    ) -> Vignette:
        """Draft a vignette from codings. Per code, in codebook order, a narrative placeholder and the
        ``per_code`` most central quotes (closest to the code's centroid over all participants). The codes
        are those one level below the vignette's scope: the themes for a participant's vignette, a theme's
        sub-codes for a theme's (each with its sub-codes). Status ``draft`` until the researcher edits it."""
        if not participant and (theme is None or theme == ""):
            raise ValidationError(Errors.E2123)
        if participant:
            with self.ctx.store.read() as conn:
                participant_store.participant_id(conn, participant)
        scope = self.codebook.get_code(theme) if theme is not None and theme != "" else None
        people = {p.pseudonym for p in self.participants.list()}
        everything = self.explore.codings_frame()
        everything = everything[everything["participant"].isin(people)]
        frame = everything[everything["participant"] == participant] if participant else everything
        codes = self.codebook.codes()
        scope_id = scope.id if scope is not None else None
        groups = [(c, _subtree(codes, c.id)) for c in codes if c.parent_id == scope_id]
        if scope is not None:
            groups = [(scope, {scope.id}), *groups]
        wanted: set[int] = set().union(*(ids for _, ids in groups))
        if frame[frame["code_id"].isin(wanted)].empty:
            about = " and ".join(x for x in (participant, scope is not None and f"theme '{scope.name}'") if x)
            raise NotFoundError(Errors.E2012, about=about)
        vectors = self._coding_vectors(everything)
        items: list[Item] = []
        taken: list[tuple[str, int, int]] = []
        for code, ids in groups:
            rows, peers = frame[frame["code_id"].isin(ids)], everything[everything["code_id"].isin(ids)]
            if rows.empty:
                continue
            centroid = np.mean([vectors[int(i)] for i in peers["coding_id"]], axis=0)
            ranked = sorted(_coding_rows(rows), key=lambda r: -float(vectors[r.coding_id] @ centroid))
            picked: list[_CodingRow] = []
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
        if participant and scope is not None:
            default = f"{participant}: {scope.name}"
        else:
            default = participant or (scope.name if scope is not None else "")
        return self._create(title or default, participant=participant, theme=theme, items=items, status="draft",
                            action="vignette.draft", note=note)

    def _coding_vectors(self, frame: pd.DataFrame) -> dict[int, Vector]:
        """A vector per coding: the mean of the segment vectors overlapping it, else its text embedded."""
        index = self.assist.semantic_index()
        empty = (np.array([]), np.array([]), np.array([], dtype=int))
        by_transcript = {name: (g["start"].to_numpy(), g["end"].to_numpy(), g.index.to_numpy())
                         for name, g in index.frame.groupby("transcript")}
        out: dict[int, Vector] = {}
        missing: list[tuple[int, str]] = []
        for r in _coding_rows(frame):
            starts, ends, rows = by_transcript.get(r.transcript, empty)
            hit = rows[(starts < r.end) & (ends > r.start)]
            if len(hit):
                vec = index.vectors[hit].mean(axis=0)
                out[r.coding_id] = np.asarray(vec / (np.linalg.norm(vec) or 1.0), dtype=np.float32)
            else:
                missing.append((r.coding_id, r.text))
        if missing:
            for (cid, _), vec in zip(missing, self.ctx.embedder.embed([t for _, t in missing])):
                out[cid] = np.asarray(vec, dtype=np.float32)
        return out
