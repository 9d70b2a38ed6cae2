"""``project.agreement``: inter-coder agreement between named coders, for codebook-style studies.

Not the measure of a reflexive thematic analysis (see :mod:`analysis.domain.agreement`, which also defines
the units and the statistics): the report says so, and its methods paragraph names unit and statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from analysis.domain.agreement import UNITS, coded_units, differing_runs, said, statistics
from analysis.domain.methods_report import UNIT_WORDS, agreement_statistics, coders_with_transcripts
from analysis.ingest.text import inline_time_spans
from analysis.errors import ConflictError, Errors, NotFoundError, ValidationError
from analysis.store import codes as code_store, team as team_store, transcripts as transcript_store
from analysis.services.codebook import CodebookService
from analysis.services.codings import CodingBatch
from analysis.services.context import Context, new_guid
from analysis.services.results import AgreementResult, CodeAgreement, Disagreement, PassageCoding, Reconciliation

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
                transcripts: Sequence[str] | None = None, report: bool = False) -> AgreementResult:
        """Agreement of ``coders`` (two or more) on ``unit`` (character | sentence | turn); ``report``: mark
        this comparison as the one the methods report reports (default: the last one run, which it says).

        ``codes``: the codes compared (default: every code any of them applied in the transcripts);
        ``transcripts``: by name (default: every transcript any of them coded). A coder with no coding
        in a transcript has not coded it (missing data). Returns each code's agreement and the overall
        (kappa None for more than two coders) with the methods sentence; the comparison is recorded in the
        audit trail as a use of the tool (its ``after`` plain JSON: the overall statistics as a dict)."""
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
            bounds = team_store.unit_bounds(conn, "turn" if unit == "character" else unit, set(chosen))
            # the character unit's units: what was said (not labels, times or line breaks: see ``said``)
            keep = ({tid: said(text := transcript_store.transcript_text(conn, tid), bounds.get(tid, []),
                               inline_time_spans(text)) for tid in chosen} if unit == "character" else {})
        coded_in = {(s[0], s[2]) for s in spans}  # (coder, transcript): the coder coded that transcript
        code_ids = sorted(cids if cids is not None else {s[1] for s in spans if s[2] in set(chosen)})
        if not chosen or not code_ids:
            raise ValidationError(Errors.E2714, coders=", ".join(names),
                                  codes=f" with the code(s) {', '.join(map(str, codes))}" if codes else "")
        paths = self.codebook.code_paths()
        per_code: list[CodeAgreement] = []
        pooled: list[np.ndarray[Any, Any]] = []
        for cid in code_ids:
            blocks = []
            for tid in chosen:
                unit_bounds = None if unit == "character" else bounds.get(tid, [])
                length = len(keep[tid]) if unit_bounds is None else lengths[tid][1]
                rows = []
                for coder in names:
                    if (coder, tid) not in coded_in:
                        n = int(keep[tid].sum()) if unit_bounds is None else len(unit_bounds)
                        rows.append(np.full(n, np.nan))
                    else:
                        mine = [(s[3], s[4]) for s in spans if s[0] == coder and s[1] == cid and s[2] == tid]
                        rows.append(coded_units(mine, length, unit_bounds, keep.get(tid)))
                blocks.append(np.vstack(rows))
            matrix = np.hstack(blocks) if blocks else np.zeros((len(names), 0))
            pooled.append(matrix)
            st = statistics(matrix)
            per_code.append(CodeAgreement(code=paths.get(cid, str(cid)), units=st.units,
                                          units_all_coders=st.units_all_coders, percent_agreement=st.percent_agreement,
                                          cohen_kappa=st.cohen_kappa, krippendorff_alpha=st.krippendorff_alpha))
        overall = statistics(np.hstack(pooled))
        per_coder = {coder: sum(1 for tid in chosen if (coder, tid) in coded_in) for coder in names}
        result = AgreementResult(unit=unit, coders=tuple(names), transcripts=tuple(lengths[t][0] for t in chosen),
                                 codes=tuple(per_code), overall=overall, note=CAVEAT, transcripts_per_coder=per_coder)
        result = replace(result, methods=self.methods_paragraph(result))
        self.ctx.log("agreement.compare", summary=f"Compared {', '.join(names)} ({unit} units, {len(per_code)} codes)",
                     after={"unit": unit, "coders": names, "codes": len(per_code), "overall": overall.as_dict(),
                            "transcripts": len(chosen), "transcripts_per_coder": per_coder, "report": report},
                     target=" ".join(f"transcript:{lengths[t][0]}" for t in chosen))
        return result

    @staticmethod
    def methods_paragraph(result: AgreementResult) -> str:
        """A methods-section sentence naming the unit, the coders, the statistics and their values (its own
        ``methods`` is not read)."""
        o = result.overall
        unit = UNIT_WORDS[result.unit]
        coders = coders_with_transcripts(result.coders, result.transcripts_per_coder)
        return (f"{len(result.coders)} coders ({coders}) coded {len(result.transcripts)} "
                f"transcript(s) independently with {len(result.codes)} code(s) of a shared codebook. Agreement "
                f"was computed on {unit} as the unit (a unit counts as coded when a coding covers it; "
                f"{o.units:,} code-unit pairs in all), pooled over codes: "
                f"{agreement_statistics(o.as_dict(), len(result.coders))}. Per-code values "
                f"are in the agreement table. This is a coding-reliability check for a codebook approach, not a "
                f"measure of the quality of an interpretive analysis.")

    # -- the comparison view: where coders disagree, and reconciling them --------------------------------
    def disagreements(self, coders: Sequence[str], *, transcripts: Sequence[str] | None = None,
                      codes: Sequence[str | int] | None = None) -> list[Disagreement]:
        """The passages where ``coders`` disagree, code by code, in text order.

        A passage holds the characters of a transcript on which the coders who coded that transcript (a
        coder with no coding there has not coded it) do not all agree whether ``code`` applies, widened
        to the codings that touch them (so "A coded more of it than B" is one passage, shown side by
        side). Each holds its ``codings``: each coder's codings of that code overlapping the passage (none
        for a coder who did not apply it there)."""
        names = list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))
        if len(names) < 2:
            raise ValidationError(Errors.E2711, coders=", ".join(names) or "none", known=", ".join(self.coders()) or "none")
        paths = self.codebook.code_paths()
        out: list[Disagreement] = []
        with self.ctx.store.read() as conn:
            lengths = team_store.transcript_lengths(conn)
            tids = None if not transcripts else {transcript_store.transcript_id(conn, t) for t in transcripts}
            cids = None if not codes else {int(code_store.code_row(conn, c).id) for c in codes}
            spans = team_store.coding_spans_by(conn, names, transcript_ids=tids, code_ids=None)
            # The spans grouped once, by transcript, code and coder (issue 26: filtering every span for every
            # transcript and code took 82 s at 350 transcripts and 15,000 codings), and each transcript's
            # codings read in one query, not one per passage.
            grouped: dict[int, dict[int, dict[str, list[tuple[int, int]]]]] = {}
            for coder, cid, tid, start, end in spans:
                grouped.setdefault(tid, {}).setdefault(cid, {}).setdefault(coder, []).append((start, end))
            compared = sorted(grouped if tids is None else tids)
            turn_bounds = team_store.unit_bounds(conn, "turn", set(compared))  # one query, not one a transcript
            for tid in compared:
                by_code = grouped.get(tid, {})
                present = [n for n in names if any(n in by_coder for by_coder in by_code.values())]
                if len(present) < 2:
                    continue
                name, length = lengths[tid]
                text = transcript_store.transcript_text(conn, tid)
                rows_of: dict[int, list[tuple[int, str, int, int, str, str, str]]] = {}
                for r in team_store.coding_rows_by(conn, present, transcript_id=tid):
                    rows_of.setdefault(int(r.code_id), []).append(
                        (int(r.id), str(r.guid), int(r.start), int(r.end), str(r.quote), str(r.memo), str(r.coder)))
                # as the character unit counts: coders who differ only on a label, a time or a line break agree
                keep = said(text, turn_bounds.get(tid, []), inline_time_spans(text))
                for cid in sorted(c for c in by_code if cids is None or c in cids):
                    mine = [by_code[cid].get(n, []) for n in present]
                    code_spans = [se for spans_of in mine for se in spans_of]
                    runs = [(s, e) for s, e in differing_runs(mine, length) if keep[s:e].any()]
                    for start, end in _passages(runs, code_spans):
                        rows = [r for r in rows_of.get(cid, []) if r[2] < end and r[3] > start]
                        by = {n: tuple(PassageCoding(id=i, guid=guid, start=s, end=e, quote=quote, memo=memo)
                                       for i, guid, s, e, quote, memo, coder in rows if coder == n)
                              for n in present}
                        coded = [n for n, spans_of in zip(present, mine)
                                 if any(max(s, 0, start) < min(e, length, end) for s, e in spans_of)]
                        out.append(Disagreement(
                            code=paths.get(cid, str(cid)), code_id=cid, transcript=name, start=start, end=end,
                            text=text[start:end], coded_by=tuple(coded),
                            not_coded_by=tuple(n for n in present if n not in coded), codings=by))
        return out

    def reconcile(self, *, code: str | int, transcript: str, start: int, end: int, accept: str,
                  coders: Sequence[str]) -> Reconciliation:
        """Accept ``accept``'s coding of a passage for the other ``coders``: their codings of ``code`` that
        overlap ``[start, end)`` are replaced by copies of ``accept``'s codings there (origin
        ``reconciled``; none, when ``accept`` did not code it). One undoable action."""
        others = [c for c in dict.fromkeys(coders) if c != accept]
        if not others:
            raise ConflictError(Errors.E4315, accept=accept)
        with self.ctx.action("coding.reconcile") as act:
            crow = code_store.code_row(act.conn, code)
            tid = transcript_store.transcript_id(act.conn, transcript)
            accepted = team_store.coding_rows_by(act.conn, [accept], transcript_id=tid, code_id=int(crow.id),
                                                 start=start, end=end)
            removed = added = 0
            for r in team_store.coding_rows_by(act.conn, others, transcript_id=tid, code_id=int(crow.id),
                                               start=start, end=end):
                act.rec.delete("codings", int(r.id))
                act.about("coding", str(r.guid), "related")
                removed += 1
            batch = CodingBatch(act, transcripts=[tid])  # read after the removals: what is left
            for other in others:
                for r in accepted:
                    if batch.match(code_id=int(crow.id), transcript_id=tid, start=int(r.start), end=int(r.end),
                                   coder=other) is not None:
                        continue
                    guid = new_guid()
                    batch.add(guid=guid, code_id=int(crow.id), transcript_id=tid, start=int(r.start),
                              end=int(r.end), quote=str(r.quote), context_before=str(r.context_before),
                              context_after=str(r.context_after), coder=other, memo="", origin="reconciled",
                              created_at=self.ctx.now())
                    act.about("coding", guid, "related")
                    added += 1
            batch.flush()
            act.target = f"code:{crow.guid} transcript:{transcript}"
            act.after = {"code": crow.name, "transcript": transcript, "accepted": accept, "passage": [start, end], "into": others,
                         "removed": removed, "added": added}
            act.summary = (f"Reconciled '{crow.name}' in {transcript} ({start}-{end}): accepted {accept}'s coding "
                           f"for {', '.join(others)}")
        return Reconciliation(removed=removed, added=added, accepted=accept, into=tuple(others))


def _passages(runs: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each run of disagreement widened to the codings overlapping it; overlapping results joined."""
    out: list[tuple[int, int]] = []
    for start, end in runs:
        touching = [(s, e) for s, e in spans if s < end and e > start]
        lo, hi = min([start, *(s for s, _ in touching)]), max([end, *(e for _, e in touching)])
        if out and lo < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out
