"""Narrative inquiry, the pure parts: story time, its total order, gaps, and the findings chapter's layout.

**Story time** is the time of the story told, not the interview's clock. A *when* (:class:`When`) is a
date (``2019-03-14``), a month (``2019-03``, "March 2019"), a year (``2019``), a named period that the
researcher orders once ("pre-pandemic", "early 2020"), ``before EVENT`` / ``after EVENT``, or unknown.

**The order** (:func:`story_order`) is total and honest about what it does not know:

- dated events sort by the interval they name (a year is its twelve months, a month its days): by the
  interval's start, then its end; two events with the same interval are *tied* (they share an order
  number), and intervals that overlap without being equal (``2019`` and ``2019-03``) are reported as
  *uncertain* with each other;
- a period with dates (its ``anchor``, e.g. "early 2020" = ``2020``) sorts as those dates; a period
  without dates sorts right after the dated period before it in the researcher's order (or before every
  date when none precedes it), and its events are flagged *approximate*;
- ``before X`` / ``after X`` sorts immediately before / after X (several events after X tie);
  a reference that is missing or circular is unknown;
- unknown events come last, tied.

**Disagreement**: a passage linked to an event may carry the participant's own placement; when the
participants place one event at different times, :func:`disagreement` says so in words (a narrative
inquirer wants the disagreement, not an average).

**The chapter**: :func:`layout_chapter` lays out a findings chapter (title, introduction, headed sections
of narrative and quotes) with the vignette rules of :mod:`analysis.export.document` (block quotes over
a word threshold, run-in quotes with attribution otherwise) and one consolidated sources appendix;
:func:`render_chapter` writes it as Markdown, DOCX, LaTeX (standalone or a fragment) or HTML, reusing the
vignette renderers' paragraph and escaping rules. :func:`timeline_svg` draws the timeline as a plain SVG.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from analysis.export.sanitize import html_text as html_escape
from typing import Any, Protocol

from analysis.errors import Errors, ValidationError
from analysis.export import render_document
from analysis.export.document import (PLACEHOLDER, Block, BlockQuote, Document, Figure, Heading, Options, Paragraph, Source,
                                      lay_out, numbered, one_line, word_count)

WHEN_KINDS = ("date", "month", "year", "period", "before", "after", "unknown")
DATED = ("date", "month", "year")
_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
WHEN_HELP = ("a date (2019-03-14), a month (2019-03 or March 2019), a year (2019), a named period "
             "(pre-pandemic), 'before EVENT', 'after EVENT' or 'unknown'")


@dataclass(frozen=True)
class When:
    """A place in story time. ``value``: ISO for dated kinds; the period's or the other event's name."""

    kind: str = "unknown"
    value: str = ""

    @property
    def label(self) -> str:
        if self.kind == "month":
            y, m = self.value.split("-")
            return f"{calendar.month_name[int(m)]} {y}"
        if self.kind in ("before", "after"):
            return f"{self.kind} {self.value}"
        return "unknown" if self.kind == "unknown" else self.value


@dataclass(frozen=True)
class Period:
    """A named period in the researcher's order; ``anchor`` is '' or an ISO date, month or year."""

    name: str
    anchor: str = ""


@dataclass(frozen=True)
class Placement:
    """Where an event falls: ``order`` (1-based; tied events share it), and how sure that is."""

    order: int
    tied: tuple[str, ...] = ()  # the other events with the same order
    uncertain: tuple[str, ...] = ()  # dated events whose interval overlaps this one's without being equal
    approximate: bool = False  # placed by a period without dates, or relative to such an event
    unknown: bool = False
    note: str = ""


def stored_when(kind: str, value: str, period: str | None = None, relative: str | None = None) -> When:
    """The when stored as ``kind`` and ``value``, with the current name of its period or of the event it is
    placed relative to (a renamed period or event is followed)."""
    if kind == "period" and period is not None:
        return When("period", period)
    if kind in ("before", "after") and relative is not None:
        return When(kind, relative)
    return When(kind or "unknown", value)


class StoredWhen(Protocol):
    """A stored row with a when: an event, or a link's own placement (see :mod:`analysis.store.events`)."""

    @property
    def when_kind(self) -> str: ...
    @property
    def when_value(self) -> str: ...
    @property
    def period_id(self) -> int | None: ...
    @property
    def relative_to(self) -> int | None: ...


def when_of_row(row: StoredWhen, periods: Mapping[int, str], names: Mapping[int, str]) -> When:
    """The when ``row`` is stored with; ``periods`` and ``names`` map the ids of periods and events to their
    current names (a renamed period or event is followed)."""
    period = periods.get(row.period_id, row.when_value) if row.period_id is not None else None
    relative = names.get(row.relative_to, row.when_value) if row.relative_to is not None else None
    return stored_when(row.when_kind, row.when_value, period, relative)


def refi_description(when: When, order: int, description: str) -> str:
    """An event's REFI-QDA code description: its when and story order first, then its description."""
    head = f"When in the story: {when.label} (number {order} in story order)."
    return f"{head}\n\n{description}" if description.strip() else head


def parse_dated(text: str) -> When | None:
    """A date, month or year in ISO or words ("March 2019", "14 March 2019"); None if it is none of them."""
    t = re.sub(r"\s+", " ", text.strip().lower().replace(",", " ")).strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t):
            return When("date", date(int(m[1]), int(m[2]), int(m[3])).isoformat())
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
            if 1 <= int(m[2]) <= 12:
                return When("month", f"{m[1]}-{int(m[2]):02d}")
            return None
        if m := re.fullmatch(r"(\d{4})", t):
            return When("year", m[1])
        if (m := re.fullmatch(r"([a-z]+)\.? (\d{4})", t)) and m[1] in _MONTHS:
            return When("month", f"{m[2]}-{_MONTHS[m[1]]:02d}")
        if (m := re.fullmatch(r"(\d{1,2}) ([a-z]+)\.? (\d{4})", t)) and m[2] in _MONTHS:
            return When("date", date(int(m[3]), _MONTHS[m[2]], int(m[1])).isoformat())
        if (m := re.fullmatch(r"([a-z]+)\.? (\d{1,2}) (\d{4})", t)) and m[1] in _MONTHS:
            return When("date", date(int(m[3]), _MONTHS[m[1]], int(m[2])).isoformat())
    except ValueError:
        raise ValidationError(Errors.E7004, text=text, why="no such day", help=WHEN_HELP) from None
    return None


def parse_when(text: str) -> When:
    """What the researcher typed as a when. Anything that is not dated, relative or unknown is a period name
    (the service looks it up, or adds it)."""
    t = re.sub(r"\s+", " ", (text or "").strip())
    if not t or t.lower() in ("unknown", "?", "-"):
        return When()
    dated = parse_dated(t)
    if dated is not None:
        return dated
    if m := re.fullmatch(r"(before|after) (.+)", t, flags=re.I):
        return When(m[1].lower(), m[2].strip())
    if re.fullmatch(r"[\d\s/.-]+", t):
        raise ValidationError(Errors.E7004, text=text, why="digits that are not a date, month or year", help=WHEN_HELP)
    return When("period", t.removeprefix("period:").strip())


def interval(when: When) -> tuple[str, str]:
    """The first and last day (ISO) of a dated when."""
    if when.kind == "date":
        return when.value, when.value
    if when.kind == "month":
        y, m = (int(x) for x in when.value.split("-"))
        return f"{y:04d}-{m:02d}-01", f"{y:04d}-{m:02d}-{calendar.monthrange(y, m)[1]:02d}"
    return f"{when.value}-01-01", f"{when.value}-12-31"


def sort_key(when: When) -> str:
    """The stored ``sort_key`` of an event: its ISO value when dated, else ''."""
    return when.value if when.kind in DATED else ""


_Key = tuple[int, str, str, int, tuple[int, ...]]


def story_order(whens: Mapping[str, When], periods: Sequence[Period]) -> dict[str, Placement]:
    """Place every event (by name) in story time; see the module docstring for the rules."""
    fold = {n.casefold(): n for n in whens}
    period_keys: dict[str, tuple[_Key, bool]] = {}
    last: tuple[str, str] | None = None
    since = 0
    for n, p in enumerate(periods):
        anchor = parse_dated(p.anchor) if p.anchor else None
        if anchor is not None:
            lo, hi = interval(anchor)
            period_keys[p.name.casefold()] = ((0, lo, hi, 0, ()), False)
            last, since = (lo, hi), 0
        else:
            since += 1
            base = ("", "") if last is None else (last[1], last[1])
            period_keys[p.name.casefold()] = ((0, base[0], base[1], since if last else n + 1, ()), True)
    keys: dict[str, tuple[_Key, bool]] = {}
    unknown_key: _Key = (1, "", "", 0, ())

    def key_of(name: str, seen: tuple[str, ...]) -> tuple[_Key, bool]:
        if name in keys:
            return keys[name]
        w = whens[name]
        out: tuple[_Key, bool]
        if w.kind in DATED:
            lo, hi = interval(w)
            out = ((0, lo, hi, 0, ()), False)
        elif w.kind == "period":
            out = period_keys.get(w.value.casefold(), (unknown_key, False))
        elif w.kind in ("before", "after"):
            ref = fold.get(w.value.casefold())
            if ref is None or ref in seen or ref == name:
                out = (unknown_key, False)
            else:
                (b, lo, hi, sub, rel), approx = key_of(ref, (*seen, name))
                out = ((b, lo, hi, sub, (*rel, -1 if w.kind == "before" else 1)), approx) if b == 0 else (unknown_key, False)
        else:
            out = (unknown_key, False)
        keys[name] = out
        return out

    for name in whens:
        key_of(name, ())
    depth = max((len(k[4]) for k, _ in keys.values()), default=0)

    def full(k: _Key) -> tuple[Any, ...]:
        return (k[0], k[1], k[2], k[3], (*k[4], *([0] * (depth - len(k[4])))))

    ranked = sorted(whens, key=lambda n: (full(keys[n][0]), n.casefold()))
    out: dict[str, Placement] = {}
    order, previous = 0, None
    groups: dict[tuple[Any, ...], list[str]] = {}
    for name in ranked:
        groups.setdefault(full(keys[name][0]), []).append(name)
    for name in ranked:
        k = full(keys[name][0])
        if k != previous:
            order, previous = order + 1, k
        unknown = k[0] == 1
        tied = tuple(n for n in groups[k] if n != name)
        uncertain: tuple[str, ...] = ()
        if whens[name].kind in DATED:
            lo, hi = k[1], k[2]
            uncertain = tuple(n for n in ranked if n != name and whens[n].kind in DATED and n not in tied
                              and interval(whens[n])[0] <= hi and lo <= interval(whens[n])[1])
        approx = keys[name][1]
        note = ("its time is not known" if unknown else
                "placed by the order of periods only (its period has no dates)" if approx else "")
        out[name] = Placement(order, tied, uncertain, approx, unknown, note)
    return out


def disagreement(event: str, placements: Mapping[str, When]) -> str:
    """A sentence when the participants (keys) place ``event`` at different times, else ''."""
    distinct = {w.label for w in placements.values()}
    if len(distinct) < 2:
        return ""
    told = "; ".join(f"{who} places it {w.label if w.kind in ('before', 'after') else 'in ' + w.label}"
                     for who, w in sorted(placements.items()))
    return f"Participants place '{event}' at different times: {told}."


@dataclass(frozen=True)
class TimelineEvent:
    """One event on the timeline, in story order, with who tells it and where each places it."""

    name: str
    guid: str
    description: str
    when: When
    order: int
    placement: Placement
    participants: tuple[str, ...]
    codings: tuple[int, ...]
    told: Mapping[str, When] = field(default_factory=dict)  # participant -> their placement
    disagreement: str = ""

    def as_dict(self) -> dict[str, Any]:
        p = self.placement
        return {"name": self.name, "when": self.when.label, "when_kind": self.when.kind, "order": self.order,
                "participants": list(self.participants), "codings": list(self.codings),
                "tied": list(p.tied), "uncertain": list(p.uncertain), "approximate": p.approximate,
                "unknown": p.unknown, "note": p.note,
                "told": {k: v.label for k, v in self.told.items()}, "disagreement": self.disagreement,
                "description": self.description, "guid": self.guid}


def gaps(timeline: Sequence[TimelineEvent], participant: str) -> list[TimelineEvent]:
    """Events others tell that ``participant`` does not, in story order."""
    return [e for e in timeline if e.participants and participant not in e.participants]


# -- the findings chapter -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChapterSection:
    heading: str
    blocks: tuple[Block, ...]
    words: int


FIGURES = ("timeline", "cases", "themes")
FIGURE_HELP = ("timeline (the events in story order and who tells them), cases (the case x condition matrix), "
               "themes (the theme x participant table)")


@dataclass(frozen=True)
class ChapterDocument:
    title: str
    introduction: tuple[Paragraph, ...]
    sections: tuple[ChapterSection, ...]
    sources: tuple[Source, ...]
    draft: bool = False
    notes: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()

    @property
    def words(self) -> int:
        return sum(s.words for s in self.sections) + sum(_words(p) for p in self.introduction)


def _words(block: Block) -> int:
    if isinstance(block, BlockQuote):
        return word_count(block.text)
    if not isinstance(block, Paragraph):
        return 0  # a heading or a figure: not the chapter's prose
    return sum(word_count(p if isinstance(p, str) else p.text) for p in block.parts)


def is_placeholder(text: str) -> bool:
    return text.lstrip().startswith(PLACEHOLDER)


def layout_chapter(title: str, introduction: str, sections: Sequence[tuple[str, Sequence[Any]]], *,
                   options: Options, attributes: dict[str, dict[str, str]], draft: bool = False,
                   figures: Sequence[Figure] = ()) -> ChapterDocument:
    """Lay a chapter out: ``sections`` are (heading, resolved vignette items); quotes follow the vignette
    rules; the sources of every section make one appendix, numbered through the chapter; ``figures`` follow
    the last section, numbered (Figure 1, Table 1...)."""
    intro = tuple(Paragraph((one_line(p),)) for p in re.split(r"\n\s*\n", introduction.strip()) if p.strip())
    laid: list[ChapterSection] = []
    sources: list[Source] = []
    for heading, items in sections:
        blocks, found = lay_out(items, options=Options(block_words=options.block_words, timestamps=options.timestamps,
                                                       line_refs=options.line_refs, attributes=options.attributes),
                                attributes=attributes)
        for s in found:
            sources.append(Source(len(sources) + 1, s.opening, s.participant, s.transcript, s.turn, s.start, s.end,
                                  s.timestamp, s.line))
        laid.append(ChapterSection(heading, blocks, sum(_words(b) for b in blocks)))
    notes = ("Draft: placeholder paragraphs are left; not yet written by the researcher.",) if draft else ()
    return ChapterDocument(f"DRAFT: {title}" if draft else title, intro, tuple(laid),
                           tuple(sources) if options.appendix else (), draft, notes, tuple(figures))


def chapter_document(doc: ChapterDocument, *, standalone: bool = True) -> Document:
    """The chapter as a :class:`Document` any renderer prints: the introduction, each section under its
    heading, the figures numbered (Figure 1, Table 1...), the appendix; ``standalone=False``: a LaTeX fragment."""
    blocks: list[Block] = [*doc.introduction]
    for s in doc.sections:
        blocks += [Heading(s.heading), *s.blocks]
    blocks += numbered(doc.figures)
    return Document(doc.title, tuple(blocks), doc.sources, doc.draft, doc.notes, fragment=not standalone, part="chapter")


def render_chapter(doc: ChapterDocument, format: str, *, standalone: bool = True) -> bytes:
    """The chapter as ``format`` (md, docx, tex, html) bytes; ``standalone=False`` makes LaTeX a fragment."""
    return render_document(chapter_document(doc, standalone=standalone), format)


# -- the timeline as a picture ----------------------------------------------------------------------------
def timeline_svg(timeline: Sequence[TimelineEvent], participants: Sequence[str], *, title: str = "Story time") -> str:
    """A plain SVG of the timeline: events in story order across, participants down, a dot where a
    participant tells an event (hollow where they place it differently from the event's own when)."""
    col, row, left, top = 110, 34, 150, 70
    width, height = left + col * max(1, len(timeline)) + 20, top + row * max(1, len(participants)) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="11">', f"<title>{html_escape(title)}</title>",
           f'<text x="10" y="18" font-size="14" font-weight="bold">{html_escape(title)}</text>']
    for i, e in enumerate(timeline):
        x = left + col * i + col // 2
        mark = "=" if e.placement.tied else ""
        out.append(f'<text x="{x}" y="{top - 26}" text-anchor="middle" font-weight="bold">{html_escape(e.name[:18])}</text>')
        out.append(f'<text x="{x}" y="{top - 12}" text-anchor="middle">{e.order}{mark}. {html_escape(e.when.label[:18])}'
                   f'{" ?" if e.disagreement else ""}</text>')
        out.append(f'<line x1="{x}" y1="{top - 6}" x2="{x}" y2="{height - 30}" stroke="#ddd"/>')
    for j, who in enumerate(participants):
        y = top + row * j + row // 2
        out.append(f'<text x="10" y="{y + 4}">{html_escape(who)}</text>')
        for i, e in enumerate(timeline):
            if who in e.participants:
                x = left + col * i + col // 2
                differs = who in e.told and e.told[who] != e.when
                fill = "white" if differs else "#1f6feb"
                tip = f"{who}: {e.name} ({e.told.get(who, e.when).label})"
                out.append(f'<circle cx="{x}" cy="{y}" r="7" fill="{fill}" stroke="#1f6feb" stroke-width="2">'
                           f"<title>{html_escape(tip)}</title></circle>")
    out.append(f'<text x="10" y="{height - 10}" fill="#555">Story order across; "=" tied, "?" participants '
               "place it differently (hollow dots).</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def timeline_png(timeline: Sequence[TimelineEvent], participants: Sequence[str], *, title: str = "Story time",
                 dpi: int = 200) -> bytes:
    """The timeline as a PNG for a paper (drawn with matplotlib, no display needed): events in story order
    across, participants down, a dot where a participant tells an event (hollow where they place it at another
    time than the event's own), the event's when under its name."""
    from matplotlib.figure import Figure as PlotFigure

    longest = max((len(e.name) for e in timeline), default=10)
    width = max(6.0, 0.55 * len(timeline) + 2.5)
    height = max(2.5, 0.4 * len(participants) + 0.06 * longest + 1.2)
    fig = PlotFigure(figsize=(width, height), dpi=dpi)
    ax = fig.add_subplot()
    rows = {who: n for n, who in enumerate(participants)}
    for i, e in enumerate(timeline):
        for who in e.participants:
            if who not in rows:
                continue
            differs = who in e.told and e.told[who] != e.when
            ax.scatter([i], [rows[who]], s=70, zorder=3, facecolors="white" if differs else "#1f6feb",
                       edgecolors="#1f6feb", linewidths=1.5)
    ax.set_xticks(range(len(timeline)))
    ax.set_xticklabels([f"{e.order}{'=' if e.placement.tied else ''}. {e.name}\n{e.when.label}"
                        f"{' ?' if e.disagreement else ''}" for e in timeline], rotation=40, ha="right",
                       rotation_mode="anchor", fontsize=7)
    ax.set_yticks(range(len(participants)))
    ax.set_yticklabels(list(participants), fontsize=8)
    ax.set_ylim(len(participants) - 0.5, -0.5)
    ax.set_xlim(-0.5, max(0.5, len(timeline) - 0.5))
    ax.grid(axis="x", color="#dddddd", zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left")
    fig.text(0.01, 0.01, '"=" tied in story time; "?" and hollow dots: participants place it at different times.',
             fontsize=6, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
