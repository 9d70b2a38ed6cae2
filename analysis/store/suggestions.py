"""Queries of ``suggestion_decisions``: the researcher's accepted and rejected machine suggestions.

Decisions are written through the undo recorder (``act.rec.insert("suggestion_decisions", ...)``)
inside the deciding action; this module only reads them.
"""

from __future__ import annotations

from typing import NamedTuple, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import codes, suggestion_decisions, transcripts

__all__ = ["Decision", "DecidedSpan", "decided_spans", "decisions"]


class DecidedSpan(NamedTuple):
    transcript_id: int
    start: int
    end: int


class Decision(TypedDict):
    """One decision as :meth:`analysis.services.suggestions.SuggestionService.decisions` lists it."""

    code: str
    transcript: str
    start: int
    end: int
    decision: str
    who: str
    at: str


def decided_spans(conn: Connection, code_ids: set[int], decision: str) -> list[DecidedSpan]:
    """The spans decided ``decision`` ("accepted", "rejected") for any of ``code_ids``."""
    sd = suggestion_decisions
    q = sa.select(sd.c.transcript_id, sd.c.start, sd.c.end).where(
        sd.c.code_id.in_(sorted(code_ids)), sd.c.decision == decision)
    return [DecidedSpan(int(r.transcript_id), int(r.start), int(r.end)) for r in conn.execute(q)]


def decisions(conn: Connection, code_ids: set[int] | None = None) -> list[Decision]:
    """Every decision (for ``code_ids`` only, if given) with its code's and transcript's names, oldest first."""
    sd = suggestion_decisions
    q = (sa.select(sd, codes.c.name.label("code"), transcripts.c.name.label("transcript"))
         .join(codes, codes.c.id == sd.c.code_id)
         .join(transcripts, transcripts.c.id == sd.c.transcript_id)
         .order_by(sd.c.id))
    if code_ids is not None:
        q = q.where(sd.c.code_id.in_(sorted(code_ids)))
    return [Decision(code=r.code, transcript=r.transcript, start=r.start, end=r.end, decision=r.decision, who=r.who,
                     at=r.at) for r in conn.execute(q)]
