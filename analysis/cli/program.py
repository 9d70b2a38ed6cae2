"""The installed program: ``storyloom --version``, ``open`` (the workbench), ``demo`` (the sample study)
and ``doctor`` (what is installed and working)."""

from __future__ import annotations

import sys
import threading
import time
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer

from analysis.cli._common import JsonOpt, app, emit, handled, progress_bar

NoBrowserOpt = Annotated[bool, typer.Option("--no-browser", help="Only print the workbench's address; open no browser.")]
PortOpt = Annotated[int | None, typer.Option(help="The port to listen on (default: 8501, or a free one if it is taken).")]
WAIT_S = 180


def _version(show: bool) -> None:
    if show:
        from analysis.install import version

        typer.echo(f"storyloom {version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print Storyloom's version and exit.")] = False,
) -> None:
    """Storyloom: a local-first workbench for narrative inquiry and reflexive thematic analysis."""


@app.command("open")
def open_workbench(
    project: Annotated[Path | None, typer.Argument(
        help="The project folder (default: the current folder if it holds a project, else the start screen).")] = None,
    no_browser: NoBrowserOpt = False, port: PortOpt = None,
) -> None:
    """Start the workbench on this computer (localhost only) and open it in the browser; Ctrl+C stops it.
    A folder without a project shows the start screen, which offers to create one there."""
    from analysis.project import is_project

    with handled():
        if project is None and is_project(Path.cwd()):
            project = Path.cwd()
        _serve(project.expanduser().resolve() if project is not None else None, no_browser=no_browser, port=port)


@app.command()
def demo(
    path: Annotated[Path, typer.Argument(help="Where to put the sample study (made if missing).")] = Path("storyloom-sample"),
    no_browser: NoBrowserOpt = False, port: PortOpt = None,
    no_open: Annotated[bool, typer.Option("--no-open", help="Set the study up only; do not start the workbench.")] = False,
) -> None:
    """Copy the sample study (seven coded interviews, their codebook, cases and story) into PATH, import
    it with a progress bar per stage, and open it in the workbench."""
    from analysis.project import create_project
    from analysis.sample import copy_sample
    from analysis.userdirs import remember_project

    with handled():
        folder = path.expanduser().resolve()
        typer.echo(f"==> Copying the sample study into {folder}")
        report = copy_sample(folder)
        for name in report["kept"]:
            typer.echo(f"Kept your {name} (it differs from the sample's)")
        _prepare_language_model()
        typer.echo("==> Importing the sample study: reading, splitting into sentences, embedding, saving")
        with create_project(folder) as project:  # a study set up before is synced again: quick when unchanged
            result = project.sync(progress=progress_bar(True))
            typer.echo(f"Transcripts: {len(result.get('added', [])) + len(result.get('updated', []))} imported, "
                       f"{len(result.get('unchanged', []))} unchanged")
            status = project.status()
        remember_project(folder)
        typer.echo(f"Sample study ready: {status.get('transcripts', 0)} transcripts, {status.get('codes', 0)} codes, "
                   f"{status.get('codings', 0)} codings")
        if not no_open:
            _serve(folder, no_browser=no_browser, port=port, prepared=True)


@app.command()
def doctor(
    project: Annotated[Path, typer.Option("--project", "-p", help="The project folder to check (default: here).")] = Path("."),
    prepare: Annotated[bool, typer.Option("--prepare", help="Do the one-time set-up now (export the language model).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """What is installed and working: Storyloom and its packages, the language models, the ONNX cache,
    Chromium, the PostgreSQL client, free disk, and the project's schema revision; a line per problem."""
    from analysis.install import checks
    from analysis.userdirs import cache_dir, config_dir, log_dir

    with handled():
        if prepare:
            _prepare_language_model()
        found = [c.as_dict() for c in checks(project.expanduser().resolve())]
        result = {"checks": found, "ok": all(c["status"] != "problem" for c in found),
                  "settings": str(config_dir()), "cache": str(cache_dir()), "logs": str(log_dir())}
        emit(result, as_json=as_json, render=_render_doctor)
    if not result["ok"]:
        raise typer.Exit(1)


def _render_doctor(r: dict[str, Any]) -> None:
    marks = {"ok": "ok     ", "warn": "note   ", "problem": "PROBLEM"}
    for c in r["checks"]:
        typer.echo(f"{marks[c['status']]} {c['name']}: {c['detail']}")
        if c["fix"]:
            typer.echo(f"        -> {c['fix']}")
    typer.echo(f"Settings and recent projects: {r['settings']}; caches: {r['cache']}; logs: {r['logs']}")
    problems = sum(c["status"] == "problem" for c in r["checks"])
    typer.echo("Everything needed is installed and working." if not problems else f"{problems} problem(s): see above.")


def _prepare_language_model() -> None:
    """The one-time ONNX export, behind a progress line (never silently inside a first search)."""
    from analysis.install import language_model_state, prepare_language_model

    if language_model_state()[0] != "missing":
        return
    typer.echo("==> Preparing the language model, once for this computer: exporting MiniLM for ONNX Runtime "
               "and checking it against torch (tens of seconds)")
    done = threading.Event()
    start = time.monotonic()

    def tick() -> None:
        while not done.wait(1.0):
            sys.stderr.write(f"\r    {time.monotonic() - start:4.0f} s")
            sys.stderr.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    if sys.stderr.isatty():
        ticker.start()
    try:
        state = prepare_language_model()
    finally:
        done.set()
        if ticker.is_alive():
            ticker.join()
            sys.stderr.write("\n")
    typer.echo(f"    done in {time.monotonic() - start:.0f} s" + ("" if state == "ready" else
               " (the export did not pass its check: torch is used, slower, with the same results)"))


def _serve(project: Path | None, *, no_browser: bool, port: int | None, prepared: bool = False) -> None:
    from analysis.cli.server import Server, choose_port
    from analysis.project import is_project
    from analysis.userdirs import remember_project

    if project is not None and is_project(project):
        remember_project(project)
    if not prepared:
        _prepare_language_model()
    server = Server(choose_port(port), project)
    try:
        typer.echo("==> Starting the workbench (localhost only; nothing leaves this computer)")
        server.wait_ready(WAIT_S)
        typer.echo(f"Storyloom is running at {server.url}  (Ctrl+C stops it; its log: {server.log})")
        if not no_browser:
            webbrowser.open(server.url)
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        typer.echo("Storyloom stopped.")
