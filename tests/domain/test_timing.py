"""Time beside text (analysis/domain/timing.py): the nearest anchor at or before a place, a span's end."""

from __future__ import annotations

from analysis.domain.model import Anchor, ParsedTranscript, ParsedTurn
from analysis.domain.timing import anchors_of, clock, own_time, span_time, stamp_at, time_at

POINTS = [Anchor(10, 5.0, 7.5), Anchor(40, 8.0), Anchor(70, 12.0, 14.0)]


def test_time_at_is_the_nearest_anchor_at_or_before() -> None:
    assert [time_at(POINTS, o) for o in (0, 9, 10, 39, 40, 69, 70, 500)] == [None, None, 5.0, 5.0, 8.0, 8.0, 12.0, 12.0]


def test_span_time_ends_at_the_cue_end_or_the_next_anchor() -> None:
    assert span_time(POINTS, 12, 20) is not None and span_time(POINTS, 12, 20).end == 7.5  # type: ignore[union-attr]
    assert span_time(POINTS, 45, 60).end == 12.0  # type: ignore[union-attr]  # no end given: the next start
    assert span_time(POINTS, 12, 75).end == 14.0  # type: ignore[union-attr]
    assert span_time(POINTS, 0, 5) is None and span_time(POINTS, 0, 15).start == 5.0  # type: ignore[union-attr]
    assert span_time([], 0, 5) is None


def test_own_turn_or_borrowed() -> None:
    assert own_time(POINTS, 45, 30) == 8.0 and own_time(POINTS, 45, 41) is None
    assert stamp_at(POINTS, 45, 30) == "00:00:08" and stamp_at(POINTS, 45, 41) == "~00:00:08"
    assert stamp_at(POINTS, 5, 0) == ""


def test_anchors_of_a_reader_without_anchors_are_its_timed_turns() -> None:
    parsed = ParsedTranscript("a b c d", (ParsedTurn("A", 0, 1, 3.0, 4.0), ParsedTurn("B", 2, 3), ParsedTurn("A", 4, 7, 9.0)),
                              "txt")
    assert anchors_of(parsed) == (Anchor(0, 3.0, 4.0), Anchor(4, 9.0, None))
    given = ParsedTranscript("abc", (), "vtt", anchors=(Anchor(2, 1.0), Anchor(0, 0.5), Anchor(2, 9.0), Anchor(9, 1.0)))
    assert anchors_of(given) == (Anchor(0, 0.5), Anchor(2, 1.0))  # sorted, one per offset, inside the text


def test_clock() -> None:
    assert clock(3723.4) == "01:02:03" and clock(59.9996, millis=True) == "00:01:00.000" and clock(-1) == "00:00:00"
