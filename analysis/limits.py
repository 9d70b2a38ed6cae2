"""Named caps on untrusted input, and the one safe way to read a file a researcher points us at.

Every file Storyloom imports (transcripts, ``participants.csv``, codebook and codings YAML) comes
from outside: a download, a colleague, a transcription service. These caps keep a damaged or
hostile file from exhausting memory or hanging an import; each is far above what a real study
needs (a two-hour interview is about 100 KB of text, a Word transcript of it about 50 KB). A file
over a cap is refused with an :class:`~analysis.errors.ImportFormatError` naming the file and the
cap, never read in part.

Readers look the caps up at call time (``limits.TRANSCRIPT_BYTES``), so a test may lower one with
``monkeypatch.setattr``.
"""

from __future__ import annotations

from typing import Any

import os
import stat
import unicodedata
from pathlib import Path

from analysis.errors import Errors, FileRefusedError, ImportFormatError, Msg

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# -- transcripts -----------------------------------------------------------------------------------
#: Bytes of one transcript file as stored on disk (a .txt, .md, .vtt, .srt or the .docx zip itself).
TRANSCRIPT_BYTES = 50 * MiB

#: Characters of one transcript's text as read, whatever its format (a ``.txt`` of one line, a ``.docx``, a
#: REFI-QDA source), checked before segmenting: segmenting runs at about 5 s a million characters on an idle
#: core, so this is about half a minute; a two-hour interview is about 100,000. Memory does not grow with
#: the length: spaCy is handed pieces of at most ``segment.MAX_PIECE_CHARS`` (cut at a sentence end or
#: whitespace, offsets exact) in batches of about ``segment.BATCH_CHARS``. A 50 MB single-line ``.txt`` (within
#: TRANSCRIPT_BYTES) was imported in 579 s, growing the process by 1.3 GB (the issue measured 354 s and 3.3 GB); it is
#: now refused in 12 s and 20 MB (benchmarks/long_text.py; issue 25, class 4).
TRANSCRIPT_CHARS = 5_000_000

# -- Word (.docx) zip containers, checked before anything is decompressed -------------------------
#: Uncompressed bytes of any one member of a .docx (document.xml, an embedded image ...).
DOCX_MEMBER_BYTES = 100 * MiB
#: Uncompressed bytes of all members of a .docx together.
DOCX_TOTAL_BYTES = 200 * MiB
#: Members in a .docx (Word writes a dozen or two; thousands only come from a crafted file).
DOCX_MEMBERS = 10_000
#: Largest uncompressed/compressed ratio allowed for a member bigger than DOCX_RATIO_FROM_BYTES.
#: Word's XML compresses about 5-20x; zero-filled padding (a zip bomb) about 1000x.
DOCX_MAX_RATIO = 100
#: Members at most this big (uncompressed) are never judged by their ratio: small XML parts of
#: repeated markup legitimately compress very well and cannot exhaust memory.
DOCX_RATIO_FROM_BYTES = 1 * MiB

# -- participants.csv ----------------------------------------------------------------------------
#: Bytes of participants.csv (one row per participant; 5 MiB is tens of thousands of rows).
PARTICIPANTS_BYTES = 5 * MiB
# A recording (media/): the local app holds the one being played in memory while it serves it, so a cap
# keeps that bounded; 2 GiB is a two-hour 1080p video or about 60 hours of 64 kbit/s speech.
MEDIA_BYTES = 2 * GiB
# How far a recording's length may disagree with its transcript's last timestamp before a warning (seconds).
MEDIA_DURATION_TOLERANCE = 30.0
#: Characters in one CSV field. Python's csv module refuses fields over 128 KiB with
#: ``_csv.Error: field larger than field limit``; we set the limit ourselves and name the row.
CSV_FIELD_CHARS = 64 * KiB

# -- YAML (codebooks/codebook.yaml, codings.yaml) -----------------------------------------------
#: Bytes of one YAML file (codings.yaml holds about 300 bytes per coding: ~100,000 codings).
YAML_BYTES = 32 * MiB
#: Nodes (scalars, lists, mappings) of a YAML document, counting every alias as the whole subtree
#: it stands for: a "billion laughs" document (aliases of aliases) is refused while it is parsed.
YAML_NODES = 2_000_000
#: Aliases (``*name``) in one YAML document; Storyloom never writes any.
YAML_ALIASES = 100
#: Nesting depth of lists and mappings in a YAML document (a codebook is a few levels deep).
YAML_DEPTH = 100

# -- merged copies and matrices (issue 25) ----------------------------------------------------------------
#: Levels of codes under codes in a merged copy (a real codebook is 2-5 deep); deeper, or a cycle of
#: parents, is refused before the merge walks the tree.
CODE_DEPTH = 50
#: Cells (rows x columns) of one matrix CSV: a study has tens of cases and conditions; 10,000 x 200 is
#: no study's matrix and would take many minutes to write cell by cell (about 1 ms a cell).
MATRIX_CELLS = 20_000

# -- file names ---------------------------------------------------------------------------------
#: Characters in an imported file's name (most file systems allow 255).
NAME_CHARS = 255

_READ_CHUNK = 1 * MiB


def human_size(n: int) -> str:
    """``n`` bytes as ``"50 MiB"`` / ``"64 KiB"`` / ``"12 bytes"`` for messages."""
    for unit, size in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def too_big(name: str, what: str, cap: int, *, size: int | None = None,
            error: type[ImportFormatError] = FileRefusedError, line: int | None = None,
            hint: str = "Check that this is the file you meant; split a very large file into smaller ones.",
            ) -> ImportFormatError:
    """The error for input over a cap: names the file, what was measured and the cap."""
    got = f" ({human_size(size)})" if size is not None else ""
    return error(name, Errors.E1551, what=what, cap=human_size(cap), got=got, line=line, hint=hint)


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words ("a named pipe (FIFO)"), for messages."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _refuse(name: str, message: Msg, hint: str, **params: Any) -> FileRefusedError:
    return FileRefusedError(name, message, hint=hint, **params)


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def read_regular_file(path: Path, *, cap: int, root: Path | None = None, name: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, refusing anything unsafe to read.

    * Not a regular file (a FIFO, device, socket or folder): refused from ``os.lstat``/``os.stat``
      before it is opened, so reading a FIFO can never block; it is opened with ``O_NONBLOCK``
      (and checked again with ``fstat``) in case it was swapped in between.
    * A symbolic link (or a linked parent folder) that resolves outside ``root``: refused. With
      ``root=None`` links are followed wherever they lead.
    * Over ``cap`` bytes: refused from its size, and the read stops after ``cap + 1`` bytes in case
      the file grows while it is read.

    ``name`` is how the file is named in errors (default: ``path`` as given). Raises
    :class:`~analysis.errors.FileRefusedError` (an ``ImportFormatError``), or ``ImportFormatError``
    when the file is missing or cannot be read.
    """
    path = Path(path)
    shown = name if name is not None else str(path)
    try:
        link = os.lstat(path)
        if stat.S_ISLNK(link.st_mode) or root is not None:
            target = path.resolve(strict=True)
        else:
            target = path
        if root is not None and not _is_within(target, Path(root).resolve()):
            raise _refuse(
                shown, Errors.E1507, "Copy the file itself into the folder instead of linking to it.",
                root=root, target=target,
            )
        info = os.stat(target)
    except FileNotFoundError:
        missing = Errors.E1552 if os.path.islink(path) else Errors.E1553
        raise ImportFormatError(shown, missing, hint="Check the file name and try again.") from None
    except RuntimeError:  # a symlink loop (Python < 3.13 raises RuntimeError from resolve)
        raise _refuse(shown, Errors.E1508, "Replace the link with the file.") from None
    except OSError as err:
        raise ImportFormatError(shown, Errors.E1115, v1=err.strerror or err,
                                hint="Check that the file exists and that you may read it.") from None
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(shown, Errors.E1506, "Choose a regular file.",
                      st_mode=file_kind(info.st_mode))
    if info.st_size > cap:
        raise too_big(shown, "the file", cap, size=info.st_size)
    # ``target`` is resolved or was lstat-ed as no link: O_NOFOLLOW refuses a link swapped in since.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags)
    except OSError as err:
        raise ImportFormatError(shown, Errors.E1116, v1=err.strerror or err,
                                hint="Check that you may read the file.") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise _refuse(shown, Errors.E1506, "Choose a regular file.",
                          st_mode=file_kind(opened.st_mode))
        chunks: list[bytes] = []
        total = 0
        while total <= cap:
            chunk = os.read(fd, min(_READ_CHUNK, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise too_big(shown, "the file", cap)
        return b"".join(chunks)
    except OSError as err:
        raise ImportFormatError(shown, Errors.E1115, v1=err.strerror or err,
                                hint="Check that the file is not in use and try again.") from None
    finally:
        os.close(fd)


def invisible_char_problem(text: str) -> str | None:
    """A description of the first control or invisible format character in ``text``, or None.

    Counted: control characters (category Cc: newline, tab, ESC, DEL, C1 controls), format
    characters (Cf: bidirectional overrides and isolates U+202A-202E and U+2066-2069, zero-width
    characters, the byte-order mark, soft hyphen), line/paragraph separators (Zl, Zp) and lone
    surrogates (Cs: bytes of a file name that are not valid in the file system's encoding).
    """
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            label = unicodedata.name(ch, "a control character" if category == "Cc" else "an invisible character")
            return f"U+{ord(ch):04X} ({label})"
    return None


def is_importable_name(name: str) -> str | None:
    """The problem with ``name`` as the name of an imported file, or None when it is fine.

    Refused: an empty (or all-blank) name, ``.`` and ``..``, a name holding a path separator
    (``/`` or ``\\``), a name longer than :data:`NAME_CHARS`, and any control or invisible
    character (see :func:`invisible_char_problem`; e.g. a newline or ESC that would forge lines in
    logs and the terminal, or a right-to-left override that shows ``txt.exe`` as ``exe.txt``).
    A name merely containing ``..`` (``Interview 3...txt``) is fine: without separators it cannot
    leave the folder.
    """
    if not name or not name.strip():
        return "the file name is empty"
    if name in (".", ".."):
        return f"'{name}' is not a file name"
    if "/" in name or "\\" in name or (os.sep in name) or (os.altsep and os.altsep in name):
        return "the file name contains a path separator ('/' or '\\'); give the file's own name only"
    bad = invisible_char_problem(name)
    if bad is not None:
        return (f"the file name contains the control or invisible character {bad}, which can disguise "
                "or garble a name; rename the file")
    if len(name) > NAME_CHARS:
        return f"the file name is longer than {NAME_CHARS} characters; rename the file"
    return None


#: Characters in a name a researcher gives: a code, a participant's pseudonym, a snapshot label.
LABEL_CHARS = 200


def label_problem(label: str) -> str | None:
    """The problem with ``label`` as a name of a code, participant or snapshot, or None when fine.

    Refused: longer than :data:`LABEL_CHARS`, or holding a control or invisible character (a newline
    or ESC forges lines in exports and the terminal; a right-to-left override reverses what is shown).
    Slashes, dots and any script are fine: these are names, not file names."""
    bad = invisible_char_problem(label)
    if bad is not None:
        return f"it contains the control or invisible character {bad}; type the name again without it"
    if len(label) > LABEL_CHARS:
        return f"it is longer than {LABEL_CHARS} characters; shorten it (a definition can hold the detail)"
    return None
