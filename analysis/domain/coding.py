"""Codings: a code applied to any ``[start, end)`` span of a transcript, and re-anchoring (pure part).

Codings attach to spans, not segments. Each keeps its quoted text and a little context, so when a
transcript is corrected and re-imported the coding is placed again: exactly first, then fuzzily;
what cannot be placed is kept as an orphan and reported, never dropped. The operations live in
:class:`analysis.services.codings.CodingService` (``project.codings``); this module holds the pure
helpers: :func:`locate` (where a quote now sits), :func:`coding_from_row` and the context window.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz

from analysis.domain.model import Coding

__all__ = ["CONTEXT", "FUZZY_CUTOFF", "coding_from_row", "context_of", "locate"]

CONTEXT = 40
FUZZY_CUTOFF = 85.0


def coding_from_row(row: Any, text: str | None = None) -> Coding:
    """A :class:`~analysis.domain.model.Coding` from a ``codings`` row; its text is read from the transcript's
    ``text`` when given (and the coding is placed), else the stored quote."""
    shown = row.quote if row.orphaned or text is None else text[row.start:row.end]
    return Coding(row.id, row.guid, row.code_id, row.transcript_id, row.start, row.end, shown, row.coder,
                  row.memo, row.origin, bool(row.orphaned))


def context_of(text: str, start: int, end: int) -> tuple[str, str]:
    """The :data:`CONTEXT` characters before and after ``[start, end)`` of ``text``."""
    return text[max(0, start - CONTEXT):start], text[end:end + CONTEXT]


def _refine(quote: str, text: str, start: int, end: int, *, slack: int = 4) -> tuple[int, int]:
    """Nudge fuzzy match edges (a few characters each way) to the best full-string similarity."""
    best = (fuzz.ratio(quote, text[start:end]), start, end)
    for ds in range(-slack, slack + 1):
        for de in range(-slack, slack + 1):
            s, e = start + ds, end + de
            if 0 <= s < e <= len(text):
                score = fuzz.ratio(quote, text[s:e])
                if score > best[0]:
                    best = (score, s, e)
    return best[1], best[2]


def locate(quote: str, before: str, after: str, text: str, hint: int) -> tuple[int, int] | None:
    """Find where ``quote`` now sits in ``text``: exact (best context match), else fuzzy, else None."""
    if not quote:
        return None
    hits = [m.start() for m in re.finditer(re.escape(quote), text)]
    if hits:
        def score(pos: int) -> tuple[int, int]:
            ctx = (text[max(0, pos - len(before)):pos] == before) + (text[pos + len(quote):pos + len(quote) + len(after)] == after)
            return (-ctx, abs(pos - hint))

        best = min(hits, key=score)
        return best, best + len(quote)
    # Fuzzy: search a window around the old position first, then the whole text.
    for lo, hi in ((max(0, hint - 4 * len(quote) - 500), hint + 5 * len(quote) + 500), (0, len(text))):
        window = text[lo:hi]
        if not window:
            continue
        al = fuzz.partial_ratio_alignment(quote, window, score_cutoff=FUZZY_CUTOFF)
        if al is not None and al.dest_end > al.dest_start:
            start, end = _refine(quote, text, lo + al.dest_start, lo + al.dest_end)
            # Do not let a fuzzy match swallow much more or much less than the quote.
            if 0.7 * len(quote) <= end - start <= 1.3 * len(quote):
                return start, end
    return None
