"""What every command shares: the app, the common options, error and output handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import translate

if TYPE_CHECKING:
    from ..project import Project

app = typer.Typer(
    name="storyloom", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Storyloom: a local-first workbench for narrative inquiry and reflexive thematic analysis.",
)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder (holds project.db).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout (for scripts).")]
NoteOpt = Annotated[str, typer.Option(help="A reflexive note: why you made this change.")]


def command_group(name: str, help: str) -> typer.Typer:
    """A group of subcommands (``storyloom NAME ...``) added to the app; it shows its help when called bare."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def open_(path: Path, *, create: bool = False) -> Project:
    """Open the project at ``path``; every command but ``init`` refuses a folder without project.db."""
    from ..project import open_project

    return open_project(path, create=create)


def emit(result: Any, *, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print a command's result: JSON, or the human rendering."""
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
    elif render is not None:
        render(result)
    else:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))


@contextmanager
def handled() -> Iterator[None]:
    """The CLI's error boundary: any error becomes one message on stderr (``translate``) and exit 1."""
    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as err:  # noqa: BLE001 - the boundary: nothing reaches a researcher as a traceback
        typer.echo(f"Error: {translate(err)}", err=True)
        raise typer.Exit(1) from None


def wrote(path: Path, warnings: list[str], *, as_json: bool, **extra: Any) -> None:
    """Report a written export: its path, and any warning (e.g. its audit record is missing) on stderr."""
    for warning in warnings:
        typer.echo(f"Warning: {warning}", err=True)
    emit({"path": str(path), **extra, "warnings": warnings}, as_json=as_json,
         render=lambda r: typer.echo(f"Wrote {r['path']}"))


def progress_bar(enabled: bool) -> Any:
    """A tqdm progress callback on a terminal; none for ``--json`` or when piped."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=100, file=sys.stderr, leave=False, bar_format="{desc:40.40} {bar} {percentage:3.0f}%")

    def update(stage: str, fraction: float) -> None:
        bar.set_description_str(stage)
        bar.n = int(fraction * 100)
        bar.refresh()
        if stage == "Done":
            bar.close()

    return update


def table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """A plain aligned table on stdout."""
    if not rows:
        typer.echo("(none)")
        return
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        typer.echo("  ".join(v[:w].ljust(w) for v, w in zip(row, widths)))
