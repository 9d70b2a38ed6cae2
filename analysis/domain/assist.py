"""Local semantic assist, the pure parts: the segment index, folding for keyword matching, ranking.

The project's search lives in :class:`analysis.services.assist.AssistService`; "more like this code",
patterns in uncoded text and consistency checks are services built on it
(:mod:`analysis.services.suggestions`, :mod:`analysis.services.patterns`,
:mod:`analysis.services.consistency`). Suggestions only (ARCHITECTURE invariant 4): nothing here
writes a coding on its own.

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
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:  # pandas costs ~0.4 s to import: only where a frame is built
    import pandas as pd

SEARCH_MODES = ("semantic", "keyword", "hybrid")
RRF_K = 60
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_FOLD_CHAR: dict[str, str] = {}
WORD = re.compile(r"\w+")
FUNCTION_WORDS = frozenset("""a an and are as at be but by for from had has have he her his i if in into is it its
me my no not of on or our she so than that the their them then there they this to was we were what when
which who will with would you your""".split())

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
Scores = npt.NDArray[np.floating]
Spans = tuple[IntArray, IntArray, IntArray]
"""Per transcript: the index rows of its segments (sorted by start), their starts and their ends."""

_NO_ROWS: IntArray = np.zeros(0, dtype=np.int64)


def fold_char(ch: str) -> str:
    """One character, compared accent- and case-insensitively: NFKD, marks stripped, casefolded."""
    out = _FOLD_CHAR.get(ch)
    if out is None:
        decomposed = unicodedata.normalize("NFKD", ch.translate(_QUOTES))
        out = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        _FOLD_CHAR[ch] = out
    return out


def fold(text: str) -> tuple[str, IntArray]:
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


def top_k(scores: Scores, k: int) -> IntArray:
    """Indices of the ``k`` highest finite scores, best first (``argpartition``, then a small sort)."""
    finite = int(np.isfinite(scores).sum())
    k = min(k, finite)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.argpartition(scores, len(scores) - k)[len(scores) - k:]
    return idx[np.argsort(-scores[idx], kind="stable")]


def coverage_of(embedded: int, segments: int) -> dict[str, Any]:
    """What semantic search covers: ``embedded`` of ``segments``, ``pending`` (segments waiting for their
    vector), ``percent`` (whole, rounded down: 100 only when all are embedded), ``complete``, and
    ``text``: the sentence the workbench shows while it is partial."""
    percent = 100 if embedded >= segments else embedded * 100 // segments
    text = (f"Semantic search covers {percent} % of segments so far ({embedded:,} of {segments:,}); the rest are "
            "being embedded in the background. Keyword search covers every segment."
            if embedded < segments else "")
    return {"embedded": embedded, "segments": segments, "pending": max(segments - embedded, 0), "percent": percent,
            "complete": embedded >= segments, "text": text}


def as_int(value: object) -> int:
    """A cell of an integer column (a numpy or Python integer) as an ``int``."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    raise TypeError(f"Expected an integer, got {value!r}.")


def word_counts(frame: pd.DataFrame) -> IntArray:
    """How many words (whitespace-separated) each row's ``text`` holds."""
    texts: list[str] = frame["text"].tolist()
    return np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))


@dataclass
class _Derived:
    """What a :class:`SegmentIndex` computes from itself once, at first use."""

    words: tuple[list[str], dict[str, IntArray]] | None = None
    centre: tuple[FloatArray, FloatArray] | None = None
    semantic: SegmentIndex | None = None


@dataclass(frozen=True)
class SegmentIndex:
    """Every segment: ``frame`` (segment id, transcript, offsets, turn, speaker, participant, text) and
    ``vectors`` (contiguous float32 unit rows aligned with ``frame``; zeros where ``embedded`` is false:
    a segment whose vector is still being computed); ``texts`` maps transcript id to text; ``spans`` per
    transcript id: (rows sorted by start, starts, ends). Keyword search reads every row; whatever
    compares vectors reads :meth:`semantic` (the embedded rows only)."""

    frame: pd.DataFrame
    vectors: FloatArray
    texts: dict[int, str] = field(default_factory=dict)
    spans: dict[int, Spans] = field(default_factory=dict)
    embedded: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    _cache: _Derived = field(default_factory=_Derived, repr=False, compare=False)

    @classmethod
    def build(cls, frame: pd.DataFrame, vectors: npt.ArrayLike, texts: dict[int, str],
              embedded: npt.ArrayLike | None = None) -> SegmentIndex:
        """The index of ``frame``'s rows; ``embedded`` (default: every row) says which rows' vectors are real."""
        mask = np.ones(len(frame), dtype=bool) if embedded is None else np.asarray(embedded, dtype=bool)
        spans: dict[int, Spans] = {}
        tids = frame["transcript_id"].to_numpy(dtype=np.int64)
        starts, ends = frame["start"].to_numpy(dtype=np.int64), frame["end"].to_numpy(dtype=np.int64)
        for tid in np.unique(tids):
            rows = np.flatnonzero(tids == tid)
            rows = rows[np.argsort(starts[rows], kind="stable")]
            spans[int(tid)] = (rows, starts[rows], ends[rows])
        return cls(frame, np.ascontiguousarray(vectors, dtype=np.float32), texts, spans, mask)

    @property
    def complete(self) -> bool:
        """Whether every segment has its vector."""
        return bool(self.embedded.all())

    def semantic(self) -> SegmentIndex:
        """The index of the embedded rows only (this index itself when every row is embedded): what
        "more like this", patterns and consistency checks compare while embedding is under way."""
        if self.complete:
            return self
        if self._cache.semantic is None:
            rows = np.flatnonzero(self.embedded)
            self._cache.semantic = SegmentIndex.build(self.frame.iloc[rows].reset_index(drop=True),
                                                      self.vectors[rows], self.texts)
        return self._cache.semantic

    def words(self) -> tuple[list[str], dict[str, IntArray]]:
        """Every segment's text folded for keyword matching, and the rows holding each folded word
        (computed once, at the first keyword search)."""
        if self._cache.words is None:
            texts: list[str] = self.frame["text"].tolist()
            folded = [t.lower() if t.isascii() else fold(t)[0] for t in texts]
            postings: dict[str, list[int]] = {}
            for row, text in enumerate(folded):
                for word in set(WORD.findall(text)):
                    postings.setdefault(word, []).append(row)
            self._cache.words = (folded, {w: np.asarray(r, dtype=np.int64) for w, r in postings.items()})
        return self._cache.words

    def centre(self) -> tuple[FloatArray, FloatArray]:
        """The corpus mean vector and each row's norm after subtracting it (computed once): cosines
        between centred vectors, without a second matrix, for :func:`analysis.domain.consistency.rank_like`."""
        if self._cache.centre is None:
            mean = self.vectors.mean(axis=0) if len(self.vectors) else np.zeros(self.vectors.shape[1], np.float32)
            norms = np.linalg.norm(self.vectors - mean, axis=1) if len(self.vectors) else np.zeros(0, np.float32)
            self._cache.centre = (mean.astype(np.float32), norms.clip(1e-6).astype(np.float32))
        return self._cache.centre

    def overlap(self, spans: pd.DataFrame) -> BoolArray:
        """Rows whose segment overlaps any ``[start, end)`` of ``spans`` (transcript_id, start, end)."""
        mark = np.zeros(len(self.frame) + 1, dtype=np.int64)
        tids = spans["transcript_id"].to_numpy(dtype=np.int64)
        span_starts, span_ends = spans["start"].to_numpy(dtype=np.int64), spans["end"].to_numpy(dtype=np.int64)
        for tid in np.unique(tids):
            if int(tid) not in self.spans:
                continue
            rows, starts, ends = self.spans[int(tid)]
            mine = tids == tid
            lo = np.searchsorted(ends, span_starts[mine], side="right")
            hi = np.searchsorted(starts, span_ends[mine], side="left")
            diff = np.zeros(len(rows) + 1, dtype=np.int64)
            np.add.at(diff, lo[hi > lo], 1)
            np.add.at(diff, hi[hi > lo], -1)
            mark[rows[np.cumsum(diff)[:-1] > 0]] = 1
        return mark[:-1].astype(bool)

    def rows_in(self, tid: int, start: int, end: int) -> IntArray:
        """Rows of the segments of transcript ``tid`` that overlap ``[start, end)``."""
        if tid not in self.spans:
            return np.zeros(0, dtype=np.int64)
        rows, starts, ends = self.spans[tid]
        return rows[np.searchsorted(ends, start, side="right"):np.searchsorted(starts, end, side="left")]


def keyword_scores(index: SegmentIndex, query: str) -> tuple[FloatArray, list[re.Pattern[str]]]:
    """Per segment, the idf-weighted share of the query's terms it contains (0 = none): words from the
    index's postings; phrases (and terms with punctuation) checked in the candidates' folded text.
    Also the terms' patterns, to find the matches in the hits shown."""
    folded, postings = index.words()
    n = len(index.frame)
    patterns: list[re.Pattern[str]] = []
    found: list[IntArray] = []
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


def matches(index: SegmentIndex, row: int, patterns: list[re.Pattern[str]]) -> list[list[int]]:
    """``[start, end)`` offsets (into the transcript) of every match of ``patterns`` in segment ``row``."""
    text, start = str(index.frame.at[row, "text"]), as_int(index.frame.at[row, "start"])
    folded, where = fold(text)
    out: list[list[int]] = []
    for pattern in patterns:
        for m in pattern.finditer(folded):
            s, e = int(where[m.start()]), int(where[m.end() - 1]) + 1
            while e < len(text) and unicodedata.combining(text[e]):
                e += 1
            out.append([start + s, start + e])
    return sorted(out)
