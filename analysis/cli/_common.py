"""What every command shares: the app, the common options, error and output handling."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from analysis.errors import Errors, StoryloomError, ValidationError, translate

if TYPE_CHECKING:
    from analysis.domain.progress import Progress
    from analysis.project import Project

app = typer.Typer(
    name="storyloom", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Storyloom: a local-first workbench for narrative inquiry and reflexive thematic analysis.",
)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The project folder (holds project.db).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout (for scripts).")]
WaitOpt = Annotated[bool, typer.Option(
    "--wait/--no-wait", help="Embed the new sentences before returning (the default, on a terminal or not), or "
                             "store and segment them and return at once: the transcripts are readable and codable "
                             "now, semantic search covers them once the workbench or `storyloom embed` has "
                             "embedded them.")]
NoteOpt = Annotated[str, typer.Option(help="A reflexive note: why you made this change.")]


def command_group(name: str, help: str) -> typer.Typer:
    """A group of subcommands (``storyloom NAME ...``) added to the app; it shows its help when called bare."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def open_(path: Path, *, create: bool = False) -> Project:
    """Open the project at ``path``; every command but ``init`` refuses a folder without project.db."""
    from analysis.project import open_project

    return open_project(path, create=create)


def _plain(value: Any) -> Any:
    """What JSON cannot write itself: a service's result dataclass as its fields, anything else as text."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def emit(result: Any, *, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print a command's result (a dict, or a service's result dataclass): JSON, or the human rendering."""
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=_plain))
    elif render is not None:
        render(result)
    else:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=_plain))


def _not_utf8(what: str, text: str) -> StoryloomError | None:
    """The error for ``text`` (an argument Python decoded with ``surrogateescape``) when it holds bytes that
    are not UTF-8 (lone surrogates U+DC80-U+DCFF stand for them), else None."""
    for offset, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            return ValidationError(Errors.E1801, what=what, byte=ord(ch) - 0xDC00, offset=offset)
    return None


def stdin_text(what: str = "text on standard input") -> str:
    """Standard input as UTF-8 text (stripped); invalid UTF-8 is a catalogue error naming the byte."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig").strip()
    except UnicodeDecodeError as err:
        raise ValidationError(Errors.E1801, what=what, byte=data[err.start], offset=err.start) from None


@contextmanager
def handled() -> Iterator[None]:
    """The CLI's error boundary: any error becomes one message on stderr (``translate``) and exit 1. The
    command's arguments are checked first: one that is not UTF-8 is refused before anything is opened."""
    try:
        for n, arg in enumerate(sys.argv[1:], 1):
            bad = _not_utf8(f"command argument {n}", arg)
            if bad is not None:
                raise bad
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


def progress_bar(enabled: bool, stream: TextIO | None = None) -> Progress | None:
    """A progress callback drawing one tqdm bar per stage (parse, segment, embed, store) on a terminal,
    each left on screen when its stage is done; the embedding's shows sentences/s and the time left.
    None (quiet) for ``--json`` or when ``stream`` (default: stderr) is not a terminal."""
    out = sys.stderr if stream is None else stream
    if not enabled or not out.isatty():
        return None
    from tqdm import tqdm

    from analysis.domain.progress import STAGE_LABELS, Rate, Step, clock_text

    bars: dict[str, Any] = {}
    rates: dict[str, Rate] = {}
    fmt = "{desc:<24} {bar:12} {n_fmt}/{total_fmt} {unit}{postfix}"  # fits 80 columns

    def update(step: Step) -> None:
        for stage, old in list(bars.items()):
            if stage != step.stage:
                old.close()
                del bars[stage]
        label = STAGE_LABELS.get(step.stage, step.stage)
        if step.total <= 0:
            out.write(f"{label:<24} nothing to do" + (f" ({step.item})" if step.item else "") + "\n")
            return
        bar = bars.get(step.stage)
        if bar is None:
            size = shutil.get_terminal_size((100, 24))  # a terminal that reports no size (0 x 0): 100 x 24
            bar = bars[step.stage] = tqdm(total=step.total, file=out, leave=True, unit=step.unit, desc=label,
                                          mininterval=0, bar_format=fmt, ncols=max(size.columns, 60),
                                          nrows=max(size.lines, 5))  # (tqdm hides a bar below row 0 of 0)
            rates[step.stage] = Rate()
        rate, left = rates[step.stage].update(step)
        notes = [step.item[:40]] if step.item else []
        if step.stage in ("embed", "recognise") and rate is not None:
            notes = [f"{rate:,.0f}/s", *([] if step.finished else [f"{clock_text(left or 0)} left"]), *notes]
        bar.set_postfix_str(" · ".join(notes), refresh=False)
        bar.update(max(step.done - bar.n, 0))
        if step.finished:
            bar.close()
            del bars[step.stage]

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
