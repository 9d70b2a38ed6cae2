"""Story time (``project.story``): periods, events and their evidence, the story file, the timeline, restorying.

* **Periods** are named spans of the story ("pre-pandemic", "early 2020") in the researcher's order, each
  optionally dated (its ``dates``: a date, month or year). **Events** (GUID, unique name, description) have
  a *when* in story time (see :mod:`analysis.domain.narrative`); a period named in a when that does not exist yet
  is added at the end of the period order (the action says so). Coded passages are linked to events as
  evidence, several participants to one event, each link optionally with the participant's own placement.
* :meth:`StoryService.timeline` is every event in story order (ties, uncertain overlaps, unknowns and
  disagreements between participants reported, never averaged); :meth:`StoryService.restory` one
  participant's passages in *their* story order with the gaps (events others tell that they do not);
  :meth:`StoryService.restory_vignette` turns that into a draft vignette (``project.vignettes``).
* The story file (``codebooks/story.yaml``) brings in periods, events, evidence and chapters in one action.

The findings chapters built on it are :class:`analysis.services.chapters.ChapterService` (``project.chapters``).
Every change is one action (one audit event, undoable).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import limits
from analysis.domain.names import check_name
from analysis.errors import ConflictError, Errors, ExportError, Msg, NotFoundError, StoryloomError, ValidationError
from analysis.export import write_file
from analysis.export.document import PLACEHOLDER
from analysis.domain.narrative import (Period, TimelineEvent, When, disagreement, gaps, parse_dated, parse_when, sort_key, story_order, timeline_png,
                         timeline_svg, when_of_row)
from analysis.files.story_file import STORY_FILE, parse_story_file
from analysis.domain.methods_report import _n
from analysis.domain.quotes import clean_source
from analysis.files.safe_yaml import Where, load_yaml, yaml_path_error
from analysis.store import events as store, participants as participant_store
from analysis.store.events import EventRow, EvidenceRow, PeriodRow
from analysis.domain.vignettes import Item, NarrativeItem, QuoteItem, Vignette
from analysis.services.context import Action, Context, new_guid
from analysis.services.file_quotes import Sources, coded_passages

if TYPE_CHECKING:
    import pandas as pd

    from analysis.services.codebook import CodebookService
    from analysis.services.explore import ExploreService
    from analysis.services.vignettes import VignetteService
from analysis.services.chapters import dumps_items
from analysis.services.results import StoryFileImport

TIMELINE_SUFFIXES = (".svg", ".png", ".json")


@dataclass(frozen=True)
class StoryPassage:
    """A participant's passage linked to an event, placed where they place the event."""

    event: str
    order: int
    when: When
    coding_id: int
    code: str
    transcript: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Restorying:
    participant: str
    passages: tuple[StoryPassage, ...]
    gaps: tuple[TimelineEvent, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"participant": self.participant,
                "passages": [{"event": p.event, "order": p.order, "when": p.when.label, "coding": p.coding_id,
                              "code": p.code, "transcript": p.transcript, "start": p.start, "end": p.end,
                              "text": p.text} for p in self.passages],
                "gaps": [{"event": g.name, "when": g.when.label, "told_by": list(g.participants)} for g in self.gaps]}



def _new_name(text: str, holder: PeriodRow | EventRow | None, own_id: int, *, empty: Msg, taken: Msg) -> str:
    """A new name (white space folded) for the row ``own_id``: refused when empty, or when ``holder`` (the
    row already named so, ignoring case) is another row."""
    name = " ".join(text.split())
    if not name:
        raise ValidationError(empty)
    if holder is not None and holder.id != own_id:
        raise ConflictError(taken, name=name)
    return name


def _are(names: Sequence[str]) -> str:
    """``names`` listed for a sentence, with its verb: "coding 3 is", "A, B are"."""
    return ", ".join(names) + (" is" if len(names) == 1 else " are")



class StoryService:
    """Periods and events in story time, the story file, the timeline and restorying."""

    def __init__(self, ctx: Context, codebook: CodebookService, explore: ExploreService,
                 vignettes: VignetteService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.explore = explore
        self.vignettes = vignettes
        self.last_warnings: list[str] = []
        """Warnings of the last export (e.g. that its audit record could not be written)."""

    # -- story time: parsing and storing a when ---------------------------------------------------
    def _placed(self, act: Action, text: str | When, *, own: EventRow | None) -> tuple[dict[str, Any], When, str]:
        """The columns that store ``text`` as a when, the when itself, and the name of a period added for it."""
        when = text if isinstance(text, When) else parse_when(text)
        cols: dict[str, Any] = {"when_kind": when.kind, "when_value": when.value, "period_id": None, "relative_to": None}
        added = ""
        if when.kind == "period":
            period = store.period_named(act.conn, when.value)
            if period is None:
                rows = store.period_rows(act.conn)
                pid = act.rec.insert("periods", guid=new_guid(), name=when.value, position=len(rows),
                                     anchor="", description="", created_at=self.ctx.now())
                act.about("period", str(act.rec.get("periods", pid)["guid"]), "related")  # type: ignore[index]
                added = when.value
                cols["period_id"] = pid
            else:
                cols["period_id"] = period.id
                when = When("period", period.name)
        elif when.kind in ("before", "after"):
            ref = store.event_row(act.conn, when.value)
            if own is not None:
                chain, cur = [own.name, ref.name], ref
                by_id = {e.id: e for e in store.event_rows(act.conn)}
                while cur.id != own.id and cur.relative_to is not None:
                    cur = by_id[cur.relative_to]
                    chain.append(cur.name)
                if cur.id == own.id:
                    raise ValidationError(Errors.E7005, name=own.name, when=when.label, chain=" -> ".join(chain))
            cols["relative_to"] = ref.id
            when = When(when.kind, ref.name)
        cols["when_value"] = when.value
        return cols, when, added

    @staticmethod
    def _when_of(row: EventRow | EvidenceRow, periods: dict[int, str], names: dict[int, str]) -> When:
        return when_of_row(row, periods, names)

    # -- periods -----------------------------------------------------------------------------------
    def periods(self) -> builtins.list[PeriodRow]:
        """The periods in the researcher's order."""
        with self.ctx.store.read() as conn:
            return store.period_rows(conn)

    @staticmethod
    def _dates(value: str) -> str:
        value = (value or "").strip()
        if not value:
            return ""
        dated = parse_dated(value)
        if dated is None:
            raise ValidationError(Errors.E7019, value=value)
        return dated.value

    def add_period(self, name: str, *, position: int | None = None, dates: str = "", description: str = "",
                   note: str = "") -> PeriodRow:
        """Add a named period (at the end of the order, or at 0-based ``position``), optionally dated."""
        name = " ".join(check_name(name, what="period").split())
        if not name:
            raise ValidationError(Errors.E7007)
        anchor = self._dates(dates)
        with self.ctx.action("event.period.add", note=note) as act:
            if store.period_named(act.conn, name) is not None:
                raise ConflictError(Errors.E7008, name=name)
            rows = store.period_rows(act.conn)
            at = len(rows) if position is None else max(0, min(position, len(rows)))
            for n, p in enumerate(rows):
                want = n if n < at else n + 1
                if p.position != want:
                    act.rec.update("periods", p.id, position=want)
            guid = new_guid()
            act.rec.insert("periods", guid=guid, name=name, position=at, anchor=anchor, description=description,
                           created_at=self.ctx.now())
            act.target = f"period:{guid}"
            act.after = {"name": name, "position": at, "anchor": anchor}
            act.summary = f"Added period '{name}' (number {at + 1} in the story's order{', ' + anchor if anchor else ''})"
        with self.ctx.store.read() as conn:
            return store.period_row(conn, name)

    def edit_period(self, name: str, *, new_name: str | None = None, position: int | None = None,
                    dates: str | None = None, description: str | None = None, note: str = "") -> PeriodRow:
        """Rename, move (0-based ``position``), date or describe a period."""
        with self.ctx.action("event.period.edit", note=note) as act:
            row = store.period_row(act.conn, name)
            values: dict[str, Any] = {}
            if new_name is not None:
                values["name"] = _new_name(new_name, store.period_named(act.conn, " ".join(new_name.split())), row.id,
                                           empty=Errors.E7007, taken=Errors.E7008)
            if dates is not None:
                values["anchor"] = self._dates(dates)
            if description is not None:
                values["description"] = description
            if position is not None:
                rows = [p for p in store.period_rows(act.conn) if p.id != row.id]
                rows.insert(max(0, min(position, len(rows))), row)
                for n, p in enumerate(rows):
                    if p.id != row.id and p.position != n:
                        act.rec.update("periods", p.id, position=n)
                    elif p.id == row.id:
                        values["position"] = n
            act.rec.update("periods", row.id, **values)
            act.target = f"period:{row.guid}"
            act.after = {k: values[k] for k in ("name", "position", "anchor") if k in values}
            act.summary = f"Edited period '{row.name}' ({', '.join(sorted(values)) or 'nothing'})"
            final = values.get("name", row.name)
        with self.ctx.store.read() as conn:
            return store.period_row(conn, final)

    def remove_period(self, name: str, *, note: str = "") -> None:
        """Remove a period no event or link is placed in."""
        with self.ctx.action("event.period.remove", note=note) as act:
            row = store.period_row(act.conn, name)
            uses = store.uses_of_period(act.conn, row.id)
            if uses:
                raise ConflictError(Errors.E7012, name=row.name, uses=_are(uses))
            act.rec.delete("periods", row.id)
            for n, p in enumerate(store.period_rows(act.conn)):
                if p.position != n:
                    act.rec.update("periods", p.id, position=n)
            act.target, act.before = f"period:{row.guid}", {"name": row.name}
            act.summary = f"Removed period '{row.name}'"

    # -- events ------------------------------------------------------------------------------------
    def add_event(self, name: str, *, when: str = "unknown", description: str = "", note: str = "") -> TimelineEvent:
        """Mark an event with a when in story time (a date, month, year, period, before/after EVENT or unknown)."""
        name = " ".join(check_name(name, what="event").split())
        if not name:
            raise ValidationError(Errors.E7002)
        with self.ctx.action("event.add", note=note) as act:
            if store.event_named(act.conn, name) is not None:
                raise ConflictError(Errors.E7003, name=name)
            cols, placed, added = self._placed(act, when, own=None)
            guid = new_guid()
            act.rec.insert("events", guid=guid, name=name, description=description, sort_key=sort_key(placed),
                           created_at=self.ctx.now(), **cols)
            act.target = f"event:{guid}"
            act.after = {"name": name, "when": placed.label, "description": description, "new_period": added or None}
            act.summary = (f"Marked event '{name}' ({placed.label})"
                           + (f"; added period '{added}' at the end of the story's order" if added else ""))
        return self.event(name)

    def edit_event(self, name: str, *, new_name: str | None = None, when: str | None = None,
                   description: str | None = None, note: str = "") -> TimelineEvent:
        """Rename an event, place it at another time, or change its description."""
        with self.ctx.action("event.edit", note=note) as act:
            row = store.event_row(act.conn, name)
            values: dict[str, Any] = {}
            after: dict[str, Any] = {}
            if new_name is not None:
                values["name"] = after["name"] = _new_name(
                    new_name, store.event_named(act.conn, " ".join(new_name.split())), row.id,
                    empty=Errors.E7002, taken=Errors.E7003)
            if when is not None:
                cols, placed, _ = self._placed(act, when, own=row)
                values.update(cols, sort_key=sort_key(placed))
                after["when"] = placed.label
            if description is not None:
                values["description"] = after["description"] = description
            act.rec.update("events", row.id, **values)
            act.target, act.after = f"event:{row.guid}", after
            act.before = {"name": row.name, "when": row.when_value or row.when_kind}
            act.summary = f"Edited event '{row.name}' ({', '.join(sorted(after)) or 'nothing'})"
            final = values.get("name", row.name)
        return self.event(final)

    def remove_event(self, name: str, *, note: str = "") -> None:
        """Remove an event and its links (undoable); refused while other events are placed relative to it."""
        with self.ctx.action("event.remove", note=note) as act:
            row = store.event_row(act.conn, name)
            uses = store.uses_of_event(act.conn, row.id)
            if uses:
                raise ConflictError(Errors.E7011, name=row.name, others=_are(uses))
            links = [e for e in store.evidence_rows(act.conn) if e.event_id == row.id]
            for link in links:
                act.rec.delete("event_evidence", link.id)
            act.rec.delete("events", row.id)
            act.target = f"event:{row.guid}"
            act.before = {"name": row.name, "evidence": [e.coding_id for e in links]}
            act.summary = f"Removed event '{row.name}' and its {len(links)} link(s) to coded passages"

    def link(self, event: str, coding: int, *, when: str | None = None, note: str = "") -> None:
        """Link coded passage ``coding`` to ``event`` as evidence; ``when`` is where this participant places
        the event, if not where the event itself is placed."""
        with self.ctx.action("event.link", note=note) as act:
            row = store.event_row(act.conn, event)
            guid = store.coding_guid(act.conn, int(coding))
            if guid is None:
                raise NotFoundError(Errors.E2006, target=coding)
            if store.evidence_id(act.conn, row.id, int(coding)) is not None:
                raise ConflictError(Errors.E7009, coding_id=coding, name=row.name)
            cols: dict[str, Any] = {}
            placed = None
            if when is not None and when.strip():
                cols, placed, _ = self._placed(act, when, own=None)
                if cols.get("relative_to") == row.id:
                    raise ValidationError(Errors.E7005, name=row.name, when=placed.label, chain=f"{row.name} -> {row.name}")
            act.rec.insert("event_evidence", event_id=row.id, coding_id=int(coding), note="", linked_by=act.who,
                           linked_at=self.ctx.now(), **cols)
            act.target = f"event:{row.guid}"
            act.about("coding", guid, "related")
            act.after = {"event": row.name, "coding": int(coding), "when": placed.label if placed else None}
            act.summary = f"Linked coding {coding} to event '{row.name}'" + (f" (placed {placed.label})" if placed else "")

    def unlink(self, event: str, coding: int, *, note: str = "") -> None:
        """Take coded passage ``coding`` off ``event``'s evidence."""
        with self.ctx.action("event.unlink", note=note) as act:
            row = store.event_row(act.conn, event)
            eid = store.evidence_id(act.conn, row.id, int(coding))
            if eid is None:
                raise NotFoundError(Errors.E7010, coding_id=coding, name=row.name)
            act.rec.delete("event_evidence", eid)
            act.target, act.after = f"event:{row.guid}", {"event": row.name, "coding": int(coding)}
            act.summary = f"Unlinked coding {coding} from event '{row.name}'"

    # -- the story file (codebooks/story.yaml) -----------------------------------------------------------
    def import_file(self, path: str | Path, *, data: bytes | None = None, note: str = "") -> StoryFileImport:
        """Bring in periods, events with their evidence, and chapters from a story file (``codebooks/story.yaml``;
        the format is :data:`analysis.files.story_file.STORY_FILE_FORMAT`). Periods and events are matched to existing
        ones by name (ignoring case; a matched one keeps its dates or its when) and added when new; evidence,
        each ``{transcript, quote}`` matched to the codings of that transcript whose quote is exactly that text,
        is linked (a link that exists already is kept); chapters are always added. One action: a bad entry
        anywhere, or a quote that matches no coding, writes nothing, and the error names the file and the
        entry's YAML path."""
        path = Path(path)
        name = str(path)
        raw = data if data is not None else limits.read_regular_file(path, cap=limits.YAML_BYTES, name=name)
        parsed = parse_story_file(name, load_yaml(name, raw))
        made = {"periods": 0, "events": 0, "links": 0, "chapters": 0, "sections": 0}
        with self.ctx.action("event.file.import", note=note) as act:
            sources: Sources = {}
            paths = self.codebook.code_paths()
            for period in parsed.periods:
                if store.period_named(act.conn, period.name) is None:
                    act.rec.insert("periods", guid=new_guid(), name=period.name, position=len(store.period_rows(act.conn)),
                                   anchor=self._dates(period.dates), description=period.description,
                                   created_at=self.ctx.now())
                    made["periods"] += 1
            for event in parsed.events:
                row = store.event_named(act.conn, event.name)
                if row is None:
                    cols, placed, added = self._file_placed(act, name, [*event.where, "when"], event.when)
                    act.rec.insert("events", guid=new_guid(), name=event.name, description=event.description,
                                   sort_key=sort_key(placed), created_at=self.ctx.now(), **cols)
                    row = store.event_row(act.conn, event.name)
                    made["events"] += 1
                    made["periods"] += bool(added)
                for ev in event.evidence:
                    for coding in coded_passages(act.conn, name, ev.transcript, ev.quote, ev.where, sources, whole=True):
                        if store.evidence_id(act.conn, row.id, coding.id) is not None:
                            continue
                        cols = {}
                        if ev.when:
                            cols, _, added = self._file_placed(act, name, [*ev.where, "when"], ev.when)
                            made["periods"] += bool(added)
                        act.rec.insert("event_evidence", event_id=row.id, coding_id=coding.id, note="",
                                       linked_by=act.who, linked_at=self.ctx.now(), **cols)
                        made["links"] += 1
            for chapter in parsed.chapters:
                now = self.ctx.now()
                cid = act.rec.insert("chapters", guid=new_guid(), title=chapter.title, introduction=chapter.introduction,
                                     created_at=now, updated_at=now)
                made["chapters"] += 1
                for n, section in enumerate(chapter.sections):
                    items: list[Item | dict[str, Any]] = []
                    for item in section.items:
                        if isinstance(item, str):
                            items.append(NarrativeItem(item))
                            continue
                        (coding, start, end), = coded_passages(act.conn, name, item.transcript, item.quote, item.where,
                                                                  sources, whole=False)
                        items.append(QuoteItem(item.transcript, start, end, "", coding.id, paths.get(coding.code_id)))
                    checked = self.vignettes.check_items(act, f"{chapter.title}, section '{section.heading}'", items)
                    act.rec.insert("chapter_sections", guid=new_guid(), chapter_id=cid, position=n,
                                   heading=section.heading, items=dumps_items(checked), vignette_id=None, created_at=now,
                                   updated_at=now)
                    made["sections"] += 1
            act.target = "events"
            act.after = {"path": str(path), **made}
            act.summary = (f"Imported {_n(made['events'], 'event')} ({_n(made['links'], 'link')} to coded passages), "
                           f"{_n(made['periods'], 'period')} and {_n(made['chapters'], 'chapter')} "
                           f"({_n(made['sections'], 'section')}) from {path.name}")
        return StoryFileImport(**made)

    def _file_placed(self, act: Action, name: str, where: Where, when: str) -> tuple[dict[str, Any], When, str]:
        try:
            return self._placed(act, when, own=None)
        except StoryloomError as err:  # e.g. 'after X' naming no event above
            raise yaml_path_error(name, where, str(err)) from None

    def sync_folder(self) -> int:
        """On sync: bring in ``codebooks/story.yaml`` when the project has no events and no chapters yet (after
        the codings, whose passages it quotes). Returns how many events it created."""
        path = self.ctx.codebooks_dir / STORY_FILE
        with self.ctx.store.read() as conn:
            started = bool(store.event_rows(conn) or store.chapter_rows(conn))
        if started or not path.exists():
            return 0
        return self.import_file(path, note="story file found on sync").events

    # -- reading: the timeline -----------------------------------------------------------------------
    def _state(self) -> tuple[list[PeriodRow], list[EventRow], list[EvidenceRow]]:
        with self.ctx.store.read() as conn:
            return store.period_rows(conn), store.event_rows(conn), store.evidence_rows(conn)

    def _timeline(self, frame: pd.DataFrame, *, only_told: bool) -> list[TimelineEvent]:
        periods, events, links = self._state()
        pnames = {p.id: p.name for p in periods}
        enames = {e.id: e.name for e in events}
        whens = {e.name: self._when_of(e, pnames, enames) for e in events}
        placed = story_order(whens, [Period(p.name, p.anchor) for p in periods])
        who = dict(zip(frame["coding_id"].astype(int), frame["participant"].fillna("").astype(str)))
        out: list[TimelineEvent] = []
        for e in events:
            mine = [link for link in links if link.event_id == e.id and link.coding_id in who]
            if only_told and not mine:
                continue
            told: dict[str, When] = {}
            for link in mine:
                person = who[link.coding_id] or "(unattributed)"
                own = self._when_of(link, pnames, enames) if link.when_kind else whens[e.name]
                if person not in told or (link.when_kind and told[person] == whens[e.name]):
                    told[person] = own
            people = tuple(sorted(told))
            out.append(TimelineEvent(e.name, e.guid, e.description, whens[e.name], placed[e.name].order,
                                     placed[e.name], people, tuple(link.coding_id for link in mine), told,
                                     disagreement(e.name, told)))
        return sorted(out, key=lambda t: (t.order, t.name.casefold()))

    def timeline(self, *, participant: str | list[str] | None = None, theme: str | int | None = None,
                 attributes: dict[str, Any] | None = None) -> builtins.list[TimelineEvent]:
        """Every event in story order, with who tells it (their codings) and where each places it. With a
        filter (participants, a theme and its codes, attribute values) only events told in it are listed,
        keeping their orders among all events."""
        filtered = participant is not None or (theme is not None and theme != "") or bool(attributes)
        frame = self.explore.codings_frame(code=theme if theme != "" else None, participant=participant,
                                           attributes=attributes)
        return self._timeline(frame, only_told=filtered)

    def event(self, name: str) -> TimelineEvent:
        """One event as it stands on the (unfiltered) timeline."""
        with self.ctx.store.read() as conn:
            row = store.event_row(conn, name)
        return next(t for t in self.timeline() if t.guid == row.guid)

    def timeline_frame(self, *, participant: str | list[str] | None = None, theme: str | int | None = None,
                       attributes: dict[str, Any] | None = None) -> pd.DataFrame:
        """One row per (event, linked coding), for charts: event, order, when, told (the participant's
        placement), participant, coding_id, code, theme, transcript, start, end, text, disagreement."""
        import pandas as pd

        frame = self.explore.codings_frame(code=theme if theme != "" else None, participant=participant,
                                           attributes=attributes)
        rows = {int(r["coding_id"]): r for r in frame.to_dict("records")}
        records = []
        for t in self._timeline(frame, only_told=True):
            for cid in t.codings:
                r = rows[cid]
                person = str(r["participant"] or "(unattributed)")
                records.append({"event": t.name, "order": t.order, "when": t.when.label,
                                "told": t.told.get(person, t.when).label, "participant": person, "coding_id": int(cid),
                                "code": str(r["code_path"]), "theme": str(r["theme"]), "transcript": str(r["transcript"]),
                                "start": int(r["start"]), "end": int(r["end"]), "text": str(r["text"]),
                                "disagreement": t.disagreement})
        columns = ["event", "order", "when", "told", "participant", "coding_id", "code", "theme", "transcript",
                   "start", "end", "text", "disagreement"]
        return pd.DataFrame(records, columns=columns)

    def timeline_chart(self, **filters: Any) -> dict[str, Any]:
        """The timeline as a Vega-Lite spec (story order across, participants down; the tooltip is the quote)."""
        df = self.timeline_frame(**filters)
        order = [f"{t.order}. {t.name}" for t in self.timeline(**filters)]
        values = [{**r, "event_label": f"{r['order']}. {r['event']}", "quote": r["text"][:240]}
                  for r in df.to_dict("records")]
        return {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": "Story time across participants",
            "data": {"values": values}, "mark": {"type": "circle", "size": 160},
            "encoding": {
                "x": {"field": "event_label", "type": "ordinal", "sort": order, "title": "Story time (event order)"},
                "y": {"field": "participant", "type": "nominal", "title": "Participant"},
                "color": {"field": "theme", "type": "nominal"},
                "tooltip": [{"field": "event"}, {"field": "told", "title": "placed"}, {"field": "participant"},
                            {"field": "quote"}, {"field": "coding_id"}]},
        }

    def export_timeline(self, path: str | Path, **filters: Any) -> Path:
        """Write the timeline as SVG or PNG (a picture for a paper) or JSON (the Vega-Lite chart), by the suffix."""
        self.last_warnings = []
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in TIMELINE_SUFFIXES:
            raise ExportError(Errors.E7020, suffix=suffix or path.name)
        if suffix in (".svg", ".png"):
            events = self.timeline(**filters)
            people = sorted({p for e in events for p in e.participants})
            data = timeline_svg(events, people).encode("utf-8") if suffix == ".svg" else timeline_png(events, people)
        else:
            data = json.dumps(self.timeline_chart(**filters), ensure_ascii=False, indent=2).encode("utf-8")
        write_file(path, data)
        self._record("timeline.export", summary=f"Exported the timeline as {suffix[1:]} to {path.name}",
                     after={"path": str(path), "format": suffix[1:], "filters": {k: str(v) for k, v in filters.items()}})
        return path

    # -- restorying -------------------------------------------------------------------------------------
    def restory(self, participant: str) -> Restorying:
        """``participant``'s passages linked to events, in their story order (their own placements where
        they gave one), and the gaps: events others tell that they do not."""
        with self.ctx.store.read() as conn:
            participant_store.participant_id(conn, participant)  # NotFoundError for an unknown participant
        everything = self._timeline(self.explore.codings_frame(), only_told=False)
        periods, events, _ = self._state()
        pnames = {p.id: p.name for p in periods}
        enames = {e.id: e.name for e in events}
        whens = {e.name: self._when_of(e, pnames, enames) for e in events}
        theirs = {t.name: t.told[participant] for t in everything if participant in t.told}
        placed = story_order({**whens, **theirs}, [Period(p.name, p.anchor) for p in periods])
        rows = {int(r["coding_id"]): r for r in self.explore.codings_frame(participant=participant).to_dict("records")}
        passages = [StoryPassage(t.name, placed[t.name].order, theirs[t.name], cid, str(rows[cid]["code_path"]),
                                 str(rows[cid]["transcript"]), int(rows[cid]["start"]), int(rows[cid]["end"]),
                                 str(rows[cid]["text"]))
                    for t in everything if t.name in theirs for cid in t.codings if cid in rows]
        passages.sort(key=lambda p: (p.order, p.event.casefold(), p.transcript, p.start))
        return Restorying(participant, tuple(passages), tuple(gaps(everything, participant)))

    def restory_vignette(self, participant: str, *, title: str | None = None, note: str = "") -> Vignette:
        """A draft vignette of ``participant``'s account in story order: per event a placeholder paragraph
        (to be written in the researcher's words) and their quotes; the gaps in a last placeholder."""
        story = self.restory(participant)
        if not story.passages:
            raise NotFoundError(Errors.E7018, participant=participant)
        items: list[Item] = []
        current = None
        for p in story.passages:
            if p.event != current:
                current = p.event
                items.append(NarrativeItem(f"{PLACEHOLDER} {p.event} ({p.when.label}): what happened here, in "
                                           f"{participant}'s telling? Write this paragraph in your own words.]"))
            items.append(QuoteItem(p.transcript, p.start, p.end, clean_source(p.text), p.coding_id, p.code))
        if story.gaps:
            told = "; ".join(f"{g.name} ({g.when.label}; told by {', '.join(g.participants)})" for g in story.gaps)
            items.append(NarrativeItem(f"{PLACEHOLDER} others tell of events {participant} does not mention: {told}. "
                                       "Is the silence part of the story?]"))
        return self.vignettes.create(title or f"{participant}: the story in time", participant=participant,
                                     items=list(items), note=note or "restoried from events in story order")

    def _record(self, kind: str, *, summary: str, after: dict[str, Any], target: str = "") -> None:
        warning = self.ctx.log(kind, summary=summary, after=after, target=target)
        if warning:
            self.last_warnings.append(warning)
