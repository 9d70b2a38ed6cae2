"""Names as the database compares them, and the one check every name passes wherever it comes from.

One rule for codes, cases, conditions, events, participants, sources and researchers: :func:`name_key`
is how names are compared; :func:`check_name` is how a name from anywhere (the CLI, the workbench, a
REFI-QDA import, a matrix CSV header, ``cases.yaml``, ``story.yaml``, a merged copy) is checked before it
is stored: no control or invisible characters (a newline forges lines in the terminal and exports, ESC
sequences drive the terminal, a right-to-left override reverses what is shown), at most
:data:`analysis.limits.LABEL_CHARS` characters.
"""

from __future__ import annotations

import unicodedata

from analysis import limits
from analysis.errors import Errors, ImportFormatError, ValidationError

__all__ = ["check_name", "name_key"]


def name_key(name: str) -> str:
    """The form in which names are compared for uniqueness: NFC, stripped, case-folded (as the
    schema's insert defaults compute it)."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def check_name(name: str, *, what: str, file: str | None = None, line: int | None = None) -> str:
    """``name`` NFC-normalised and stripped, once it passes :func:`analysis.limits.label_problem`.

    ``what`` says what it names ("code", "REFI-QDA source", "matrix condition"). A name from a file
    (``file``, and ``line`` where known) that fails is an :class:`ImportFormatError` naming the file
    (:data:`Errors.E2161`); one typed by the researcher a :class:`ValidationError` (:data:`Errors.E2151`).
    The name is shown shortened to 60 characters, with its invisible characters as ``\\x..`` escapes."""
    clean = unicodedata.normalize("NFC", name).strip()
    problem = limits.label_problem(clean)
    if problem is None:
        return clean
    shown = clean[:60]
    if file is not None:
        raise ImportFormatError(file, Errors.E2161, line=line, what=what, name=shown, problem=problem)
    raise ValidationError(Errors.E2151, what=what, name=shown, problem=problem)
