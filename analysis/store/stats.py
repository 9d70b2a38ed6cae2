"""Counts of what a project holds (``storyloom status``, the methods report)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import codes, codings, embeddings, participants, segments, transcripts, turns


def _count(conn: Connection, q: sa.Select[int]) -> int:
    value: int = conn.execute(q).scalar_one()
    return int(value)


def counts(conn: Connection, model_id: str, *, brief: bool = False) -> dict[str, int]:
    """transcripts, participants, turns, segments, embedded (by ``model_id``), codes, codings; ``brief``: only
    transcripts, participants, codes and codings (what the sidebar shows on every page run: no count over the
    segments and their vectors, 100,000 rows at x50)."""
    def n(table: sa.Table) -> int:
        return _count(conn, sa.select(sa.func.count()).select_from(table))

    if brief:
        return {"transcripts": n(transcripts), "participants": n(participants), "codes": n(codes), "codings": n(codings)}

    embedded = _count(conn, sa.select(sa.func.count()).select_from(segments).join(
        embeddings, sa.and_(embeddings.c.text_sha256 == segments.c.text_sha256, embeddings.c.model_id == model_id)))
    return {"transcripts": n(transcripts), "participants": n(participants), "turns": n(turns),
            "segments": n(segments), "embedded": embedded, "codes": n(codes), "codings": n(codings)}
