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
    (with its sub-codes) and were not rejected for it. Accepting one is a researcher action through
    ``Project.add_coding(origin="suggestion:more-like-this")``, in the same transaction and audit event
    as the ``suggestion_decisions`` row that remembers it; a rejection is remembered the same way.

``check()`` returns three lists:

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

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .errors import ConflictError, NotFoundError

OUTLIER_Z = 2.5
SIMILAR_THRESHOLD = 0.8
THEME_SHARE = 0.6
MIN_CODINGS = 4
LIKE_ALPHA = 0.5  # weight of the nearest coded example against the centroid (see the docstring)
MIN_WORDS = 3  # shorter segments ("Yeah.", "Mm, right.") are never suggested
SUGGESTION_ORIGIN = "suggestion:more-like-this"
SUGGESTION_LABEL = "Machine suggestion"


def rank_like(vectors: np.ndarray, examples: np.ndarray, *, alpha: float = LIKE_ALPHA, mean: np.ndarray | None = None,
              norms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Similarity of every row of ``vectors`` to a code's coded ``examples`` (unit rows):
    ``alpha * max over examples + (1 - alpha) * cosine to their centroid``, with every vector centred on
    the corpus ``mean`` (``norms``: each row's norm once centred; see ``SegmentIndex.centre``). Returns
    the scores, the nearest example of each row and its (centred) cosine to it."""
    if mean is None:
        mean = np.zeros(vectors.shape[1], dtype=np.float32)
        norms = np.ones(len(vectors), dtype=np.float32)
    ex = examples - mean
    ex /= np.linalg.norm(ex, axis=1, keepdims=True).clip(1e-6)
    sims = (vectors @ ex.T - (mean @ ex.T)[None, :]) / norms[:, None]
    nearest = sims.argmax(axis=1)
    best = sims[np.arange(len(vectors)), nearest]
    centroid = ex.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    score = alpha * best + (1 - alpha) * (vectors @ centroid - mean @ centroid) / norms
    return score.astype(np.float32), nearest, best


def coding_vectors(vectors: np.ndarray, rows: np.ndarray, owners: np.ndarray,
                   mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One unit vector per coding: the mean of the segment vectors that stand for it, centred on the
    corpus ``mean``; and the coding ids, aligned."""
    ids = np.unique(owners)
    out = np.zeros((len(ids), vectors.shape[1]), dtype=np.float32)
    for n, cid in enumerate(ids):
        v = vectors[rows[owners == cid]].mean(axis=0) - mean
        out[n] = v / (np.linalg.norm(v) or 1.0)
    return out, ids


def leave_one_out(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row: its cosine to the centroid of the other rows, and the leave-one-out z-score of that."""
    n = len(vectors)
    total = vectors.sum(axis=0)
    others = total[None, :] - vectors
    others /= np.linalg.norm(others, axis=1, keepdims=True).clip(1e-9)
    sims = np.einsum("ij,ij->i", vectors, others)
    z = np.zeros(n)
    for i in range(n):
        rest = np.delete(sims, i)
        sd = rest.std(ddof=1) if n > 2 else 0.0
        z[i] = (sims[i] - rest.mean()) / sd if sd > 1e-9 else 0.0
    return sims, z


class SuggestionsMixin:
    """Project methods: "more like this code", and the researcher's decisions on its suggestions."""

    def _decided(self: Any, code_ids: set[int], decision: str) -> pd.DataFrame:
        sd = self.t.suggestion_decisions
        with self.store.read() as conn:
            rows = conn.execute(sa.select(sd.c.transcript_id, sd.c.start, sd.c.end).where(
                sd.c.code_id.in_(sorted(code_ids)), sd.c.decision == decision)).all()
        return pd.DataFrame(rows, columns=["transcript_id", "start", "end"])

    def code_examples(self: Any, index: Any, spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The segment rows standing for each coding (those at least half inside it, else any it
        touches) and, aligned, the coding ids: a code's coded material as vectors."""
        rows, owners = [], []
        f = index.frame
        for c in spans.itertuples():
            inside = index.rows_in(int(c.transcript_id), int(c.start), int(c.end))
            cover = [r for r in inside if min(c.end, f.at[r, "end"]) - max(c.start, f.at[r, "start"])
                     >= 0.5 * (f.at[r, "end"] - f.at[r, "start"])]
            for r in cover or list(inside):
                rows.append(int(r))
                owners.append(int(c.coding_id))
        return np.asarray(rows, dtype=np.int64), np.asarray(owners, dtype=np.int64)

    def _suggestions(
        self: Any, code: str | int, *, k: int, transcript: str | None = None,
    ) -> tuple[Any, list[dict[str, Any]]]:
        from .assist import top_k

        row, ids = self._code_ids(code)
        index = self.segment_index()
        spans = self._coding_spans(ids)
        ex_rows, owners = self.code_examples(index, spans)
        if not len(ex_rows):
            raise ConflictError(f"'{row.name}' has no codings yet: code a few passages with it first, then ask "
                                "for more like them.")
        f = index.frame
        candidates = ~f["interviewer"].to_numpy() & (f["text"].str.split().str.len().to_numpy() >= MIN_WORDS)
        candidates &= ~index.overlap(spans) & ~index.overlap(self._decided(ids, "rejected"))
        if transcript:
            candidates &= (f["transcript"] == transcript).to_numpy()
        mean, norms = index.centre()
        scores, nearest, best = rank_like(index.vectors, index.vectors[ex_rows], mean=mean, norms=norms)
        scores[~candidates] = -np.inf
        quotes = {int(c.coding_id): index.texts[int(c.transcript_id)][int(c.start):int(c.end)]
                  for c in spans.itertuples()}
        out = []
        for rank, i in enumerate(top_k(scores, k), start=1):
            hit = self._hit(index, int(i), float(scores[i]))
            j = int(nearest[i])
            hit |= {"rank": rank, "label": SUGGESTION_LABEL, "code": row.name, "closest_coding": {
                "id": int(owners[j]), "text": quotes[int(owners[j])],
                "score": round(float(best[i]), 4)}}
            out.append(hit)
        return row, out

    def suggest(self: Any, code: str | int, *, k: int = 10, transcript: str | None = None) -> list[dict[str, Any]]:
        """Machine suggestions for ``code``: the ``k`` participant segments most like its coded
        material, none overlapping its codings or rejected for it, each with its closest coded example
        (``closest_coding``: id, text, score) so the researcher can see why; only in ``transcript`` if
        given. The run is logged."""
        row, out = self._suggestions(code, k=k, transcript=transcript)
        self._log("assist.suggest", summary=f"Asked for {k} machine suggestions for '{row.name}': {len(out)} shown",
                  target=f"code:{row.guid}",
                  after={"code": row.name, "k": k, "shown": len(out), "transcript": transcript})
        return out

    def _suggestion(self: Any, code: str | int, suggestion: dict[str, Any] | int) -> dict[str, Any]:
        if isinstance(suggestion, dict):
            return suggestion
        ranked = self._suggestions(code, k=max(1, suggestion))[1]
        if not 1 <= suggestion <= len(ranked):
            raise NotFoundError(f"There is no suggestion number {suggestion} for '{code}' (the list has "
                                f"{len(ranked)}). Run `storyloom suggest` again to see the current list.")
        return ranked[suggestion - 1]

    def _decide(self: Any, act: Any, code_id: int, s: dict[str, Any], decision: str) -> None:
        tid = self._transcript_id(act.conn, s["transcript"])
        act.rec.insert("suggestion_decisions", code_id=code_id, transcript_id=tid, start=int(s["start"]),
                       end=int(s["end"]), decision=decision, who=act.who, at=self._now())

    def accept_suggestion(self: Any, code: str | int, suggestion: dict[str, Any] | int, *, coder: str | None = None,
                          memo: str = "", note: str = "") -> Any:
        """The researcher accepts a machine suggestion (a dict from :meth:`suggest`, or its 1-based rank in
        the current list): a coding with origin ``suggestion:more-like-this`` and an "accepted" decision,
        in one undoable action recorded as ``coding.accept_suggestion``."""
        s = self._suggestion(code, suggestion)
        row = self.get_code(code)

        with self._action("coding.accept_suggestion", note=note, who=coder) as act:
            crow = self._code_row(act.conn, row.id)
            cid = self._insert_coding(act, s["transcript"], int(s["start"]), int(s["end"]), crow, coder, memo,
                                      SUGGESTION_ORIGIN)
            self._decide(act, row.id, s, "accepted")
            closest = (s.get("closest_coding") or {}).get("id")
            act.after = (act.after or {}) | {"suggestion": {"score": s.get("score"), "rank": s.get("rank"),
                                                            "closest_coding": closest}}
        return self.coding(cid)

    def reject_suggestion(self: Any, code: str | int, suggestion: dict[str, Any] | int, *, note: str = "") -> None:
        """The researcher rejects a machine suggestion: remembered, never suggested again for this code
        (undo forgets the rejection)."""
        s = self._suggestion(code, suggestion)
        with self._action("suggestion.reject", note=note) as act:
            row = self._code_row(act.conn, code)
            self._decide(act, row.id, s, "rejected")
            text = str(s.get("text", ""))[:57]
            act.target = f"code:{row.guid} transcript:{s['transcript']}"
            act.after = {"code": row.name, "transcript": s["transcript"], "start": int(s["start"]),
                         "end": int(s["end"]), "score": s.get("score")}
            act.summary = f"Rejected the machine suggestion '{text}' for '{row.name}'"

    def suggestion_decisions(self: Any, *, code: str | int | None = None) -> list[dict[str, Any]]:
        """Accepted and rejected suggestions (code, transcript, span, decision, who, when), oldest first."""
        t = self.t
        q = (sa.select(t.suggestion_decisions, t.codes.c.name.label("code"), t.transcripts.c.name.label("transcript"))
             .join(t.codes, t.codes.c.id == t.suggestion_decisions.c.code_id)
             .join(t.transcripts, t.transcripts.c.id == t.suggestion_decisions.c.transcript_id)
             .order_by(t.suggestion_decisions.c.id))
        if code is not None:
            q = q.where(t.suggestion_decisions.c.code_id.in_(sorted(self._code_ids(code)[1])))
        with self.store.read() as conn:
            return [{"code": r.code, "transcript": r.transcript, "start": r.start, "end": r.end,
                     "decision": r.decision, "who": r.who, "at": r.at} for r in conn.execute(q)]


class ConsistencyMixin:
    """Project method ``check()``: possible mis-codings, merge candidates, gaps to look at."""

    def check(
        self: Any, *, outlier_z: float = OUTLIER_Z, similar_threshold: float = SIMILAR_THRESHOLD,
        theme_share: float = THEME_SHARE, min_codings: int = MIN_CODINGS,
    ) -> dict[str, list[dict[str, Any]]]:
        """Consistency checks (see the module docstring); the run is recorded in the audit trail."""
        index = self.segment_index()
        spans = self._coding_spans()
        paths = self.code_paths()
        mean = index.centre()[0]
        texts = {int(c.coding_id): index.texts[int(c.transcript_id)][int(c.start):int(c.end)]
                 for c in spans.itertuples()}
        outlying: list[dict[str, Any]] = []
        centroids: dict[int, np.ndarray] = {}
        for code_id, g in spans.groupby("code_id"):
            rows, owners = self.code_examples(index, g)
            if not len(rows):
                continue
            vecs, ids = coding_vectors(index.vectors, rows, owners, mean)
            c = vecs.mean(axis=0)
            centroids[int(code_id)] = c / (np.linalg.norm(c) or 1.0)
            if len(ids) < min_codings:
                continue
            sims, z = leave_one_out(vecs)
            for n in np.flatnonzero(z <= -outlier_z):
                outlying.append({"code": paths.get(int(code_id), str(code_id)), "coding_id": int(ids[n]),
                                 "text": texts[int(ids[n])], "similarity": round(float(sims[n]), 4),
                                 "z": round(float(z[n]), 2), "codings": int(len(ids))})
        outlying.sort(key=lambda o: o["z"])
        similar: list[dict[str, Any]] = []
        keys = sorted(centroids)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                cos = float(centroids[a] @ centroids[b])
                if cos >= similar_threshold:
                    similar.append({"code_a": paths.get(a, str(a)), "code_b": paths.get(b, str(b)),
                                    "similarity": round(cos, 4)})
        similar.sort(key=lambda s: -s["similarity"])
        gaps = self._theme_gaps(theme_share)
        result = {"outlying_codings": outlying, "similar_codes": similar, "participants_without_theme": gaps}
        self._log("assist.check", summary=f"Ran consistency checks: {len(outlying)} outlying codings, "
                  f"{len(similar)} similar code pairs, {len(gaps)} participant gaps",
                  after={k: len(v) for k, v in result.items()})
        return result

    def _theme_gaps(self: Any, theme_share: float) -> list[dict[str, Any]]:
        matrix = self.theme_matrix(level="theme", presence=True)
        people = list(matrix.columns)
        gaps = []
        if len(people) < 3:
            return gaps
        for theme, row in matrix.iterrows():
            have = int(row.sum())
            for person in people:
                if row[person] == 0 and have / (len(people) - 1) >= theme_share:
                    gaps.append({"theme": theme, "participant": person, "others_with": have,
                                 "others": len(people) - 1})
        return gaps
