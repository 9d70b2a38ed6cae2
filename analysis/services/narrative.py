"""Narrative inquiry (``project.narrative``): events in story time, restorying, the timeline, the findings chapter.

* **Periods** are named spans of the story ("pre-pandemic", "early 2020") in the researcher's order, each
  optionally dated (its ``dates``: a date, month or year). **Events** (GUID, unique name, description) have
  a *when* in story time (see :mod:`analysis.domain.narrative`); a period named in a when that does not exist yet
  is added at the end of the period order (the action says so). Coded passages are linked to events as
  evidence, several participants to one event, each link optionally with the participant's own placement.
* :meth:`NarrativeService.timeline` is every event in story order (ties, uncertain overlaps, unknowns and
  disagreements between participants reported, never averaged); :meth:`NarrativeService.restory` one
  participant's passages in *their* story order with the gaps (events others tell that they do not);
  :meth:`NarrativeService.restory_vignette` turns that into a draft vignette (``project.vignettes``).
* A **chapter** is a title, an introduction and ordered headed sections of vignette items (narrative and
  quotes, checked as a vignette's are); a section can start from a vignette (its items are copied).
  :meth:`NarrativeService.export_chapter` checks the whole chapter (drafts, quote integrity, disclosure)
  and writes Markdown, DOCX, LaTeX or HTML; the export is recorded as ``chapter.export`` (a record that
  cannot be written becomes a warning in :attr:`NarrativeService.last_warnings`, as for other exports).

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
from analysis.domain.disclosure import PrintedQuote, check_publishable
from analysis.errors import ConflictError, Errors, ExportError, Msg, NotFoundError, StoryloomError, ValidationError
from analysis.export import formats_for, pick_format, write_file
from analysis.export.document import BLOCK_WORDS, PLACEHOLDER, Figure, Options
from analysis.domain.narrative import (FIGURE_HELP, FIGURES, ChapterDocument, Period, TimelineEvent, When, disagreement, gaps, is_placeholder,
                         layout_chapter, parse_dated, parse_when, render_chapter, sort_key, story_order, timeline_png,
                         timeline_svg, when_of_row)
from analysis.files.story_file import STORY_FILE, parse_story_file
from analysis.domain.methods_report import _n
from analysis.domain.quotes import clean_source, quote_label
from analysis.files.safe_yaml import Where, load_yaml, yaml_path_error
from analysis.store import events as store, participants as participant_store
from analysis.store.events import EventRow, EvidenceRow, PeriodRow
from analysis.domain.vignettes import Item, NarrativeItem, QuoteItem, Vignette, stored_item
from analysis.services.context import Action, Context, new_guid
from analysis.services.file_quotes import Sources, coded_passages

if TYPE_CHECKING:
    import pandas as pd

    from analysis.services.cases import CaseService
    from analysis.services.codebook import CodebookService
    from analysis.services.disclosure import DisclosureService, Place
    from analysis.services.explore import ExploreService
    from analysis.services.participants import ParticipantService
    from analysis.services.vignettes import VignetteService

CHAPTER_FORMATS = formats_for("chapter")
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


@dataclass(frozen=True)
class Section:
    id: int
    guid: str
    heading: str
    items: tuple[Item, ...]
    vignette_id: int | None


@dataclass(frozen=True)
class Chapter:
    id: int
    guid: str
    title: str
    introduction: str
    sections: tuple[Section, ...]


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


def _dumps(items: Sequence[Item]) -> str:
    return json.dumps([stored_item(i) for i in items], ensure_ascii=False)


class NarrativeService:
    """Events in story time, periods, restorying, the timeline and findings chapters."""

    def __init__(self, ctx: Context, codebook: CodebookService, explore: ExploreService,
                 participants: ParticipantService, vignettes: VignetteService, disclosure: DisclosureService,
                 cases: CaseService | None = None) -> None:
        self.ctx = ctx
        self.cases = cases
        self.codebook = codebook
        self.explore = explore
        self.participants = participants
        self.vignettes = vignettes
        self.disclosure = disclosure
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
    def import_file(self, path: str | Path, *, data: bytes | None = None, note: str = "") -> dict[str, Any]:
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
                    checked = self._checked(act, f"{chapter.title}, section '{section.heading}'", items)
                    act.rec.insert("chapter_sections", guid=new_guid(), chapter_id=cid, position=n,
                                   heading=section.heading, items=_dumps(checked), vignette_id=None, created_at=now,
                                   updated_at=now)
                    made["sections"] += 1
            act.target = "events"
            act.after = {"path": str(path), **made}
            act.summary = (f"Imported {_n(made['events'], 'event')} ({_n(made['links'], 'link')} to coded passages), "
                           f"{_n(made['periods'], 'period')} and {_n(made['chapters'], 'chapter')} "
                           f"({_n(made['sections'], 'section')}) from {path.name}")
        return made

    def _file_placed(self, act: Action, name: str, where: Where, when: str) -> tuple[dict[str, Any], When, str]:
        try:
            return self._placed(act, when, own=None)
        except StoryloomError as err:  # e.g. 'after X' naming no event above
            raise yaml_path_error(name, where, str(err)) from None

    def sync_folder(self) -> dict[str, Any]:
        """On sync: bring in ``codebooks/story.yaml`` when the project has no events and no chapters yet (after
        the codings, whose passages it quotes). Returns ``{"events_imported": events created}``."""
        path = self.ctx.codebooks_dir / STORY_FILE
        with self.ctx.store.read() as conn:
            started = bool(store.event_rows(conn) or store.chapter_rows(conn))
        if started or not path.exists():
            return {"events_imported": 0}
        return {"events_imported": self.import_file(path, note="story file found on sync")["events"]}

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

    # -- chapters -----------------------------------------------------------------------------------------
    def _chapter(self, ref: int | str) -> Chapter:
        with self.ctx.store.read() as conn:
            row = store.chapter_row(conn, ref)
            rows = store.section_rows(conn, row.id)
        cache: dict[str, Any] = {}
        sections = tuple(Section(s.id, s.guid, s.heading, tuple(self.vignettes.resolve_items(json.loads(s.items), cache)),
                                 s.vignette_id) for s in rows)
        return Chapter(row.id, row.guid, row.title, row.introduction, sections)

    def chapters(self) -> builtins.list[Chapter]:
        """Every chapter, oldest first."""
        with self.ctx.store.read() as conn:
            ids = [c.id for c in store.chapter_rows(conn)]
        return [self._chapter(i) for i in ids]

    def chapter(self, ref: int | str) -> Chapter:
        """The chapter with id ``ref``, or titled ``ref``."""
        return self._chapter(ref)

    def create_chapter(self, title: str, *, introduction: str = "", note: str = "") -> Chapter:
        """A new findings chapter (no sections yet)."""
        title = title.strip()
        if not title:
            raise ValidationError(Errors.E7014)
        with self.ctx.action("chapter.create", note=note) as act:
            guid, now = new_guid(), self.ctx.now()
            cid = act.rec.insert("chapters", guid=guid, title=title, introduction=introduction, created_at=now,
                                 updated_at=now)
            act.target, act.after = f"chapter:{guid}", {"title": title}
            act.summary = f"Created chapter '{title}'"
        return self._chapter(cid)

    def edit_chapter(self, ref: int | str, *, title: str | None = None, introduction: str | None = None,
                     note: str = "") -> Chapter:
        """Change a chapter's title or introduction."""
        if title is not None and not title.strip():
            raise ValidationError(Errors.E7014)
        with self.ctx.action("chapter.edit", note=note) as act:
            row = store.chapter_row(act.conn, ref)
            values: dict[str, Any] = {"updated_at": self.ctx.now()}
            if title is not None:
                values["title"] = title.strip()
            if introduction is not None:
                values["introduction"] = introduction
            act.rec.update("chapters", row.id, **values)
            act.target = f"chapter:{row.guid}"
            act.after = {k: values[k] for k in ("title", "introduction") if k in values}
            act.summary = f"Edited the {' and '.join(k for k in ('title', 'introduction') if k in values) or 'nothing'} of chapter '{row.title}'"
        return self._chapter(row.id)

    def delete_chapter(self, ref: int | str, *, note: str = "") -> None:
        """Delete a chapter and its sections (undoable)."""
        with self.ctx.action("chapter.delete", note=note) as act:
            row = store.chapter_row(act.conn, ref)
            sections = store.section_rows(act.conn, row.id)
            for s in sections:
                act.rec.delete("chapter_sections", s.id)
            act.rec.delete("chapters", row.id)
            act.target, act.before = f"chapter:{row.guid}", {"title": row.title, "sections": len(sections)}
            act.summary = f"Deleted chapter '{row.title}' ({len(sections)} sections)"

    def _checked(self, act: Action, where: str, items: Sequence[Item | dict[str, Any]]) -> builtins.list[Item]:
        # the vignettes' own check: spans inside their transcripts, quotes with marked edits only
        return self.vignettes.check_items(act, where, items)

    def add_section(self, ref: int | str, *, heading: str | None = None, vignette: int | None = None,
                    items: Sequence[Item | dict[str, Any]] | None = None, position: int | None = None,
                    note: str = "") -> Chapter:
        """Add a section (at the end, or at 0-based ``position``): from a vignette (its items are copied; the
        heading defaults to its title), or from ``items`` (narrative and quotes), or empty."""
        source = self.vignettes.get(vignette) if vignette is not None else None
        heading = (heading if heading is not None else source.title if source else "").strip()
        if not heading:
            raise ValidationError(Errors.E7015)
        content: list[Item | dict[str, Any]] = [*(source.items if source else ()), *(items or [])]
        with self.ctx.action("chapter.section.add", note=note) as act:
            row = store.chapter_row(act.conn, ref)
            checked = self._checked(act, f"{row.title}, section '{heading}'", content)
            rows = store.section_rows(act.conn, row.id)
            at = len(rows) if position is None else max(0, min(position, len(rows)))
            for n, s in enumerate(rows):
                want = n if n < at else n + 1
                if s.position != want:
                    act.rec.update("chapter_sections", s.id, position=want)
            now = self.ctx.now()
            act.rec.insert("chapter_sections", guid=new_guid(), chapter_id=row.id, position=at, heading=heading,
                           items=_dumps(checked), vignette_id=source.id if source else None, created_at=now,
                           updated_at=now)
            act.rec.update("chapters", row.id, updated_at=now)
            act.target = f"chapter:{row.guid}"
            if source:
                act.about("vignette", source.guid, "source")
            act.after = {"heading": heading, "vignette": vignette, "items": len(checked)}
            act.summary = (f"Added section '{heading}' to chapter '{row.title}'"
                           + (f" from vignette '{source.title}'" if source else ""))
        return self._chapter(row.id)

    def _section(self, act: Action, ref: int | str, index: int) -> tuple[Any, Any, list[Any]]:
        row = store.chapter_row(act.conn, ref)
        rows = store.section_rows(act.conn, row.id)
        if not 0 <= index < len(rows):
            raise NotFoundError(Errors.E7016, title=row.title, n=len(rows), index=index + 1)
        return row, rows[index], rows

    def edit_section(self, ref: int | str, index: int, *, heading: str | None = None,
                     items: Sequence[Item | dict[str, Any]] | None = None, note: str = "") -> Chapter:
        """Change section ``index`` (0-based): its heading and/or its whole ordered item list (checked)."""
        if heading is not None and not heading.strip():
            raise ValidationError(Errors.E7015)
        with self.ctx.action("chapter.section.edit", note=note) as act:
            row, section, _ = self._section(act, ref, index)
            values: dict[str, Any] = {"updated_at": self.ctx.now()}
            if heading is not None:
                values["heading"] = heading.strip()
            if items is not None:
                values["items"] = _dumps(self._checked(act, f"{row.title}, section '{values.get('heading', section.heading)}'", items))
            act.rec.update("chapter_sections", section.id, **values)
            act.rec.update("chapters", row.id, updated_at=values["updated_at"])
            act.target = f"chapter:{row.guid}"
            act.after = {"heading": values.get("heading"), "items": None if items is None else len(items)}
            act.summary = f"Edited section {index + 1} '{section.heading}' of chapter '{row.title}'"
        return self._chapter(row.id)

    def move_section(self, ref: int | str, index: int, *, to: int, note: str = "") -> Chapter:
        """Move section ``index`` to position ``to`` (0-based)."""
        with self.ctx.action("chapter.section.move", note=note) as act:
            row, section, rows = self._section(act, ref, index)
            rows.pop(index)
            rows.insert(max(0, min(to, len(rows))), section)
            for n, s in enumerate(rows):
                if s.position != n:
                    act.rec.update("chapter_sections", s.id, position=n)
            act.target, act.after = f"chapter:{row.guid}", {"from": index, "to": rows.index(section)}
            act.summary = f"Moved section '{section.heading}' of chapter '{row.title}' to position {rows.index(section) + 1}"
        return self._chapter(row.id)

    def remove_section(self, ref: int | str, index: int, *, note: str = "") -> Chapter:
        """Remove section ``index`` (0-based)."""
        with self.ctx.action("chapter.section.remove", note=note) as act:
            row, section, rows = self._section(act, ref, index)
            act.rec.delete("chapter_sections", section.id)
            for n, s in enumerate(r for r in rows if r.id != section.id):
                if s.position != n:
                    act.rec.update("chapter_sections", s.id, position=n)
            act.target, act.before = f"chapter:{row.guid}", {"heading": section.heading}
            act.summary = f"Removed section '{section.heading}' from chapter '{row.title}'"
        return self._chapter(row.id)

    # -- export -----------------------------------------------------------------------------------------
    def word_counts(self, ref: int | str, *, block_words: int = BLOCK_WORDS) -> dict[str, Any]:
        """Words as they would print: ``sections`` (heading and words each, in order) and the ``total``
        (with the introduction)."""
        doc = self._layout(self._chapter(ref), block_words=block_words, draft=False)
        return {"sections": [{"heading": s.heading, "words": s.words} for s in doc.sections], "total": doc.words}

    def _layout(self, ch: Chapter, *, draft: bool, block_words: int = BLOCK_WORDS, timestamps: bool = False,
                line_refs: bool = False, appendix: bool = True, attributes: Sequence[str] = (),
                figures: Sequence[str] = ()) -> ChapterDocument:
        attrs = {p.pseudonym: p.attributes for p in self.participants.list()}
        options = Options(block_words=block_words, timestamps=timestamps, line_refs=line_refs, appendix=appendix,
                          attributes=tuple(attributes))
        return layout_chapter(ch.title, ch.introduction, [(s.heading, s.items) for s in ch.sections],
                              options=options, attributes=attrs, draft=draft, figures=self.figures(figures))

    def figures(self, kinds: Sequence[str]) -> builtins.list[Figure]:
        """The chapter's optional figures, in the order asked: ``timeline`` (the events in story order, who
        tells each, ties and disagreements; with its picture), ``cases`` (the case x condition matrix) and
        ``themes`` (coded passages of each theme per participant)."""
        out: list[Figure] = []
        for kind in dict.fromkeys(k.strip().lower() for k in kinds):
            if kind not in FIGURES:
                raise ValidationError(Errors.E6201, name=kind, help=FIGURE_HELP)
            if kind == "timeline":
                events = self.timeline()
                if not events:
                    raise ValidationError(Errors.E6203)
                people = sorted({p for e in events for p in e.participants})
                rows = tuple((f"{e.order}{'=' if e.placement.tied else ''}", e.name, e.when.label, ", ".join(e.participants),
                              e.disagreement or e.placement.note) for e in events)
                said = " ".join(e.disagreement for e in events if e.disagreement)
                out.append(Figure("timeline", "The story in time",
                                  "Events in story order (the time of the story, not of the interviews) and the "
                                  "participants who tell each; '=' marks events tied in story time, a hollow dot a "
                                  "participant who places the event at another time." + (f" {said}" if said else ""),
                                  ("Order", "Event", "When", "Told by", "Note"), rows,
                                  svg=timeline_svg(events, people), png=timeline_png(events, people)))
            elif kind == "cases":
                from analysis.domain.cases import LEGEND, matrix_table

                matrix = self.cases.matrix() if self.cases is not None else None
                if matrix is None or not matrix.cases or not matrix.conditions:
                    raise ValidationError(Errors.E6202)
                header, rows_ = matrix_table(matrix, cases_as="rows")
                plain = matrix_table(matrix, cases_as="rows", symbols=False)[1]
                out.append(Figure("cases", "Cases compared", f"The case x condition matrix. {LEGEND}", tuple(header),
                                  tuple(tuple(r) for r in rows_), plain_rows=tuple(tuple(r) for r in plain),
                                  plain_caption="The case x condition matrix. 1 present, 0 absent, a number: partial "
                                                "membership (fuzzy set), blank: not yet judged."))
            else:
                m = self.explore.theme_matrix()
                out.append(Figure("themes", "Themes across participants",
                                  "The number of coded passages of each theme in each participant's interview.",
                                  ("Theme", *(str(c) for c in m.columns)),
                                  tuple((str(t), *(str(int(v)) for v in row)) for t, row in zip(m.index, m.to_numpy()))))
        return out

    def disclosure_flags(self, ref: int | str, *, attributes: Sequence[str] = ()) -> builtins.list[dict[str, Any]]:
        """The disclosure check over the whole chapter: title, introduction, headings, paragraphs and quotes."""
        ch = self._chapter(ref)
        places: list[Place] = [(None, "title", ch.title)]
        if ch.introduction.strip() and not is_placeholder(ch.introduction):
            places.append((None, "the introduction", ch.introduction))
        for n, s in enumerate(ch.sections, 1):
            places.append((None, f"the heading of section {n}", s.heading))
            for i, item in enumerate(s.items, 1):
                if isinstance(item, NarrativeItem) and is_placeholder(item.text):
                    continue
                where = f"section {n}, " + (quote_label(item.text) if isinstance(item, QuoteItem) else f"paragraph {i}")
                places.append((None, where, item.text))
        return self.disclosure.flags(places, items=[i for s in ch.sections for i in s.items], attributes=attributes)

    def layout(self, ref: int | str, *, allow_draft: bool = False, timestamps: bool = False, line_refs: bool = False,
               appendix: bool = True, block_words: int = BLOCK_WORDS, attributes: Sequence[str] = (),
               disclosure: bool = True, figures: Sequence[str] = ()) -> ChapterDocument:
        """Check the whole chapter (drafts, every quote against its transcript, disclosure) and lay it out, with
        the ``figures`` asked (see :meth:`figures`) after its last section."""
        ch = self._chapter(ref)
        name = f"Chapter {ch.id} '{ch.title}'"
        if not ch.sections:
            raise ExportError(Errors.E3106, name=name)
        for n, s in enumerate(ch.sections, 1):
            if not s.items:
                raise ExportError(Errors.E7021, index=n, title=ch.title)
        placeholders = [f"section {n} '{s.heading}'" for n, s in enumerate(ch.sections, 1)
                        if any(isinstance(i, NarrativeItem) and is_placeholder(i.text) for i in s.items)]
        if is_placeholder(ch.introduction):
            placeholders.insert(0, "the introduction")
        if placeholders and not allow_draft:
            raise ExportError(Errors.E3105, name=name, why=f"still has placeholder paragraphs ({', '.join(placeholders)})",
                              PLACEHOLDER=PLACEHOLDER)
        quotes = [PrintedQuote(f"{name}, section {n} '{s.heading}', item {i} ({quote_label(item.text)})", item.text,
                               item.source or None, item.transcript)
                  for n, s in enumerate(ch.sections, 1) for i, item in enumerate(s.items, 1) if isinstance(item, QuoteItem)]
        check_publishable(name, quotes, (lambda: self.disclosure_flags(ch.id, attributes=attributes)) if disclosure else None)
        return self._layout(ch, draft=bool(placeholders), block_words=block_words, timestamps=timestamps,
                            line_refs=line_refs, appendix=appendix, attributes=attributes, figures=figures)

    def render(self, ref: int | str, *, format: str = "md", standalone: bool = True, **options: Any) -> bytes:
        """The chapter as ``format`` (md, docx, tex, html) bytes after the checks of :meth:`layout`;
        ``standalone=False`` makes the LaTeX a fragment to ``\\input``."""
        fmt = pick_format(None, format, CHAPTER_FORMATS)
        return render_chapter(self.layout(ref, **options), fmt, standalone=standalone)

    def _record(self, kind: str, *, summary: str, after: dict[str, Any], target: str = "") -> None:
        warning = self.ctx.log(kind, summary=summary, after=after, target=target)
        if warning:
            self.last_warnings.append(warning)

    def export_chapter(self, ref: int | str, path: str | Path, *, format: str | None = None, standalone: bool = True,
                       **options: Any) -> Path:
        """Write the chapter to ``path`` (format from ``format`` or the suffix: .md .docx .tex .html); recorded
        in the audit trail as ``chapter.export`` (a record that cannot be written is a warning)."""
        self.last_warnings = []
        path = Path(path)
        fmt = pick_format(path, format, CHAPTER_FORMATS)
        data = self.render(ref, format=fmt, standalone=standalone, **options)
        out = write_file(path, data)
        ch = self._chapter(ref)
        self._record("chapter.export", summary=f"Exported chapter '{ch.title}' as {fmt} to {path.name}",
                     target=f"chapter:{ch.guid}",
                     after={"path": str(path), "format": fmt, "standalone": standalone, "sections": len(ch.sections),
                            **{k: list(v) if isinstance(v, (tuple, list)) else v for k, v in options.items()}})
        return out

    def download_chapter(self, ref: int | str, *, format: str, standalone: bool = True, **options: Any) -> bytes:
        """The chapter as bytes for a download (the UI), checked and recorded as :meth:`export_chapter` is."""
        self.last_warnings = []
        data = self.render(ref, format=format, standalone=standalone, **options)
        ch = self._chapter(ref)
        self._record("chapter.export", summary=f"Exported chapter '{ch.title}' as {format} (downloaded)",
                     target=f"chapter:{ch.guid}",
                     after={"path": None, "format": format, "standalone": standalone, "sections": len(ch.sections),
                            **{k: list(v) if isinstance(v, (tuple, list)) else v for k, v in options.items()}})
        return data
