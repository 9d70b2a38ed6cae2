"""Assist commands: search (suggestions only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import JsonOpt, ProjectOpt, app, emit, handled, open_, table


@app.command()
def search(
    query: str,
    k: Annotated[int, typer.Option("--k", help="How many hits.")] = 10,
    participant: Annotated[str | None, typer.Option(help="Only this participant.")] = None,
    project: ProjectOpt = Path("."), as_json: JsonOpt = False,
) -> None:
    """Semantic search over segments (cosine on local embeddings)."""
    with handled():
        hits = open_(project).search(query, k=k, participant=participant)
        emit({"hits": hits}, as_json=as_json,
             render=lambda r: table(r["hits"], ["score", "participant", "transcript", "start", "text"]))
