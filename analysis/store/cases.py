"""Queries of cases, conditions and the case x condition matrix (tables declared in ``schema.py``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.domain.cases import Case, Cell, Condition, Matrix
from analysis.errors import Errors, NotFoundError
from analysis.store.recorder import name_key
from analysis.store.schema import (case_attributes, case_evidence, case_participants, case_value_evidence, case_values, cases,
                     codes, codings, conditions, participants, transcripts, variables)

__all__ = [
    "attribute_row", "case_names", "case_row", "cell_evidence_ids", "cell_row", "coding_exists", "codings_in_span",
    "codings_of_code_for_case", "condition_names", "condition_row", "evidence_id", "evidence_rows", "find_case",
    "find_condition", "link_id", "matrix", "next_position", "outcome_rows", "rows_of_case", "rows_of_condition",
    "value_evidence_id",
]


def case_names(conn: Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(sa.select(cases.c.name).order_by(cases.c.name_key))]


def condition_names(conn: Connection) -> list[str]:
    return [str(r[0]) for r in conn.execute(sa.select(conditions.c.name).order_by(conditions.c.position, conditions.c.id))]


def find_case(conn: Connection, name: str) -> sa.Row[Any] | None:
    """The case whose name equals ``name`` ignoring case (NFC), or None."""
    return conn.execute(sa.select(cases).where(cases.c.name_key == name_key(name))).first()


def find_condition(conn: Connection, name: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(conditions).where(conditions.c.name_key == name_key(name))).first()


def case_row(conn: Connection, name: str) -> sa.Row[Any]:
    row = find_case(conn, name)
    if row is None:
        raise NotFoundError(Errors.E6001, name=name, known=", ".join(case_names(conn)) or "none yet")
    return row


def condition_row(conn: Connection, name: str) -> sa.Row[Any]:
    row = find_condition(conn, name)
    if row is None:
        raise NotFoundError(Errors.E6002, name=name, known=", ".join(condition_names(conn)) or "none yet")
    return row


def next_position(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(conditions.c.position), -1))).scalar_one()) + 1


def outcome_rows(conn: Connection) -> list[int]:
    """The ids of the conditions flagged as the outcome."""
    return [int(r[0]) for r in conn.execute(sa.select(conditions.c.id).where(conditions.c.is_outcome.is_(True)))]


def attribute_row(conn: Connection, case_id: int, variable_id: int) -> int | None:
    ca = case_attributes
    row = conn.execute(sa.select(ca.c.id).where(ca.c.case_id == case_id, ca.c.variable_id == variable_id)).first()
    return int(row[0]) if row else None


def link_id(conn: Connection, case_id: int, participant_id: int) -> int | None:
    cp = case_participants
    row = conn.execute(sa.select(cp.c.id).where(cp.c.case_id == case_id, cp.c.participant_id == participant_id)).first()
    return int(row[0]) if row else None


def evidence_id(conn: Connection, case_id: int, coding_id: int) -> int | None:
    ce = case_evidence
    row = conn.execute(sa.select(ce.c.id).where(ce.c.case_id == case_id, ce.c.coding_id == coding_id)).first()
    return int(row[0]) if row else None


def cell_row(conn: Connection, case_id: int, condition_id: int) -> sa.Row[Any] | None:
    cv = case_values
    return conn.execute(sa.select(cv).where(cv.c.case_id == case_id, cv.c.condition_id == condition_id)).first()


def value_evidence_id(conn: Connection, value_id: int, coding_id: int) -> int | None:
    e = case_value_evidence
    row = conn.execute(sa.select(e.c.id).where(e.c.value_id == value_id, e.c.coding_id == coding_id)).first()
    return int(row[0]) if row else None


def cell_evidence_ids(conn: Connection, value_id: int) -> list[int]:
    """The ids of the ``case_value_evidence`` rows of one cell."""
    e = case_value_evidence
    return [int(r[0]) for r in conn.execute(sa.select(e.c.id).where(e.c.value_id == value_id).order_by(e.c.id))]


def rows_of_case(conn: Connection, case_id: int) -> dict[str, list[int]]:
    """The ids of every row that hangs on case ``case_id``, children first (as a removal must go)."""
    cv, e = case_values, case_value_evidence
    value_ids = [int(r[0]) for r in conn.execute(sa.select(cv.c.id).where(cv.c.case_id == case_id))]
    ev = [int(r[0]) for r in conn.execute(sa.select(e.c.id).where(e.c.value_id.in_(value_ids)))] if value_ids else []
    return {
        "case_value_evidence": ev, "case_values": value_ids,
        "case_evidence": [int(r[0]) for r in conn.execute(sa.select(case_evidence.c.id).where(case_evidence.c.case_id == case_id))],
        "case_participants": [int(r[0]) for r in conn.execute(
            sa.select(case_participants.c.id).where(case_participants.c.case_id == case_id))],
        "case_attributes": [int(r[0]) for r in conn.execute(
            sa.select(case_attributes.c.id).where(case_attributes.c.case_id == case_id))],
    }


def rows_of_condition(conn: Connection, condition_id: int) -> dict[str, list[int]]:
    cv, e = case_values, case_value_evidence
    value_ids = [int(r[0]) for r in conn.execute(sa.select(cv.c.id).where(cv.c.condition_id == condition_id))]
    ev = [int(r[0]) for r in conn.execute(sa.select(e.c.id).where(e.c.value_id.in_(value_ids)))] if value_ids else []
    return {"case_value_evidence": ev, "case_values": value_ids}


def matrix(conn: Connection, code_paths: dict[int, str]) -> Matrix:
    """Every case (by name, with attributes, participants and evidence), every condition (in order) and
    every cell, in a handful of queries."""
    case_rows = conn.execute(sa.select(cases).order_by(cases.c.name_key)).all()
    ca = case_attributes
    attrs: dict[int, dict[str, str]] = {}
    for cid, name, value in conn.execute(sa.select(ca.c.case_id, variables.c.name, ca.c.value)
                                         .join(variables, variables.c.id == ca.c.variable_id)):
        attrs.setdefault(int(cid), {})[str(name)] = str(value)
    people: dict[int, list[str]] = {}
    for cid, pseudonym in conn.execute(sa.select(case_participants.c.case_id, participants.c.pseudonym)
                                       .join(participants, participants.c.id == case_participants.c.participant_id)
                                       .order_by(participants.c.pseudonym)):
        people.setdefault(int(cid), []).append(str(pseudonym))
    evidence: dict[int, list[int]] = {}
    for cid, coding in conn.execute(sa.select(case_evidence.c.case_id, case_evidence.c.coding_id)
                                    .order_by(case_evidence.c.id)):
        evidence.setdefault(int(cid), []).append(int(coding))
    the_cases = tuple(Case(int(r.id), str(r.guid), str(r.name), str(r.kind), str(r.description),
                           attrs.get(int(r.id), {}), tuple(people.get(int(r.id), [])), tuple(evidence.get(int(r.id), [])))
                      for r in case_rows)
    the_conditions = tuple(
        Condition(int(r.id), str(r.guid), str(r.name), str(r.description), r.code_id,
                  code_paths.get(int(r.code_id), "") if r.code_id is not None else "", bool(r.is_outcome))
        for r in conn.execute(sa.select(conditions).order_by(conditions.c.position, conditions.c.id)))
    case_name = {c.id: c.name for c in the_cases}
    cond_name = {c.id: c.name for c in the_conditions}
    cell_evidence: dict[int, list[int]] = {}
    for vid, coding in conn.execute(sa.select(case_value_evidence.c.value_id, case_value_evidence.c.coding_id)
                                    .order_by(case_value_evidence.c.id)):
        cell_evidence.setdefault(int(vid), []).append(int(coding))
    cv = case_values
    cells = {
        (case_name[case_id], cond_name[cond_id]):
            Cell(None if value is None else float(value), str(note), tuple(cell_evidence.get(vid, ())), str(origin),
                 str(judged_by))
        for vid, case_id, cond_id, value, note, origin, judged_by in conn.execute(
            sa.select(cv.c.id, cv.c.case_id, cv.c.condition_id, cv.c.value, cv.c.note, cv.c.origin, cv.c.judged_by)).tuples().all()
    }
    return Matrix(the_cases, the_conditions, cells)


def evidence_rows(conn: Connection) -> list[Any]:
    """Every coding attached to a cell: case, condition, value, note, the coding (quote, offsets,
    orphaned) and its transcript's name and text, in case and condition order."""
    cv, e = case_values, case_value_evidence
    q = (sa.select(cases.c.name.label("case"), conditions.c.name.label("condition"), cv.c.value, cv.c.note,
                   codings.c.id.label("coding_id"), codings.c.quote, codings.c.start, codings.c.end,
                   codings.c.orphaned, codes.c.name.label("code"), transcripts.c.name.label("transcript"),
                   transcripts.c.text.label("transcript_text"))
         .select_from(e.join(cv, cv.c.id == e.c.value_id).join(cases, cases.c.id == cv.c.case_id)
                      .join(conditions, conditions.c.id == cv.c.condition_id)
                      .join(codings, codings.c.id == e.c.coding_id).join(codes, codes.c.id == codings.c.code_id)
                      .join(transcripts, transcripts.c.id == codings.c.transcript_id))
         .order_by(cases.c.name_key, conditions.c.position, conditions.c.id, transcripts.c.name, codings.c.start))
    return list(conn.execute(q).all())


def coding_exists(conn: Connection, coding_id: int) -> bool:
    return conn.execute(sa.select(codings.c.id).where(codings.c.id == coding_id)).first() is not None


def codings_of_code_for_case(conn: Connection, case_id: int, code_ids: set[int]) -> list[int]:
    """The codings linked to case ``case_id`` whose code is one of ``code_ids``."""
    q = (sa.select(codings.c.id).join(case_evidence, case_evidence.c.coding_id == codings.c.id)
         .where(case_evidence.c.case_id == case_id, codings.c.code_id.in_(code_ids)).order_by(codings.c.id))
    return [int(r[0]) for r in conn.execute(q)]


def codings_in_span(conn: Connection, transcript: str, start: int, end: int) -> list[int]:
    """The codings of transcript ``transcript`` that overlap [start, end)."""
    q = (sa.select(codings.c.id).join(transcripts, transcripts.c.id == codings.c.transcript_id)
         .where(transcripts.c.name == transcript, codings.c.start < end, codings.c.end > start)
         .order_by(codings.c.start, codings.c.id))
    return [int(r[0]) for r in conn.execute(q)]
