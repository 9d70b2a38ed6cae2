"""A code's coded material as vectors, and its two uses: "more like this code" suggestions and
consistency checks. Suggestions and checks are prompts for the researcher, never verdicts.

"More like this code"
    A candidate segment's score is ``0.5 * max_j cos(x, e_j) + 0.5 * cos(x, centroid)`` over the
    segment vectors ``e_j`` that stand for the code's codings, every vector first centred on the
    corpus mean (MiniLM vectors of interview talk share a large common direction; removing it lifted
    recall@10 on held-out codings of the sample study from 0.29 to 0.37). The max (nearest coded
    example) keeps the several facets a code in reflexive TA usually has; the centroid damps a single
    stray example. Blend and centring were chosen by measurement against max-only, centroid-only and
    a keyword TF-IDF baseline (benchmarks/BENCHMARKS.md).
    Candidates: participant segments of at least 3 words that overlap none of the code's codings
    (with its sub-codes) and were not rejected for it. Accepting one is a researcher action
    (:meth:`analysis.services.suggestions.SuggestionService.accept`): a coding with origin
    ``suggestion:more-like-this``, in the same transaction and audit event as the ``suggestion_decisions``
    row that remembers it; a rejection is remembered the same way.

``check()`` (:class:`analysis.services.consistency.ConsistencyService`) returns three kinds of finding
(a :class:`analysis.services.results.ConsistencyReport`):

``outlying_codings``  codings far from the rest of their code: the cosine between the coding's vector
    (the mean of its segments' vectors, centred on the corpus mean) and the centroid of the code's
    *other* codings, compared with how the other codings sit (leave-one-out z-score:
    ``(sim - mean of the others' sims) / their sd``).
    Only codes with at least ``min_codings`` codings are checked; flagged at ``z <= -2.5`` (9 of the
    sample study's 306 codings; 17 at -2.0). A low z may be a mis-coding, or a facet of the code the
    researcher means to keep: it is a question, not an error.
``similar_codes``     pairs of codes whose coded material is nearly the same: cosine between the codes'
    centroids, after the corpus mean is subtracted (raw MiniLM centroids of any two sets of interview
    talk are alike; centring makes the cosine discriminate), at or above ``similar_threshold`` (0.8; the
    most similar pair of the sample study's 37 distinct codes scores 0.56, two codes on the same
    passages about 1). Merge candidates, to read side by side.
``participants_without_theme``  a participant with no coding under a theme (top-level code) that at
    least ``theme_share`` of the other participants have. To check, not to fill: absence can be a
    finding.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

OUTLIER_Z = 2.5
SIMILAR_THRESHOLD = 0.8
THEME_SHARE = 0.6
MIN_CODINGS = 4
LIKE_ALPHA = 0.5  # weight of the nearest coded example against the centroid (see the docstring)
MIN_WORDS = 3  # shorter segments ("Yeah.", "Mm, right.") are never suggested
SUGGESTION_ORIGIN = "suggestion:more-like-this"
SUGGESTION_LABEL = "Machine suggestion"


def rank_like(vectors: FloatArray, examples: FloatArray, *, alpha: float = LIKE_ALPHA, mean: FloatArray | None = None,
              norms: FloatArray | None = None) -> tuple[FloatArray, IntArray, FloatArray]:
    """Similarity of every row of ``vectors`` to a code's coded ``examples`` (unit rows):
    ``alpha * max over examples + (1 - alpha) * cosine to their centroid``, with every vector centred on
    the corpus ``mean`` (``norms``: each row's norm once centred; see ``SegmentIndex.centre``). Returns
    the scores, the nearest example of each row and its (centred) cosine to it."""
    if mean is None:
        mean = np.zeros(vectors.shape[1], dtype=np.float32)
        norms = np.ones(len(vectors), dtype=np.float32)
    elif norms is None:
        norms = np.linalg.norm(vectors - mean, axis=1).clip(1e-6).astype(np.float32)
    ex = examples - mean
    ex /= np.linalg.norm(ex, axis=1, keepdims=True).clip(1e-6)
    sims = (vectors @ ex.T - (mean @ ex.T)[None, :]) / norms[:, None]
    nearest = sims.argmax(axis=1)
    best = sims[np.arange(len(vectors)), nearest]
    centroid = ex.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    score = alpha * best + (1 - alpha) * (vectors @ centroid - mean @ centroid) / norms
    return score.astype(np.float32), nearest, np.asarray(best, dtype=np.float32)


def coding_vectors(vectors: FloatArray, rows: IntArray, owners: IntArray,
                   mean: FloatArray) -> tuple[FloatArray, IntArray]:
    """One unit vector per coding: the mean of the segment vectors that stand for it, centred on the
    corpus ``mean``; and the coding ids, aligned."""
    ids = np.unique(owners)
    out = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    for n, cid in enumerate(ids):
        v = vectors[rows[owners == cid]].mean(axis=0) - mean
        out[n] = v / (np.linalg.norm(v) or 1.0)
    return out, ids


def leave_one_out(vectors: FloatArray) -> tuple[FloatArray, npt.NDArray[np.float64]]:
    """For each row: its cosine to the centroid of the other rows, and the leave-one-out z-score of that."""
    n = len(vectors)
    total = vectors.sum(axis=0)
    others = total[None, :] - vectors
    others /= np.linalg.norm(others, axis=1, keepdims=True).clip(1e-9)
    sims = np.asarray(np.einsum("ij,ij->i", vectors, others), dtype=np.float32)
    z = np.zeros(n)
    for i in range(n):
        rest = np.delete(sims, i)
        sd = float(rest.std(ddof=1)) if n > 2 else 0.0
        z[i] = (sims[i] - rest.mean()) / sd if sd > 1e-9 else 0.0
    return sims, z
