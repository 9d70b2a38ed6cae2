"""REFI-QDA interchange commands: ``storyloom refi import FILE`` and ``storyloom refi export --output PATH``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from analysis.cli._common import JsonOpt, ProjectOpt, WaitOpt, app, emit, handled, open_, progress_bar, table

refi_app = typer.Typer(help="REFI-QDA interchange with NVivo, MAXQDA, ATLAS.ti, QualCoder (.qdpx projects, .qdc "
                            "codebooks).", no_args_is_help=True)
app.add_typer(refi_app, name="refi")


@refi_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A .qdpx project or a .qdc codebook exported by another program.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and check everything; change nothing.")] = False,
    sources_from: Annotated[Path | None, typer.Option(
        "--sources-from", help="The folder from which sources kept outside the archive (absolute or basePath "
                               "paths) may be read; without it they are refused.")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False, wait: WaitOpt = True,
) -> None:
    """Import a REFI-QDA project or codebook: one step, all or nothing; a re-import merges. The sources'
    sentences are embedded after it (--no-wait: later, by the workbench or `storyloom embed`)."""
    with handled():
        report = open_(project).interchange.import_project(file, dry_run=dry_run, sources_from=sources_from,
                                                           progress=progress_bar(not as_json and not dry_run),
                                                           wait=wait)
        emit(report, as_json=as_json, render=lambda r: _render(r, dry_run))


def _render(r: dict[str, Any], dry_run: bool) -> None:
    typer.echo(f"{'Would import' if dry_run else 'Imported'} from {r.get('origin') or 'an unknown program'}: "
               f"{r['codes']} codes" + (f", {r['codings']} codings" if "codings" in r else ""))
    if r.get("sources"):
        table(r["sources"], ["name", "rule", "evidence", "selections", "placed", "ambiguous", "orphaned"])
    if r.get("media"):
        table(r["media"], ["name", "kind", "recording", "transcript", "attached"])
    for name in r.get("outside_files", []):
        typer.echo(f"{'Would read' if dry_run else 'Read'} from outside the archive: {name}")
    for name in r.get("skipped_sources", []):
        typer.echo(f"Not imported (no text to code): {name}")
    for warning in r.get("warnings", []):
        typer.echo(f"Warning: {warning}", err=True)
    if not dry_run:
        typer.echo(f"Added {r['added']}, changed {r['changed']}, left alone {r['unchanged']}.")


@refi_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="PATH.qdpx (the project) or PATH.qdc (the codebook).")],
    codebook_only: Annotated[bool, typer.Option("--codebook-only", help="Write only the codebook (.qdc).")] = False,
    positions: Annotated[str, typer.Option(help="codepoints (the standard) or utf16 (NVivo-style).")] = "codepoints",
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Export the project (.qdpx) or its codebook (.qdc) for other QDA programs."""
    with handled():
        service = open_(project).interchange
        path = service.export_codebook(output) if codebook_only else service.export_project(output, positions=positions)
        emit({"path": str(path)}, as_json=as_json, render=lambda r: typer.echo(f"Wrote {r['path']}"))
