"""Sentence segmentation with spaCy: exact offsets inside turns, never splitting a transcriber's note."""

from __future__ import annotations

from analysis.domain.segment import sentences


def test_sentences_have_exact_offsets_and_respect_paragraphs():
    text = "Leader A: Um, it was... it was hard. Nobody wanted it.\n\nAnd the ākonga? Afraid 😬 of failing."
    turn = (text.index("Um"), len(text))
    [spans] = sentences(text, [turn])
    got = [text[s.start:s.end] for s in spans]
    assert got[-1] == "Afraid 😬 of failing."
    assert "Nobody wanted it." in got and all(g == g.strip() and g for g in got)
    assert all(turn[0] <= s.start < s.end <= turn[1] for s in spans)
    assert not any("\n\n" in g for g in got)


def test_a_bracketed_note_is_never_split():
    text = "A: So we waited. [laughs] Then it came back. [inaudible 00:12:03] Anyway, fourteen months."
    [spans] = sentences(text, [(3, len(text))])
    got = [text[s.start:s.end] for s in spans]
    assert not any(g.startswith(("laughs]", "inaudible")) or g.endswith("[") for g in got)
    assert "".join(got).replace(" ", "") == text[3:].replace(" ", "")
