"""Queries of the recordings attached to transcripts (``media``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import media, transcripts

__all__ = ["media_rows", "of_transcript"]


def media_rows(conn: Connection) -> list[sa.Row[Any]]:
    """Every attached recording with its transcript's name, by transcript name."""
    q = (sa.select(media, transcripts.c.name.label("transcript"))
         .join(transcripts, transcripts.c.id == media.c.transcript_id).order_by(transcripts.c.name))
    return list(conn.execute(q))


def of_transcript(conn: Connection, tid: int) -> sa.Row[Any] | None:
    return conn.execute(sa.select(media).where(media.c.transcript_id == tid)).first()
