"""Inter-coder agreement for codebook-style (coding-reliability) studies: pure functions, no database.

**What it is for.** When a team codes with a fixed codebook and wants to show that two or more coders
apply it alike (a "coding reliability" or codebook thematic analysis), agreement statistics say how
alike. In a reflexive thematic analysis (Braun & Clarke) the researcher's subjectivity is a resource,
not an error to be measured: there agreement is not a quality criterion, and these numbers should not
be reported as one. Storyloom offers them for the first kind of study and says so wherever it shows them.

**Units.** A code's application is compared unit by unit: each unit is coded (1) or not (0) by each
coder. The unit is ``character`` (as NVivo does, but only what was said: every character of the chosen
transcripts' turns, not their speaker labels, cue and inline times, or line breaks, which no coder codes
and which would inflate agreement on "not coded"), ``sentence`` (Storyloom's segments) or ``turn`` (a
speaker's turn); a sentence or turn counts as coded when a coding overlaps it. A coder who made no coding at all in a transcript has not coded it: their units there are
*missing* (Krippendorff's alpha allows that; percent agreement and kappa use only the units every coder
rated).

**Statistics** (nominal data, per code and over all codes pooled):

* percent agreement: the share of units on which every coder agrees;
* Cohen's kappa (exactly two coders): scikit-learn's ``cohen_kappa_score``;
* Krippendorff's alpha (any number of coders, missing data allowed): the ``krippendorff`` package.

A statistic that is undefined (every unit in one category: no variation to agree on) is ``None``.
Worked example (checked in the tests): in 1,000 characters both coders coded the same 50, only coder A
another 50, only coder B another 100, and neither the remaining 800: observed agreement 0.85, chance
agreement 0.1 x 0.15 + 0.9 x 0.85 = 0.78, kappa (0.85 - 0.78) / (1 - 0.78) = 0.318.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["UNITS", "Stats", "coded_units", "differing_runs", "said", "statistics"]

UNITS = ("character", "sentence", "turn")
Ratings = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Stats:
    """Agreement over ``units`` units (those at least two coders rated: what Krippendorff's alpha uses);
    ``units_all_coders``: those every coder rated (what percent agreement and Cohen's kappa use)."""

    units: int
    percent_agreement: float | None
    cohen_kappa: float | None
    krippendorff_alpha: float | None
    units_all_coders: int = 0

    def as_dict(self) -> dict[str, float | int | None]:
        return {"units": self.units, "units_all_coders": self.units_all_coders,
                "percent_agreement": self.percent_agreement, "cohen_kappa": self.cohen_kappa,
                "krippendorff_alpha": self.krippendorff_alpha}


def differing_runs(per_coder: Sequence[Sequence[tuple[int, int]]], length: int) -> list[tuple[int, int]]:
    """The ``[start, end)`` runs of characters (of a text of ``length``) on which the coders do not all agree
    whether they are coded, in text order: what comparing each coder's :func:`coded_units` character by
    character gives, computed from the spans' ends alone (a passage's few codings, not its every character).
    ``per_coder``: each coder's ``[start, end)`` spans."""
    clipped = [[(max(0, int(s)), min(length, int(e))) for s, e in spans] for spans in per_coder]
    clipped = [[(s, e) for s, e in spans if e > s] for spans in clipped]
    cuts = sorted({x for spans in clipped for span in spans for x in span})
    runs: list[tuple[int, int]] = []
    for lo, hi in zip(cuts, cuts[1:]):
        covered = {any(s <= lo and hi <= e for s, e in spans) for spans in clipped}
        if len(covered) > 1:  # some coder covers [lo, hi) and another does not
            if runs and runs[-1][1] == lo:
                runs[-1] = (runs[-1][0], hi)
            else:
                runs.append((lo, hi))
    return runs


def said(text: str, turns: Sequence[tuple[int, int]],
         times: Sequence[tuple[int, int]] = ()) -> npt.NDArray[np.bool_]:
    """Which characters of ``text`` are what was said: inside a turn's ``[start, end)`` (so not a speaker
    label or a cue's ``[00:01:02] Name:`` prefix), not inside an inline time's ``[start, end)`` of
    ``times``, and not a line break. The character unit's units."""
    mask = np.zeros(len(text), dtype=bool)
    for start, end in turns:
        mask[max(0, start):max(0, min(len(text), end))] = True
    for start, end in times:
        mask[max(0, start):max(0, min(len(text), end))] = False
    if text:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        mask &= (points != 10) & (points != 13) & (points != 0x2028) & (points != 0x2029)
    return mask


def coded_units(spans: Iterable[tuple[int, int]], length: int,
                bounds: Sequence[tuple[int, int]] | None = None,
                keep: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.float64]:
    """1.0 for each unit a coder's ``spans`` (``[start, end)`` character offsets) cover, else 0.0.

    ``bounds`` None: the units are the ``length`` characters (those ``keep`` marks, when given: see
    :func:`said`); else the ``[start, end)`` of each sentence or turn (a unit is coded when a span
    overlaps it)."""
    delta = np.zeros(length + 1, dtype=np.int64)
    for start, end in spans:
        s, e = max(0, int(start)), min(length, int(end))
        if e > s:
            delta[s] += 1
            delta[e] -= 1
    chars = np.cumsum(delta[:-1]) > 0
    if bounds is None:
        return (chars if keep is None else chars[keep[:length]]).astype(np.float64)
    prefix = np.concatenate(([0], np.cumsum(chars)))
    if not bounds:
        return np.zeros(0)
    b = np.clip(np.asarray(bounds, dtype=np.int64), 0, length)
    return ((prefix[b[:, 1]] - prefix[b[:, 0]]) > 0).astype(np.float64)


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def statistics(ratings: Ratings) -> Stats:
    """Agreement of a ``coders x units`` matrix of 0/1 (``nan``: that coder did not rate that unit)."""
    data = np.asarray(ratings, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 2:
        raise ValueError("ratings must be a coders x units matrix with at least two coders")
    rated = ~np.isnan(data)
    pairable = rated.sum(axis=0) >= 2
    complete = rated.all(axis=0)
    full = data[:, complete]
    percent = kappa = alpha = None
    if full.shape[1]:
        percent = _finite(float(np.mean(np.all(full == full[0], axis=0))))
        if data.shape[0] == 2:
            kappa = _cohen_kappa(full[0], full[1])
    if pairable.any():
        alpha = _alpha(data[:, pairable])
    return Stats(int(pairable.sum()), percent, kappa, alpha, int(complete.sum()))


def _cohen_kappa(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if len(np.unique(np.concatenate((a, b)))) < 2:
        return None  # one category only: chance agreement is 1, kappa is 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finite(float(cohen_kappa_score(a.astype(int), b.astype(int))))


def _alpha(data: Ratings) -> float | None:
    import krippendorff

    values = data[~np.isnan(data)]
    if len(np.unique(values)) < 2:
        return None  # no variation: alpha is undefined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finite(float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")))
