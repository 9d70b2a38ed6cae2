"""Project commands: init, import, speaker map, sync, status, transcripts, participants, undo, redo."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.errors import Errors, NotFoundError, ValidationError
from analysis.cli._common import JsonOpt, ProjectOpt, WaitOpt, app, emit, handled, open_, progress_bar, table

if TYPE_CHECKING:
    from analysis.services.results import TranscriptListing


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to make a project of (default: here).")] = Path("."),
    database: Annotated[str | None, typer.Option(
        "--database", help="A team project on PostgreSQL: postgresql://USER@HOST/DB (no password: use PGPASSWORD, "
                           "~/.pgpass or a service file). PATH/project.toml then points at the server.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create (or open) a project: PATH/project.db beside transcripts/ and codebooks/ (or, with --database,
    PATH/project.toml naming the server)."""
    with handled():
        project = open_(path, create=True) if database is None else _open_team(path, database)
        (project.path / "transcripts").mkdir(exist_ok=True)
        (project.path / "codebooks").mkdir(exist_ok=True)
        emit({"project": str(project.path), **project.status()}, as_json=as_json,
             render=lambda r: typer.echo(f"Project ready at {r['project']}"))


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Transcript files, or folders of them.")],
    participant: Annotated[str | None, typer.Option(help="Map the (non-interviewer) speakers to this participant.")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False, wait: WaitOpt = True,
) -> None:
    """Import transcripts (any format of `storyloom formats`): segment and store (all or nothing), keep a copy in
    transcripts/ (so `storyloom sync` finds them), then embed the new sentences (--no-wait: later)."""
    with handled():
        report = open_(project).transcripts.import_files(files, participant=participant, wait=wait,
                                                         progress=progress_bar(not as_json))
        emit(report, as_json=as_json, render=_render_import)


def _render_import(r: dict[str, Any]) -> None:
    for key in ("added", "updated", "unchanged", "missing"):
        if r.get(key):
            typer.echo(f"{key.capitalize()}: {', '.join(r[key])}")
    if r.get("copied"):
        typer.echo(f"Copied into transcripts/: {', '.join(r['copied'])}")
    for name in r.get("replaced", []):
        typer.echo(f"Replaced transcripts/{name} (the previous file is kept as transcripts/{name}.bak)")
    for warning in r.get("copy_warnings", []):
        typer.echo(f"Warning: {warning}")
    typer.echo(f"Segments embedded: {r['segments_embedded']}")
    if r.get("embedding_pending"):
        typer.echo(f"Left to embed: {r['embedding_pending']:,} sentences (readable and codable now; semantic search "
                   "covers them once `storyloom embed` or the workbench has embedded them)")
    if r.get("reanchored") or r.get("orphaned"):
        typer.echo(f"Codings re-anchored: {r['reanchored']}; orphaned (kept, to review): {r['orphaned']}")
    for label in r.get("unmapped", []):
        typer.echo(f"Unmapped speaker: {label} (add it to transcripts/participants.csv or map it in the app)")
    if r.get("codebook_imported") or r.get("codings_imported"):
        typer.echo(f"Codebook codes imported: {r['codebook_imported']}; codings imported: {r['codings_imported']}")
    people = r.get("participants") or {}
    if people.get("applied"):
        typer.echo(f"participants.csv applied: {people['written']} values written")
    for c in people.get("conflicts", []):
        typer.echo(f"Kept the in-app value of {c['participant']}'s {c['attribute']} ({c['in_app']!r}); "
                   f"participants.csv line {c['line']} now says {c['in_file']!r}: edit one of them to agree")
    for warning in [*people.get("warnings", []), *r.get("codings_warnings", [])]:
        typer.echo(f"Warning: {warning}")
    for name in r.get("conflicts", []):
        typer.echo(f"Conflict: {name} was corrected in Storyloom and its file changed too; the corrected text is "
                   f"kept and the file is not overwritten (`storyloom import transcripts/{name}` takes the file)")
    for attached in r.get("media_attached", []):
        typer.echo(f"Recording attached (matched by name): {attached}")
    for warning in r.get("media_warnings", []):
        typer.echo(f"Warning: {warning}")


speaker_app = typer.Typer(help="Speakers of a transcript: say who each label is.", no_args_is_help=True)
app.add_typer(speaker_app, name="speaker")


@speaker_app.command("map")
def speaker_map(
    transcript: Annotated[str, typer.Argument(help="The transcript's name, e.g. interview_3.txt.")],
    label: Annotated[str, typer.Argument(help="The speaker label as the transcript writes it, e.g. 'Speaker 2'.")],
    participant: Annotated[str | None, typer.Argument(help="The participant's pseudonym (omit with --interviewer).")] = None,
    interviewer: Annotated[bool, typer.Option("--interviewer", help="The label is an interviewer, not a participant.")] = False,
    new: Annotated[bool, typer.Option("--new", help="Add PARTICIPANT as a new participant first.")] = False,
    note: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "",
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Map a speaker label of a transcript to a participant (or mark it as the interviewer). Undoable."""
    with handled():
        if not interviewer and not (participant or "").strip():
            raise ValidationError(Errors.E8004, label=label)
        opened = open_(project)
        if participant and not interviewer and new:
            opened.map_speaker_to_new(transcript, label, participant, note=note)  # one action, one undo step
        else:
            if participant and not interviewer:
                names = [p.pseudonym for p in opened.participants.list()]
                if participant not in names:
                    raise NotFoundError(Errors.E8005, pseudonym=participant, names=", ".join(names) or "none yet")
            opened.transcripts.map_speaker(transcript, label, participant, interviewer=interviewer, note=note)
        who = "the interviewer" if interviewer else participant
        emit({"transcript": transcript, "label": label, "participant": None if interviewer else participant,
              "interviewer": interviewer}, as_json=as_json,
             render=lambda r: typer.echo(f"Mapped '{label}' in {transcript} to {who}"))


@app.command()
def sync(project: ProjectOpt = Path("."), as_json: JsonOpt = False, wait: WaitOpt = True) -> None:
    """Rescan transcripts/: import new files, re-import changed ones, report missing ones; then embed the new
    sentences (--no-wait: later, by the workbench or `storyloom embed`)."""
    with handled():
        emit(open_(project).sync(progress=progress_bar(not as_json), wait=wait), as_json=as_json,
             render=_render_import)


@app.command()
def embed(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Embed every sentence still without a vector (left by `--no-wait`, or by a run that was stopped): in
    batches, each saved as it finishes, so a stopped run loses at most one batch and this picks up the rest."""
    with handled():
        opened = open_(project)
        stored = opened.transcripts.embed_pending(progress=progress_bar(not as_json))
        emit({"segments_embedded": stored, **asdict(opened.assist.coverage())}, as_json=as_json,
             render=lambda r: typer.echo(f"Sentences embedded: {r['segments_embedded']:,}; semantic search covers "
                                         f"{r['percent']} % of segments ({r['embedded']:,} of {r['segments']:,})"))


@app.command()
def formats(as_json: JsonOpt = False) -> None:
    """The file formats Storyloom reads (transcripts) and writes (exports)."""
    from analysis.export import EXPORT_FORMATS
    from analysis.ingest import TRANSCRIPT_FORMATS

    result = {"transcripts": [{"format": f.name, "suffixes": list(f.suffixes), "label": f.label, "mime": f.mime}
                              for f in TRANSCRIPT_FORMATS],
              "exports": [{"format": f.name, "suffixes": list(f.suffixes), "label": f.label,
                           "used_for": list(f.used_for)} for f in EXPORT_FORMATS]}
    emit(result, as_json=as_json, render=_render_formats)


def _render_formats(r: dict[str, Any]) -> None:
    typer.echo("Reads (transcripts):")
    for f in r["transcripts"]:
        typer.echo(f"  {' '.join(f['suffixes']):<12} {f['label']}")
    typer.echo("Writes (exports):")
    for f in r["exports"]:
        typer.echo(f"  {f['format']:<6} {f['label']:<16} for {', '.join(f['used_for'])}")


@app.command()
def status(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Counts of transcripts, participants, turns, segments (embedded), codes and codings."""
    with handled():
        emit(open_(project).status(), as_json=as_json, render=_render_status)


def _render_status(r: dict[str, int]) -> None:
    for k, v in r.items():
        typer.echo(f"{k:>13}: {v}")


@app.command()
def transcripts(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """One row per transcript: format, participants, speakers (turns, interviewer), segments, warnings."""
    with handled():
        rows = open_(project).transcripts.list()

        def render(rows: list[TranscriptListing]) -> None:
            for r in rows:
                typer.echo(f"{r.name}  [{r.format}]  {', '.join(r.participants) or '(no participant)'}"
                           f"  {r.segments} segments")
                for s in r.speakers:
                    typer.echo(f"    {s.label}: {s.turns} turns{' (interviewer)' if s.interviewer else ''}")
                for w in r.warnings:
                    typer.echo(f"    warning: {w}")

        emit({"transcripts": rows}, as_json=as_json, render=lambda r: render(r["transcripts"]))


@app.command()
def participants(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The participants (pseudonyms) and their attributes."""
    with handled():
        people = [{"pseudonym": p.pseudonym, **p.attributes} for p in open_(project).participants.list()]
        cols = list(dict.fromkeys(k for p in people for k in p))
        emit({"participants": people}, as_json=as_json, render=lambda r: table(r["participants"], cols))


@app.command()
def undo(
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
    yes: Annotated[bool, typer.Option("--yes", help="Undo a bulk action (an import, a merge) without asking.")] = False,
    history: Annotated[bool, typer.Option("--history", help="Show the last 20 actions (who, what) and undo nothing.")] = False,
) -> None:
    """Undo the last researcher action (across restarts). A bulk action (an import, a merge) is undone only
    once confirmed: at the prompt, or with --yes."""
    with handled():
        p = open_(project)
        if history:
            rows = [{"when": e.at[:19].replace("T", " "), "who": e.who, "what": e.summary, "state": e.state}
                    for e in p.undo_history(20)]
            emit({"history": rows}, as_json=as_json, render=lambda r: table(r["history"], ["when", "who", "what", "state"]))
            return
        pending = p.can_undo()
        if not yes and pending is not None and p.is_bulk(pending) and not as_json and sys.stdin.isatty():
            typer.confirm(f"Undo '{pending.summary}' ({p.describe_scope(pending)}; by {pending.who})?", abort=True)
            yes = True
        ev = p.undo(allow_bulk=yes, expect=pending.id if pending is not None else None)
        emit({"undone": ev.summary, "event": ev.id}, as_json=as_json, render=lambda r: typer.echo(f"Undid: {r['undone']}"))


@app.command()
def redo(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Redo the action undone last."""
    with handled():
        ev = open_(project).redo()
        emit({"redone": ev.summary, "event": ev.id}, as_json=as_json, render=lambda r: typer.echo(f"Redid: {r['redone']}"))


def _open_team(path: Path, database: str) -> Any:
    from analysis.project import open_project

    return open_project(path, create=True, database=database)
