"""Consistency checks of the coding: possible mis-codings, merge candidates, gaps to look at.

What each check computes, and its thresholds: :mod:`analysis.domain.consistency`. The checks are prompts for
the researcher, never verdicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis.domain.consistency import (MIN_CODINGS, OUTLIER_Z, SIMILAR_THRESHOLD, THEME_SHARE, FloatArray, coding_vectors,
                           leave_one_out)
from analysis.services.context import Context
from analysis.services.results import ConsistencyReport, OutlyingCoding, SimilarCodes, ThemeGap

if TYPE_CHECKING:
    from analysis.services.assist import AssistService
    from analysis.services.codebook import CodebookService
    from analysis.services.explore import ExploreService
    from analysis.services.suggestions import SuggestionService

__all__ = ["ConsistencyService"]


class ConsistencyService:
    """``check()``: outlying codings, similar codes, participants without a theme most others have."""

    def __init__(self, ctx: Context, assist: AssistService, codebook: CodebookService, explore: ExploreService,
                 suggestions: SuggestionService) -> None:
        self.ctx = ctx
        self.assist = assist
        self.codebook = codebook
        self.explore = explore
        self.suggestions = suggestions

    def check(
        self, *, outlier_z: float = OUTLIER_Z, similar_threshold: float = SIMILAR_THRESHOLD,
        theme_share: float = THEME_SHARE, min_codings: int = MIN_CODINGS,
    ) -> ConsistencyReport:
        """Consistency checks (see :mod:`analysis.domain.consistency`); the run is recorded in the audit trail."""
        index = self.assist.semantic_index()
        spans = self.assist.coding_spans()
        paths = self.codebook.code_paths()
        mean = index.centre()[0]
        texts = {int(cid): index.texts[int(tid)][int(start):int(end)] for cid, tid, start, end in zip(
            spans["coding_id"].to_numpy(dtype=np.int64), spans["transcript_id"].to_numpy(dtype=np.int64),
            spans["start"].to_numpy(dtype=np.int64), spans["end"].to_numpy(dtype=np.int64))}
        outlying: list[OutlyingCoding] = []
        centroids: dict[int, FloatArray] = {}
        code_ids = spans["code_id"].to_numpy(dtype=np.int64)
        for code_id in np.unique(code_ids):
            rows, owners = self.suggestions.code_examples(index, spans[code_ids == code_id])
            if not len(rows):
                continue
            vecs, ids = coding_vectors(index.vectors, rows, owners, mean)
            c = vecs.mean(axis=0)
            centroids[int(code_id)] = c / (np.linalg.norm(c) or 1.0)
            if len(ids) < min_codings:
                continue
            sims, z = leave_one_out(vecs)
            for n in np.flatnonzero(z <= -outlier_z):
                outlying.append(OutlyingCoding(paths.get(int(code_id), str(code_id)), int(ids[n]), texts[int(ids[n])],
                                               round(float(sims[n]), 4), round(float(z[n]), 2), int(len(ids))))
        outlying.sort(key=lambda o: o.z)
        similar: list[SimilarCodes] = []
        keys = sorted(centroids)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                cos = float(centroids[a] @ centroids[b])
                if cos >= similar_threshold:
                    similar.append(SimilarCodes(paths.get(a, str(a)), paths.get(b, str(b)), round(cos, 4)))
        similar.sort(key=lambda s: -s.similarity)
        gaps = self._theme_gaps(theme_share)
        self.ctx.log("assist.check", summary=f"Ran consistency checks: {len(outlying)} outlying codings, "
                     f"{len(similar)} similar code pairs, {len(gaps)} participant gaps",
                     after={"outlying_codings": len(outlying), "similar_codes": len(similar),
                            "participants_without_theme": len(gaps)})
        return ConsistencyReport(tuple(outlying), tuple(similar), tuple(gaps))

    def _theme_gaps(self, theme_share: float) -> list[ThemeGap]:
        matrix = self.explore.theme_matrix(level="theme", presence=True)
        people = [str(p) for p in matrix.columns]
        gaps: list[ThemeGap] = []
        if len(people) < 3:
            return gaps
        values = matrix.to_numpy(dtype=np.int64)
        for theme, row in zip(matrix.index, values):
            have = int(row.sum())
            for j, person in enumerate(people):
                if row[j] == 0 and have / (len(people) - 1) >= theme_share:
                    gaps.append(ThemeGap(str(theme), person, have, len(people) - 1))
        return gaps
