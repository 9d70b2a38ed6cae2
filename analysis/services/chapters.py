"""Findings chapters (``project.chapters``): a title, an introduction and ordered headed sections of vignette
items (narrative and quotes, checked as a vignette's are); a section can start from a vignette (its items are
copied). :meth:`ChapterService.export` checks the whole chapter (drafts, quote integrity, disclosure) and writes
Markdown, DOCX, LaTeX or HTML, with optional figures (the timeline of ``project.story``, the case matrix, themes
across participants); the export is recorded as ``chapter.export`` (a record that cannot be written becomes a
warning in :attr:`ChapterService.last_warnings`, as for other exports).

Every change is one action (one audit event, undoable).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.domain.disclosure import PrintedQuote, check_publishable
from analysis.errors import Errors, ExportError, NotFoundError, ValidationError
from analysis.export import formats_for, pick_format, write_file
from analysis.export.document import BLOCK_WORDS, PLACEHOLDER, Figure, Options
from analysis.domain.narrative import (FIGURE_HELP, FIGURES, ChapterDocument, is_placeholder,
                         layout_chapter, render_chapter, timeline_png,
                         timeline_svg)
from analysis.domain.quotes import quote_label
from analysis.store import events as store
from analysis.domain.vignettes import Item, NarrativeItem, QuoteItem, stored_item
from analysis.services.results import DisclosureFlag, SectionWords, WordCounts
from analysis.services.context import Action, Context, new_guid

if TYPE_CHECKING:

    from analysis.services.cases import CaseService
    from analysis.services.story import StoryService
    from analysis.services.disclosure import DisclosureService, Place
    from analysis.services.explore import ExploreService
    from analysis.services.participants import ParticipantService
    from analysis.services.vignettes import VignetteService

CHAPTER_FORMATS = formats_for("chapter")


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


def dumps_items(items: Sequence[Item]) -> str:
    """A section's items as the ``chapter_sections.items`` column stores them (JSON)."""
    return json.dumps([stored_item(i) for i in items], ensure_ascii=False)


class ChapterService:
    """Findings chapters: their sections, figures, checks and export."""

    def __init__(self, ctx: Context, explore: ExploreService, participants: ParticipantService,
                 vignettes: VignetteService, disclosure: DisclosureService, story: StoryService,
                 cases: CaseService | None = None) -> None:
        self.ctx = ctx
        self.explore = explore
        self.participants = participants
        self.vignettes = vignettes
        self.disclosure = disclosure
        self.story = story
        self.cases = cases
        self.last_warnings: list[str] = []
        """Warnings of the last export (e.g. that its audit record could not be written)."""

    def _chapter(self, ref: int | str) -> Chapter:
        with self.ctx.store.read() as conn:
            row = store.chapter_row(conn, ref)
            rows = store.section_rows(conn, row.id)
        cache: dict[str, Any] = {}
        sections = tuple(Section(s.id, s.guid, s.heading, tuple(self.vignettes.resolve_items(json.loads(s.items), cache)),
                                 s.vignette_id) for s in rows)
        return Chapter(row.id, row.guid, row.title, row.introduction, sections)

    def list(self) -> builtins.list[Chapter]:
        """Every chapter, oldest first."""
        with self.ctx.store.read() as conn:
            ids = [c.id for c in store.chapter_rows(conn)]
        return [self._chapter(i) for i in ids]

    def get(self, ref: int | str) -> Chapter:
        """The chapter with id ``ref``, or titled ``ref``."""
        return self._chapter(ref)

    def create(self, title: str, *, introduction: str = "", note: str = "") -> Chapter:
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

    def edit(self, ref: int | str, *, title: str | None = None, introduction: str | None = None,
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

    def delete(self, ref: int | str, *, note: str = "") -> None:
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
                           items=dumps_items(checked), vignette_id=source.id if source else None, created_at=now,
                           updated_at=now)
            act.rec.update("chapters", row.id, updated_at=now)
            act.target = f"chapter:{row.guid}"
            if source:
                act.about("vignette", source.guid, "source")
            act.after = {"heading": heading, "vignette": vignette, "items": len(checked)}
            act.summary = (f"Added section '{heading}' to chapter '{row.title}'"
                           + (f" from vignette '{source.title}'" if source else ""))
        return self._chapter(row.id)

    def _section(self, act: Action, ref: int | str, index: int) -> tuple[Any, Any, builtins.list[Any]]:
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
                values["items"] = dumps_items(self._checked(act, f"{row.title}, section '{values.get('heading', section.heading)}'", items))
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
    def word_counts(self, ref: int | str, *, block_words: int = BLOCK_WORDS) -> WordCounts:
        """Words as they would print: ``sections`` (heading and words each, in order) and the ``total``
        (with the introduction)."""
        doc = self._layout(self._chapter(ref), block_words=block_words, draft=False)
        return WordCounts(tuple(SectionWords(s.heading, s.words) for s in doc.sections), doc.words)

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
                events = self.story.timeline()
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

    def disclosure_flags(self, ref: int | str, *, attributes: Sequence[str] = ()) -> builtins.list[DisclosureFlag]:
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

    def export(self, ref: int | str, path: str | Path, *, format: str | None = None, standalone: bool = True,
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

    def download(self, ref: int | str, *, format: str, standalone: bool = True, **options: Any) -> bytes:
        """The chapter as bytes for a download (the UI), checked and recorded as :meth:`export` is."""
        self.last_warnings = []
        data = self.render(ref, format=format, standalone=standalone, **options)
        ch = self._chapter(ref)
        self._record("chapter.export", summary=f"Exported chapter '{ch.title}' as {format} (downloaded)",
                     target=f"chapter:{ch.guid}",
                     after={"path": None, "format": format, "standalone": standalone, "sections": len(ch.sections),
                            **{k: list(v) if isinstance(v, (tuple, list)) else v for k, v in options.items()}})
        return data
