"""One exception hierarchy for Storyloom, and one message catalogue.

Every message a researcher can see is an entry of :class:`Errors` (spaCy's ``errors.py`` is the
model): a stable code and a text that says what went wrong, where (file, line, code name) and what
to do next, e.g. ``Errors.E2101`` = "A code named '{name}' already exists {where}. ...". An error is
raised as ``ConflictError(Errors.E2101, name=name, where=where)``; its ``code`` is the message's.

The classes say what kind of failure it is (a file that cannot be read, a value that is not valid,
a clash with the project's state, a thing not found, storage trouble); the codes say which message.
Front ends translate every exception with one function, :func:`translate`: the CLI prints it on
stderr and exits 1, the UI shows it with ``st.error``. Nobody shows a traceback to a researcher.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Msg:
    """One catalogue entry: a stable code and a ``str.format`` template."""

    code: str
    text: str

    def format(self, **params: Any) -> str:
        return self.text.format(**params)


class StoryloomError(Exception):
    """Base class: ``code`` is stable across versions, ``str(err)`` is for the researcher."""

    code = "SL000"

    def __init__(self, message: Msg | str, **params: Any) -> None:
        if isinstance(message, Msg):
            self.code = message.code
            text = message.format(**params)
        else:
            text = message
        super().__init__(text)
        self.message = text
        self.params = params

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ImportFormatError(StoryloomError):
    """A transcript (or participants/codebook file) could not be read."""

    code = "SL101"

    def __init__(self, file: str, message: Msg | str, *, line: int | None = None, hint: str = "",
                 **params: Any) -> None:
        where = f"{file}, line {line}" if line is not None else file
        body = message.format(**params) if isinstance(message, Msg) else message
        text = f"{where}: {body}"
        if hint:
            text += f" {hint}"
        super().__init__(text)
        if isinstance(message, Msg):
            self.code = message.code
        self.file = file
        self.line = line


class UnsupportedFormatError(ImportFormatError):
    code = "SL102"


class ParticipantsFileError(ImportFormatError):
    code = "SL103"


class CodebookFileError(ImportFormatError):
    code = "SL104"


class NotFoundError(StoryloomError):
    """A named thing (code, transcript, participant, coding, vignette) does not exist."""

    code = "SL201"


class ConflictError(StoryloomError):
    """The action would break an invariant: a name clash, a cycle, a duplicate coding."""

    code = "SL202"


class InvalidSpanError(StoryloomError):
    """A span lies outside its transcript or is empty/inverted."""

    code = "SL203"


class NothingToUndoError(StoryloomError):
    code = "SL204"


class ValidationError(StoryloomError):
    """A value a researcher gave is not acceptable (an empty name, an unknown kind, a bad colour)."""

    code = "SL205"


class UndoConflictError(ConflictError):
    """An undo or redo would overwrite a row that changed since the action was recorded."""

    code = "SL206"

    @classmethod
    def changed_since(cls, what: str, change: str) -> UndoConflictError:
        return cls(f"Cannot {what}: {change}. Nothing was changed; undo refuses rather than write stale data.")

    @classmethod
    def unknown_format(cls, fmt: int) -> UndoConflictError:
        return cls(f"This action was recorded in change format {fmt}, which this Storyloom does not know. "
                   "Upgrade Storyloom to undo it.")


class QuoteIntegrityError(StoryloomError):
    """An exported quote does not match its source once marked edits are accounted for."""

    code = "SL301"


class ExportError(StoryloomError):
    code = "SL302"


class ProjectError(StoryloomError):
    """The project folder or database cannot be opened or upgraded."""

    code = "SL401"


class StorageError(StoryloomError):
    """The project's database or folder cannot be written (read-only, full, locked by another process)."""

    code = "SL402"


# -- the message catalogue ------------------------------------------------------------------------
class Errors:
    """Every message Storyloom shows, by stable code. Never change a code's meaning; add a new one.

    SL1xxx: reading files; SL2xxx: the project's data (validation, conflicts, not found, undo);
    SL3xxx: exports and quotes; SL4xxx: the project folder and storage; SL9xxx: internal errors.
    """

    # uniqueness kept by the database (two writers at the same moment)
    E2901 = Msg("SL2901", "A code with this name already exists under the same parent (perhaps just created by "
                          "another researcher or process). Nothing was changed: choose another name, or merge them.")
    E2902 = Msg("SL2902", "A participant with this pseudonym already exists (perhaps just created by another "
                          "researcher or process). Nothing was changed: choose another pseudonym.")
    # storage (wrapped database and file-system errors)
    E4001 = Msg("SL4001", "Another Storyloom process (another window, the CLI, a sync) is writing to this project "
                          "and held it longer than {seconds} s. Nothing was changed: wait for it to finish, then try again.")
    E4002 = Msg("SL4002", "The project at {path} is read-only (the folder or project.db cannot be written). Nothing was "
                          "changed: copy the project somewhere writable, or fix its permissions.")
    E4003 = Msg("SL4003", "The disk holding {path} is full. Nothing was changed: free some space and try again.")
    E4004 = Msg("SL4004", "The database refused the change ({detail}). Nothing was changed.")
    E4005 = Msg("SL4005", "The project database at {path} cannot be read ({detail}). It may be damaged: restore "
                          "project.db from a backup (project.db.bak-* files are made before every upgrade).")
    E4006 = Msg("SL4006", "{path}: {detail}. Nothing was changed.")
    E4007 = Msg("SL4007", "{path} holds no Storyloom project (no project.db). Run `storyloom init {path}` to create "
                          "one, or pass --project with the folder that holds project.db.")
    E4008 = Msg("SL4008", "{path} is a file; a project is a folder. Pass the folder that holds {db}.")
    E9001 = Msg("SL9001", "Something went wrong that Storyloom did not expect ({kind}: {detail}). Nothing was changed "
                          "(the action was rolled back). Please report it with the steps that led here.")


def translate(err: BaseException, *, path: object = None) -> str:
    """The one translation of any exception into a researcher's message (used by the CLI and the UI).

    Storyloom errors carry their message; file-system errors are named; anything else becomes the
    internal-error message (never a traceback)."""
    if isinstance(err, StoryloomError):
        return str(err)
    if isinstance(err, OSError):
        where = err.filename or path or "the project folder"
        if err.errno == errno.ENOSPC:
            return str(StorageError(Errors.E4003, path=where))
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return str(StorageError(Errors.E4002, path=where))
        return str(StorageError(Errors.E4006, path=where, detail=err.strerror or str(err)))
    return str(StoryloomError(Errors.E9001, kind=type(err).__name__, detail=str(err)[:200]))


# -- untrusted input (appended for analysis/limits.py, safe_yaml.py and the readers) ---------------
class FileRefusedError(ImportFormatError):
    """A file refused before it was parsed: not a regular file (a FIFO, device, folder), a link that
    leads out of the project folder, over one of the caps in :mod:`analysis.limits`, or a compressed
    file that would expand past them (a zip bomb)."""

    code = "SL105"
