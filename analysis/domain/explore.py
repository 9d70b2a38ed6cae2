"""Exploration as pandas DataFrames (the service is :class:`analysis.services.explore.ExploreService`):
codings joined with everything a researcher filters by, the theme x participant matrix and code
co-occurrence. This module keeps the column list and the timestamp format other modules share."""

from __future__ import annotations

import numpy as np

CODING_COLUMNS = ["coding_id", "code", "code_id", "code_path", "theme", "participant", "transcript", "turn",
                  "speaker", "timestamp", "start", "end", "text", "coder", "memo", "origin"]


def format_timestamp(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and np.isnan(seconds)):
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


# -- where a passage is, as a researcher reads it: line number and timestamp ---------------------------
# A *line* is a line of the transcript as Read & code shows it: each non-blank line of the stored text
# (a paragraph of a .txt or .docx, a turn of a subtitle file, a Markdown heading), numbered from 1 in
# the margin; blank lines are not counted. Line numbers are what the researcher sees, never offsets.
def line_starts(text: str) -> list[int]:
    """The offsets at which the transcript's numbered lines begin (non-blank lines, in order)."""
    starts, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            starts.append(pos)
        pos += len(line) + 1
    return starts


def line_at(starts: list[int], offset: int) -> int:
    """The 1-based number of the line holding ``offset`` (``starts`` from :func:`line_starts`)."""
    from bisect import bisect_right

    return max(1, bisect_right(starts, offset))


def timestamp_at(turns: list[tuple[int, int, float | None]], offset: int) -> str:
    """The timestamp of the turn holding ``offset`` (``turns``: ``(start, end, t_start)`` by start);
    a turn without one borrows the nearest earlier turn's, marked ``~``; ``""`` when none is known."""
    own: float | None = None
    earlier: float | None = None
    for start, end, t_start in turns:
        if start > offset:
            break
        if start <= offset < end:
            own = t_start
        if t_start is not None:
            earlier = t_start
    if own is not None:
        return format_timestamp(own)
    return f"~{format_timestamp(earlier)}" if earlier is not None else ""


def place_label(line: int, timestamp: str = "") -> str:
    """``"line 12 · 00:01:43"``: where a passage is, in the researcher's terms."""
    return f"line {line}" + (f" · {timestamp}" if timestamp else "")
