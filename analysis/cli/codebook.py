"""Codebook and coding commands: code, coding, codebook, memo, history, codings."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.cli._common import JsonOpt, ProjectOpt, app, emit, handled, open_, stdin_text, table, wrote

if TYPE_CHECKING:
    from analysis.services.results import SnapshotDiff

code_app = typer.Typer(help="Create and revise codes and themes.", no_args_is_help=True)
coding_app = typer.Typer(help="Apply codes to spans of transcripts, or remove them.", no_args_is_help=True)
codebook_app = typer.Typer(help="Codebook files (YAML), snapshots and their diff.", no_args_is_help=True)
memo_app = typer.Typer(help="Memos and the reflexive journal.", no_args_is_help=True)
app.add_typer(code_app, name="code")
app.add_typer(coding_app, name="coding")
app.add_typer(codebook_app, name="codebook")
app.add_typer(memo_app, name="memo")

NoteOpt = Annotated[str, typer.Option(help="A reflexive note: why you made this change.")]


def _code_out(code: Any) -> dict[str, Any]:
    return asdict(code)


@code_app.command("add")
def code_add(
    name: str,
    parent: Annotated[str | None, typer.Option(help="Parent theme/code (name or 'Theme > Code' path).")] = None,
    kind: Annotated[str, typer.Option(help="theme, candidate theme, or code.")] = "code",
    definition: str = "", inclusion: str = "", exclusion: str = "", example: str = "", colour: str = "",
    central_concept: Annotated[str, typer.Option(help="A theme's central organising concept.")] = "",
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Create a code or theme."""
    with handled():
        code = open_(project).codebook.add_code(name, parent=parent, kind=kind, definition=definition, inclusion=inclusion,
                                       exclusion=exclusion, example=example, colour=colour,
                                       central_concept=central_concept, note=note)
        emit(_code_out(code), as_json=as_json, render=lambda c: typer.echo(f"Created {c['kind']} '{c['name']}' (id {c['id']})"))


@code_app.command("edit")
def code_edit(
    code: str, name: str | None = None, definition: str | None = None, inclusion: str | None = None,
    exclusion: str | None = None, example: str | None = None, colour: str | None = None,
    status: Annotated[str | None, typer.Option(help="initial code, candidate theme, reviewed, defined.")] = None,
    kind: str | None = None, central_concept: str | None = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Rename a code or edit its definition, criteria, example, colour, status or kind."""
    fields = {k: v for k, v in dict(name=name, definition=definition, inclusion=inclusion, exclusion=exclusion,
                                    example=example, colour=colour, status=status, kind=kind,
                                    central_concept=central_concept).items() if v is not None}
    with handled():
        emit(_code_out(open_(project).codebook.edit_code(code, note=note, **fields)), as_json=as_json,
             render=lambda c: typer.echo(f"Saved '{c['name']}'"))


@code_app.command("move")
def code_move(
    code: str, parent: Annotated[str | None, typer.Option(help="New parent; omit for the top level.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Move a code under another parent (refuses cycles)."""
    with handled():
        emit(_code_out(open_(project).codebook.move_code(code, parent=parent, note=note)), as_json=as_json,
             render=lambda c: typer.echo(f"Moved '{c['name']}'"))


@code_app.command("merge")
def code_merge(source: str, target: str, note: NoteOpt = "", project: ProjectOpt = Path("."),
               as_json: JsonOpt = False) -> None:
    """Merge SOURCE into TARGET: codings move (duplicates collapse), memos and sub-codes travel."""
    with handled():
        emit(_code_out(open_(project).codebook.merge_codes(source, target, note=note)), as_json=as_json,
             render=lambda c: typer.echo(f"Merged '{source}' into '{c['name']}'"))


@code_app.command("split")
def code_split(
    code: str, new_name: Annotated[str, typer.Option("--new-name", help="Name of the new code.")],
    coding: Annotated[list[int], typer.Option("--coding", help="Coding id to move (repeat).")],
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Split chosen codings of CODE off into a new code."""
    with handled():
        emit(_code_out(open_(project).codebook.split_code(code, new_name=new_name, coding_ids=coding, note=note)),
             as_json=as_json, render=lambda c: typer.echo(f"Created '{c['name']}' with {len(coding)} codings"))


@code_app.command("delete")
def code_delete(
    code: str, move_to: Annotated[str | None, typer.Option(help="Move its codings to this code.")] = None,
    discard: Annotated[bool, typer.Option(help="Discard its codings (undoable).")] = False,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Delete a code; its codings move (--move-to) or are discarded (--discard)."""
    with handled():
        open_(project).codebook.delete_code(code, move_to=move_to, discard=discard, note=note)
        emit({"deleted": code}, as_json=as_json, render=lambda r: typer.echo(f"Deleted '{code}'"))


@code_app.command("list")
def code_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The codebook as a tree with counts of codings and participants."""
    with handled():
        tree = open_(project).codebook_files.codebook_tree(with_counts=True)

        def render(nodes: list[dict[str, Any]], depth: int = 0) -> None:
            for n in nodes:
                typer.echo(f"{'  ' * depth}{n['name']}  [{n['kind']}]  {n['codings']} codings, "
                           f"{n['participants']} participants")
                render(n.get("children", []), depth + 1)

        emit({"codes": tree}, as_json=as_json, render=lambda r: render(r["codes"]))


@coding_app.command("add")
def coding_add(
    transcript: Annotated[str, typer.Option(help="Transcript name, e.g. leader_a.docx.")],
    start: Annotated[int, typer.Option(help="Start offset (code points).")],
    end: Annotated[int, typer.Option(help="End offset (exclusive).")],
    code: Annotated[str, typer.Option(help="Code name or path.")],
    coder: Annotated[str | None, typer.Option(help="Who is coding (default: you).")] = None,
    memo: str = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Apply a code to [START, END) of a transcript."""
    with handled():
        c = open_(project).codings.add_coding(transcript=transcript, start=start, end=end, code=code, coder=coder, memo=memo)
        emit(asdict(c), as_json=as_json, render=lambda r: typer.echo(f"Coded (id {r['id']}): {r['text']}"))


@coding_app.command("remove")
def coding_remove(coding_id: int, note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Remove a coding (uncode)."""
    with handled():
        open_(project).codings.remove_coding(coding_id, note=note)
        emit({"removed": coding_id}, as_json=as_json, render=lambda r: typer.echo(f"Removed coding {coding_id}"))


@app.command()
def codings(
    code: Annotated[str | None, typer.Option(help="Only this code (with its sub-codes).")] = None,
    participant: Annotated[str | None, typer.Option(help="Only this participant.")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """The codings table: code, path, participant, transcript, offsets, text, coder."""
    with handled():
        df = open_(project).explore.codings_frame(code=code, participant=participant)
        rows = [{"id": int(r["coding_id"]), "code": r["code"], "code_path": r["code_path"],
                 "participant": r["participant"], "transcript": r["transcript"], "start": int(r["start"]),
                 "end": int(r["end"]), "text": r["text"], "coder": r["coder"]}
                for r in df.to_dict("records")]
        emit({"codings": rows}, as_json=as_json,
             render=lambda r: table(r["codings"], ["id", "code_path", "participant", "transcript", "text"]))


@app.command()
def history(code: str, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """How a code or theme came to be: creation, renames, moves, merges, splits, edits, in order."""
    with handled():
        events = [{"at": e.at, "who": e.who, "action": e.action, "summary": e.summary, "note": e.note,
                   "before": e.before, "after": e.after} for e in open_(project).codebook.history(code)]
        emit({"history": events}, as_json=as_json, render=_render_history)


def _render_history(r: dict[str, Any]) -> None:
    for e in r["history"]:
        typer.echo(f"{e['at'][:19]}  {e['who']}: {e['summary']}" + (f"  (note: {e['note']})" if e["note"] else ""))


@codebook_app.command("export")
def codebook_export(path: Path, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Write the codebook to a YAML file (e.g. codebooks/codebook.yaml)."""
    with handled():
        files = open_(project).codebook_files
        out = files.export_codebook(path)
        wrote(out, files.last_warnings, as_json=as_json)


@codebook_app.command("import")
def codebook_import(path: Path, note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Import a YAML codebook (all or nothing; errors name the entry)."""
    with handled():
        emit(open_(project).codebook_files.import_codebook(path, note=note), as_json=as_json,
             render=lambda r: typer.echo(f"Codes created: {r.created}, updated: {r.updated}"))


@codebook_app.command("snapshot")
def codebook_snapshot(label: str, phase: str = "", note: NoteOpt = "", project: ProjectOpt = Path("."),
                      as_json: JsonOpt = False) -> None:
    """Freeze the codebook, with its counts, under LABEL."""
    with handled():
        snap = open_(project).codebook_files.snapshot(label, phase=phase, note=note)
        emit({"label": snap.label, "phase": snap.phase}, as_json=as_json,
             render=lambda r: typer.echo(f"Snapshot '{r['label']}' saved"))


@codebook_app.command("diff")
def codebook_diff(a: str, b: str, project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """What changed between snapshots A and B: added, removed, renamed, moved, merged, split, redefined."""
    with handled():
        diff = open_(project).codebook_files.diff_snapshots(a, b)

        def render(d: SnapshotDiff) -> None:
            for kind, changes in d.by_kind():
                for change in changes:
                    typer.echo(f"{kind:>9}: " + ", ".join(f"{k}={v}" for k, v in change.parts()))
            if d.empty:
                typer.echo("No differences.")

        emit(diff, as_json=as_json, render=render)


@memo_app.command("add")
def memo_add(
    body: Annotated[str, typer.Argument(help="The memo's text; '-' reads it from standard input.")],
    kind: Annotated[str, typer.Option(help="journal, familiarisation, code, coding, participant.")] = "journal",
    target: Annotated[str | None, typer.Option(help="What it is about: transcript, code, coding id, participant.")] = None,
    phase: Annotated[str, typer.Option(help="The phase of the analysis.")] = "coding",
    title: str = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Write a memo or a journal entry."""
    with handled():
        m = open_(project).memos.add(stdin_text() if body == "-" else body, kind=kind, target=target, phase=phase, title=title)
        emit(asdict(m), as_json=as_json, render=lambda r: typer.echo(f"Saved {r['kind']} memo {r['id']}"))


@memo_app.command("list")
def memo_list(kind: str | None = None, phase: str | None = None, project: ProjectOpt = Path("."),
              as_json: JsonOpt = False) -> None:
    """Memos and journal entries, newest first."""
    with handled():
        memos = [asdict(m) for m in open_(project).memos.list(kind=kind, phase=phase)]
        emit({"memos": memos}, as_json=as_json, render=lambda r: table(r["memos"], ["id", "kind", "phase", "author", "body"]))
