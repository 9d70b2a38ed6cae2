"""Team commands (issue 14): ``agreement`` (inter-coder agreement for codebook-style studies),
``researcher add|list|role`` (the team and its roles), ``merge`` (another SQLite copy of the project).

A team project itself is made with ``storyloom init --database postgresql://USER@HOST/DB PATH``
(``core.py``); codings carry their coder (``storyloom coding add ... --coder NAME``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.cli._common import JsonOpt, ProjectOpt, app, emit, handled, open_, table

if TYPE_CHECKING:
    from analysis.services.results import AgreementResult, MergeReport

researcher_app = typer.Typer(help="The researchers of a team project and their roles (lead, coder, reader).",
                             no_args_is_help=True)
app.add_typer(researcher_app, name="researcher")
RoleOpt = Annotated[str, typer.Option("--role", help="lead (also merges, splits, deletes codes; manages the team), "
                                                      "coder, or reader (changes nothing).")]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _render(r: AgreementResult) -> None:
    typer.echo(f"Inter-coder agreement of {', '.join(r.coders)} on {r.unit} units "
               f"({len(r.transcripts)} transcript(s)).")
    rows: list[dict[str, Any]] = [
        {"code": c.code, "units": c.units, "percent": _num(c.percent_agreement), "kappa": _num(c.cohen_kappa),
         "alpha": _num(c.krippendorff_alpha)} for c in r.codes]
    o = r.overall
    rows.append({"code": "(overall)", "units": o.units, "percent": _num(o.percent_agreement),
                 "kappa": _num(o.cohen_kappa), "alpha": _num(o.krippendorff_alpha)})
    table(rows, ["code", "units", "percent", "kappa", "alpha"])
    typer.echo("")
    typer.echo(r.methods)
    typer.echo(f"Note: {r.note}")


@app.command()
def agreement(
    coders: Annotated[str, typer.Option("--coders", help="Two or more coders, comma-separated: A,B[,C...].")],
    unit: Annotated[str, typer.Option("--unit", help="character (as NVivo), sentence (segments) or turn.")] = "character",
    code: Annotated[list[str] | None, typer.Option("--code", help="A code to compare (repeatable; default: all used).")] = None,
    transcript: Annotated[list[str] | None, typer.Option(
        "--transcript", help="A transcript to compare on (repeatable; default: every one they coded).")] = None,
    report: Annotated[bool, typer.Option("--report", help="Mark this comparison as the one `storyloom report methods` "
                                                          "reports (default: the last one run).")] = False,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Inter-coder agreement (percent, Cohen's kappa, Krippendorff's alpha) per code and overall.

    For codebook-style (coding-reliability) studies; not a measure of a reflexive thematic analysis."""
    with handled():
        result = open_(project).agreement.compare(
            [c for c in coders.split(",")], unit=unit, codes=code or None, transcripts=transcript or None,
            report=report)
        emit(result, as_json=as_json, render=_render)


@researcher_app.command("add")
def researcher_add(name: Annotated[str, typer.Argument(help="The name they code under (STORYLOOM_USER, --coder, the sidebar).")],
                   role: RoleOpt = "coder", project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Register a researcher with a role. The first one registered is the lead; from then on roles apply.

    Accountability inside a trusted team, not security: access is the database server's business."""
    with handled():
        emit(open_(project).researchers.add(name, role=role), as_json=as_json,
             render=lambda r: typer.echo(f"Added {r.name} as {r.role} ({r.guid})."))


@researcher_app.command("role")
def researcher_role(name: Annotated[str, typer.Argument(help="A registered researcher.")], role: RoleOpt,
                    project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Change a researcher's role (the lead's action)."""
    with handled():
        emit(open_(project).researchers.set_role(name, role), as_json=as_json,
             render=lambda r: typer.echo(f"{r.name} is now a {r.role}."))


@researcher_app.command("list")
def researcher_list(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The researchers of the project and their roles (none: a single researcher's project, no roles)."""
    with handled():
        rows = [asdict(r) for r in open_(project).researchers.list()]

        def render(rs: list[dict[str, Any]]) -> None:
            if not rs:
                typer.echo("No researchers registered: no roles apply (anyone who opens the project may change it).")
            else:
                table(rs, ["name", "role", "guid", "added_by", "added_at"])

        emit(rows, as_json=as_json, render=render)


def _render_merge(r: MergeReport) -> None:
    head = "Would merge" if r.dry_run else "Merged"
    c, k, t, m = r.codes, r.codings, r.transcripts, r.memos
    typer.echo(f"{head} {r.other}{' (dry run: nothing changed)' if r.dry_run else ''}.")
    typer.echo(f"Transcripts: {t.matched} matched" + (f"; text differs in {', '.join(t.changed)}" if t.changed else "")
               + (f"; not in this project: {', '.join(t.missing)} (sync them first)" if t.missing else ""))
    typer.echo(f"Codes: {len(c.matched_by_guid)} matched by GUID, {len(c.matched_by_path)} by path, "
               f"{len(c.added)} added" + (f" ({', '.join(c.added)})" if c.added else ""))
    typer.echo(f"Codings: {k.matched} already here, {k.added} added ({k.placed_by_quote} placed by their "
               f"quote, {k.orphaned} kept as orphans to review), {k.unplaced} on transcripts this project lacks")
    typer.echo(f"Memos: {m.matched} already here, {m.added} added, {m.unplaced} without a place")
    for x in c.conflicts:
        typer.echo(f"Conflict: {x.code}: {x.field} differs (kept ours: {x.ours[:60]!r}; theirs "
                   f"{x.theirs[:60]!r}{' is in a memo on the code' if x.field != 'place' else ''})")
    if r.not_merged:
        typer.echo("Not merged: " + ", ".join(f"{n} {k}" for k, n in r.not_merged.items()))


@app.command()
def merge(other: Annotated[Path, typer.Argument(help="The folder of the other copy (a SQLite project).")],
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be merged; change nothing.")] = False,
          project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Merge another copy of this project, coded separately from the same transcripts (undo: one action).

    Codes match by GUID, else by path; codings keep their coders; the report lists what was matched,
    added and conflicting."""
    with handled():
        emit(open_(project).merge.from_project(other, dry_run=dry_run), as_json=as_json, render=_render_merge)
