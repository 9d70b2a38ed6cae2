"""``project.agreement``: inter-coder agreement between named coders, for codebook-style studies.

Not the measure of a reflexive thematic analysis (see :mod:`analysis.agreement`, which also defines
the units and the statistics): the report says so, and its methods paragraph names unit and statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..agreement import UNITS, coded_units, statistics
from ..errors import Errors, NotFoundError, ValidationError
from ..store import codes as code_store, team as team_store, transcripts as transcript_store
from .codebook import CodebookService
from .context import Context

CAVEAT = ("Agreement statistics are offered for codebook-style (coding-reliability) studies; they are not a "
          "measure of quality for a reflexive thematic analysis, where the researcher's interpretation is the point.")


class AgreementService:
    """Percent agreement, Cohen's kappa and Krippendorff's alpha, per code and overall."""

    def __init__(self, ctx: Context, codebook: CodebookService) -> None:
        self.ctx = ctx
        self.codebook = codebook

    def coders(self) -> list[str]:
        """The names codings carry as their coder."""
        with self.ctx.store.read() as conn:
            return team_store.coder_names(conn)

    def compare(self, coders: Sequence[str], *, unit: str = "character", codes: Sequence[str | int] | None = None,
                transcripts: Sequence[str] | None = None) -> dict[str, Any]:
        """Agreement of ``coders`` (two or more) on ``unit`` (character | sentence | turn).

        ``codes``: the codes compared (default: every code any of them applied in the transcripts);
        ``transcripts``: by name (default: every transcript any of them coded). A coder with no coding
        in a transcript has not coded it (missing data). Returns ``{"unit", "coders", "transcripts",
        "codes": [{"code", "units", "percent_agreement", "cohen_kappa", "krippendorff_alpha"}],
        "overall": {...}, "note", "methods"}`` (kappa None for more than two coders); the comparison is
        recorded in the audit trail as a use of the tool."""
        names = list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))
        if unit not in UNITS:
            raise ValidationError(Errors.E2712, unit=unit, allowed=", ".join(UNITS))
        with self.ctx.store.read() as conn:
            known = team_store.coder_names(conn)
            if len(names) < 2:
                raise ValidationError(Errors.E2711, coders=", ".join(names) or "none", known=", ".join(known) or "none")
            for name in names:
                if name not in known:
                    raise NotFoundError(Errors.E2713, name=name, known=", ".join(known) or "none")
            lengths = team_store.transcript_lengths(conn)
            tids = None if not transcripts else {transcript_store.transcript_id(conn, t) for t in transcripts}
            cids = None if not codes else {int(code_store.code_row(conn, c).id) for c in codes}
            spans = team_store.coding_spans_by(conn, names, transcript_ids=tids, code_ids=None)
            chosen = sorted(tids if tids is not None else {s[2] for s in spans})
            bounds = team_store.unit_bounds(conn, unit, set(chosen)) if unit != "character" else {}
        coded_in = {(s[0], s[2]) for s in spans}  # (coder, transcript): the coder coded that transcript
        code_ids = sorted(cids if cids is not None else {s[1] for s in spans if s[2] in set(chosen)})
        if not chosen or not code_ids:
            raise ValidationError(Errors.E2714, coders=", ".join(names),
                                  codes=f" with the code(s) {', '.join(map(str, codes))}" if codes else "")
        paths = self.codebook.code_paths()
        per_code: list[dict[str, Any]] = []
        pooled: list[np.ndarray[Any, Any]] = []
        for cid in code_ids:
            blocks = []
            for tid in chosen:
                length = lengths[tid][1]
                unit_bounds = None if unit == "character" else bounds.get(tid, [])
                rows = []
                for coder in names:
                    if (coder, tid) not in coded_in:
                        n = length if unit_bounds is None else len(unit_bounds)
                        rows.append(np.full(n, np.nan))
                    else:
                        mine = [(s[3], s[4]) for s in spans if s[0] == coder and s[1] == cid and s[2] == tid]
                        rows.append(coded_units(mine, length, unit_bounds))
                blocks.append(np.vstack(rows))
            matrix = np.hstack(blocks) if blocks else np.zeros((len(names), 0))
            pooled.append(matrix)
            per_code.append({"code": paths.get(cid, str(cid)), **statistics(matrix).as_dict()})
        overall = statistics(np.hstack(pooled)).as_dict()
        result: dict[str, Any] = {
            "unit": unit, "coders": names, "transcripts": [lengths[t][0] for t in chosen], "codes": per_code,
            "overall": overall, "note": CAVEAT,
        }
        result["methods"] = self.methods_paragraph(result)
        self.ctx.log("agreement.compare", summary=f"Compared {', '.join(names)} ({unit} units, {len(per_code)} codes)",
                     after={"unit": unit, "coders": names, "codes": len(per_code), "overall": overall},
                     target=" ".join(f"transcript:{lengths[t][0]}" for t in chosen))
        return result

    @staticmethod
    def methods_paragraph(result: dict[str, Any]) -> str:
        """A methods-section sentence naming the unit, the coders, the statistics and their values."""
        o = result["overall"]
        unit = {"character": "characters", "sentence": "sentences", "turn": "speaker turns"}[result["unit"]]

        def num(v: float | None) -> str:
            return "undefined" if v is None else f"{v:.2f}"

        stats = [f"percent agreement {num(o['percent_agreement'])}"]
        if len(result["coders"]) == 2:
            stats.append(f"Cohen's kappa {num(o['cohen_kappa'])}")
        stats.append(f"Krippendorff's alpha (nominal) {num(o['krippendorff_alpha'])}")
        return (f"{len(result['coders'])} coders ({', '.join(result['coders'])}) coded {len(result['transcripts'])} "
                f"transcript(s) independently with {len(result['codes'])} code(s) of a shared codebook. Agreement "
                f"was computed on {unit} as the unit (a unit counts as coded when a coding covers it; "
                f"{o['units']:,} code-unit pairs in all), pooled over codes: {', '.join(stats)}. Per-code values "
                f"are in the agreement table. This is a coding-reliability check for a codebook approach, not a "
                f"measure of the quality of an interpretive analysis.")
