"""``participants.csv``: one row per participant, mapping speaker labels to pseudonyms.

Columns ``pseudonym``, ``transcript`` and ``speaker`` are required; ``interviewer`` (labels of the
interviewer(s) in that transcript, ``;``-separated) is optional; every further column is an
attribute (stakeholder group, unit, interview period ...). ``transcript`` and ``speaker`` may list
several values separated by ``;`` (a participant interviewed twice).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from .errors import ParticipantsFileError
from .ingest.decode import decode

RESERVED = ("pseudonym", "transcript", "speaker", "interviewer")


@dataclass(frozen=True)
class ParticipantRow:
    pseudonym: str
    transcripts: tuple[str, ...]
    speakers: tuple[str, ...]
    interviewers: tuple[str, ...]
    attributes: dict[str, str] = field(default_factory=dict)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


def parse_participants(name: str, data: bytes) -> list[ParticipantRow]:
    """Parse a participants file; errors name the file and line."""
    text, _warnings = decode(name, data)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in RESERVED[:3] if c not in header]
    if missing:
        raise ParticipantsFileError(
            name, f"the header lacks column(s) {', '.join(missing)}", line=1,
            hint="The first row must name: pseudonym, transcript, speaker, then any attributes.",
        )
    rows: list[ParticipantRow] = []
    seen: dict[str, int] = {}
    for line_no, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        pseudonym = row.get("pseudonym", "")
        if not pseudonym:
            raise ParticipantsFileError(name, "a row has no pseudonym", line=line_no)
        if pseudonym.casefold() in seen:
            raise ParticipantsFileError(
                name, f"duplicate pseudonym '{pseudonym}' (first on line {seen[pseudonym.casefold()]})",
                line=line_no, hint="Give each participant one row; list several transcripts with ';'.",
            )
        seen[pseudonym.casefold()] = line_no
        rows.append(ParticipantRow(
            pseudonym=pseudonym, transcripts=_split(row.get("transcript")), speakers=_split(row.get("speaker")),
            interviewers=_split(row.get("interviewer")),
            attributes={k: v for k, v in row.items() if k not in RESERVED and k},
        ))
    return rows
