"""The local semantic assist: the segment index and search (modes: :mod:`analysis.domain.assist`).

Suggestions only (ARCHITECTURE invariant 4): nothing here writes a coding on its own. "More like this
code", patterns in uncoded text and consistency checks are their own services, built on this one's
index and helpers (:meth:`AssistService.segment_index`, :meth:`~AssistService.coding_spans`,
:meth:`~AssistService.code_ids`, :meth:`~AssistService.hit`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.domain.assist import (RRF_K, SEARCH_MODES, BoolArray, FloatArray, Scores, SegmentIndex, as_int, coverage_of, keyword_scores,
                      matches as match_offsets, top_k)
from analysis.errors import Errors, ValidationError
from analysis.domain.explore import line_at, line_starts
from analysis.domain.model import Anchor
from analysis.domain.timing import stamp_at
from analysis.store import codes as code_store, segments as segment_store, transcripts as transcript_store
from analysis.store.segments import IndexKey
from analysis.services.context import Context
from analysis.services.results import EmbeddingCoverage, SearchHit

if TYPE_CHECKING:
    import pandas as pd
    from analysis.services.codebook import CodebookService
    from analysis.services.participants import ParticipantService

__all__ = ["AssistService", "SPAN_COLUMNS"]

SPAN_COLUMNS = ["coding_id", "code_id", "transcript_id", "start", "end"]
FRAME_COLUMNS = ["segment_id", "transcript_id", "transcript", "start", "end", "turn_id", "turn_start", "turn_end",
                 "speaker", "interviewer", "participant", "text"]
QUERY_CACHE = 256  # query vectors kept (a repeated query costs no embedding)

Filter = str | list[str]


def _one_or_many(value: Filter) -> list[str]:
    return [value] if isinstance(value, str) else value


class AssistService:
    """Search over the segment index, and the index itself (shared by the other assist services)."""

    def __init__(self, ctx: Context, codebook: CodebookService, participants: ParticipantService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.participants = participants
        self._index_cache: tuple[IndexKey, SegmentIndex] | None = None
        self._query_vectors: OrderedDict[tuple[str, str], FloatArray] = OrderedDict()
        self._query_lock = threading.Lock()  # one project may serve several UI sessions (threads)

    # -- the index -------------------------------------------------------------------------------
    def segment_index(self) -> SegmentIndex:
        """Every segment and the vectors computed so far (``index.embedded`` says which), cached until
        segments, embeddings or speaker mappings change (searches and codings, which bump the project
        version, keep it). Keyword search reads every segment; vectors are compared over
        :meth:`semantic_index`."""
        import pandas as pd

        model_id = self.ctx.embedder.model_id
        with self.ctx.store.read() as conn:
            key = segment_store.index_key(conn, model_id)
        if self._index_cache is not None and self._index_cache[0] == key:
            return self._index_cache[1]
        with self.ctx.store.read() as conn:
            rows = segment_store.indexed_segments(conn, model_id)
            texts = segment_store.transcript_texts(conn)
        frame = pd.DataFrame(
            [(r.id, r.transcript_id, r.transcript, r.start, r.end, r.turn_id, r.turn_start, r.turn_end, r.speaker,
              r.interviewer, r.participant or "", texts[r.transcript_id][r.start:r.end]) for r in rows],
            columns=FRAME_COLUMNS)
        dim = self.ctx.embedder.dim
        zero = bytes(4 * dim)
        embedded = np.fromiter((r.vector is not None for r in rows), dtype=bool, count=len(rows))
        vectors = (np.frombuffer(b"".join(r.vector or zero for r in rows), dtype=np.float32).reshape(len(rows), dim)
                   if rows else np.zeros((0, dim), dtype=np.float32))
        index = SegmentIndex.build(frame, vectors, texts, embedded)
        self._index_cache = (key, index)
        return index

    def semantic_index(self) -> SegmentIndex:
        """The embedded segments only (all of them once embedding is done): what "more like this code",
        patterns and consistency checks compare. :meth:`coverage` says how much that is."""
        return self.segment_index().semantic()

    def coverage(self) -> EmbeddingCoverage:
        """How much of the project semantic search covers (:func:`analysis.domain.assist.coverage_of`): the
        segments whose text has a vector of the model, of all segments."""
        from analysis.store import embeddings as embedding_store

        with self.ctx.store.read() as conn:
            embedded, total = embedding_store.coverage(conn, self.ctx.embedder.model_id)
        c = coverage_of(embedded, total)
        return EmbeddingCoverage(embedded=int(c["embedded"]), segments=int(c["segments"]), pending=int(c["pending"]),
                                 percent=int(c["percent"]), complete=bool(c["complete"]), text=str(c["text"]))

    def _query_vector(self, query: str) -> FloatArray:
        """The query's vector; the last 256 queries are kept (a repeated query costs no embedding)."""
        cache = self._query_vectors
        key = (self.ctx.embedder.model_id, query)
        vector = cache.get(key)
        if vector is None:
            vector = np.asarray(self.ctx.embedder.embed([query])[0], dtype=np.float32)
        with self._query_lock:
            cache[key] = vector
            cache.move_to_end(key)
            while len(cache) > QUERY_CACHE:
                cache.popitem(last=False)
        return vector

    def coding_spans(self, code_ids: set[int] | None = None) -> pd.DataFrame:
        """The spans of the (not orphaned) codings, of ``code_ids`` only if given, by coding id: columns
        coding_id, code_id, transcript_id, start, end."""
        import pandas as pd

        with self.ctx.store.read() as conn:
            rows = segment_store.coding_spans(conn, code_ids)
        return pd.DataFrame(rows, columns=SPAN_COLUMNS)

    def code_ids(self, code: str | int) -> tuple[Any, set[int]]:
        """The code's row and the ids of it and its descendants (a theme's material includes its codes)."""
        with self.ctx.store.read() as conn:
            row = code_store.code_row(conn, code)
            return row, {int(row.id)} | code_store.descendants(conn, int(row.id))

    # -- search ----------------------------------------------------------------------------------
    def filter_mask(
        self, index: SegmentIndex, *, participant: Filter | None, transcript: str | None,
        attributes: dict[str, Filter] | None, code: str | int | None, exclude_code: str | int | None,
        uncoded: bool,
    ) -> BoolArray | None:
        """The index rows that pass the search filters (None: every row does)."""
        frame, mask = index.frame, np.ones(len(index.frame), dtype=bool)
        if transcript:
            mask &= (frame["transcript"] == transcript).to_numpy(dtype=bool)
        if participant:
            mask &= frame["participant"].isin(_one_or_many(participant)).to_numpy(dtype=bool)
        if attributes:
            keep = [p.pseudonym for p in self.participants.list()
                    if all(p.attributes.get(k) in _one_or_many(v) for k, v in attributes.items())]
            mask &= frame["participant"].isin(keep).to_numpy(dtype=bool)
        for ref, wanted in ((code, True), (exclude_code, False)):
            if ref is not None and ref != "":
                coded = index.overlap(self.coding_spans(self.code_ids(ref)[1]))
                mask &= coded if wanted else ~coded
        if uncoded:
            mask &= ~index.overlap(self.coding_spans())
        return None if mask.all() else mask

    def search(
        self, query: str, *, mode: str = "semantic", k: int = 10, participant: Filter | None = None,
        attributes: dict[str, Filter] | None = None, code: str | int | None = None,
        exclude_code: str | int | None = None, uncoded: bool = False, transcript: str | None = None,
        interviewer: bool = False,
    ) -> list[SearchHit]:
        """Search the segments: ``mode`` semantic (cosine), keyword (exact words and "phrases", accents and
        case ignored) or hybrid (reciprocal rank fusion). Filters: participant(s), participant
        ``attributes``, coded with ``code`` (with its sub-codes), not coded with ``exclude_code``,
        ``uncoded`` (overlapping no coding), one ``transcript``. Interviewer turns are left out unless
        ``interviewer`` is true. Each hit carries its turn (``turn_text``) for context, and where it is
        as the researcher reads it (``line``, ``timestamp``: :meth:`with_places`).
        The search (unless the query is blank) is recorded in the audit trail (for the methods report)."""
        if mode not in SEARCH_MODES:
            raise ValidationError(Errors.E2101, mode=mode, SEARCH_MODES=', '.join(SEARCH_MODES))
        index = self.segment_index()
        filters: dict[str, object] = {"participant": participant, "attributes": attributes, "code": code,
                                      "exclude_code": exclude_code, "uncoded": uncoded, "transcript": transcript,
                                      "interviewer": interviewer}
        if not query.strip():
            return []
        hits: list[SearchHit] = []
        if len(index.frame):
            mask = self.filter_mask(index, participant=participant, transcript=transcript, attributes=attributes,
                                    code=code, exclude_code=exclude_code, uncoded=uncoded)
            if not interviewer:
                spoken = ~index.frame["interviewer"].to_numpy(dtype=bool)
                mask = spoken if mask is None else mask & spoken
            hits = self.with_places(self._ranked_hits(index, query, mode=mode, k=max(1, k), mask=mask))
        self.ctx.log("assist.search", summary=f"Searched ({mode}) for '{query[:60]}': {len(hits)} hits",
                     after={"query": query, "mode": mode, "k": k, "hits": len(hits),
                            "filters": {f: v for f, v in filters.items() if v}})
        return hits

    def _ranked_hits(self, index: SegmentIndex, query: str, *, mode: str, k: int,
                     mask: BoolArray | None) -> list[SearchHit]:
        patterns: list[re.Pattern[str]] = []
        n = len(index.frame)
        semantic: Scores = np.full(n, -np.inf, dtype=np.float32)
        keyword: Scores = np.full(n, -np.inf, dtype=np.float32)
        if mode in ("semantic", "hybrid"):
            semantic = index.vectors @ self._query_vector(query)
            semantic[~index.embedded] = -np.inf  # a segment still waiting for its vector is not ranked
            if mask is not None:
                semantic[~mask] = -np.inf
        if mode in ("keyword", "hybrid"):
            keyword, patterns = keyword_scores(index, query)
            keyword[keyword <= 0] = -np.inf
            if mask is not None:
                keyword[~mask] = -np.inf
        scores: Scores
        if mode == "semantic":
            scores = semantic
        elif mode == "keyword":
            scores = keyword
        else:  # reciprocal rank fusion over the two rankings' top candidates
            depth = max(10 * k, 100)
            scores = np.full(n, -np.inf, dtype=np.float64)
            for ranking in (top_k(semantic, depth), top_k(keyword, depth)):
                fused = 1.0 / (RRF_K + 1 + np.arange(len(ranking)))
                scores[ranking] = np.where(np.isfinite(scores[ranking]), scores[ranking], 0.0) + fused
        return [self.hit(index, int(i), float(scores[i]),
                         match_offsets(index, int(i), patterns) if patterns else None)
                for i in top_k(scores, k)]

    def with_places(self, hits: list[SearchHit]) -> list[SearchHit]:
        """``hits`` (new ones, in order) with ``line`` (the line number shown in Read & code's margin) and
        ``timestamp`` (the turn's, or ``~`` the nearest earlier one's) of each hit's start: see
        :mod:`analysis.domain.explore`."""
        if not hits:
            return hits
        index = self.segment_index()
        names = {h.transcript for h in hits}
        frame = index.frame[index.frame["transcript"].isin(names)].drop_duplicates("transcript")
        ids = {as_int(tid): str(name) for tid, name in zip(frame["transcript_id"], frame["transcript"])}
        with self.ctx.store.read() as conn:
            anchors = transcript_store.sync_points_of(conn)
            turns = segment_store.turn_infos(conn)
        by_name: dict[str, tuple[list[int], list[Anchor], list[tuple[int, int]]]] = {
            name: (line_starts(index.texts[tid]), anchors.get(tid, []),
                   [(t.start, t.end) for t in turns if t.transcript_id == tid]) for tid, name in ids.items()}
        placed: list[SearchHit] = []
        for h in hits:
            starts, points, spans = by_name.get(h.transcript, ([], [], []))
            turn = next((a for a, b in spans if a <= h.start < b), None)
            # the hit's own time; ~ borrowed from an earlier turn
            placed.append(replace(h, line=line_at(starts, h.start), timestamp=stamp_at(points, h.start, turn)))
        return placed

    @staticmethod
    def hit(index: SegmentIndex, row: int, score: float, matches: list[list[int]] | None = None) -> SearchHit:
        """Segment ``row`` of ``index`` as a search hit (participant, transcript, span, text, score, speaker,
        its turn's span and text; the keyword ``matches`` when given), not yet placed (:meth:`with_places`)."""
        r = index.frame.iloc[row]
        tid = as_int(r["transcript_id"])
        turn_start, turn_end = as_int(r["turn_start"]), as_int(r["turn_end"])
        return SearchHit(
            participant=str(r["participant"] or r["speaker"]), transcript=str(r["transcript"]),
            start=as_int(r["start"]), end=as_int(r["end"]), text=str(r["text"]), score=round(score, 4),
            speaker=str(r["speaker"]), turn_start=turn_start, turn_end=turn_end,
            turn_text=index.texts[tid][turn_start:turn_end],
            matches=None if matches is None else tuple((int(s), int(e)) for s, e in matches))
