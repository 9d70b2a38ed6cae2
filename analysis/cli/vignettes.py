"""Vignette, export and disclosure commands: ``vignette draft|list|show|export``, editing a vignette
(``vignette title|narrative|add-narrative|add-quote|edit-quote|move|join|remove``; items are numbered
from 1 as ``vignette show`` lists them), ``export quotes|memos``, ``check-disclosure``, ``disclosure accept``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from analysis.errors import Errors, NotFoundError
from analysis.cli._common import JsonOpt, ProjectOpt, app, emit, handled, open_, stdin_text, table, wrote

vignette_app = typer.Typer(help="Compose vignettes from quotes and export them for publication.", no_args_is_help=True)
export_app = typer.Typer(help="Export the quote table, or all memos and the journal.", no_args_is_help=True)
disclosure_app = typer.Typer(help="The disclosure allow-list: terms accepted as not identifying.", no_args_is_help=True)
app.add_typer(vignette_app, name="vignette")
app.add_typer(export_app, name="export")
app.add_typer(disclosure_app, name="disclosure")

NoteOpt = Annotated[str, typer.Option(help="A reflexive note: why you made this change.")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="The file to write.")]
AttributeOpt = Annotated[list[str] | None, typer.Option(
    "--attribute", help="Print this participant attribute in attributions (repeatable), e.g. stakeholder_group.")]


def _vignette_out(v: Any) -> dict[str, Any]:
    return {"id": v.id, "title": v.title, "participant": v.participant, "theme": v.theme, "status": v.status,
            "items": [{k: val for k, val in vars(i).items() if k != "source"} for i in v.items]}


def _render_vignette(r: dict[str, Any]) -> None:
    typer.echo(f"Vignette {r['id']}: {r['title']}  [{r['status']}]")
    for n, item in enumerate(r["items"], start=1):
        if item["kind"] == "quote":
            where = item.get("timestamp") or (f"line {item['line']}" if item.get("line") else "")
            joined = " joined to the quote before," if item.get("joined") else ""
            typer.echo(f"  {n:>2}. quote ({item.get('participant') or '?'}, {item['transcript']}"
                       f"{', ' + where if where else ''}){joined}: {item['text'][:90]}")
        else:
            typer.echo(f"  {n:>2}. {item['text'][:100]}")


@vignette_app.command("draft")
def vignette_draft(
    participant: Annotated[str | None, typer.Option(help="Draft about this participant (pseudonym).")] = None,
    theme: Annotated[str | None, typer.Option(help="Draft about this theme or code (name or path).")] = None,
    per_code: Annotated[int, typer.Option(help="Quotes per code (the most central first).")] = 2,
    title: Annotated[str | None, typer.Option(help="Title (default: the participant and/or theme).")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Draft a vignette from codings: per code, its most central quotes and a narrative placeholder."""
    with handled():
        v = open_(project).vignettes.draft(participant=participant, theme=theme, per_code=per_code, title=title,
                                          note=note)
        emit(_vignette_out(v), as_json=as_json, render=_render_vignette)


@vignette_app.command("list")
def vignette_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The vignettes: id, title, participant, theme, status, number of items."""
    with handled():
        rows = [{"id": v.id, "title": v.title, "participant": v.participant, "theme": v.theme, "status": v.status,
                 "items": len(v.items), "updated_at": v.updated_at} for v in open_(project).vignettes.list()]
        emit({"vignettes": rows}, as_json=as_json,
             render=lambda r: table(r["vignettes"], ["id", "title", "participant", "theme", "status", "items"]))


@vignette_app.command("export")
def vignette_export(
    vignette_id: Annotated[int, typer.Argument(metavar="ID", help="The vignette's id.")],
    output: OutputOpt,
    format: Annotated[str | None, typer.Option(help="md, docx, tex or html (default: from the file name).")] = None,
    allow_draft: Annotated[bool, typer.Option(help="Export a never-edited draft (titled DRAFT).")] = False,
    timestamps: Annotated[bool, typer.Option(help="Add the timestamp to attributions: (Leader A, 00:12:31).")] = False,
    line_refs: Annotated[bool, typer.Option(help="Add the transcript line to attributions.")] = False,
    appendix: Annotated[bool, typer.Option(help="Append a table of each quote's source.")] = False,
    block_words: Annotated[int, typer.Option(help="Quotes of this many words or more become block quotes.")] = 40,
    attribute: AttributeOpt = None,
    skip_disclosure_check: Annotated[bool, typer.Option(help="Export without the disclosure check.")] = False,
    straight_quotes: Annotated[bool, typer.Option(
        help="Straight quotation marks and apostrophes (\" ') instead of typographic ones (“ ” ‘ ’).")] = False,
    author: Annotated[str | None, typer.Option(
        help="The author in the document's properties (default: the researcher, $STORYLOOM_USER).")] = None,
    anonymous: Annotated[bool, typer.Option(help="No author in the document's properties (blind review).")] = False,
    fragment: Annotated[bool, typer.Option(
        help="LaTeX: only the vignette, to \\input into a manuscript (no preamble, no \\begin{document}).")] = False,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Write a vignette for publication: Markdown, DOCX, LaTeX or HTML (checked for quote integrity and disclosure)."""
    with handled():
        exports = open_(project).exports
        path = exports.export_vignette(
            vignette_id, output, format=format, allow_draft=allow_draft, timestamps=timestamps, line_refs=line_refs,
            appendix=appendix, block_words=block_words, attributes=tuple(attribute or ()),
            disclosure=not skip_disclosure_check, straight_quotes=straight_quotes,
            author="" if anonymous else author, fragment=fragment)
        from analysis.export import VIGNETTE_FORMATS, pick_format

        wrote(path, exports.last_warnings, as_json=as_json, format=pick_format(path, format, VIGNETTE_FORMATS))


IdArg = Annotated[int, typer.Argument(metavar="ID", help="The vignette's id (`storyloom vignette list`).")]
ItemArg = Annotated[int, typer.Argument(metavar="N", help="The item's number, as `storyloom vignette show` lists it.")]
TextArg = Annotated[str, typer.Argument(help="The text; '-' reads it from standard input.")]


def _text(text: str) -> str:
    return stdin_text() if text == "-" else text


def _item(project: Any, vignette_id: int, n: int) -> int:
    """The 0-based index of item ``n`` (numbered from 1), or a message naming the items there are."""
    count = len(project.vignettes.get(vignette_id).items)
    if not count:
        raise NotFoundError(Errors.E8204, vid=vignette_id)
    if not 1 <= n <= count:
        raise NotFoundError(Errors.E8203, vid=vignette_id, n=count, index=n)
    return n - 1


def _edited(v: Any, as_json: bool, message: str) -> None:
    def render(r: dict[str, Any]) -> None:
        typer.echo(message)
        _render_vignette(r)
    emit(_vignette_out(v), as_json=as_json, render=render)


@vignette_app.command("show")
def vignette_show(vignette_id: IdArg, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """A vignette's items, numbered as the editing commands take them."""
    with handled():
        emit(_vignette_out(open_(project).vignettes.get(vignette_id)), as_json=as_json, render=_render_vignette)


@vignette_app.command("title")
def vignette_title(vignette_id: IdArg, title: str, note: NoteOpt = "", project: ProjectOpt = Path("."),
                   as_json: JsonOpt = False) -> None:
    """Give a vignette a new title."""
    with handled():
        _edited(open_(project).vignettes.update(vignette_id, title=title, note=note), as_json, "Title saved")


@vignette_app.command("narrative")
def vignette_narrative(vignette_id: IdArg, n: ItemArg, text: TextArg, note: NoteOpt = "",
                       project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Write paragraph N in your own words (e.g. replace a draft's [Narrative: ...] placeholder)."""
    with handled():
        opened = open_(project)
        v = opened.vignettes.set_narrative(vignette_id, _item(opened, vignette_id, n), _text(text), note=note)
        _edited(v, as_json, f"Paragraph {n} saved")


@vignette_app.command("add-narrative")
def vignette_add_narrative(
    vignette_id: IdArg, text: TextArg,
    at: Annotated[int | None, typer.Option(help="Insert it as item N (default: at the end).")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Add a paragraph of narrative."""
    with handled():
        v = open_(project).vignettes.add_narrative(vignette_id, _text(text), position=None if at is None else at - 1,
                                                   note=note)
        _edited(v, as_json, "Paragraph added")


@vignette_app.command("add-quote")
def vignette_add_quote(
    vignette_id: IdArg,
    coding: Annotated[int, typer.Option(help="The coding whose passage to quote (`storyloom codings --json`).")],
    text: Annotated[str, typer.Option(help="The quote as printed (marked edits only); default: the passage.")] = "",
    at: Annotated[int | None, typer.Option(help="Insert it as item N (default: at the end).")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Add a coded passage as a quote."""
    with handled():
        v = open_(project).vignettes.add_quote(vignette_id, coding=coding, text=text,
                                               position=None if at is None else at - 1, note=note)
        _edited(v, as_json, "Quote added")


@vignette_app.command("edit-quote")
def vignette_edit_quote(vignette_id: IdArg, n: ItemArg, text: TextArg, note: NoteOpt = "",
                        project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Change how quote N prints: marked edits only ([...] for words left out, [word] for words put in),
    checked against the transcript."""
    with handled():
        opened = open_(project)
        v = opened.vignettes.edit_item(vignette_id, _item(opened, vignette_id, n), _text(text), note=note)
        _edited(v, as_json, f"Quote {n} saved")


@vignette_app.command("move")
def vignette_move(vignette_id: IdArg, n: ItemArg,
                  to: Annotated[int, typer.Option(help="The item's new number.")],
                  note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Move item N to another place in the vignette."""
    with handled():
        opened = open_(project)
        v = opened.vignettes.move_item(vignette_id, _item(opened, vignette_id, n), to=to - 1, note=note)
        _edited(v, as_json, f"Moved item {n} to {to}")


@vignette_app.command("join")
def vignette_join(
    vignette_id: IdArg, n: ItemArg,
    separate: Annotated[bool, typer.Option("--separate", help="Give quote N its own paragraph again.")] = False,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Print short quote N in one paragraph with the quote before it (each quote has its own by default)."""
    with handled():
        opened = open_(project)
        v = opened.vignettes.join_item(vignette_id, _item(opened, vignette_id, n), joined=not separate, note=note)
        _edited(v, as_json, f"Quote {n} {'has its own paragraph' if separate else 'joined to the quote before it'}")


@vignette_app.command("remove")
def vignette_remove(vignette_id: IdArg, n: ItemArg, note: NoteOpt = "", project: ProjectOpt = Path("."),
                    as_json: JsonOpt = False) -> None:
    """Remove item N (a quote or a paragraph). Undoable."""
    with handled():
        opened = open_(project)
        _edited(opened.vignettes.remove_item(vignette_id, _item(opened, vignette_id, n), note=note), as_json,
                f"Removed item {n}")


@export_app.command("quotes")
def export_quotes(
    output: OutputOpt,
    format: Annotated[str | None, typer.Option(help="csv or xlsx (default: from the file name).")] = None,
    code: Annotated[str | None, typer.Option(help="Only this code or theme (and its sub-codes).")] = None,
    participant: Annotated[str | None, typer.Option(help="Only this participant.")] = None,
    raw: Annotated[bool, typer.Option(
        "--raw", help="Write cells exactly as coded, even those a spreadsheet would run as a formula "
                      "(=, +, -, @); by default they get a leading ' so they show as text.")] = False,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Write the quote table: code path, participant, attributes, transcript, timestamp, text."""
    with handled():
        exports = open_(project).exports
        path = exports.export_quotes(output, format=format, code=code, participant=participant, raw=raw)
        wrote(path, exports.last_warnings, as_json=as_json)


@export_app.command("memos")
def export_memos(
    output: OutputOpt,
    format: Annotated[str | None, typer.Option(help="md or docx (default: from the file name).")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Write every memo and journal entry, grouped by kind and phase, as Markdown or DOCX."""
    with handled():
        exports = open_(project).exports
        path = exports.export_memos(output, format=format)
        wrote(path, exports.last_warnings, as_json=as_json)


@app.command("check-disclosure")
def check_disclosure(
    vignette_id: Annotated[int, typer.Argument(metavar="ID", help="The vignette's id.")],
    attribute: AttributeOpt = None, project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Flag names, organisations and places in a vignette that are not on the allow-list."""
    with handled():
        flags = open_(project).disclosure.check(vignette_id, attributes=tuple(attribute or ()))

        def render(r: dict[str, Any]) -> None:
            if not r["flags"]:
                typer.echo("No possible identifying details found.")
            table([asdict(f) for f in r["flags"]], ["text", "label", "quote"])

        emit({"flags": flags}, as_json=as_json, render=render)


@disclosure_app.command("accept")
def disclosure_accept(
    term: Annotated[str, typer.Argument(help="The term to accept as not identifying, e.g. 'Kia ora'.")],
    label: Annotated[str, typer.Option(help="The flag's label (PERSON, ORG ...), for the record.")] = "",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Accept a flagged term as not identifying: the disclosure check stops flagging it."""
    with handled():
        emit(open_(project).disclosure.accept_term(term, label=label, note=note), as_json=as_json,
             render=lambda r: typer.echo(f"Accepted '{r.term}'"))
