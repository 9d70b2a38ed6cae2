"""The embedding cache: one vector per (model id, sha256 of the text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from analysis.store.schema import embeddings

__all__ = ["cached", "insert"]

_CHUNK = 500  # keys per IN (...) lookup


def cached(conn: Connection, model_id: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` (text hashes) already have a vector for ``model_id``."""
    have: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        have.update(str(r[0]) for r in conn.execute(sa.select(embeddings.c.text_sha256).where(
            embeddings.c.model_id == model_id, embeddings.c.text_sha256.in_(keys[i:i + _CHUNK]))))
    return have


def insert(conn: Connection, model_id: str, vectors: Mapping[str, npt.NDArray[np.generic]]) -> None:
    """Store new vectors (text hash -> vector) of ``model_id``, as float32 bytes."""
    rows = [{"model_id": model_id, "text_sha256": k, "dim": len(v), "vector": v.astype(np.float32).tobytes()}
            for k, v in vectors.items()]
    if rows:
        conn.execute(embeddings.insert(), rows)
