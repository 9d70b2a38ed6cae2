"""``participants.csv``: one row per participant, mapping speaker labels to pseudonyms.

Columns ``pseudonym``, ``transcript`` and ``speaker`` are required; ``interviewer`` (labels of the
interviewer(s) in that transcript, ``;``-separated) is optional; every further column is an
attribute (stakeholder group, unit, interview period ...). ``transcript`` and ``speaker`` may list
several values separated by ``;`` (a participant interviewed twice). The four column names are
matched ignoring case, surrounding spaces and ``_``/``-`` for a space; attribute names are kept as
written. Synonyms (:data:`SYNONYMS`), used when the canonical name is absent: ``name`` or
``participant`` for ``pseudonym``; ``file``, ``filename``, ``file name`` or ``document`` for
``transcript``; ``speaker label``, ``label`` or ``speakers`` for ``speaker``; ``interviewers`` for
``interviewer``. With the canonical name present, a synonym column is an attribute; two synonyms
of one column and no canonical name are an error, and so is a missing column (the message lists
the names accepted for it and the header found).

What the parser refuses, always naming the file and the line where the row starts
(:class:`~analysis.errors.ParticipantsFileError`):

* a file over :data:`analysis.limits.PARTICIPANTS_BYTES`, or a cell over
  :data:`analysis.limits.CSV_FIELD_CHARS` characters;
* a header without the required columns, or naming a column twice;
* an unbalanced quote mark: a quote that is never closed (it swallows the rest of the file), or a
  value running over several lines in a column that is not free text (every column except
  attribute columns named like notes/comments/description), which is what a stray quote does
  to the rows after it; the error names the line where the quote opened;
* a row with more cells than the header, unless the extra cells are empty (a value holding an
  unquoted comma shifts every later value into the wrong column);
* a row without a pseudonym; a pseudonym on two rows (ignoring case); one speaker of one
  transcript mapped to two participants.

A row with fewer cells than the header is fine: the missing cells are *not given*, which is not
the same as an empty cell. :attr:`ParticipantRow.attributes` holds only the attribute cells the row
has (an empty string for a cell given empty), so applying it never blanks an attribute the row
does not mention.
"""

from __future__ import annotations

from typing import Any

import csv
import io
import re
from dataclasses import dataclass, field

from analysis import limits
from analysis.errors import Errors, Msg, ParticipantsFileError
from analysis.ingest.decode import decode

RESERVED = ("pseudonym", "transcript", "speaker", "interviewer")
#: Other names accepted for each reserved column (compared like the reserved names).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pseudonym": ("name", "participant"),
    "transcript": ("file", "filename", "file name", "document"),
    "speaker": ("speaker label", "label", "speakers"),
    "interviewer": ("interviewers",),
}
_WHAT = {"pseudonym": "pseudonym", "transcript": "transcript file", "speaker": "speaker label",
         "interviewer": "interviewer labels"}
#: Attribute columns (matched ignoring case) whose values may run over several lines.
FREE_TEXT_COLUMNS = frozenset(
    "notes note comment comments description memo memos remarks bio biography summary".split()
)
_CELL_HINT = "A participant's cell holds a short value; check for a stray quote mark or a pasted document."
_HEADER_HINT = ("The first row must name: pseudonym, transcript, speaker (or their synonyms, see the README), "
                "then any attributes.")


@dataclass(frozen=True)
class ParticipantRow:
    """One participant as the file gives it.

    ``attributes`` holds only the attribute cells present in the row: a cell missing from a short
    row is absent (not given), a cell given empty is ``""``. ``line`` is the file line the row
    starts on.
    """

    pseudonym: str
    transcripts: tuple[str, ...]
    speakers: tuple[str, ...]
    interviewers: tuple[str, ...]
    attributes: dict[str, str] = field(default_factory=dict)
    line: int = 0


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


_FIELD_OPEN_QUOTE = re.compile(r'(?:\A|(?<=[,\n]))"')
_QUOTED_REST = re.compile(r'[^"]*+(?:""[^"]*+)*+"')  # possessive: a quote pair never splits


def _unclosed_quote_line(text: str) -> int | None:
    """The line of a quote that opens a field and is never closed, as Python's csv reads quotes
    (a quote opens a field only at its start; ``""`` inside a quoted field is a quote)."""
    pos = 0
    while (opening := _FIELD_OPEN_QUOTE.search(text, pos)) is not None:
        closing = _QUOTED_REST.match(text, opening.end())
        if closing is None:
            return text.count("\n", 0, opening.start()) + 1
        pos = closing.end()
    return None


def _error(name: str, message: Msg, line: int | None, hint: str = "", **params: Any) -> ParticipantsFileError:
    return ParticipantsFileError(name, message, line=line, hint=hint, **params)


def _quote_error(name: str, line: int, column: str) -> ParticipantsFileError:
    return _error(
        name, Errors.E1301, line,
        hint="Remove the stray quote mark, or close it; a value with a comma or quote needs quotes round it.", column=column,
    )


def _records(name: str, text: str) -> list[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every CSV record, with the field cap applied."""
    opened = _unclosed_quote_line(text)
    if opened is not None:
        raise _error(name, Errors.E1302, opened,
                     hint="Remove the stray quote mark, or add the closing one.")
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return out
        except csv.Error as err:
            if "field larger than field limit" in str(err):
                raise limits.too_big(name, "a cell", limits.CSV_FIELD_CHARS, error=ParticipantsFileError,
                                     line=reader.line_num, hint=_CELL_HINT) from None
            raise _error(name, Errors.E1309, reader.line_num,
                         hint="Save it from a spreadsheet as CSV (comma-separated, UTF-8).", err=err) from None
        for cell in cells:
            if len(cell) > limits.CSV_FIELD_CHARS:
                raise limits.too_big(name, f"a cell ({len(cell):,} characters)", limits.CSV_FIELD_CHARS,
                                     error=ParticipantsFileError, line=start, hint=_CELL_HINT)
        out.append((start, cells))
        start = reader.line_num + 1


def _heading_key(heading: str) -> str:
    """A heading as reserved names are compared: case-folded, ``_``/``-`` as spaces, spaces collapsed."""
    return " ".join(heading.replace("_", " ").replace("-", " ").split()).casefold()


def _accepted(column: str) -> str:
    names = [f"'{n}'" for n in (column, *SYNONYMS[column])]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _canonical_header(name: str, line: int, header: list[str]) -> list[str]:
    """The header with reserved columns (or their synonyms, see :data:`SYNONYMS`) under their
    canonical names; other headings as written. Raises for a missing or doubled reserved column."""
    keys = [_heading_key(h) for h in header]
    out = [k if k in RESERVED else h for h, k in zip(header, keys)]
    for column in RESERVED:
        if column in keys:
            continue
        found = [i for i, k in enumerate(keys) if k in SYNONYMS[column]]
        if len(found) > 1:
            raise _error(name, Errors.E8002, line, column=_WHAT[column], v1=", ".join(repr(header[i]) for i in found))
        if found:
            out[found[0]] = column
        elif column != "interviewer":
            shown = ", ".join(h for h in header if h) or "(nothing)"
            raise _error(name, Errors.E8001, line, hint=_HEADER_HINT, column=_WHAT[column],
                         accepted=_accepted(column), found=shown)
    return out


def parse_participants(name: str, data: bytes) -> list[ParticipantRow]:
    """Parse a participants file; errors name the file and line (see the module docstring)."""
    if len(data) > limits.PARTICIPANTS_BYTES:
        raise limits.too_big(name, "the file", limits.PARTICIPANTS_BYTES, size=len(data),
                             error=ParticipantsFileError)
    text, _warnings = decode(name, data)
    records = _records(name, text)
    if not records:
        raise _error(name, Errors.E1303, 1, hint=_HEADER_HINT)
    header_line, raw_header = records[0]
    header = _canonical_header(name, header_line, [h.strip() for h in raw_header])
    named = [h for h in header if h]
    twice = sorted({h for h in named if named.count(h) > 1})
    if twice:
        raise _error(name, Errors.E1305, header_line,
                     hint="Give each column one heading.", v1=', '.join(repr(h) for h in twice))
    rows: list[ParticipantRow] = []
    seen: dict[str, int] = {}
    mapped: dict[tuple[str, str], tuple[str, int]] = {}
    for line_no, cells in records[1:]:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            raise _error(
                name, Errors.E1306, line_no,
                hint="A value holding a comma must be in double quotes (\"Auckland, NZ\").", n_cells=len(cells), n_header=len(header),
            )
        row = {h: cells[i].strip() for i, h in enumerate(header) if h and i < len(cells)}
        if not any(row.values()):
            continue
        for column, i in ((h, i) for i, h in enumerate(header) if h and i < len(cells)):
            if "\n" in cells[i].strip() and column.casefold() not in FREE_TEXT_COLUMNS:
                raise _quote_error(name, line_no, column)
        pseudonym = row.get("pseudonym", "")
        if not pseudonym:
            raise _error(name, Errors.E1307, line_no)
        if pseudonym.casefold() in seen:
            raise _error(
                name, Errors.E1308, line_no,
                hint="Give each participant one row; list several transcripts with ';'.", pseudonym=pseudonym, v2=seen[pseudonym.casefold()],
            )
        seen[pseudonym.casefold()] = line_no
        transcripts, speakers = _split(row.get("transcript")), _split(row.get("speaker"))
        for pair in ((t, s) for t in transcripts for s in speakers):
            if pair in mapped and mapped[pair][0] != pseudonym:
                other, other_line = mapped[pair]
                raise _error(
                    name, Errors.E1310, line_no,
                    hint="A speaker in a transcript is one participant; fix one of the two rows.", v1=pair[1], v2=pair[0], pseudonym=pseudonym, other=other, other_line=other_line,
                )
            mapped[pair] = (pseudonym, line_no)
        rows.append(ParticipantRow(
            pseudonym=pseudonym, transcripts=transcripts, speakers=speakers,
            interviewers=_split(row.get("interviewer")),
            attributes={k: v for k, v in row.items() if k not in RESERVED},
            line=line_no,
        ))
    return rows
