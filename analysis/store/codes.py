"""Queries of the codebook's ``codes`` table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.domain.codebook import PATH_SEP
from analysis.errors import ConflictError, Errors, NotFoundError
from analysis.store.recorder import name_key
from analysis.store.schema import codes, memos, suggestion_decisions, vignettes

__all__ = ["PATH_SEP", "check_sibling_name", "children", "code_row", "code_rows", "colour_of", "count", "dependents",
           "descendants", "name_key", "named", "next_position", "sibling", "sibling_ids"]


def _parent_is(parent_id: int | None) -> sa.ColumnElement[bool]:
    return codes.c.parent_id.is_(None) if parent_id is None else codes.c.parent_id == parent_id


def named(conn: Connection, name: str) -> bool:
    return conn.execute(sa.select(codes.c.id).where(codes.c.name == name)).first() is not None


def code_reads(ref: str | int) -> list[sa.Select[Any]]:
    """The query that finds the code ``ref`` names when it is an id or a plain name (none for a path or a
    number in a string: :func:`code_row` resolves those itself), for an action to read with its lock."""
    if isinstance(ref, int):
        return [sa.select(codes).where(codes.c.id == ref)]
    if ref.strip().isdigit() or PATH_SEP.strip() in ref:
        return []
    return [sa.select(codes).where(codes.c.name_key == name_key(ref.strip()))]


def code_row(conn: Connection, ref: str | int, rows: list[Any] | None = None) -> Any:
    """The row of a code named by id, name (case-insensitive, when unique) or path ``A > B > C``; ``rows``:
    what :func:`code_reads` found, when read already (one row: that is the code; else resolved here)."""
    if rows is not None and len(rows) == 1:
        return rows[0]
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and not named(conn, ref)):
        row = conn.execute(sa.select(codes).where(codes.c.id == int(ref))).first()
        if row:
            return row
        raise NotFoundError(Errors.E2014, ref=ref)
    ref = ref.strip()
    if PATH_SEP.strip() in ref:
        parent: int | None = None
        row = None
        for part in [p.strip() for p in ref.split(PATH_SEP.strip())]:
            row = conn.execute(sa.select(codes).where(codes.c.name_key == name_key(part), _parent_is(parent))).first()
            if row is None:
                raise NotFoundError(Errors.E2016, ref=ref, part=part)
            parent = row.id
        return row
    found = conn.execute(sa.select(codes).where(codes.c.name_key == name_key(ref))).all()
    if len(found) == 1:
        return found[0]
    if not found:
        names = [str(r[0]) for r in conn.execute(sa.select(codes.c.name).order_by(codes.c.name))]
        close = [n for n in names if ref.casefold()[:4] in n.casefold()][:5]
        hint = f" Did you mean: {', '.join(close)}?" if close else " Create it first, or check the codebook."
        raise NotFoundError(Errors.E2015, ref=ref, hint_text=hint)
    raise NotFoundError(Errors.E2013, ref=ref, n_rows=len(found), PATH_SEP=PATH_SEP)


def descendants(conn: Connection, code_id: int) -> set[int]:
    pairs = conn.execute(sa.select(codes.c.id, codes.c.parent_id)).all()
    out: set[int] = set()
    frontier = [code_id]
    while frontier:
        node = frontier.pop()
        for cid, parent in pairs:
            if parent == node and cid not in out:
                out.add(int(cid))
                frontier.append(int(cid))
    return out


def check_sibling_name(conn: Connection, name: str, parent_id: int | None, *, exclude: int | None = None) -> None:
    """Refuse a name already used by a sibling (case-folded); the unique index backs this up."""
    q = sa.select(codes.c.id).where(_parent_is(parent_id), codes.c.name_key == name_key(name))
    if exclude is not None:
        q = q.where(codes.c.id != exclude)
    if conn.execute(q).first() is not None:
        where = "at the top of the codebook" if parent_id is None else "under the same parent"
        raise ConflictError(Errors.E2211, name=name, where=where)


def next_position(conn: Connection, parent_id: int | None) -> int:
    top = conn.execute(sa.select(sa.func.max(codes.c.position)).where(_parent_is(parent_id))).scalar()
    return 0 if top is None else int(top) + 1


def code_rows(conn: Connection) -> list[sa.Row[Any]]:
    """Every code row, in sibling order (position, then id)."""
    return list(conn.execute(sa.select(codes).order_by(codes.c.position, codes.c.id)).all())


def sibling(conn: Connection, name: str, parent_id: int | None) -> sa.Row[Any] | None:
    """The code named ``name`` (compared as :func:`name_key`) directly under ``parent_id``, if any."""
    return conn.execute(sa.select(codes).where(_parent_is(parent_id), codes.c.name_key == name_key(name))).first()


def sibling_ids(conn: Connection, parent_id: int | None) -> list[int]:
    """The ids of the codes directly under ``parent_id`` (None: the top level), in sibling order."""
    q = sa.select(codes.c.id).where(_parent_is(parent_id)).order_by(codes.c.position, codes.c.id)
    return [int(r[0]) for r in conn.execute(q)]


def children(conn: Connection, code_id: int) -> list[sa.Row[Any]]:
    """The rows of the codes directly under ``code_id``."""
    return list(conn.execute(sa.select(codes).where(codes.c.parent_id == code_id).order_by(codes.c.id)).all())


def colour_of(conn: Connection, code_id: int | None) -> str | None:
    """The colour of code ``code_id`` (None when there is no such code, or it has none)."""
    if code_id is None:
        return None
    value = conn.execute(sa.select(codes.c.colour).where(codes.c.id == code_id)).scalar()
    return str(value) if value else None


def count(conn: Connection) -> int:
    """How many codes the codebook holds."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(codes)).scalar_one())


def dependents(conn: Connection, code_id: int) -> tuple[list[int], list[int], list[int]]:
    """Rows that hang on a code: ``(memo ids, vignette ids, suggestion decision ids)``."""
    memo_ids = [int(r[0]) for r in conn.execute(
        sa.select(memos.c.id).where(memos.c.kind == "code", memos.c.target_id == code_id).order_by(memos.c.id))]
    vignette_ids = [int(r[0]) for r in conn.execute(
        sa.select(vignettes.c.id).where(vignettes.c.code_id == code_id).order_by(vignettes.c.id))]
    decision_ids = [int(r[0]) for r in conn.execute(
        sa.select(suggestion_decisions.c.id).where(suggestion_decisions.c.code_id == code_id)
        .order_by(suggestion_decisions.c.id))]
    return memo_ids, vignette_ids, decision_ids
