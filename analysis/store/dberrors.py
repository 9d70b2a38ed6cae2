"""Database errors in a researcher's words: every store transaction runs inside :func:`translated`.

SQLAlchemy and the database drivers raise errors that mean nothing to a researcher ("database is
locked", "attempt to write a readonly database", "UNIQUE constraint failed: codes.name_key"). Here
they become Storyloom errors with catalogue messages; the transaction has already rolled back, so
each message can say that nothing was changed.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from analysis.errors import ConflictError, Errors, StorageError, StoryloomError

def busy_timeout_ms() -> int:
    """How long a writer waits for another process's write to finish before giving up: 5 s, or
    ``STORYLOOM_BUSY_TIMEOUT_MS`` (the fault tests shorten it)."""
    try:
        return max(0, int(os.environ.get("STORYLOOM_BUSY_TIMEOUT_MS", "5000")))
    except ValueError:
        return 5000

def storage_error(err: BaseException, path: object) -> StoryloomError:
    """The Storyloom error for a database or file-system error ``err`` (on the project at ``path``)."""
    text = str(getattr(err, "orig", None) or err).lower()
    if isinstance(err, OSError) and err.errno == errno.ENOSPC or "disk is full" in text or "database or disk is full" in text:
        return StorageError(Errors.E4003, path=path)
    if "readonly" in text or "read-only" in text or "permission denied" in text or (
            isinstance(err, OSError) and err.errno in (errno.EROFS, errno.EACCES, errno.EPERM)):
        return StorageError(Errors.E4002, path=path)
    if "locked" in text or "busy" in text:
        return StorageError(Errors.E4001, seconds=round(busy_timeout_ms() / 1000, 1))
    if "disk i/o error" in text:
        return StorageError(Errors.E4010, path=path)
    if "unable to open database" in text:
        return StorageError(Errors.E4002, path=path)
    if isinstance(err, sa.exc.IntegrityError):
        if any(f in text for f in ("uq_codes_sibling_name", "codes.name_key")):
            return ConflictError(Errors.E2901)
        if any(f in text for f in ("uq_participants_pseudonym_key", "participants.pseudonym")):
            return ConflictError(Errors.E2902)
        return StorageError(Errors.E4004, detail=str(getattr(err, "orig", err))[:200])
    if "malformed" in text or "not a database" in text or "file is encrypted" in text:
        return StorageError(Errors.E4005, path=path, detail=str(getattr(err, "orig", err))[:200])
    return StorageError(Errors.E4004, detail=str(getattr(err, "orig", err))[:200])


@contextmanager
def translated(path: object) -> Iterator[None]:
    """Run a block of store work; database and disk errors leave as Storyloom errors."""
    try:
        yield
    except sa.exc.DBAPIError as err:
        raise storage_error(err, path) from err
    except sa.exc.SQLAlchemyError as err:
        raise storage_error(err, path) from err
