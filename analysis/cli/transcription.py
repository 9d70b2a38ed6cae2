"""``storyloom transcribe``: recordings to speaker-labelled transcripts, on this machine (issue 22)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from analysis.cli._common import JsonOpt, ProjectOpt, app, emit, handled, open_, progress_bar


@app.command()
def transcribe(
    files: Annotated[list[Path], typer.Argument(help="Recordings (WAV, MP3, M4A, FLAC, OGG, MP4, ...).")],
    speakers: Annotated[int, typer.Option(help="How many people speak in each recording (1 skips telling them apart).")] = 2,
    language: Annotated[str, typer.Option(help="The language spoken: auto (detect it), or a code such as en, fr, de.")] = "auto",
    beam: Annotated[int, typer.Option(help="Beam size of the recogniser (1-10): 5 is more accurate, 1 faster.")] = 5,
    replace: Annotated[bool, typer.Option(help="Transcribe again over a transcript of the same name in transcripts/.")] = False,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Transcribe recordings privately with Whisper base (int8, on this machine; nothing leaves it): each
    becomes transcripts/STEM.vtt (one cue per passage, speakers "Speaker 1..N" for the speaker map), its
    unsure words in transcripts/STEM.unsure.json and the recording in media/, imported in the same step."""
    with handled():
        report = open_(project).transcription.transcribe(
            files, speakers=speakers, language=language, beam=beam, replace=replace,
            progress=progress_bar(not as_json))
        # the JSON as before: the imports' lists under "import" (a word no field can be called)
        data = asdict(report)
        data["import"] = data.pop("imported")
        emit(data, as_json=as_json, render=_render)


def _render(r: dict[str, Any]) -> None:
    for t in r["transcribed"]:
        typer.echo(f"Transcribed {t['recording']} -> transcripts/{t['transcript']} ({t['language']}, "
                   f"{t['duration']:.0f} s, {t['words']} words, {t['speakers']} speaker(s), "
                   f"{t['unsure']} unsure word(s) to review; recording in {t['media']})")
    for label in r["import"].get("unmapped", []):
        typer.echo(f"Unmapped speaker: {label} (map it with `storyloom speaker map` or on the Project page)")
    for warning in r["warnings"]:
        typer.echo(f"Warning: {warning}", err=True)


@app.command("speech-model")
def speech_model(project: ProjectOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Prepare the speech model now (set-up runs this): join Whisper base into the per-user cache and check
    the sha256 of its files and of the voice encoder's weights. Refuses, naming the file, on any mismatch.
    (The model is the user's, for every project: --project is accepted and not needed.)"""
    from analysis.domain.progress import Step
    from analysis.speech import models

    with handled():
        bar = progress_bar(not as_json)

        def preparing(what: str, done: int, total: int) -> None:
            if bar is not None:
                bar(Step("prepare", done // 1_000_000, max(total // 1_000_000, 1), "MB", what))

        folder = models.prepare(preparing)
        models.encoder_weights()
        emit({"model": models.MODEL_NAME, "folder": str(folder), "files": sorted(models.WHISPER_BASE_SHA256)},
             as_json=as_json, render=lambda r: typer.echo(f"The speech model ({r['model']}) is ready in {r['folder']}"))
