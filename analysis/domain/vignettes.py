"""Vignettes: a participant's (or a theme's) story told through ordered quotes and narrative.

A vignette is a title and an ordered list of items: quotes (a span of a transcript with the
researcher's rendering, marked edits only: see :mod:`analysis.domain.quotes`) and narrative paragraphs.
It is about a participant, a theme, or a participant within a theme. Every edit is one action with
one audit event, undoable. :meth:`analysis.services.vignettes.VignetteService.draft` builds a first
draft from codings (status ``draft``); any edit by the researcher makes it ``edited``. Export refuses a
draft (or a vignette with narrative placeholders left) unless asked with ``allow_draft=True``.

This module holds the plain dataclasses and their stored form; the service is
:class:`analysis.services.vignettes.VignetteService` (``project.vignettes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.errors import Errors, ValidationError

STATUSES = ("draft", "edited")


@dataclass(frozen=True)
class QuoteItem:
    """A quote: ``[start, end)`` of ``transcript`` and ``text``, the researcher's rendering of it.

    ``participant``, ``turn``, ``timestamp``, ``line`` and ``source`` (the span's text) are derived
    when the vignette is read."""

    transcript: str
    start: int
    end: int
    text: str
    coding_id: int | None = None
    code: str | None = None
    kind: str = "quote"
    participant: str | None = None
    turn: int | None = None
    timestamp: str = ""
    line: int | None = None
    source: str = ""
    joined: bool = False
    """Print this (short) quote in the same paragraph as the quote before it; by default each quote that
    follows a quote starts its own paragraph."""


@dataclass(frozen=True)
class NarrativeItem:
    """A paragraph of the researcher's own writing."""

    text: str
    kind: str = "narrative"


Item = QuoteItem | NarrativeItem


@dataclass(frozen=True)
class Vignette:
    id: int
    guid: str
    title: str
    participant: str | None
    theme: str | None
    status: str
    items: tuple[Item, ...]
    created_at: str
    updated_at: str

    @property
    def quotes(self) -> list[QuoteItem]:
        return [i for i in self.items if isinstance(i, QuoteItem)]


def to_item(data: Item | dict[str, Any]) -> Item:
    """An item from its stored (or a caller's) dict form; items pass through."""
    if isinstance(data, (QuoteItem, NarrativeItem)):
        return data
    kind = data.get("kind", "quote" if "transcript" in data else "narrative")
    if kind == "narrative":
        return NarrativeItem(str(data.get("text", "")))
    if kind != "quote":
        raise ValidationError(Errors.E2125, kind=kind)
    missing = [k for k in ("transcript", "start", "end") if data.get(k) is None]
    if missing:
        raise ValidationError(Errors.E2126, missing=', '.join(missing))
    coding_id, code = data.get("coding_id"), data.get("code")
    return QuoteItem(str(data["transcript"]), int(data["start"]), int(data["end"]), str(data.get("text") or ""),
                     None if coding_id is None else int(coding_id), None if code is None else str(code),
                     source=str(data.get("source") or ""), joined=bool(data.get("joined", False)))


def stored_item(item: Item) -> dict[str, Any]:
    """The dict an item is stored as (in the ``vignettes.items`` JSON list)."""
    if isinstance(item, NarrativeItem):
        return {"kind": "narrative", "text": item.text}
    stored = {"kind": "quote", "transcript": item.transcript, "start": item.start, "end": item.end, "text": item.text,
              "coding_id": item.coding_id, "code": item.code, "source": item.source}
    if item.joined:
        stored["joined"] = True
    return stored
