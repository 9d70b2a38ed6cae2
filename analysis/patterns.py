"""Patterns in the uncoded text: groups of similar participant passages that no coding covers yet.

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
from typing import Any

import numpy as np

from .errors import ConflictError

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
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | FILLERS


def cluster_vectors(vectors: np.ndarray, *, min_size: int = 5, seed: int = 0) -> np.ndarray:
    """Cluster labels (``-1`` = not in any cluster) for unit ``vectors``: centre, PCA, HDBSCAN (leaf)."""
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    n = len(vectors)
    if n < max(2 * min_size, 4):
        return np.full(n, -1, dtype=np.int64)
    x = vectors - vectors.mean(axis=0)
    x /= np.linalg.norm(x, axis=1, keepdims=True).clip(1e-9)
    z = PCA(min(PCA_DIM, n - 1, x.shape[1]), random_state=seed).fit_transform(x)
    model = HDBSCAN(min_cluster_size=min_size, min_samples=min(3, min_size), cluster_selection_method="leaf",
                    copy=True)
    return model.fit_predict(z).astype(np.int64)


def distinctive_words(texts: list[str], labels: np.ndarray, *, n_words: int = 8) -> dict[int, list[str]]:
    """Class-based TF-IDF: per cluster, the words frequent in its texts and rare elsewhere (the
    unclustered passages form one background class). Only words present in the cluster's texts."""
    from sklearn.feature_extraction.text import CountVectorizer

    classes = sorted(set(labels.tolist()))
    docs = [" ".join(t for t, lab in zip(texts, labels) if lab == c) for c in classes]
    vec = CountVectorizer(token_pattern=TOKEN, stop_words=sorted(stop_words()), lowercase=True)
    try:
        counts = vec.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # nothing but stop words
        return {c: [] for c in classes if c >= 0}
    vocab = np.asarray(vec.get_feature_names_out())
    tf = counts / counts.sum(axis=1, keepdims=True).clip(1)
    idf = np.log(1 + counts.sum(axis=1).mean() / counts.sum(axis=0).clip(1))
    score = tf * idf
    out = {}
    for i, c in enumerate(classes):
        if c < 0:
            continue
        order = [j for j in np.argsort(-score[i], kind="stable") if counts[i, j] > 0]
        out[c] = vocab[order[:n_words]].tolist()
    return out


def fingerprint(spans: list[tuple[str, int, int]]) -> str:
    return hashlib.sha1(repr(sorted(spans)).encode()).hexdigest()[:12]


class PatternsMixin:
    """Project methods: clusters of uncoded text, and the researcher's decisions on them."""

    def patterns(self: Any, *, min_size: int = 5, n_words: int = 8) -> list[dict[str, Any]]:
        """Groups of similar uncoded participant passages (largest first), each with its distinctive
        ``words`` and its ``segments`` (most central first). Dismissed patterns are left out. The review
        is recorded in the audit trail."""
        if min_size < 2:
            raise ConflictError(f"min_size must be at least 2 (got {min_size}).")
        index = self.segment_index()
        f = index.frame
        keep = ~f["interviewer"].to_numpy() & (f["text"].str.split().str.len().to_numpy() >= MIN_PATTERN_WORDS)
        keep &= ~index.overlap(self._coding_spans())
        rows = np.flatnonzero(keep)
        labels = cluster_vectors(index.vectors[rows], min_size=min_size)
        words = distinctive_words(f["text"].to_numpy()[rows].tolist(), labels, n_words=n_words)
        dismissed = [set(map(tuple, d.get("segments", []))) for d in self.dismissed_patterns()]
        clusters = []
        for c, members in ((c, rows[labels == c]) for c in sorted(set(labels.tolist())) if c >= 0):
            centroid = index.vectors[members].mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            central = index.vectors[members] @ centroid
            order = members[np.argsort(-central, kind="stable")]
            spans = [(f.at[r, "transcript"], int(f.at[r, "start"]), int(f.at[r, "end"])) for r in order]
            if any(len(d & set(spans)) >= 0.5 * len(d | set(spans)) for d in dismissed):
                continue
            segments = [{"transcript": s[0], "start": s[1], "end": s[2], "text": f.at[r, "text"],
                         "participant": f.at[r, "participant"] or f.at[r, "speaker"],
                         "centrality": round(float(index.vectors[r] @ centroid), 4)} for s, r in zip(spans, order)]
            clusters.append({"id": fingerprint(spans), "size": len(spans), "words": words.get(c, []),
                             "cohesion": round(float(central.mean()), 4), "segments": segments})
        clusters.sort(key=lambda c: (-c["size"], -c["cohesion"]))
        self._log("assist.patterns", summary=f"Reviewed {len(clusters)} machine-grouped patterns in uncoded text "
                  f"({len(rows)} passages, min size {min_size})",
                  after={"clusters": len(clusters), "uncoded_segments": int(len(rows)), "min_size": min_size})
        return clusters

    def dismissed_patterns(self: Any) -> list[dict[str, Any]]:
        """Patterns the researcher dismissed (and did not undo), oldest first."""
        return [e.after for e in self.audit_trail(action="pattern.dismiss") if e.state in ("done", "final") and e.after]

    def dismiss_pattern(self: Any, pattern: dict[str, Any], *, note: str = "") -> None:
        """Dismiss a machine-grouped pattern: recorded, and not shown again (undo brings it back)."""
        spans = [[s["transcript"], int(s["start"]), int(s["end"])] for s in pattern.get("segments", [])]
        if not spans:
            raise ConflictError("This pattern has no passages to dismiss.")
        pid = pattern.get("id") or fingerprint([tuple(s) for s in spans])
        with self._action("pattern.dismiss", note=note) as act:
            act.target = f"pattern:{pid}"
            act.after = {"id": pid, "words": list(pattern.get("words", [])), "segments": spans}
            words = ", ".join(pattern.get("words", [])[:4])
            act.summary = f"Dismissed a machine-grouped pattern of {len(spans)} passages ({words})"

    def code_from_pattern(
        self: Any, pattern: dict[str, Any], *, name: str, segments: list[dict[str, Any]] | None = None,
        parent: str | int | None = None, definition: str = "", coder: str | None = None, note: str = "",
    ) -> Any:
        """Make a new code ``name`` coding the chosen ``segments`` of a pattern (default: all of them),
        in one undoable action; the codings' origin is ``suggestion:pattern``."""
        chosen = list(pattern.get("segments", []) if segments is None else segments)
        if not chosen:
            raise ConflictError("Choose at least one passage of the pattern to code.")
        fields = {"name": name, "kind": "code", "definition": definition}
        self._validate(fields)
        with self._action("pattern.make_code", note=note, who=coder) as act:
            code_id = self._insert_code(act, fields, parent)
            crow = self._code_row(act.conn, code_id)
            seen: set[tuple[str, int, int]] = set()
            for s in chosen:
                key = (str(s["transcript"]), int(s["start"]), int(s["end"]))
                if key not in seen:
                    seen.add(key)
                    self._insert_coding(act, *key, crow, coder, "", PATTERN_ORIGIN)
            act.action = "pattern.make_code"
            act.target = f"code:{crow.guid}"
            act.after = {"code": crow.name, "pattern": pattern.get("id"), "codings": len(seen),
                         "words": list(pattern.get("words", []))}
            act.summary = f"Made code '{crow.name}' from {len(seen)} passages of a machine-grouped pattern"
        return self.get_code(code_id)


def words_in(text: str) -> set[str]:
    """The lower-cased words of ``text`` as :func:`distinctive_words` tokenises them (for checks)."""
    return {w.lower() for w in re.findall(TOKEN, text)}
