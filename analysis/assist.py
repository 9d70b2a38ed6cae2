"""Local semantic assist: search over segment embeddings (suggestions only; see issue 6).

Nothing here writes a coding: accepting a suggestion is a researcher action made through
``Project.add_coding`` with the suggestion recorded as its origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa


@dataclass(frozen=True)
class SegmentIndex:
    """Every segment with its vector: ``frame`` (segment id, transcript, offsets, participant) and
    ``vectors`` (unit rows, aligned with ``frame``)."""

    frame: pd.DataFrame
    vectors: np.ndarray


class AssistMixin:
    """Project methods for the machine assist."""

    _index_cache: tuple[int, SegmentIndex] | None = None

    def segment_index(self: Any) -> SegmentIndex:
        """All embedded segments and their vectors, cached until the project changes."""
        version = self.version()
        if self._index_cache is not None and self._index_cache[0] == version:
            return self._index_cache[1]
        t = self.t
        q = (sa.select(t.segments.c.id, t.segments.c.transcript_id, t.transcripts.c.name, t.segments.c.start,
                       t.segments.c.end, t.segments.c.turn_id, t.speakers.c.label, t.speakers.c.interviewer,
                       t.participants.c.pseudonym, t.embeddings.c.vector)
             .join(t.transcripts, t.transcripts.c.id == t.segments.c.transcript_id)
             .join(t.turns, t.turns.c.id == t.segments.c.turn_id)
             .join(t.speakers, t.speakers.c.id == t.turns.c.speaker_id)
             .outerjoin(t.participants, t.participants.c.id == t.speakers.c.participant_id)
             .join(t.embeddings, sa.and_(t.embeddings.c.text_sha256 == t.segments.c.text_sha256,
                                         t.embeddings.c.model_id == self.embedder.model_id))
             .order_by(t.segments.c.id))
        with self.store.read() as conn:
            rows = conn.execute(q).all()
            texts = dict(conn.execute(sa.select(t.transcripts.c.id, t.transcripts.c.text)).all())
        frame = pd.DataFrame(
            [(r.id, r.transcript_id, r.name, r.start, r.end, r.turn_id, r.label, bool(r.interviewer), r.pseudonym,
              texts[r.transcript_id][r.start:r.end]) for r in rows],
            columns=["segment_id", "transcript_id", "transcript", "start", "end", "turn_id", "speaker", "interviewer",
                     "participant", "text"])
        dim = self.embedder.dim
        vectors = (np.frombuffer(b"".join(r.vector for r in rows), dtype=np.float32).reshape(len(rows), dim)
                   if rows else np.zeros((0, dim), dtype=np.float32))
        index = SegmentIndex(frame, vectors)
        self._index_cache = (version, index)
        return index

    def search(self: Any, query: str, *, k: int = 10, participant: str | None = None) -> list[dict[str, Any]]:
        """Semantic search: the ``k`` segments closest (cosine) to ``query``."""
        index = self.segment_index()
        if not query.strip() or len(index.frame) == 0:
            return []
        scores = index.vectors @ self.embedder.embed([query])[0]
        mask = np.ones(len(scores), dtype=bool)
        if participant:
            mask &= (index.frame["participant"] == participant).to_numpy()
        scores = np.where(mask, scores, -np.inf)
        top = np.argsort(-scores)[:k]
        hits = []
        for i in top:
            if not np.isfinite(scores[i]):
                break
            row = index.frame.iloc[int(i)]
            hits.append({"participant": row.participant or row.speaker, "transcript": row.transcript,
                         "start": int(row.start), "end": int(row.end), "text": row.text, "score": round(float(scores[i]), 4)})
        return hits
