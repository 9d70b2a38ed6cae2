"""One exception hierarchy for Storyloom.

Every error carries a stable code (``SL1xx``) and a message that says what went wrong, where
(file, line, code name) and what to do next. Front ends translate these: the CLI prints the
message on stderr and exits 1, the UI shows it with ``st.error``. Nobody shows a traceback to a
researcher.
"""

from __future__ import annotations


class StoryloomError(Exception):
    """Base class: ``code`` is stable across versions, ``str(err)`` is for the researcher."""

    code = "SL000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ImportFormatError(StoryloomError):
    """A transcript (or participants/codebook file) could not be read."""

    code = "SL101"

    def __init__(self, file: str, message: str, *, line: int | None = None, hint: str = "") -> None:
        where = f"{file}, line {line}" if line is not None else file
        text = f"{where}: {message}"
        if hint:
            text += f" {hint}"
        super().__init__(text)
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


class QuoteIntegrityError(StoryloomError):
    """An exported quote does not match its source once marked edits are accounted for."""

    code = "SL301"


class ExportError(StoryloomError):
    code = "SL302"


class ProjectError(StoryloomError):
    """The project folder or database cannot be opened or upgraded."""

    code = "SL401"
