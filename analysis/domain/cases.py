"""Cases and cross-case comparison, the pure part: the case x condition matrix, the set-theoretic
comparison (Ragin 2006), the publication table in every format, and reading a matrix from CSV. No I/O,
no database here (:class:`analysis.services.cases.CaseService` is ``project.cases``).

Cell values are set memberships: 1 (present), 0 (absent), a value in (0, 1) (partial membership, for
fuzzy sets) or ``None`` (not yet judged). For a condition X and the outcome Y over the cases judged on
both (Ragin 2006, "Set relations in social research"):

* sufficiency consistency = Σmin(x, y) / Σx, sufficiency coverage = Σmin(x, y) / Σy;
* necessity consistency = Σmin(x, y) / Σy, necessity coverage = Σmin(x, y) / Σx;

crisp sets are the 0/1 case. A case is "in" a set when its membership is above 0.5, "out" below 0.5;
a membership of exactly 0.5 is neither (Ragin's point of maximum ambiguity), so such a case takes no part
in the truth table nor in "present in every outcome case".
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

from analysis.errors import Errors, ImportFormatError, ValidationError
from analysis import limits
from analysis.domain.names import check_name

if TYPE_CHECKING:  # the renderers load when a matrix is exported, not when the store reads cases
    from analysis.export.document import Block, Document

__all__ = [
    "CASE_KINDS", "Case", "Cell", "Comparison", "Condition", "ConditionMeasures", "Conjunction", "Contradiction",
    "IncompleteCase", "Matrix", "ParsedMatrix", "Separating", "Thresholds", "TruthTableRow", "compare",
    "format_cell", "matrix_methods_paragraph", "matrix_table",
    "parse_cell", "parse_matrix_csv", "parse_value",
]

CASE_KINDS = ("participant", "programme", "organisation", "unit", "event", "case")
# Thresholds usually used to call a condition necessary or sufficient (Ragin 2006; Schneider & Wagemann 2012).
NECESSITY_THRESHOLD = 0.9
SUFFICIENCY_THRESHOLD = 0.8
# Below this many cases (or fewer than three cases per condition) the comparison describes the cases and
# no more: the output says so.
DESCRIPTIVE_BELOW = 10
CASES_PER_CONDITION = 3
PRESENT, ABSENT, NOT_JUDGED = "✓", "✗", "–"
OUTCOME_MARK = " (outcome)"

_NUMBER = re.compile(r"\d+(\.\d+)?")
_TRUE = {"1", "✓", "✔", "☑", "x", "yes", "y", "true", "present"}
_FALSE = {"0", "✗", "✘", "☒", "no", "n", "false", "absent"}


# -- the matrix -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: int
    guid: str
    name: str
    kind: str = "case"
    description: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    participants: tuple[str, ...] = ()
    evidence: tuple[int, ...] = ()  # coding ids linked to the case


@dataclass(frozen=True)
class Condition:
    id: int
    guid: str
    name: str
    description: str = ""
    code_id: int | None = None
    code: str = ""  # the tied code's path, if any
    is_outcome: bool = False


@dataclass(frozen=True)
class Cell:
    value: float | None
    note: str = ""
    evidence: tuple[int, ...] = ()
    origin: str = "researcher"
    judged_by: str = ""


@dataclass(frozen=True)
class Matrix:
    """Cases (rows of the store), conditions (in their order) and the cells judged or annotated so far."""

    cases: tuple[Case, ...]
    conditions: tuple[Condition, ...]
    cells: dict[tuple[str, str], Cell]  # (case name, condition name) -> cell

    @property
    def outcome(self) -> str | None:
        return next((c.name for c in self.conditions if c.is_outcome), None)

    def value(self, case: str, condition: str) -> float | None:
        cell = self.cells.get((case, condition))
        return None if cell is None else cell.value

    def to_json(self) -> dict[str, Any]:
        """``{"cases": [...], "conditions": [...], "cells": [{"case", "condition", "value", "evidence", "note"}]}``."""
        return {
            "cases": [{"name": c.name, "kind": c.kind, "description": c.description, "attributes": c.attributes,
                       "participants": list(c.participants), "evidence": list(c.evidence), "guid": c.guid}
                      for c in self.cases],
            "conditions": [{"name": c.name, "code": c.code or None, "outcome": c.is_outcome,
                            "description": c.description, "guid": c.guid} for c in self.conditions],
            "cells": [{"case": case, "condition": cond, "value": cell.value, "evidence": list(cell.evidence),
                       "note": cell.note, "origin": cell.origin}
                      for (case, cond), cell in sorted(self.cells.items(), key=lambda kv: self._order(kv[0]))],
        }

    def _order(self, key: tuple[str, str]) -> tuple[int, int]:
        cases = {c.name: i for i, c in enumerate(self.cases)}
        conds = {c.name: i for i, c in enumerate(self.conditions)}
        return cases.get(key[0], 0), conds.get(key[1], 0)


# -- values -----------------------------------------------------------------------------------------
def parse_value(text: str | float | int | None) -> float | None:
    """A cell value as typed (``1``, ``0``, ``0.67``, ``✓``, ``✗``, ``X``, ``yes``, ``no``; ``clear`` or blank
    for "not judged", returned as None); :class:`ValidationError` (SL6007) for anything else."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        word = str(text).strip().casefold()
        if word in ("", "clear", "none", "-", "–", "?"):
            return None
        if word in _TRUE:
            return 1.0
        if word in _FALSE:
            return 0.0
        try:
            value = float(word)
        except ValueError:
            raise ValidationError(Errors.E6007, value=text) from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValidationError(Errors.E6007, value=text)
    return value


def parse_cell(text: str) -> float | None:
    """A spreadsheet cell: as :func:`parse_value`, but "clear" is not a cell (blank is)."""
    if text.strip().casefold() == "clear":
        raise ValidationError(Errors.E6007, value=text)
    return parse_value(text)


def format_cell(value: float | None) -> str:
    """✓ for 1, ✗ for 0, the value (two decimals at most) for partial membership, – for not judged."""
    if value is None:
        return NOT_JUDGED
    if value == 1.0:
        return PRESENT
    if value == 0.0:
        return ABSENT
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _in(value: float) -> bool:
    return value > 0.5


def _out(value: float) -> bool:
    return value < 0.5


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else round(num / den, 4)


def _measures(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float | None]:
    both = sum(min(x, y) for x, y in zip(xs, ys))
    sx, sy = sum(xs), sum(ys)
    return {"necessity_consistency": _ratio(both, sy), "necessity_coverage": _ratio(both, sx),
            "sufficiency_consistency": _ratio(both, sx), "sufficiency_coverage": _ratio(both, sy)}


# -- the comparison ---------------------------------------------------------------------------------
# What compare() returns (``project.cases.compare``): frozen dataclasses here, beside the rules that compute and
# print them (services/results.py holds the results of no one domain module). Field names are the JSON keys of
# ``storyloom compare --json`` but one: IncompleteCase.at_half, which the JSON calls "at_0.5".
@dataclass(frozen=True)
class ConditionMeasures:
    """One condition compared with the outcome: its name, the cases judged on it and on the outcome
    (``cases_judged``), its four measures over them (None where undefined: a sum of 0), and whether it is
    present in every outcome case and absent in every other case (True only when every case of the group is
    judged on it)."""

    name: str
    cases_judged: int
    necessity_consistency: float | None
    necessity_coverage: float | None
    sufficiency_consistency: float | None
    sufficiency_coverage: float | None
    present_in_all_outcome_cases: bool
    absent_in_all_other_cases: bool


@dataclass(frozen=True)
class Separating:
    """A condition that separates the outcome cases from the others: by its presence (``direction``
    "present": in every outcome case, absent in every other) or by its absence ("absent")."""

    name: str
    direction: str


@dataclass(frozen=True)
class Conjunction:
    """Two conditions together (their minimum) that are sufficient for the outcome: the pair, the cases judged
    on both and the outcome, and the conjunction's sufficiency consistency and coverage."""

    conditions: tuple[str, str]
    cases_judged: int
    sufficiency_consistency: float | None
    sufficiency_coverage: float | None


@dataclass(frozen=True)
class TruthTableRow:
    """An observed configuration of the conditions (condition -> 1 where its cases are in the condition's set,
    else 0), its cases, their number ``n``, its outcome consistency and its ``outcome`` (1, 0, or
    "contradictory" when its cases differ)."""

    configuration: Mapping[str, int]
    cases: tuple[str, ...]
    n: int
    consistency: float | None
    outcome: int | str


@dataclass(frozen=True)
class Contradiction:
    """A configuration whose cases differ in the outcome: the cases with it and those without."""

    configuration: Mapping[str, int]
    with_outcome: tuple[str, ...]
    without_outcome: tuple[str, ...]


@dataclass(frozen=True)
class IncompleteCase:
    """A case left out of the truth table: the conditions it is not judged on, and the conditions (the outcome
    among them) it is judged at exactly 0.5 on (``at_half``; the JSON's "at_0.5")."""

    case: str
    not_judged: tuple[str, ...]
    at_half: tuple[str, ...]


@dataclass(frozen=True)
class Thresholds:
    """The consistency at or above which a condition is called necessary, or sufficient."""

    necessity: float
    sufficiency: float


@dataclass(frozen=True)
class Comparison:
    """The set-theoretic comparison of every other condition with ``outcome`` (see the module docstring): the
    cases judged on the outcome, with it and without it, those not judged on it; per condition its measures;
    the ``separating`` conditions; the conditions at or above the thresholds (``necessary``, ``sufficient``);
    the sufficient pairs (``conjunctions``, at most 20, most consistent first); the truth table, its
    contradictions and the cases left out of it (``incomplete_cases``); whether the cases allow no more than
    description (``descriptive_only``), the ``note`` saying what they allow, and the ``thresholds``."""

    outcome: str
    cases: tuple[str, ...]
    with_outcome: tuple[str, ...]
    without_outcome: tuple[str, ...]
    not_judged_on_outcome: tuple[str, ...]
    conditions: tuple[ConditionMeasures, ...]
    separating: tuple[Separating, ...]
    necessary: tuple[str, ...]
    sufficient: tuple[str, ...]
    conjunctions: tuple[Conjunction, ...]
    truth_table: tuple[TruthTableRow, ...]
    contradictions: tuple[Contradiction, ...]
    incomplete_cases: tuple[IncompleteCase, ...]
    descriptive_only: bool
    note: str
    thresholds: Thresholds


def compare(matrix: Matrix, outcome: str) -> Comparison:
    """The set-theoretic comparison of every other condition with ``outcome`` (see the module docstring and
    :class:`Comparison`): per condition its four measures over the cases judged on it and on the outcome; the
    separating conditions; the necessary and sufficient ones (at or above the usual thresholds) and the
    sufficient pairs; the truth table of the observed configurations with its contradictions; and what the
    number of cases allows."""
    names = [c.name for c in matrix.conditions]
    if outcome not in names:
        raise ValidationError(Errors.E6013, known=", ".join(names) or "none yet")
    others = [n for n in names if n != outcome]
    columns: dict[str, dict[str, float]] = {n: {} for n in names}  # condition -> case -> judged value
    for (case_name, cond_name), cell in matrix.cells.items():
        if cell.value is not None and cond_name in columns:
            columns[cond_name][case_name] = cell.value
    judged = [c.name for c in matrix.cases if c.name in columns[outcome]]
    if not judged:
        raise ValidationError(Errors.E6014, name=outcome)
    y = {c: float(columns[outcome][c]) for c in judged}
    with_outcome = [c for c in judged if _in(y[c])]
    without = [c for c in judged if _out(y[c])]

    rows: list[ConditionMeasures] = []
    negated: list[str] = []  # conditions whose absence separates the groups
    for name in others:
        col = columns[name]
        pairs = [(c, col[c]) for c in judged if c in col]
        xs, ys = [v for _c, v in pairs], [y[c] for c, _v in pairs]
        got = dict(pairs)
        present_all = bool(with_outcome) and all(c in got and _in(got[c]) for c in with_outcome)
        absent_all = bool(without) and all(c in got and _out(got[c]) for c in without)
        absent_in_outcome = bool(with_outcome) and all(c in got and _out(got[c]) for c in with_outcome)
        present_in_others = bool(without) and all(c in got and _in(got[c]) for c in without)
        m = _measures(xs, ys)
        rows.append(ConditionMeasures(
            name=name, cases_judged=len(pairs), necessity_consistency=m["necessity_consistency"],
            necessity_coverage=m["necessity_coverage"], sufficiency_consistency=m["sufficiency_consistency"],
            sufficiency_coverage=m["sufficiency_coverage"], present_in_all_outcome_cases=present_all,
            absent_in_all_other_cases=absent_all))
        if absent_in_outcome and present_in_others:
            negated.append(name)
    separating = [Separating(r.name, "present") for r in rows
                  if r.present_in_all_outcome_cases and r.absent_in_all_other_cases]
    separating += [Separating(name, "absent") for name in negated]
    necessary = [r.name for r in rows if (r.necessity_consistency or 0) >= NECESSITY_THRESHOLD]
    sufficient = [r.name for r in rows if (r.sufficiency_consistency or 0) >= SUFFICIENCY_THRESHOLD]

    conjunctions: list[Conjunction] = []
    for a, b in combinations(others, 2):
        ca, cb = columns[a], columns[b]
        pairs2 = [(c, min(ca[c], cb[c])) for c in judged if c in ca and c in cb]
        if not pairs2:
            continue
        m = _measures([v for _c, v in pairs2], [y[c] for c, _v in pairs2])
        if (m["sufficiency_consistency"] or 0) >= SUFFICIENCY_THRESHOLD and (m["sufficiency_coverage"] or 0) > 0:
            conjunctions.append(Conjunction(conditions=(a, b), cases_judged=len(pairs2),
                                            sufficiency_consistency=m["sufficiency_consistency"],
                                            sufficiency_coverage=m["sufficiency_coverage"]))
    conjunctions.sort(key=lambda r: (-(r.sufficiency_consistency or 0), -(r.sufficiency_coverage or 0)))

    table, contradictions, incomplete = truth_table(matrix, outcome, others, judged)
    n, k = len(judged), len(others)
    descriptive = n < DESCRIPTIVE_BELOW or n < CASES_PER_CONDITION * max(k, 1)
    note = (f"{n} cases judged on the outcome, {k} conditions; {len(table)} of the {2 ** k:,} possible "
            "configurations are observed. ")
    note += ("That is too few cases for more than description: read the measures as a summary of these cases, "
             "not as evidence that a condition is necessary or sufficient beyond them."
             if descriptive else "Enough cases for a cautious comparison; check the contradictions and the "
             "configurations not observed (limited diversity) before generalising.")
    return Comparison(
        outcome=outcome, cases=tuple(judged), with_outcome=tuple(with_outcome), without_outcome=tuple(without),
        not_judged_on_outcome=tuple(c.name for c in matrix.cases if c.name not in y),
        conditions=tuple(rows), separating=tuple(separating), necessary=tuple(necessary),
        sufficient=tuple(sufficient), conjunctions=tuple(conjunctions[:20]), truth_table=tuple(table),
        contradictions=tuple(contradictions), incomplete_cases=tuple(incomplete), descriptive_only=descriptive,
        note=note, thresholds=Thresholds(necessity=NECESSITY_THRESHOLD, sufficiency=SUFFICIENCY_THRESHOLD),
    )


def truth_table(matrix: Matrix, outcome: str, conditions: Sequence[str], cases: Iterable[str],
                ) -> tuple[list[TruthTableRow], list[Contradiction], list[IncompleteCase]]:
    """``(rows, contradictions, incomplete)``: each observed configuration of ``conditions`` (1 where the
    case is in the condition's set), its cases, their number, its outcome consistency
    (Σmin(membership, y) / Σmembership over all complete cases, where a case's membership of a
    configuration is the minimum over the conditions of x or 1 - x) and its outcome (1, 0, or
    "contradictory" when its cases differ). Cases not judged on every condition, or at exactly 0.5, are
    ``incomplete`` (with the reason) and left out."""
    complete: list[tuple[str, dict[str, float], float]] = []
    incomplete: list[IncompleteCase] = []
    for case in cases:
        y = matrix.value(case, outcome)
        values = {c: matrix.value(case, c) for c in conditions}
        missing = [c for c, v in values.items() if v is None]
        ambiguous = [c for c in [*conditions, outcome] if (matrix.value(case, c) == 0.5)]
        if missing or ambiguous or y is None:
            incomplete.append(IncompleteCase(case=case, not_judged=tuple(missing), at_half=tuple(ambiguous)))
            continue
        complete.append((case, {c: float(v) for c, v in values.items() if v is not None}, float(y)))
    groups: dict[tuple[int, ...], list[str]] = {}
    for case, xs, _y in complete:
        groups.setdefault(tuple(1 if _in(xs[c]) else 0 for c in conditions), []).append(case)
    rows: list[TruthTableRow] = []
    contradictions: list[Contradiction] = []
    for config, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        num = den = 0.0
        for _case, xs, y in complete:
            m = min((xs[c] if bit else 1 - xs[c] for c, bit in zip(conditions, config)), default=1.0)
            num, den = num + min(m, y), den + m
        ys = {case: y for case, _xs, y in complete if case in members}
        has = [c for c in members if _in(ys[c])]
        lacks = [c for c in members if _out(ys[c])]
        result: int | str = "contradictory" if has and lacks else (1 if has else 0)
        configuration = dict(zip(conditions, config))
        rows.append(TruthTableRow(configuration=configuration, cases=tuple(members), n=len(members),
                                  consistency=_ratio(num, den), outcome=result))
        if has and lacks:
            contradictions.append(Contradiction(configuration=configuration, with_outcome=tuple(has),
                                                without_outcome=tuple(lacks)))
    return rows, contradictions, incomplete


# -- the publication table --------------------------------------------------------------------------
def matrix_table(matrix: Matrix, *, cases_as: str = "columns", symbols: bool = True,
                 ) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the matrix for print: cases as ``columns`` (conditions are rows, the outcome
    last) or as ``rows``; cells ✓ / ✗ / partial value / – (``symbols=False``: 1, 0, the value, blank, as
    a spreadsheet reads them back). The outcome condition is named with " (outcome)"."""
    check_orientation(cases_as)
    conds = [c for c in matrix.conditions if not c.is_outcome] + [c for c in matrix.conditions if c.is_outcome]
    cell = format_cell if symbols else _plain_cell

    def label(c: Condition) -> str:
        return c.name + (OUTCOME_MARK if c.is_outcome else "")

    if cases_as == "columns":
        header = ["condition", *(c.name for c in matrix.cases)]
        rows = [[label(k), *(cell(matrix.value(c.name, k.name)) for c in matrix.cases)] for k in conds]
    else:
        header = ["case", *(label(k) for k in conds)]
        rows = [[c.name, *(cell(matrix.value(c.name, k.name)) for k in conds)] for c in matrix.cases]
    return header, rows


def _plain_cell(value: float | None) -> str:
    if value is None:
        return ""
    return "1" if value == 1.0 else "0" if value == 0.0 else f"{value:g}"


def check_orientation(cases_as: str) -> str:
    if cases_as not in ("rows", "columns"):
        raise ValidationError(Errors.E6016, value=cases_as)
    return cases_as


LEGEND = "✓ present, ✗ absent, a number: partial membership (fuzzy set), –: not yet judged."
COMPARISON_HEADERS = ["Condition", "Necessity consistency", "Necessity coverage", "Sufficiency consistency",
                      "Sufficiency coverage", "In every outcome case", "Absent in every other case"]


def comparison_table(result: Comparison) -> tuple[list[str], list[list[str]]]:
    """The comparison as a printable table (measures to two decimals; n/a where undefined)."""
    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    rows = [[r.name, num(r.necessity_consistency), num(r.necessity_coverage),
             num(r.sufficiency_consistency), num(r.sufficiency_coverage),
             "yes" if r.present_in_all_outcome_cases else "no", "yes" if r.absent_in_all_other_cases else "no"]
            for r in result.conditions]
    return COMPARISON_HEADERS, rows


def separating_sentence(result: Comparison) -> str:
    """One sentence naming the condition(s) that separate the outcome cases from the others."""
    sep = result.separating
    if not sep:
        return (f"No single condition separates the cases with '{result.outcome}' from those without it.")
    parts = [f"'{s.name}'" + (" (by its absence)" if s.direction == "absent" else "") for s in sep]
    return (f"{' and '.join(parts)} {'separates' if len(parts) == 1 else 'each separate'} the cases with "
            f"'{result.outcome}' ({', '.join(result.with_outcome)}) from those without it "
            f"({', '.join(result.without_outcome) or 'none'}).")


def matrix_methods_paragraph(c: dict[str, Any]) -> str:
    """The methods report's paragraph on how the case x condition matrix was built, from the counts of
    :meth:`analysis.services.cases.CaseService.matrix_counts`."""
    def n(count: int, one: str, many: str | None = None) -> str:
        return f"{count} {one if count == 1 else (many or one + 's')}"

    outcome = f" and the outcome '{c['outcome']}'" if c["outcome"] else ""
    text = (f"Cases were compared in a case x condition matrix: {n(c['cases'], 'case')} "
            f"({', '.join(c['kinds'])}) against {n(c['conditions'], 'condition')}{outcome}. "
            f"The researcher judged {c['judged']} of the {n(c['cells'], 'cell')} (present, absent"
            + (f", or partial membership for {c['partial']}" if c["partial"] else "") + "); "
            f"{c['with_evidence']} of the judged cells are justified by coded passages linked as evidence "
            f"({n(c['evidence_links'], 'link')} in all) and {c['with_note']} by a written justification. ")
    text += (f"{n(c['suggestions_accepted'], 'judgement')} accepted a machine suggestion (the software proposed "
             "\"present\" where passages coded with a condition's code were linked to the case; it never set a cell "
             "itself)" if c["suggestions_accepted"] else
             "No judgement was taken from a machine suggestion (the software may propose a value; it never sets a cell)")
    text += f"; {c['imported']} came from a spreadsheet or a cases file. " if c["imported"] else ". "
    return text + ("Each condition was compared with the outcome by set-theoretic consistency and coverage "
                   "(Ragin 2006), and the configurations of the cases were tabulated in a truth table."
                   if c["outcome"] else "")


@dataclass(frozen=True)
class EvidenceQuote:
    """One justifying quote of a cell, checked against its transcript, ready to print."""

    case: str
    condition: str
    value: float | None
    text: str
    participant: str
    transcript: str
    timestamp: str = ""
    coding_id: int = 0
    note: str = ""


@dataclass(frozen=True)
class Publication:
    """Everything a matrix export prints."""

    title: str
    header: list[str]
    rows: list[list[str]]
    comparison: Comparison | None = None
    evidence: tuple[EvidenceQuote, ...] = ()


def _attribution(q: EvidenceQuote) -> str:
    return "(" + ", ".join(x for x in (q.participant or "unattributed", q.transcript, q.timestamp) if x) + ")"


def _by_cell(quotes: Sequence[EvidenceQuote]) -> list[tuple[tuple[str, str], list[EvidenceQuote]]]:
    out: dict[tuple[str, str], list[EvidenceQuote]] = {}
    for q in quotes:
        out.setdefault((q.case, q.condition), []).append(q)
    return list(out.items())


def publication_document(pub: Publication) -> Document:
    """What a matrix export prints, as a :class:`Document` any renderer prints: the ✓/✗ table with its
    legend, the comparison for the outcome, and the evidence under each cell (quotes in quotation marks)."""
    from analysis.export.document import BlockQuote, Document, Heading, Paragraph, Table

    blocks: list[Block] = [Table(tuple(pub.header), tuple(map(tuple, pub.rows)), LEGEND)]
    if pub.comparison is not None:
        header, rows = comparison_table(pub.comparison)
        blocks += [Heading(f"Comparison for the outcome '{pub.comparison.outcome}'", numbered=False),
                   Paragraph((separating_sentence(pub.comparison),)),
                   Table(tuple(header), tuple(map(tuple, rows)), pub.comparison.note)]
    if pub.evidence:
        blocks.append(Heading("Evidence", numbered=False))
        for (case, cond), quotes in _by_cell(pub.evidence):
            blocks.append(Heading(f"{case}: {cond} ({format_cell(quotes[0].value)})", level=2, numbered=False))
            if quotes[0].note:
                blocks.append(Paragraph((quotes[0].note,)))
            blocks += [BlockQuote(f"“{q.text}”", _attribution(q)) for q in quotes]
    return Document(pub.title, tuple(blocks), part="matrix")


def render(pub: Publication, fmt: str) -> bytes:
    """The publication in ``fmt`` (md, docx, tex, html)."""
    from analysis.export import render_document

    return render_document(publication_document(pub), fmt)


# -- reading a matrix from CSV ----------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedMatrix:
    """A matrix read from a spreadsheet: names in file order, judged cells only (blank cells left out)."""

    cases: list[str]
    conditions: list[str]
    outcome: str | None
    cells: dict[tuple[str, str], float]


def _key(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", name).strip().casefold()


_DECIMAL_COMMA = re.compile(r"\s*[01]?,\d+\s*")


def parse_matrix_csv(file: str, data: bytes, *, cases_as: str | None = None) -> ParsedMatrix:
    """Read a case x condition matrix. The first header cell says the orientation (``case``: cases are
    rows, the other header cells name conditions; ``condition``: cases are columns), else ``cases_as``
    (rows|columns) does. Cells are separated by commas, or by semicolons or tabs when the header row has
    more of those (a spreadsheet saved where the decimal mark is a comma). A condition named
    "... (outcome)" is the outcome. Cells: 1/0, ✓/✗, X (present),
    yes/no, a number in [0, 1], or blank (not judged: left as it is). Any other cell is an
    :class:`ImportFormatError` naming its row and column; nothing is returned half-read."""
    if cases_as is not None:
        check_orientation(cases_as)
    try:
        text = data.decode("utf-8-sig")
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        # a spreadsheet saved in a locale whose decimal mark is a comma separates cells with ';' (or a tab);
        # separators inside a quoted header cell ("Funded; partly") are not counted
        unquoted = re.sub(r'"(?:[^"]|"")*"', "", first_line)
        delimiter = max((",", ";", "\t"), key=lambda d: (unquoted.count(d), d == ","))
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise ImportFormatError(file, Errors.E6106, err=err) from None
    lines = [n for n, r in enumerate(rows, 1) if any(c.strip() for c in r)]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ImportFormatError(file, Errors.E6103)
    header = [c.strip() for c in rows[0]]
    n_cells = (len(rows) - 1) * max(len(header) - 1, 0)
    if n_cells > limits.MATRIX_CELLS:
        raise ImportFormatError(file, Errors.E6151, cells=n_cells, cap=limits.MATRIX_CELLS)
    first = header[0].casefold() if header else ""
    orientation = {"case": "rows", "cases": "rows", "condition": "columns", "conditions": "columns"}.get(first)
    orientation = orientation or cases_as
    if orientation is None:
        raise ImportFormatError(file, Errors.E6101, line=lines[0], first=header[0] if header else "")
    across_what, down_what = ("condition", "case") if orientation == "rows" else ("case", "condition")
    across = [check_name(h, what=f"matrix {across_what}", file=file, line=lines[0]) if h else h for h in header[1:]]
    _unique(file, [lines[0]] * len(across), across, across_what, where_of=lambda i: f"header column {i + 2}")
    down: list[str] = []
    cells: dict[tuple[str, str], float] = {}
    for line, row in zip(lines[1:], rows[1:]):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise ImportFormatError(file, Errors.E6107, line=line, row=row[0], n_cells=len(row), n_header=len(header))
        name = row[0].strip()
        if not name:
            raise ImportFormatError(file, Errors.E6105, line=line, what=down_what, where="its first cell")
        name = check_name(name, what=f"matrix {down_what}", file=file, line=line)
        down.append(name)
        for i, other in enumerate(across):
            raw = row[i + 1] if i + 1 < len(row) else ""
            if delimiter != "," and _DECIMAL_COMMA.fullmatch(raw):
                raw = raw.replace(",", ".")  # 0,5 where the decimal mark is a comma
            try:
                value = parse_cell(raw)
            except ValidationError:
                raise ImportFormatError(file, Errors.E6102, line=line, row=name, column=other, value=raw) from None
            if value is not None:
                case, cond = (name, other) if orientation == "rows" else (other, name)
                cells[(case, cond)] = value
    _unique(file, lines[1:], down, down_what, where_of=lambda i: f"row {i + 2}")
    cases, conds = (down, across) if orientation == "rows" else (across, down)
    outcome = None
    plain: list[str] = []
    for c in conds:
        if c.casefold().endswith(OUTCOME_MARK.casefold()):
            c2 = c[: -len(OUTCOME_MARK)].strip()
            if outcome is not None:
                raise ImportFormatError(file, Errors.E6152, line=lines[0], first=outcome, second=c2)
            outcome = c2
            cells = {(k[0], c2 if k[1] == c else k[1]): v for k, v in cells.items()}
            plain.append(c2)
        else:
            plain.append(c)
    if outcome is not None and not any(k[1] == outcome for k in cells):
        raise ImportFormatError(file, Errors.E6153, line=lines[0], name=outcome)
    return ParsedMatrix(cases, plain, outcome, cells)


def _unique(file: str, lines: Sequence[int], names: Sequence[str], what: str, *, where_of: Any) -> None:
    """Every name given and unique (ignoring case); the error names the line of the second one and the first's."""
    seen: dict[str, int] = {}
    for i, (name, line) in enumerate(zip(names, lines)):
        if not name.strip():
            raise ImportFormatError(file, Errors.E6105, line=line, what=what, where=where_of(i))
        key = _key(name.removesuffix(OUTCOME_MARK))
        if key in seen:
            first = f"line {seen[key]}" if seen[key] != line else where_of(names.index(
                next(n for n in names if _key(n.removesuffix(OUTCOME_MARK)) == key)))
            raise ImportFormatError(file, Errors.E6154, line=line, what=what, name=name, first=first)
        seen[key] = line
