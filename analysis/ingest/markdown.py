"""Markdown markup in a stored ``.md`` transcript: where it is, so front ends can hide it.

A Markdown transcript is stored as written (``# Heading``, ``**Name:**`` and all): offsets, quotes,
codings.yaml and re-imports stay exact, and the reader (:mod:`analysis.ingest.text`) already reads
the labels through the markup. What a researcher must not see as literal characters is hidden at
display: :func:`markup_spans` gives the ``[start, end)`` ranges of pure markup, which Read & code
renders invisibly (still in the DOM, so a selection's offsets count them), and :func:`plain` drops
them from a quoted passage.

Markup found, line by line: ATX heading markers (``## `` and a closing ``#`` run), blockquote
markers (``> ``), thematic breaks and front-matter fences (``---``, ``***``), the delimiters of
``**strong**``, ``__strong__``, ``*emphasis*``, ``_emphasis_`` (not inside words) and
```code```, link and image brackets with their target (``[text](url)`` shows ``text``),
backslash escapes (``\\*`` shows ``*``) and HTML comments.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_RULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ESCAPE = re.compile(r"\\(?=[\\`*_{}\[\]()#+\-.!>])")
_CODE = re.compile(r"(`+)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"(!?\[)([^\[\]\n]+)(\]\([^()\s]*(?:\s+\"[^\"\n]*\")?\))")
_STRONG = re.compile(r"(?<![\\*])(\*\*)(?=\S)(.+?)(?<=[^\s\\])\*\*(?!\*)|(?<![\w\\])(__)(?=\S)(.+?)(?<=[^\s\\])__(?!\w)")
_EM = re.compile(r"(?<![\\*\w])\*(?=[^\s*])(.+?)(?<=[^\s\\*])\*(?![*\w])|(?<![\\\w])_(?=[^\s_])(.+?)(?<=[^\s\\_])_(?!\w)")


def _line_spans(line: str, base: int) -> list[Span]:
    out: list[Span] = []
    if _RULE.match(line):
        return [(base, base + len(line))] if line else []
    quote = _QUOTE.match(line)
    if quote:
        out.append((base, base + quote.end()))
    head = _HEADING.match(line)
    if head:
        out.append((base, base + head.end()))
        closing = _CLOSING_HASHES.search(line, head.end())
        if closing:
            out.append((base + closing.start(), base + closing.end()))
    for m in _ESCAPE.finditer(line):
        out.append((base + m.start(), base + m.end()))
    for m in _CODE.finditer(line):
        ticks = len(m.group(1))
        out += [(base + m.start(), base + m.start() + ticks), (base + m.end() - ticks, base + m.end())]
    for m in _LINK.finditer(line):
        out += [(base + m.start(1), base + m.end(1)), (base + m.start(3), base + m.end(3))]
    for pattern, width in ((_STRONG, 2), (_EM, 1)):
        for m in pattern.finditer(line):
            out += [(base + m.start(), base + m.start() + width), (base + m.end() - width, base + m.end())]
    return out


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def markup_spans(text: str) -> list[Span]:
    """Sorted, disjoint ``[start, end)`` code-point ranges of Markdown markup in ``text``."""
    spans: list[Span] = [(m.start(), m.end()) for m in _COMMENT.finditer(text)]
    offset = 0
    for line in text.split("\n"):
        spans += _line_spans(line, offset)
        offset += len(line) + 1
    return _merge(spans)


def plain(text: str) -> str:
    """``text`` (a whole transcript or a passage of one) without its Markdown markup."""
    spans = markup_spans(text)
    if not spans:
        return text
    parts, pos = [], 0
    for a, b in spans:
        parts.append(text[pos:a])
        pos = b
    parts.append(text[pos:])
    return "".join(parts)
