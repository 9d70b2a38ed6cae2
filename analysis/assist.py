"""Local semantic assist: the segment index and search. ``AssistMixin`` also gathers the other
assist mixins: "more like this code" and consistency checks (:mod:`analysis.consistency`), patterns
in uncoded text (:mod:`analysis.patterns`) and the methods report (:mod:`analysis.methods_report`).
Suggestions only (ARCHITECTURE invariant 4): nothing here writes a coding on its own.

Search modes
    ``semantic``  cosine between the query's MiniLM vector and every segment vector: one float32
                  matrix-vector product over a contiguous matrix, then ``argpartition`` for the top k.
    ``keyword``   exact words and quoted phrases, whole words, case- and accent-insensitive (NFKD,
                  combining marks stripped, casefolded, on both sides; offsets mapped back to the
                  original text). Score: the idf-weighted share of the query's terms a segment holds.
    ``hybrid``    reciprocal rank fusion (RRF, k=60) of the semantic and the keyword rankings: it
                  needs no calibration between a cosine and a keyword score, and a passage that both
                  rankings place high wins.
"""

from __future__ import annotations

import math
import re
import shlex
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .consistency import ConsistencyMixin, SuggestionsMixin
from .errors import ConflictError
from .methods_report import MethodsReportMixin
from .patterns import PatternsMixin

SEARCH_MODES = ("semantic", "keyword", "hybrid")
RRF_K = 60
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_FOLD_CHAR: dict[str, str] = {}
_NO_ROWS = np.zeros(0, dtype=np.int64)
_QUERY_LOCK = threading.Lock()
WORD = re.compile(r"\w+")
FUNCTION_WORDS = frozenset("""a an and are as at be but by for from had has have he her his i if in into is it its
me my no not of on or our she so than that the their them then there they this to was we were what when
which who will with would you your""".split())


def fold_char(ch: str) -> str:
    """One character, compared accent- and case-insensitively: NFKD, marks stripped, casefolded."""
    out = _FOLD_CHAR.get(ch)
    if out is None:
        decomposed = unicodedata.normalize("NFKD", ch.translate(_QUOTES))
        out = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        _FOLD_CHAR[ch] = out
    return out


def fold(text: str) -> tuple[str, np.ndarray]:
    """``text`` folded for matching, and for every folded character the index of its source character
    (plus a final entry ``len(text)``), so a match ``[i, j)`` in the folded text is
    ``[where[i], where[j - 1] + 1)`` in ``text``."""
    parts: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = ch.casefold() if ch.isascii() else fold_char(ch)
        parts.append(f)
        where.extend([i] * len(f))
    where.append(len(text))
    return "".join(parts), np.asarray(where, dtype=np.int64)


def parse_terms(query: str) -> list[str]:
    """Words and "quoted phrases" of a keyword query, folded; duplicates and (unless nothing else is
    left) single function words ("the", "of") dropped."""
    try:
        raw = shlex.split(query.translate(_QUOTES))
    except ValueError:  # an unbalanced quote: take the words as they are
        raw = query.replace('"', " ").split()
    terms = list(dict.fromkeys(" ".join(fold(t)[0].split()) for t in raw))
    terms = [t for t in terms if t.strip(".,;:!?()[]'\"")]
    content = [t for t in terms if " " in t or t not in FUNCTION_WORDS]
    return content or terms


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest finite scores, best first (``argpartition``, then a small sort)."""
    finite = int(np.isfinite(scores).sum())
    k = min(k, finite)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.argpartition(scores, len(scores) - k)[len(scores) - k:]
    return idx[np.argsort(-scores[idx], kind="stable")]


@dataclass(frozen=True)
class SegmentIndex:
    """Every embedded segment: ``frame`` (segment id, transcript, offsets, turn, speaker, participant,
    text) and ``vectors`` (contiguous float32 unit rows aligned with ``frame``); ``texts`` maps
    transcript id to text; ``spans`` per transcript id: (rows sorted by start, starts, ends)."""

    frame: pd.DataFrame
    vectors: np.ndarray
    texts: dict[int, str] = field(default_factory=dict)
    spans: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, frame: pd.DataFrame, vectors: np.ndarray, texts: dict[int, str]) -> SegmentIndex:
        spans = {}
        for tid, rows in frame.groupby("transcript_id").indices.items():
            rows = rows[np.argsort(frame["start"].to_numpy()[rows], kind="stable")]
            spans[int(tid)] = (rows, frame["start"].to_numpy()[rows], frame["end"].to_numpy()[rows])
        return cls(frame, np.ascontiguousarray(vectors, dtype=np.float32), texts, spans)

    def words(self) -> tuple[list[str], dict[str, np.ndarray]]:
        """Every segment's text folded for keyword matching, and the rows holding each folded word
        (computed once, at the first keyword search)."""
        if "words" not in self._cache:
            folded = [t.lower() if t.isascii() else fold(t)[0] for t in self.frame["text"]]
            postings: dict[str, list[int]] = {}
            for row, text in enumerate(folded):
                for word in set(WORD.findall(text)):
                    postings.setdefault(word, []).append(row)
            self._cache["words"] = (folded, {w: np.asarray(r, dtype=np.int64) for w, r in postings.items()})
        return self._cache["words"]

    def centre(self) -> tuple[np.ndarray, np.ndarray]:
        """The corpus mean vector and each row's norm after subtracting it (computed once): cosines
        between centred vectors, without a second matrix, for :func:`analysis.consistency.rank_like`."""
        if "centre" not in self._cache:
            mean = self.vectors.mean(axis=0) if len(self.vectors) else np.zeros(self.vectors.shape[1], np.float32)
            norms = np.linalg.norm(self.vectors - mean, axis=1) if len(self.vectors) else np.zeros(0, np.float32)
            self._cache["centre"] = (mean.astype(np.float32), norms.clip(1e-6).astype(np.float32))
        return self._cache["centre"]

    def overlap(self, spans: pd.DataFrame) -> np.ndarray:
        """Rows whose segment overlaps any ``[start, end)`` of ``spans`` (transcript_id, start, end)."""
        mark = np.zeros(len(self.frame) + 1, dtype=np.int64)
        for tid, g in spans.groupby("transcript_id"):
            if int(tid) not in self.spans:
                continue
            rows, starts, ends = self.spans[int(tid)]
            lo = np.searchsorted(ends, g["start"].to_numpy(), side="right")
            hi = np.searchsorted(starts, g["end"].to_numpy(), side="left")
            diff = np.zeros(len(rows) + 1, dtype=np.int64)
            np.add.at(diff, lo[hi > lo], 1)
            np.add.at(diff, hi[hi > lo], -1)
            mark[rows[np.cumsum(diff)[:-1] > 0]] = 1
        return mark[:-1].astype(bool)

    def rows_in(self, tid: int, start: int, end: int) -> np.ndarray:
        """Rows of the segments of transcript ``tid`` that overlap ``[start, end)``."""
        if tid not in self.spans:
            return np.zeros(0, dtype=np.int64)
        rows, starts, ends = self.spans[tid]
        return rows[np.searchsorted(ends, start, side="right"):np.searchsorted(starts, end, side="left")]


class AssistMixin(SuggestionsMixin, PatternsMixin, ConsistencyMixin, MethodsReportMixin):
    """Project methods for the machine assist (search, suggestions, patterns, checks, report)."""

    _index_cache: tuple[Any, SegmentIndex] | None = None

    # -- the index -------------------------------------------------------------------------------
    def _index_key(self: Any) -> tuple[Any, ...]:
        t = self.t
        with self.store.read() as conn:
            seg = conn.execute(sa.select(sa.func.count(), sa.func.max(t.segments.c.id))).one()
            emb = conn.execute(sa.select(sa.func.count()).select_from(t.embeddings)
                               .where(t.embeddings.c.model_id == self.embedder.model_id)).scalar_one()
            changed = conn.execute(sa.select(sa.func.max(t.transcripts.c.updated_at))).scalar()
            mapped = conn.execute(sa.select(sa.func.count(), sa.func.sum(t.speakers.c.participant_id))
                                  .where(t.speakers.c.participant_id.is_not(None))).one()
        return (self.embedder.model_id, tuple(seg), emb, changed, tuple(mapped))

    def segment_index(self: Any) -> SegmentIndex:
        """All embedded segments and their vectors, cached until segments, embeddings or speaker
        mappings change (searches and codings, which bump the project version, keep it)."""
        key = self._index_key()
        if self._index_cache is not None and self._index_cache[0] == key:
            return self._index_cache[1]
        t = self.t
        q = (sa.select(t.segments.c.id, t.segments.c.transcript_id, t.transcripts.c.name, t.segments.c.start,
                       t.segments.c.end, t.segments.c.turn_id, t.turns.c.start.label("turn_start"),
                       t.turns.c.end.label("turn_end"), t.speakers.c.label, t.speakers.c.interviewer,
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
            texts = {int(i): s for i, s in conn.execute(sa.select(t.transcripts.c.id, t.transcripts.c.text))}
        frame = pd.DataFrame(
            [(r.id, r.transcript_id, r.name, r.start, r.end, r.turn_id, r.turn_start, r.turn_end, r.label,
              bool(r.interviewer), r.pseudonym or "", texts[r.transcript_id][r.start:r.end]) for r in rows],
            columns=["segment_id", "transcript_id", "transcript", "start", "end", "turn_id", "turn_start", "turn_end",
                     "speaker", "interviewer", "participant", "text"])
        dim = self.embedder.dim
        vectors = (np.frombuffer(b"".join(r.vector for r in rows), dtype=np.float32).reshape(len(rows), dim)
                   if rows else np.zeros((0, dim), dtype=np.float32))
        index = SegmentIndex.build(frame, vectors, texts)
        self._index_cache = (key, index)
        return index

    def _query_vector(self: Any, query: str) -> np.ndarray:
        """The query's vector; the last 256 queries are kept (a repeated query costs no embedding)."""
        cache: OrderedDict[tuple[str, str], np.ndarray] = self.__dict__.setdefault("_query_vectors", OrderedDict())
        key = (self.embedder.model_id, query)
        vector = cache.get(key)
        if vector is None:
            vector = np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        with _QUERY_LOCK:  # one project may serve several UI sessions (threads)
            cache[key] = vector
            cache.move_to_end(key)
            while len(cache) > 256:
                cache.popitem(last=False)
        return vector

    def _coding_spans(self: Any, code_ids: set[int] | None = None) -> pd.DataFrame:
        cd = self.t.codings
        q = sa.select(cd.c.id, cd.c.code_id, cd.c.transcript_id, cd.c.start, cd.c.end).where(cd.c.orphaned.is_(False))
        if code_ids is not None:
            q = q.where(cd.c.code_id.in_(sorted(code_ids)))
        with self.store.read() as conn:
            rows = conn.execute(q.order_by(cd.c.id)).all()
        return pd.DataFrame(rows, columns=["coding_id", "code_id", "transcript_id", "start", "end"])

    def _code_ids(self: Any, code: str | int) -> tuple[Any, set[int]]:
        """The code's row and the ids of it and its descendants (a theme's material includes its codes)."""
        with self.store.read() as conn:
            row = self._code_row(conn, code)
            return row, {row.id} | self._descendants(conn, row.id)

    # -- search ----------------------------------------------------------------------------------
    def _filter_mask(
        self: Any, index: SegmentIndex, *, participant: str | list[str] | None, transcript: str | None,
        attributes: dict[str, str | list[str]] | None, code: str | int | None, exclude_code: str | int | None,
        uncoded: bool,
    ) -> np.ndarray | None:
        frame, mask = index.frame, np.ones(len(index.frame), dtype=bool)
        if transcript:
            mask &= (frame["transcript"] == transcript).to_numpy()
        if participant:
            mask &= frame["participant"].isin([participant] if isinstance(participant, str) else participant).to_numpy()
        if attributes:
            keep = [p.pseudonym for p in self.participants()
                    if all(p.attributes.get(k) in ([v] if isinstance(v, str) else v) for k, v in attributes.items())]
            mask &= frame["participant"].isin(keep).to_numpy()
        for ref, wanted in ((code, True), (exclude_code, False)):
            if ref not in (None, ""):
                coded = index.overlap(self._coding_spans(self._code_ids(ref)[1]))
                mask &= coded if wanted else ~coded
        if uncoded:
            mask &= ~index.overlap(self._coding_spans())
        return None if mask.all() else mask

    def _keyword_scores(self: Any, index: SegmentIndex, query: str) -> tuple[np.ndarray, list[re.Pattern[str]]]:
        """Per segment, the idf-weighted share of the query's terms it contains (0 = none): words from the
        index's postings; phrases (and terms with punctuation) checked in the candidates' folded text.
        Also the terms' patterns, to find the matches in the hits shown."""
        folded, postings = index.words()
        n = len(index.frame)
        patterns, found = [], []
        for term in parse_terms(query):
            words = WORD.findall(term)
            if not words:
                continue
            pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, term.split())) + r"(?!\w)")
            rows = postings.get(words[0], _NO_ROWS)
            for word in words[1:]:
                rows = np.intersect1d(rows, postings.get(word, _NO_ROWS), assume_unique=True)
            if term != words[0]:
                rows = np.asarray([r for r in rows if pattern.search(folded[r])], dtype=np.int64)
            patterns.append(pattern)
            found.append(rows)
        scores = np.zeros(n, dtype=np.float32)
        idf = [math.log(1 + n / (1 + len(rows))) for rows in found]
        for rows, weight in zip(found, idf):
            scores[rows] += weight / (sum(idf) or 1.0)
        return scores, patterns

    @staticmethod
    def _matches(index: SegmentIndex, row: int, patterns: list[re.Pattern[str]]) -> list[list[int]]:
        """``[start, end)`` offsets (into the transcript) of every match of ``patterns`` in segment ``row``."""
        text, start = index.frame.at[row, "text"], int(index.frame.at[row, "start"])
        folded, where = fold(text)
        out = []
        for pattern in patterns:
            for m in pattern.finditer(folded):
                s, e = int(where[m.start()]), int(where[m.end() - 1]) + 1
                while e < len(text) and unicodedata.combining(text[e]):
                    e += 1
                out.append([start + s, start + e])
        return sorted(out)

    def search(
        self: Any, query: str, *, mode: str = "semantic", k: int = 10, participant: str | list[str] | None = None,
        attributes: dict[str, str | list[str]] | None = None, code: str | int | None = None,
        exclude_code: str | int | None = None, uncoded: bool = False, transcript: str | None = None,
    ) -> list[dict[str, Any]]:
        """Search the segments: ``mode`` semantic (cosine), keyword (exact words and "phrases", accents and
        case ignored) or hybrid (reciprocal rank fusion). Filters: participant(s), participant
        ``attributes``, coded with ``code`` (with its sub-codes), not coded with ``exclude_code``,
        ``uncoded`` (overlapping no coding), one ``transcript``. Each hit carries its turn (``turn_text``) for context.
        The search (unless the query is blank) is recorded in the audit trail (for the methods report)."""
        if mode not in SEARCH_MODES:
            raise ConflictError(f"Search mode '{mode}' is not one of: {', '.join(SEARCH_MODES)}.")
        index = self.segment_index()
        filters = {"participant": participant, "attributes": attributes, "code": code, "exclude_code": exclude_code,
                   "uncoded": uncoded, "transcript": transcript}
        if not query.strip():
            return []
        hits: list[dict[str, Any]] = []
        if len(index.frame):
            mask = self._filter_mask(index, participant=participant, transcript=transcript, attributes=attributes,
                                     code=code, exclude_code=exclude_code, uncoded=uncoded)
            hits = self._ranked_hits(index, query, mode=mode, k=max(1, k), mask=mask)
        self._log("assist.search", summary=f"Searched ({mode}) for '{query[:60]}': {len(hits)} hits",
                  after={"query": query, "mode": mode, "k": k, "hits": len(hits),
                         "filters": {f: v for f, v in filters.items() if v}})
        return hits

    def _ranked_hits(self: Any, index: SegmentIndex, query: str, *, mode: str, k: int,
                     mask: np.ndarray | None) -> list[dict[str, Any]]:
        patterns: list[re.Pattern[str]] = []
        if mode in ("semantic", "hybrid"):
            semantic = index.vectors @ self._query_vector(query)
            if mask is not None:
                semantic[~mask] = -np.inf
        if mode in ("keyword", "hybrid"):
            keyword, patterns = self._keyword_scores(index, query)
            keyword[keyword <= 0] = -np.inf
            if mask is not None:
                keyword[~mask] = -np.inf
        if mode == "semantic":
            scores = semantic
        elif mode == "keyword":
            scores = keyword
        else:  # reciprocal rank fusion over the two rankings' top candidates
            depth = max(10 * k, 100)
            scores = np.full(len(index.frame), -np.inf, dtype=np.float64)
            for ranking in (top_k(semantic, depth), top_k(keyword, depth)):
                fused = 1.0 / (RRF_K + 1 + np.arange(len(ranking)))
                scores[ranking] = np.where(np.isfinite(scores[ranking]), scores[ranking], 0.0) + fused
        return [self._hit(index, int(i), float(scores[i]), self._matches(index, int(i), patterns) if patterns else None)
                for i in top_k(scores, k)]

    @staticmethod
    def _hit(index: SegmentIndex, row: int, score: float, matches: list[list[int]] | None = None) -> dict[str, Any]:
        r = index.frame.iloc[row]
        tid = int(r.transcript_id)
        hit = {"participant": r.participant or r.speaker, "transcript": r.transcript, "start": int(r.start),
               "end": int(r.end), "text": r.text, "score": round(score, 4), "speaker": r.speaker,
               "turn_start": int(r.turn_start), "turn_end": int(r.turn_end),
               "turn_text": index.texts[tid][int(r.turn_start):int(r.turn_end)]}
        if matches is not None:
            hit["matches"] = matches
        return hit
