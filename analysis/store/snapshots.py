"""Queries of ``snapshots``: frozen copies of the codebook (with counts) under a label."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import snapshots

__all__ = ["exists", "rows"]


def exists(conn: Connection, label: str) -> bool:
    """Whether a snapshot is labelled ``label``."""
    return conn.execute(sa.select(snapshots.c.id).where(snapshots.c.label == label)).first() is not None


def rows(conn: Connection) -> list[sa.Row[Any]]:
    """Every snapshot row (label, phase, created_at, codebook JSON), oldest first."""
    return list(conn.execute(sa.select(snapshots).order_by(snapshots.c.id)).all())
