"""Recordings and corrections: ``storyloom media attach|detach|list`` and ``storyloom transcript edit``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from analysis.cli._common import JsonOpt, NoteOpt, ProjectOpt, command_group, emit, handled, open_, table

if TYPE_CHECKING:
    from analysis.services.results import TextCorrection

media_app = command_group("media", "Recordings (audio, video) beside transcripts, in the project's media/ folder.")
transcript_app = command_group("transcript", "A transcript's words: correct them while listening.")


def _row(m: Any) -> dict[str, Any]:
    return {"transcript": m.transcript, "file": m.file, "kind": m.kind, "format": m.format,
            "duration": m.duration, "codec": m.codec, "channels": m.channels, "sample_rate": m.sample_rate,
            "size": m.size}


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@media_app.command("attach")
def attach(
    transcript: Annotated[str, typer.Argument(help="The transcript's name, e.g. interview_03.vtt.")],
    file: Annotated[Path, typer.Argument(help="The recording (.wav .mp3 .m4a .ogg .opus .flac .mp4 .webm .mov); "
                                              "copied into media/ when it is elsewhere.")],
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Attach a recording to a transcript (replacing one attached before). Undoable."""
    with handled():
        done = open_(project).media.attach(transcript, file, note=note)
        result = {**_row(done.media), "copied": done.copied, "warnings": list(done.warnings)}

        def render(r: dict[str, Any]) -> None:
            where = "copied into media/" if r["copied"] else "in media/"
            typer.echo(f"Attached {r['file']} ({where}; {r['kind']}, {_clock(r['duration'])}, {r['codec']}) "
                       f"to {r['transcript']}")
            for warning in r["warnings"]:
                typer.echo(f"Warning: {warning}")

        emit(result, as_json=as_json, render=render)


@media_app.command("detach")
def detach(
    transcript: Annotated[str, typer.Argument(help="The transcript's name.")],
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Detach a transcript's recording (the file stays in media/). Undoable."""
    with handled():
        info = open_(project).media.detach(transcript, note=note)
        emit(_row(info), as_json=as_json,
             render=lambda r: typer.echo(f"Detached {r['file']} from {r['transcript']} (the file stays in media/)"))


@media_app.command("list")
def list_(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """The recordings attached to transcripts: file, kind, length, codec, channels."""
    with handled():
        rows = [_row(m) for m in open_(project).media.list()]
        emit({"media": rows}, as_json=as_json, render=lambda r: table(
            [{**m, "duration": _clock(m["duration"]), "size": f"{m['size'] / 1e6:.1f} MB"} for m in r["media"]],
            ["transcript", "file", "kind", "duration", "codec", "channels", "size"])
            if r["media"] else typer.echo("No recordings attached yet (storyloom media attach TRANSCRIPT FILE)."))


@transcript_app.command("edit")
def edit(
    transcript: Annotated[str, typer.Argument(help="The transcript's name.")],
    text: Annotated[str | None, typer.Argument(help="The line's corrected words (omit to change only the speaker).")] = None,
    line: Annotated[int, typer.Option("--line", help="The line to correct, as numbered in Read & code's margin.")] = 0,
    speaker: Annotated[str | None, typer.Option(help="The turn's corrected speaker label.")] = None,
    note: NoteOpt = "", project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Correct a line's words (or its turn's speaker): one recorded action; codings outside the changed words
    keep their quotes, codings inside are re-placed or reported. Undoable while nothing later depends on it."""
    with handled():
        done = open_(project).transcripts.correct(transcript, line=line, text=text, speaker=speaker, note=note)

        def render(r: TextCorrection) -> None:
            typer.echo(f"Corrected line {r.line} of {r.transcript} (correction {r.corrections})")
            if r.reanchored or r.orphaned:
                typer.echo(f"Codings re-placed: {r.reanchored}; orphaned (kept, to review): {r.orphaned}")

        emit(done, as_json=as_json, render=render)
