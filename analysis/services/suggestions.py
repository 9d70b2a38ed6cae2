""""More like this code": machine suggestions for a code, and the researcher's decisions on them.

How candidates are scored, and why: :mod:`analysis.domain.consistency`. Suggestions only (ARCHITECTURE
invariant 4): a suggestion becomes a coding only when the researcher accepts it (:meth:`SuggestionService.accept`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.domain.assist import IntArray, SegmentIndex, top_k, word_counts
from analysis.domain.consistency import MIN_WORDS, SUGGESTION_LABEL, SUGGESTION_ORIGIN, rank_like
from analysis.errors import ConflictError, Errors, NotFoundError
from analysis.store import codes as code_store, suggestions as suggestion_store, transcripts as transcript_store
from analysis.store.suggestions import Decision
from analysis.services.context import Action, Context

if TYPE_CHECKING:
    import pandas as pd
    from analysis.domain.model import Coding
    from analysis.services.assist import AssistService
    from analysis.services.codebook import CodebookService
    from analysis.services.codings import CodingService

__all__ = ["Decision", "SuggestionService"]

Suggestion = dict[str, Any]
"""A suggestion as :meth:`SuggestionService.suggest` returns it: a search hit's fields
(:class:`~analysis.services.results.SearchHit`, placed, without ``matches``) plus ``rank``, ``label``,
``code`` and ``closest_coding`` (id, text, score)."""


class SuggestionService:
    """Suggestions for a code from its coded material; accepting, rejecting, and the decisions made."""

    def __init__(self, ctx: Context, assist: AssistService, codebook: CodebookService, codings: CodingService) -> None:
        self.ctx = ctx
        self.assist = assist
        self.codebook = codebook
        self.codings = codings

    def _decided(self, code_ids: set[int], decision: str) -> pd.DataFrame:
        import pandas as pd

        with self.ctx.store.read() as conn:
            rows = suggestion_store.decided_spans(conn, code_ids, decision)
        return pd.DataFrame(rows, columns=["transcript_id", "start", "end"])

    @staticmethod
    def code_examples(index: SegmentIndex, spans: pd.DataFrame) -> tuple[IntArray, IntArray]:
        """The segment rows standing for each coding of ``spans`` (those at least half inside it, else
        any it touches) and, aligned, the coding ids: a code's coded material as vectors."""
        rows: list[int] = []
        owners: list[int] = []
        seg_starts = index.frame["start"].to_numpy(dtype=np.int64)
        seg_ends = index.frame["end"].to_numpy(dtype=np.int64)
        for cid, tid, start, end in zip(spans["coding_id"].to_numpy(dtype=np.int64),
                                        spans["transcript_id"].to_numpy(dtype=np.int64),
                                        spans["start"].to_numpy(dtype=np.int64), spans["end"].to_numpy(dtype=np.int64)):
            inside = index.rows_in(int(tid), int(start), int(end))
            cover = [r for r in inside if min(end, seg_ends[r]) - max(start, seg_starts[r])
                     >= 0.5 * (seg_ends[r] - seg_starts[r])]
            for r in cover or list(inside):
                rows.append(int(r))
                owners.append(int(cid))
        return np.asarray(rows, dtype=np.int64), np.asarray(owners, dtype=np.int64)

    def _suggestions(self, code: str | int, *, k: int, transcript: str | None = None,
                     interviewer: bool = False) -> tuple[Any, list[Suggestion]]:
        row, ids = self.assist.code_ids(code)
        index = self.assist.semantic_index()
        spans = self.assist.coding_spans(ids)
        ex_rows, owners = self.code_examples(index, spans)
        if not len(ex_rows):
            raise ConflictError(Errors.E2210, name=row.name)
        f = index.frame
        candidates = word_counts(f) >= MIN_WORDS
        if not interviewer:
            candidates &= ~f["interviewer"].to_numpy(dtype=bool)
        candidates &= ~index.overlap(spans) & ~index.overlap(self._decided(ids, "rejected"))
        if transcript:
            candidates &= (f["transcript"] == transcript).to_numpy(dtype=bool)
        mean, norms = index.centre()
        scores, nearest, best = rank_like(index.vectors, index.vectors[ex_rows], mean=mean, norms=norms)
        scores[~candidates] = -np.inf
        quotes = {int(cid): index.texts[int(tid)][int(start):int(end)] for cid, tid, start, end in zip(
            spans["coding_id"].to_numpy(dtype=np.int64), spans["transcript_id"].to_numpy(dtype=np.int64),
            spans["start"].to_numpy(dtype=np.int64), spans["end"].to_numpy(dtype=np.int64))}
        ranked = top_k(scores, k)
        hits = self.assist.with_places([self.assist.hit(index, int(i), float(scores[i])) for i in ranked])
        out: list[Suggestion] = []
        for rank, (i, hit) in enumerate(zip(ranked, hits), start=1):
            j = int(nearest[i])
            # a search hit's fields (no keyword matches here) and the suggestion's own
            fields = {f: v for f, v in asdict(hit).items() if f != "matches"}
            out.append(fields | {"rank": rank, "label": SUGGESTION_LABEL, "code": row.name, "closest_coding": {
                "id": int(owners[j]), "text": quotes[int(owners[j])], "score": round(float(best[i]), 4)}})
        return row, out

    def suggest(self, code: str | int, *, k: int = 10, transcript: str | None = None,
                interviewer: bool = False) -> list[Suggestion]:
        """Machine suggestions for ``code``: the ``k`` participant segments (the interviewer's too when
        ``interviewer``) most like its coded
        material, none overlapping its codings or rejected for it, each with its closest coded example
        (``closest_coding``: id, text, score) so the researcher can see why; only in ``transcript`` if
        given. The run is logged."""
        row, out = self._suggestions(code, k=k, transcript=transcript, interviewer=interviewer)
        self.ctx.log("assist.suggest", summary=f"Asked for {k} machine suggestions for '{row.name}': {len(out)} shown",
                     target=f"code:{row.guid}",
                     after={"code": row.name, "k": k, "shown": len(out), "transcript": transcript,
                            **({"interviewer": True} if interviewer else {})})
        return out

    def _suggestion(self, code: str | int, suggestion: Suggestion | int) -> Suggestion:
        if isinstance(suggestion, dict):
            return suggestion
        ranked = self._suggestions(code, k=max(1, suggestion))[1]
        if not 1 <= suggestion <= len(ranked):
            raise NotFoundError(Errors.E2008, suggestion=suggestion, code=code, n_ranked=len(ranked))
        return ranked[suggestion - 1]

    def _decide(self, act: Action, code_id: int, s: Suggestion, decision: str) -> None:
        tid = transcript_store.transcript_id(act.conn, s["transcript"])
        act.rec.insert("suggestion_decisions", code_id=code_id, transcript_id=tid, start=int(s["start"]),
                       end=int(s["end"]), decision=decision, who=act.who, at=self.ctx.now())

    def accept(self, code: str | int, suggestion: Suggestion | int, *, coder: str | None = None,
               memo: str = "", note: str = "") -> Coding:
        """The researcher accepts a machine suggestion (a dict from :meth:`suggest`, or its 1-based rank in
        the current list): a coding with origin ``suggestion:more-like-this`` and an "accepted" decision,
        in one undoable action recorded as ``coding.accept_suggestion``."""
        s = self._suggestion(code, suggestion)
        row = self.codebook.get_code(code)

        with self.ctx.action("coding.accept_suggestion", note=note, who=coder) as act:
            crow = code_store.code_row(act.conn, row.id)
            cid = self.codings.insert_coding(act, s["transcript"], int(s["start"]), int(s["end"]), crow, coder, memo,
                                             SUGGESTION_ORIGIN)
            self._decide(act, row.id, s, "accepted")
            closest = (s.get("closest_coding") or {}).get("id")
            act.after = (act.after or {}) | {"suggestion": {"score": s.get("score"), "rank": s.get("rank"),
                                                            "closest_coding": closest}}
        return self.codings.get(cid)

    def reject(self, code: str | int, suggestion: Suggestion | int, *, note: str = "") -> None:
        """The researcher rejects a machine suggestion: remembered, never suggested again for this code
        (undo forgets the rejection)."""
        s = self._suggestion(code, suggestion)
        with self.ctx.action("suggestion.reject", note=note) as act:
            row = code_store.code_row(act.conn, code)
            self._decide(act, int(row.id), s, "rejected")
            text = str(s.get("text", ""))[:57]
            act.target = f"code:{row.guid} transcript:{s['transcript']}"
            act.after = {"code": row.name, "transcript": s["transcript"], "start": int(s["start"]),
                         "end": int(s["end"]), "score": s.get("score")}
            act.summary = f"Rejected the machine suggestion '{text}' for '{row.name}'"

    def decisions(self, *, code: str | int | None = None) -> list[Decision]:
        """Accepted and rejected suggestions (code, transcript, span, decision, who, when), oldest first."""
        ids = None if code is None else self.assist.code_ids(code)[1]
        with self.ctx.store.read() as conn:
            return suggestion_store.decisions(conn, ids)
