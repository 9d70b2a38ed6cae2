"""Patterns in the uncoded text: groups of similar participant passages no coding covers yet, and the
researcher's decisions on them (dismiss one, or make a code of its passages).

The algorithm, and why it was chosen: :mod:`analysis.domain.patterns`. A pattern is a machine grouping,
never a theme.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.domain.assist import word_counts
from analysis.errors import Errors, ValidationError
from analysis.domain.patterns import MIN_PATTERN_WORDS, PATTERN_ORIGIN, cluster_vectors, distinctive_words, fingerprint
from analysis.store import audit as audit_store, codes as code_store
from analysis.services.context import Context
from analysis.services.results import DismissedPattern

if TYPE_CHECKING:
    from analysis.domain.model import Code
    from analysis.services.assist import AssistService
    from analysis.services.codebook import CodebookService
    from analysis.services.codings import CodingService

__all__ = ["PatternService"]

Pattern = dict[str, Any]
"""A pattern as :meth:`PatternService.list` returns it: ``id``, ``size``, ``words``, ``cohesion`` and
``segments`` (transcript, start, end, text, participant, centrality; most central first)."""


class PatternService:
    """Clusters of uncoded text, and the researcher's decisions on them."""

    def __init__(self, ctx: Context, assist: AssistService, codebook: CodebookService, codings: CodingService) -> None:
        self.ctx = ctx
        self.assist = assist
        self.codebook = codebook
        self.codings = codings

    def list(self, *, min_size: int = 5, n_words: int = 8) -> builtins.list[Pattern]:
        """Groups of similar uncoded participant passages (largest first), each with its distinctive
        ``words`` and its ``segments`` (most central first). Dismissed patterns are left out. The review
        is recorded in the audit trail."""
        if min_size < 2:
            raise ValidationError(Errors.E2117, min_size=min_size)
        index = self.assist.semantic_index()
        f = index.frame
        keep = ~f["interviewer"].to_numpy(dtype=bool) & (word_counts(f) >= MIN_PATTERN_WORDS)
        keep &= ~index.overlap(self.assist.coding_spans())
        rows = np.flatnonzero(keep)
        labels = cluster_vectors(index.vectors[rows], min_size=min_size)
        texts: builtins.list[str] = f["text"].tolist()
        transcripts: builtins.list[str] = f["transcript"].tolist()
        participants: builtins.list[str] = f["participant"].tolist()
        speakers: builtins.list[str] = f["speaker"].tolist()
        starts, ends = f["start"].to_numpy(dtype=np.int64), f["end"].to_numpy(dtype=np.int64)
        words = distinctive_words([texts[r] for r in rows], labels, n_words=n_words)
        dismissed = [set(d.segments) for d in self.dismissed()]
        clusters: builtins.list[Pattern] = []
        for c, members in ((c, rows[labels == c]) for c in sorted(set(labels.tolist())) if c >= 0):
            centroid = index.vectors[members].mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            central = index.vectors[members] @ centroid
            order = members[np.argsort(-central, kind="stable")]
            spans = [(transcripts[r], int(starts[r]), int(ends[r])) for r in order]
            if any(len(d & set(spans)) >= 0.5 * len(d | set(spans)) for d in dismissed):
                continue
            segments = [{"transcript": s[0], "start": s[1], "end": s[2], "text": texts[r],
                         "participant": participants[r] or speakers[r],
                         "centrality": round(float(index.vectors[r] @ centroid), 4)} for s, r in zip(spans, order)]
            clusters.append({"id": fingerprint(spans), "size": len(spans), "words": words.get(c, []),
                             "cohesion": round(float(central.mean()), 4), "segments": segments})
        clusters.sort(key=lambda c: (-int(c["size"]), -float(c["cohesion"])))
        self.ctx.log("assist.patterns", summary=f"Reviewed {len(clusters)} machine-grouped patterns in uncoded text "
                     f"({len(rows)} passages, min size {min_size})",
                     after={"clusters": len(clusters), "uncoded_segments": int(len(rows)), "min_size": min_size})
        return clusters

    def dismissed(self) -> builtins.list[DismissedPattern]:
        """Patterns the researcher dismissed (and did not undo), oldest first."""
        with self.ctx.store.read() as conn:
            events = audit_store.events(conn, action="pattern.dismiss")
        return [DismissedPattern(str(e.after.get("id", "")), tuple(str(w) for w in e.after.get("words", [])),
                                 tuple((str(t), int(s), int(x)) for t, s, x in e.after.get("segments", [])))
                for e in events if e.state in ("done", "final") and e.after]

    def dismiss(self, pattern: Pattern, *, note: str = "") -> None:
        """Dismiss a machine-grouped pattern: recorded, and not shown again (undo brings it back)."""
        spans = [[s["transcript"], int(s["start"]), int(s["end"])] for s in pattern.get("segments", [])]
        if not spans:
            raise ValidationError(Errors.E2118)
        pid = pattern.get("id") or fingerprint([(str(t), int(a), int(b)) for t, a, b in spans])
        with self.ctx.action("pattern.dismiss", note=note) as act:
            act.target = f"pattern:{pid}"
            act.after = {"id": pid, "words": builtins.list(pattern.get("words", [])), "segments": spans}
            words = ", ".join(pattern.get("words", [])[:4])
            act.summary = f"Dismissed a machine-grouped pattern of {len(spans)} passages ({words})"

    def make_code(
        self, pattern: Pattern, *, name: str, segments: builtins.list[dict[str, Any]] | None = None,
        parent: str | int | None = None, definition: str = "", coder: str | None = None, note: str = "",
    ) -> Code:
        """Make a new code ``name`` coding the chosen ``segments`` of a pattern (default: all of them),
        in one undoable action; the codings' origin is ``suggestion:pattern``."""
        chosen = builtins.list(pattern.get("segments", []) if segments is None else segments)
        if not chosen:
            raise ValidationError(Errors.E2119)
        fields: dict[str, Any] = {"name": name, "kind": "code", "definition": definition}
        self.codebook.validate_fields(fields)
        with self.ctx.action("pattern.make_code", note=note, who=coder) as act:
            code_id = self.codebook.insert_code(act, fields, parent)
            crow = code_store.code_row(act.conn, code_id)
            seen: set[tuple[str, int, int]] = set()
            for s in chosen:
                key = (str(s["transcript"]), int(s["start"]), int(s["end"]))
                if key not in seen:
                    seen.add(key)
                    self.codings.insert_coding(act, *key, crow, coder, "", PATTERN_ORIGIN)
            act.action = "pattern.make_code"
            act.target = f"code:{crow.guid}"
            act.after = {"code": crow.name, "pattern": pattern.get("id"), "codings": len(seen),
                         "words": builtins.list(pattern.get("words", []))}
            act.summary = f"Made code '{crow.name}' from {len(seen)} passages of a machine-grouped pattern"
        return self.codebook.get_code(code_id)
