"""Patterns in the uncoded text: groups of similar participant passages that no coding covers yet.

The service is :class:`analysis.services.patterns.PatternService`; this module keeps the algorithm.
A pattern is a machine grouping, never a theme: it is described by the words that distinguish its
passages (class-based TF-IDF over the cluster's own text, stop words and interview fillers removed)
and by its most central passages. The researcher may turn chosen passages into a new code (one
action) or dismiss the pattern (recorded; a dismissed pattern is not shown again).

Algorithm (chosen by measurement; full table in benchmarks/BENCHMARKS.md): the unit vectors of the
uncoded participant segments of at least 6 words are centred on their mean and re-normalised,
reduced to 25 dimensions with PCA, and clustered with HDBSCAN (``cluster_selection_method="leaf"``,
``min_cluster_size=min_size``, ``min_samples=3``). On the sample study, before any coding (1,271
segments), it finds 20 groups of 5-32 passages with a cosine silhouette of 0.17 over the grouped
passages, and 14 groups (0.20) among the 528 passages the sample codings leave uncoded. KMeans and
MiniBatchKMeans (k=40) score 0.06-0.07, agglomerative clustering 0.02-0.08 (average linkage puts 413
passages in one cluster), HDBSCAN on the raw 384 dimensions makes one cluster of 821. HDBSCAN
leaves most passages unclustered: that is the point here; only passages that recur closely are
offered, and nothing is forced into a group. PCA to 50 dimensions scored 0.20 before coding but
0.17 after, and HDBSCAN's time grows with n^2 x dimensions: 25 dimensions cluster 10,000 segments
in about 3.5 s on 2 cores (50: 7.8 s; the whole ``patterns`` pipeline: about 5 s). With segments of 4-5
words allowed, the largest group was 32 rhetorical asides ("That's the whole point."): they are left out.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
import numpy as np
import numpy.typing as npt

MIN_PATTERN_WORDS = 6
PCA_DIM = 25
PATTERN_ORIGIN = "suggestion:pattern"
FILLERS = frozenset("""um umm uh er erm ah oh yeah yes yep no nah ok okay right like just really actually
basically kind sort thing things stuff lot lots bit got get getting gonna going go went know think thought
mean said say says saying guess suppose maybe probably pretty quite very much well also still even
ve ll don didn doesn isn wasn weren couldn wouldn shouldn won ain re im laughs pause inaudible crosstalk
one two three time way want wanted need needed make made look looking come came""".split())
TOKEN = r"(?u)\b[^\W\d_][^\W\d_]+\b"  # words of letters only (macrons kept), two or more


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """scikit-learn's English stop words plus interview fillers (imported lazily: sklearn is slow to load)."""
    # scikit-learn ships no type stubs
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | FILLERS


def cluster_vectors(vectors: npt.NDArray[np.float32], *, min_size: int = 5, seed: int = 0) -> npt.NDArray[np.int64]:
    """Cluster labels (``-1`` = not in any cluster) for unit ``vectors``: centre, PCA, HDBSCAN (leaf)."""
    from sklearn.cluster import HDBSCAN  # no type stubs
    from sklearn.decomposition import PCA  # no type stubs

    n = len(vectors)
    if n < max(2 * min_size, 4):
        return np.full(n, -1, dtype=np.int64)
    x = vectors - vectors.mean(axis=0)
    x /= np.linalg.norm(x, axis=1, keepdims=True).clip(1e-9)
    z = PCA(min(PCA_DIM, n - 1, x.shape[1]), random_state=seed).fit_transform(x)
    model = HDBSCAN(min_cluster_size=min_size, min_samples=min(3, min_size), cluster_selection_method="leaf",
                    copy=True)
    return np.asarray(model.fit_predict(z), dtype=np.int64)


def distinctive_words(texts: list[str], labels: npt.NDArray[np.int64], *, n_words: int = 8) -> dict[int, list[str]]:
    """Class-based TF-IDF: per cluster, the words frequent in its texts and rare elsewhere (the
    unclustered passages form one background class). Only words present in the cluster's texts."""
    from sklearn.feature_extraction.text import CountVectorizer

    classes = sorted(set(labels.tolist()))
    docs = [" ".join(t for t, lab in zip(texts, labels) if lab == c) for c in classes]
    vec = CountVectorizer(token_pattern=TOKEN, stop_words=sorted(stop_words()), lowercase=True)
    try:
        counts = np.asarray(vec.fit_transform(docs).toarray(), dtype=np.float64)
    except ValueError:  # nothing but stop words
        return {c: [] for c in classes if c >= 0}
    vocab = np.asarray(vec.get_feature_names_out(), dtype=object)
    tf = counts / counts.sum(axis=1, keepdims=True).clip(1)
    idf = np.log(1 + counts.sum(axis=1).mean() / counts.sum(axis=0).clip(1))
    score = tf * idf
    out: dict[int, list[str]] = {}
    for i, c in enumerate(classes):
        if c < 0:
            continue
        order = [j for j in np.argsort(-score[i], kind="stable") if counts[i, j] > 0]
        out[c] = [str(w) for w in vocab[order[:n_words]]]
    return out


def fingerprint(spans: list[tuple[str, int, int]]) -> str:
    return hashlib.sha1(repr(sorted(spans)).encode()).hexdigest()[:12]


def words_in(text: str) -> set[str]:
    """The lower-cased words of ``text`` as :func:`distinctive_words` tokenises them (for checks)."""
    return {w.lower() for w in re.findall(TOKEN, text)}
