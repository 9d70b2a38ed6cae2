"""Time beside text: the anchors (REFI-QDA's SyncPoints) of a transcript, and the time of any place in it.

Every time a source gives is kept as an :class:`~analysis.domain.model.Anchor` ``(offset, t_start, t_end)``:
each subtitle cue, each timestamped block, each inline timestamp, even where consecutive cues of one speaker
merge into one turn. A line, segment, coding or quote takes its time from the nearest anchor **at or before**
its start, and its end from the anchor's own end or the next anchor's start, never from the turn's first
timestamp. Pure functions; no I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.domain.model import Anchor, ParsedTranscript

__all__ = ["Anchor", "Timing", "anchors_of", "clock", "own_time", "span_time", "stamp_at", "time_at"]


def anchors_of(parsed: ParsedTranscript) -> tuple[Anchor, ...]:
    """The transcript's anchors, by offset: the reader's own, else one per timed turn (its start)."""
    found = parsed.anchors or tuple(Anchor(t.start, t.t_start, t.t_end) for t in parsed.turns if t.t_start is not None)
    return normalise(found, len(parsed.text))


def normalise(anchors: Sequence[Anchor], length: int) -> tuple[Anchor, ...]:
    """Anchors inside ``[0, length]`` sorted by offset (file order kept for ties), one per offset (the first)."""
    out: dict[int, Anchor] = {}
    for a in sorted((a for a in anchors if 0 <= a.offset <= length), key=lambda a: a.offset):
        out.setdefault(a.offset, a)
    return tuple(out.values())


@dataclass(frozen=True)
class Timing:
    """The time of a passage: from ``start`` to ``end`` seconds (``end`` None where nothing says)."""

    start: float
    end: float | None


def _index(anchors: Sequence[Anchor], offset: int) -> int:
    """The index of the nearest anchor at or before ``offset`` (-1 when there is none)."""
    return bisect_right([a.offset for a in anchors], offset) - 1


def time_at(anchors: Sequence[Anchor], offset: int) -> float | None:
    """The time of the place ``offset``: the nearest anchor's at or before it (None before the first)."""
    i = _index(anchors, offset)
    return anchors[i].t_start if i >= 0 else None


def own_time(anchors: Sequence[Anchor], offset: int, turn_start: int | None) -> float | None:
    """The time of ``offset`` from an anchor inside its own turn (starting at ``turn_start``), else None:
    an export states a time only where the source timed that turn."""
    i = _index(anchors, offset)
    if i < 0 or (turn_start is not None and anchors[i].offset < turn_start):
        return None
    return anchors[i].t_start


def stamp_at(anchors: Sequence[Anchor], offset: int, turn_start: int | None) -> str:
    """``00:01:43`` for a place timed inside its own turn; ``~00:01:43`` where it borrows an earlier turn's
    time (a turn the source left untimed); ``""`` before the first time."""
    t = time_at(anchors, offset)
    if t is None:
        return ""
    own = own_time(anchors, offset, turn_start) is not None
    return ("" if own else "~") + clock(t)


def span_time(anchors: Sequence[Anchor], start: int, end: int) -> Timing | None:
    """The time of ``[start, end)``: from the anchor at or before ``start`` to the end of the anchor holding
    the last character (its ``t_end``, else the next anchor's start); None where no anchor precedes it. A
    passage before the first anchor starts at the first anchor when it reaches it."""
    if not anchors:
        return None
    first = _index(anchors, start)
    if first < 0:
        if anchors[0].offset >= end:
            return None
        first = 0
    last = max(first, _index(anchors, max(start, end - 1)))
    stop = anchors[last].t_end
    if stop is None and last + 1 < len(anchors):
        stop = anchors[last + 1].t_start
    begin = anchors[first].t_start
    return Timing(begin, stop if stop is None or stop >= begin else begin)


def clock(seconds: float, *, millis: bool = False) -> str:
    """``hh:mm:ss`` (``hh:mm:ss.mmm`` with ``millis``) of a time in seconds."""
    total = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    if not millis:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"
