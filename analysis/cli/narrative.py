"""Narrative-inquiry commands: ``event add|edit|remove|link|unlink|list``, ``period add|move|list|remove``,
``timeline``, ``restory`` and ``chapter create|add|list|move|remove-section|delete|export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from analysis.errors import Errors, ValidationError
from analysis.export import formats_for
from analysis.domain.narrative import FIGURE_HELP
from analysis.cli._common import JsonOpt, NoteOpt, ProjectOpt, app, command_group, emit, handled, open_, table, wrote

event_app = command_group("event", "Events in story time: mark them, place them, link coded passages as evidence.")
period_app = command_group("period", "Named periods of the story ('pre-pandemic'), in the order you give them once.")
chapter_app = command_group("chapter", "The findings chapter: headed sections of your prose and verified quotes.")
EventArg = Annotated[str, typer.Argument(metavar="EVENT", help="The event's name.")]
ChapterArg = Annotated[str, typer.Argument(metavar="CHAPTER", help="The chapter's id or title.")]
WHEN_HELP = ("When in the story: 2019-03-14, 2019-03 or 'March 2019', 2019, a period ('pre-pandemic'), "
             "'before EVENT', 'after EVENT', or 'unknown'.")


def _events(rows: list[Any]) -> dict[str, Any]:
    return {"events": [t.as_dict() for t in rows]}


def _event_table(r: dict[str, Any]) -> None:
    table([{**e, "order": f"{e['order']}{'=' if e['tied'] else ''}", "participants": ", ".join(e["participants"]),
            "codings": len(e["codings"]), "note": e["disagreement"] or e["note"]} for e in r["events"]],
          ["order", "name", "when", "participants", "codings", "note"])


# -- events -----------------------------------------------------------------------------------------------
@event_app.command("add")
def event_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The event, e.g. 'Programme launched'.")],
    when: Annotated[str, typer.Option(help=WHEN_HELP)] = "unknown",
    description: Annotated[str, typer.Option(help="What happened.")] = "",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Mark an event in story time."""
    with handled():
        e = open_(project).story.add_event(name, when=when, description=description, note=note)
        emit(e.as_dict(), as_json=as_json, render=lambda r: typer.echo(f"Marked '{r['name']}' ({r['when']}), "
                                                                       f"number {r['order']} in story order"))


@event_app.command("edit")
def event_edit(
    event: EventArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    when: Annotated[str | None, typer.Option(help=WHEN_HELP)] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Rename an event, place it at another time, or describe it."""
    with handled():
        e = open_(project).story.edit_event(event, new_name=name, when=when, description=description, note=note)
        emit(e.as_dict(), as_json=as_json, render=lambda r: typer.echo(f"Event '{r['name']}': {r['when']}"))


@event_app.command("remove")
def event_remove(event: EventArg, note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Remove an event and its links (undoable)."""
    with handled():
        open_(project).story.remove_event(event, note=note)
        emit({"removed": event}, as_json=as_json, render=lambda r: typer.echo(f"Removed event '{event}'"))


@event_app.command("link")
def event_link(
    event: EventArg,
    coding: Annotated[int, typer.Option(help="The coded passage's id (`storyloom codings`).")],
    when: Annotated[str | None, typer.Option(help="Where this participant places the event, if they place it "
                                                  "differently. " + WHEN_HELP)] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Link a coded passage to an event as evidence."""
    with handled():
        p = open_(project)
        p.story.link(event, coding, when=when, note=note)
        emit(p.story.event(event).as_dict(), as_json=as_json,
             render=lambda r: typer.echo(f"Linked coding {coding} to '{r['name']}' (told by {', '.join(r['participants'])})"))


@event_app.command("unlink")
def event_unlink(
    event: EventArg, coding: Annotated[int, typer.Option(help="The coded passage's id.")],
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Take a coded passage off an event's evidence."""
    with handled():
        open_(project).story.unlink(event, coding, note=note)
        emit({"event": event, "coding": coding}, as_json=as_json,
             render=lambda r: typer.echo(f"Unlinked coding {coding} from '{event}'"))


@event_app.command("list")
def event_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Every event in story order: when, who tells it, its codings, ties and disagreements."""
    with handled():
        emit(_events(open_(project).story.timeline()), as_json=as_json, render=_event_table)


# -- periods ----------------------------------------------------------------------------------------------
def _period_out(p: Any) -> dict[str, Any]:
    return {"name": p.name, "position": p.position + 1, "dates": p.anchor, "description": p.description, "guid": p.guid}


@period_app.command("add")
def period_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The period, e.g. 'pre-pandemic'.")],
    dates: Annotated[str, typer.Option(help="Its date, month or year, if it has one (e.g. 2019).")] = "",
    position: Annotated[int | None, typer.Option(help="Its place in the order (1 = first; default: last).")] = None,
    description: Annotated[str, typer.Option(help="What the period is.")] = "",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Add a named period of the story."""
    with handled():
        p = open_(project).story.add_period(name, dates=dates, description=description, note=note,
                                                position=None if position is None else position - 1)
        emit(_period_out(p), as_json=as_json, render=lambda r: typer.echo(f"Added period '{r['name']}' (number {r['position']})"))


@period_app.command("move")
def period_move(
    name: Annotated[str, typer.Argument(metavar="PERIOD")],
    to: Annotated[int, typer.Option(help="Its new place in the order (1 = first).")],
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Move a period in the story's order."""
    with handled():
        p = open_(project).story.edit_period(name, position=to - 1, note=note)
        emit(_period_out(p), as_json=as_json, render=lambda r: typer.echo(f"Period '{r['name']}' is number {r['position']}"))


@period_app.command("list")
def period_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The periods in the story's order."""
    with handled():
        emit({"periods": [_period_out(p) for p in open_(project).story.periods()]}, as_json=as_json,
             render=lambda r: table(r["periods"], ["position", "name", "dates", "description"]))


@period_app.command("remove")
def period_remove(name: Annotated[str, typer.Argument(metavar="PERIOD")], note: NoteOpt = "",
                  project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Remove a period no event is placed in."""
    with handled():
        open_(project).story.remove_period(name, note=note)
        emit({"removed": name}, as_json=as_json, render=lambda r: typer.echo(f"Removed period '{name}'"))


# -- the timeline and restorying ------------------------------------------------------------------------
@app.command("timeline")
def timeline(
    participant: Annotated[list[str] | None, typer.Option(help="Only what this participant tells (repeatable).")] = None,
    theme: Annotated[str | None, typer.Option(help="Only passages coded with this theme or code (and its codes).")] = None,
    attribute: Annotated[list[str] | None, typer.Option(help="Only participants with this attribute value, "
                                                        "KEY=VALUE (repeatable), e.g. period=pre-pandemic.")] = None,
    output: Annotated[Path | None, typer.Option(help="Also write the chart: PATH.svg or PATH.png (a picture for a "
                                                     "paper) or PATH.json (the Vega-Lite chart).")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """The case's trajectory: events in story order across participants (ties and disagreements shown)."""
    with handled():
        p = open_(project)
        wanted: dict[str, list[str]] = {}
        for pair in attribute or []:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise ValidationError(Errors.E6204, text=pair)
            wanted.setdefault(key.strip(), []).append(value.strip())
        filters: dict[str, Any] = {"participant": participant or None, "theme": theme, "attributes": wanted or None}
        result = _events(p.story.timeline(**filters))
        if output is not None:
            result["path"] = str(p.story.export_timeline(output, **filters))
            for warning in p.story.last_warnings:
                typer.echo(f"Warning: {warning}", err=True)
        emit(result, as_json=as_json, render=_event_table)


@app.command("restory")
def restory(
    participant: Annotated[str, typer.Argument(metavar="PARTICIPANT", help="The participant's pseudonym.")],
    vignette: Annotated[bool, typer.Option("--vignette", help="Also make a draft vignette in story order.")] = False,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """A participant's passages in story order, and the gaps (events others tell that they do not)."""
    with handled():
        p = open_(project)
        result = p.story.restory(participant).as_dict()
        if vignette:
            v = p.story.restory_vignette(participant)
            result["vignette"] = {"id": v.id, "title": v.title}

        def show(r: dict[str, Any]) -> None:
            for x in r["passages"]:
                typer.echo(f"{x['order']}. {x['event']} ({x['when']}): \"{x['text']}\" [coding {x['coding']}]")
            for g in r["gaps"]:
                typer.echo(f"   gap: {g['event']} ({g['when']}), told by {', '.join(g['told_by'])}")
            if "vignette" in r:
                typer.echo(f"Drafted vignette {r['vignette']['id']} '{r['vignette']['title']}'")
        emit(result, as_json=as_json, render=show)


# -- chapters -----------------------------------------------------------------------------------------------
def _chapter_out(c: Any) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "introduction": c.introduction, "guid": c.guid,
            "sections": [{"heading": s.heading, "items": len(s.items), "vignette": s.vignette_id} for s in c.sections]}


@chapter_app.command("create")
def chapter_create(
    title: Annotated[str, typer.Argument(metavar="TITLE")],
    introduction: Annotated[str, typer.Option(help="The chapter's introduction (your words).")] = "",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Create a findings chapter."""
    with handled():
        c = open_(project).chapters.create(title, introduction=introduction, note=note)
        emit(_chapter_out(c), as_json=as_json, render=lambda r: typer.echo(f"Created chapter {r['id']} '{r['title']}'"))


@chapter_app.command("add")
def chapter_add(
    chapter: ChapterArg,
    vignette: Annotated[int | None, typer.Option(help="Start the section from this vignette (its items are copied).")] = None,
    heading: Annotated[str | None, typer.Option(help="The section's heading (default: the vignette's title).")] = None,
    text: Annotated[list[str] | None, typer.Option(help="A paragraph of your own (repeatable).")] = None,
    position: Annotated[int | None, typer.Option(help="Its place (1 = first; default: last).")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Add a headed section to a chapter."""
    with handled():
        items: list[Any] = [{"kind": "narrative", "text": t} for t in text or []]
        c = open_(project).chapters.add_section(chapter, heading=heading, vignette=vignette, items=items, note=note,
                                                 position=None if position is None else position - 1)
        emit(_chapter_out(c), as_json=as_json,
             render=lambda r: typer.echo(f"Chapter '{r['title']}' has {len(r['sections'])} section(s)"))


@chapter_app.command("list")
def chapter_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The chapters and their sections."""
    with handled():
        p = open_(project)
        rows = [_chapter_out(c) for c in p.chapters.list()]
        emit({"chapters": rows}, as_json=as_json, render=lambda r: table(
            [{**c, "sections": "; ".join(s["heading"] for s in c["sections"])} for c in r["chapters"]],
            ["id", "title", "sections"]))


@chapter_app.command("move")
def chapter_move(
    chapter: ChapterArg, section: Annotated[int, typer.Argument(metavar="SECTION", help="The section's number (1 = first).")],
    to: Annotated[int, typer.Option(help="Its new number.")], note: NoteOpt = "",
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Move a section of a chapter."""
    with handled():
        c = open_(project).chapters.move_section(chapter, section - 1, to=to - 1, note=note)
        emit(_chapter_out(c), as_json=as_json, render=lambda r: typer.echo("; ".join(s["heading"] for s in r["sections"])))


@chapter_app.command("remove-section")
def chapter_remove_section(
    chapter: ChapterArg, section: Annotated[int, typer.Argument(metavar="SECTION", help="The section's number.")],
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Remove a section from a chapter."""
    with handled():
        c = open_(project).chapters.remove_section(chapter, section - 1, note=note)
        emit(_chapter_out(c), as_json=as_json, render=lambda r: typer.echo("; ".join(s["heading"] for s in r["sections"])))


@chapter_app.command("delete")
def chapter_delete(chapter: ChapterArg, note: NoteOpt = "", project: ProjectOpt = Path("."),
                   as_json: JsonOpt = False) -> None:
    """Delete a chapter (undoable)."""
    with handled():
        open_(project).chapters.delete(chapter, note=note)
        emit({"deleted": chapter}, as_json=as_json, render=lambda r: typer.echo(f"Deleted chapter {chapter}"))


@chapter_app.command("export")
def chapter_export(
    chapter: ChapterArg,
    output: Annotated[Path, typer.Option(help="The file to write.")],
    format: Annotated[str | None, typer.Option(help=f"{' | '.join(formats_for('chapter'))} (default: from the suffix).")] = None,
    allow_draft: Annotated[bool, typer.Option("--allow-draft", help="Export even with placeholder paragraphs (titled DRAFT).")] = False,
    skip_disclosure: Annotated[bool, typer.Option("--skip-disclosure-check", help="Do not run the disclosure check.")] = False,
    fragment: Annotated[bool, typer.Option("--fragment", help="LaTeX: a fragment to \\input, not a whole document.")] = False,
    timestamps: Annotated[bool, typer.Option(help="Print each quote's timestamp in its attribution.")] = False,
    attribute: Annotated[list[str] | None, typer.Option(help="Print this participant attribute with quotes (repeatable).")] = None,
    figure: Annotated[list[str] | None, typer.Option(help=f"Add a figure after the last section (repeatable): {FIGURE_HELP}.")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Export a chapter (every quote checked against its transcript; one sources appendix; optional figures)."""
    with handled():
        p = open_(project)
        opts: dict[str, Any] = dict(allow_draft=allow_draft, disclosure=not skip_disclosure, timestamps=timestamps,
                                    attributes=tuple(attribute or ()), figures=tuple(figure or ()))
        out = p.chapters.export(chapter, output, format=format, standalone=not fragment, **opts)
        wrote(out, p.chapters.last_warnings, as_json=as_json, words=p.chapters.word_counts(chapter))
