"""Team commands (issue 14): ``agreement`` (inter-coder agreement for codebook-style studies).

A team project itself is made with ``storyloom init --database postgresql://USER@HOST/DB PATH``
(``core.py``); codings carry their coder (``storyloom coding add ... --coder NAME``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import JsonOpt, ProjectOpt, app, emit, handled, open_, table


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _render(r: dict[str, Any]) -> None:
    typer.echo(f"Inter-coder agreement of {', '.join(r['coders'])} on {r['unit']} units "
               f"({len(r['transcripts'])} transcript(s)).")
    rows = [{"code": c["code"], "units": c["units"], "percent": _num(c["percent_agreement"]),
             "kappa": _num(c["cohen_kappa"]), "alpha": _num(c["krippendorff_alpha"])} for c in r["codes"]]
    o = r["overall"]
    rows.append({"code": "(overall)", "units": o["units"], "percent": _num(o["percent_agreement"]),
                 "kappa": _num(o["cohen_kappa"]), "alpha": _num(o["krippendorff_alpha"])})
    table(rows, ["code", "units", "percent", "kappa", "alpha"])
    typer.echo("")
    typer.echo(r["methods"])
    typer.echo(f"Note: {r['note']}")


@app.command()
def agreement(
    coders: Annotated[str, typer.Option("--coders", help="Two or more coders, comma-separated: A,B[,C...].")],
    unit: Annotated[str, typer.Option("--unit", help="character (as NVivo), sentence (segments) or turn.")] = "character",
    code: Annotated[list[str] | None, typer.Option("--code", help="A code to compare (repeatable; default: all used).")] = None,
    transcript: Annotated[list[str] | None, typer.Option(
        "--transcript", help="A transcript to compare on (repeatable; default: every one they coded).")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Inter-coder agreement (percent, Cohen's kappa, Krippendorff's alpha) per code and overall.

    For codebook-style (coding-reliability) studies; not a measure of a reflexive thematic analysis."""
    with handled():
        result = open_(project).agreement.compare(
            [c for c in coders.split(",")], unit=unit, codes=code or None, transcripts=transcript or None)
        emit(result, as_json=as_json, render=_render)
