"""differing_runs: the runs of characters on which coders disagree, from the spans' ends alone, equal to
comparing each coder's coded characters one by one (what the Team page's disagreements used before)."""

from __future__ import annotations

import random

import numpy as np

from analysis.domain.agreement import coded_units, differing_runs


def by_characters(per_coder: list[list[tuple[int, int]]], length: int) -> list[tuple[int, int]]:
    cover = np.vstack([coded_units(spans, length) for spans in per_coder])
    differ = cover.min(axis=0) != cover.max(axis=0)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], differ.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def test_two_coders_one_passage_coded_more_by_one() -> None:
    assert differing_runs([[(10, 30)], [(15, 30)]], 100) == [(10, 15)]


def test_agreeing_coders_and_touching_spans() -> None:
    assert differing_runs([[(0, 10), (10, 20)], [(0, 20)]], 50) == []  # touching spans cover the same characters
    assert differing_runs([[(0, 10)], []], 50) == [(0, 10)]
    assert differing_runs([[(5, 10)], [(10, 20)]], 50) == [(5, 20)]  # adjacent runs are one run


def test_spans_past_the_text_are_clipped() -> None:
    assert differing_runs([[(-5, 8), (40, 90)], [(0, 8)]], 50) == [(40, 50)]
    assert differing_runs([[(60, 70)], []], 50) == []


def test_equal_to_the_character_by_character_comparison() -> None:
    rng = random.Random(7)
    for _ in range(300):
        length = rng.randint(1, 120)
        per_coder = [[(a, a + rng.randint(-2, 25)) for a in (rng.randint(-5, length + 5) for _ in range(rng.randint(0, 5)))]
                     for _ in range(rng.randint(2, 4))]
        assert differing_runs(per_coder, length) == by_characters(per_coder, length), (per_coder, length)
