"""Exact mapping of REFI-QDA text positions to Storyloom's stored offsets (pure functions).

A REFI-QDA ``PlainTextSelection`` gives ``startPosition``/``endPosition`` into a source's plain text.
The standard says code points; NVivo writes UTF-16 code units of the text as stored (BOM stripped,
CRLF counted as two). Storyloom stores the text canonical: BOM stripped, CRLF and lone CR turned
into ``\\n``, NFC, and its offsets are code points into that. :func:`position_map` builds, for one
counting rule, the table from every source position to the stored offset, through all three steps:

* **BOM**: a leading U+FEFF is dropped before counting (every tool counts after it);
* **line ends**: under ``crlf="stored"`` a CRLF counts as two units (the position between CR and LF
  is inside a character of the stored text); under ``crlf="one"`` it counts as one;
* **units**: ``"utf16"`` counts a character outside the BMP (an emoji) as two units, ``"codepoints"``
  as one; a position between the two halves of a surrogate pair is inside a character;
* **NFC**: the text is cut into chunks at characters that nothing before them can compose with, and
  each chunk normalised alone (their concatenation is checked to be the NFC of the whole); a
  position inside a chunk whose normalisation changed it (``e`` + combining acute -> ``é``) is inside
  a character.

A position that falls inside a character maps to ``None`` for an exact lookup; :meth:`PositionMap.snap`
widens it outward (start backwards, end forwards) for a placement reported as ambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = ["RULES", "Evidence", "ExportRule", "PositionMap", "Rule", "canonical", "choose_rule", "evidence", "export_rule",
           "position_map", "prior_of", "starts_word", "utf16_offsets", "verdict"]

Units = Literal["codepoints", "utf16"]
Crlf = Literal["stored", "one"]


@dataclass(frozen=True)
class Rule:
    """A counting rule for source positions: code points or UTF-16 units, CRLF as stored (2) or as one."""

    units: Units
    crlf: Crlf

    @property
    def name(self) -> str:
        return f"{'utf16' if self.units == 'utf16' else 'codepoints'}{'' if self.crlf == 'stored' else '+crlf1'}"


#: The rules tried on each source, the standard's first (it wins a tie).
RULES: tuple[Rule, ...] = (Rule("codepoints", "stored"), Rule("utf16", "stored"), Rule("codepoints", "one"),
                           Rule("utf16", "one"))


def canonical(raw: str) -> str:
    """The text as Storyloom stores it: leading BOM dropped, CRLF and CR as ``\\n``, NFC."""
    text = raw[1:] if raw.startswith("\ufeff") else raw
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


@lru_cache(maxsize=4096)
def _safe_start(ch: str) -> bool:
    """True when no character before ``ch`` can combine with it under NFC (a cut before it is safe)."""
    if unicodedata.combining(ch):
        return False
    decomposed = unicodedata.normalize("NFD", ch)
    if unicodedata.combining(decomposed[0]) or decomposed[0] in _SECOND_STARTERS:
        return False
    cp = ord(ch)
    return not (0x1160 <= cp <= 0x11FF or 0xD7B0 <= cp <= 0xD7FF)  # Hangul medial vowels and final consonants


def _second_starters() -> frozenset[str]:
    """Starters (combining class 0) that are the second half of a canonical composition (e.g. Indic vowel
    signs): they compose with the character before them, so a chunk may not begin with one."""
    out: set[str] = set()
    # Every canonical decomposition lies in these ranges (CJK unified ideographs, Hangul syllables and the
    # planes above 2 have none); a future one elsewhere is still caught by the check in position_map.
    for cp in (*range(0x3400), *range(0xA000, 0xD800), *range(0xE000, 0x20000), *range(0x2F800, 0x2FA20)):
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = d.split()
        if len(parts) == 2:
            second = chr(int(parts[1], 16))
            if unicodedata.combining(second) == 0:
                out.add(second)
    return frozenset(out)


_SECOND_STARTERS = _second_starters()


@dataclass(frozen=True)
class PositionMap:
    """Source positions (under one :class:`Rule`) -> offsets into the stored text.

    Held sparsely (a 20 MB source must not cost gigabytes): runs of plain ASCII map linearly (one unit, one
    stored character) and are kept as one segment each; only the zones around non-ASCII characters and
    carriage returns keep a table of their positions (``-1`` inside a character)."""

    rule: Rule
    text: str  # the stored (canonical) text
    starts: array[int]  # starts[k] = the first source position of segment k (increasing)
    stored: array[int]  # stored[k] = the stored offset of that position
    tables: array[int]  # -1: segment k is a linear run; else where its positions begin in ``table``
    table: array[int]  # the stored offset (or -1, inside a character) of each position of every zone
    units: int  # the source's length in units (the largest valid position)

    def to_stored(self, pos: int) -> int | None:
        """The stored offset of source position ``pos``, or None (out of range, or inside a character)."""
        if not 0 <= pos <= self.units:
            return None
        k = bisect_right(self.starts, pos) - 1
        at = self.tables[k]
        if at < 0:
            return self.stored[k] + pos - self.starts[k]
        value = self.table[at + pos - self.starts[k]]
        return None if value < 0 else value

    def snap(self, pos: int, *, forward: bool) -> int | None:
        """The nearest exact stored offset at or before (``forward=False``) or after ``pos``; None out of range."""
        if not 0 <= pos <= self.units:
            return None
        step = 1 if forward else -1
        value = self.to_stored(pos)
        while value is None:
            pos += step
            value = self.to_stored(pos)
        return value


def _unit_width(ch: str, rule: Rule) -> int:
    return 2 if rule.units == "utf16" and ord(ch) > 0xFFFF else 1


def _zone(src: str, rule: Rule) -> tuple[str, list[int]]:
    """Line ends, units and NFC of one zone of the source (it begins at a safe starter and the character
    after it is one): its stored text and, for each of its source positions, the stored offset within the
    zone or -1 inside a character (the zone's end position not included)."""
    # 1. line ends: the text with CRLF/CR -> LF, and for each of its characters the source units it spans.
    chars: list[str] = []
    widths: list[int] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "\r" and i + 1 < n and src[i + 1] == "\n":
            chars.append("\n")
            widths.append(2 if rule.crlf == "stored" else 1)
            i += 2
            continue
        chars.append("\n" if ch == "\r" else ch)
        widths.append(_unit_width(ch, rule))
        i += 1
    # 2. NFC by chunks that begin at safe starters.
    exact: list[int] = []
    pieces: list[str] = []
    stored = 0
    k, m = 0, len(chars)
    while k < m:
        j = k + 1
        while j < m and not _safe_start(chars[j]):
            j += 1
        chunk = "".join(chars[k:j])
        normal = unicodedata.normalize("NFC", chunk) if not chunk.isascii() else chunk
        pieces.append(normal)
        if normal == chunk:  # unchanged: every character boundary inside is exact
            for idx in range(k, j):
                exact.append(stored)
                exact.extend([-1] * (widths[idx] - 1))
                stored += 1
        else:  # changed by NFC: only the chunk's ends are exact
            exact.append(stored)
            exact.extend([-1] * (sum(widths[k:j]) - 1))
            stored += len(normal)
        k = j
    return "".join(pieces), exact


#: Where a character may not map linearly: a run of non-ASCII characters, or a carriage return.
_NOT_ASCII = re.compile("[^\x00-\x0c\x0e-\x7f]+")


@lru_cache(maxsize=65536)
def _irregular(ch: str, utf16: bool) -> bool:
    """True when ``ch`` does not map as one unit to one stored character: a CR, a character outside the BMP
    counted in UTF-16, or one that NFC changes or composes with the character before it."""
    return (ch == "\r" or (utf16 and ord(ch) > 0xFFFF) or not _safe_start(ch)
            or not unicodedata.is_normalized("NFC", ch))


def position_map(raw: str, rule: Rule) -> PositionMap:
    """The :class:`PositionMap` of source text ``raw`` (as decoded from its file) under ``rule``."""
    src = raw[1:] if raw.startswith("\ufeff") else raw
    n = len(src)
    starts, stored, tables, table, pieces = array("q"), array("q"), array("q"), array("q"), []
    unit = offset = done = 0  # source units and stored characters so far; characters of src consumed
    utf16 = rule.units == "utf16"

    def linear(upto: int) -> None:
        nonlocal unit, offset, done
        if upto > done:
            starts.append(unit)
            stored.append(offset)
            tables.append(-1)
            pieces.append(src[done:upto])
            unit += upto - done
            offset += upto - done
            done = upto

    for match in _NOT_ASCII.finditer(src):
        a, b = match.span()
        if b <= done or not any(_irregular(ch, utf16) for ch in match.group()):
            continue  # one unit, one stored character each: part of the linear run
        a = max(a, done)
        if a > done and not _safe_start(src[a]):
            a -= 1  # the (ASCII) character before composes with it: NFC them together
        if src[b - 1] == "\r" and b < n and src[b] == "\n":
            b += 1  # a CRLF stays whole
        linear(a)
        text, exact = _zone(src[a:b], rule)
        starts.append(unit)
        stored.append(offset)
        tables.append(len(table))
        table.extend(offset + x if x >= 0 else -1 for x in exact)
        pieces.append(text)
        unit += len(exact)
        offset += len(text)
        done = b
    linear(n)
    starts.append(unit)  # the end position
    stored.append(offset)
    tables.append(-1)
    text = "".join(pieces)
    if text != canonical(src):  # pragma: no cover - a chunking this code did not foresee
        text = canonical(src)
        return PositionMap(rule, text, array("q", [0, unit]), array("q", [0, len(text)]), array("q", [0, -1]),
                           array("q", [0] + [-1] * (unit - 1)), unit)
    return PositionMap(rule, text, starts, stored, tables, table, unit)


def utf16_offsets(text: str) -> list[int]:
    """``out[i]`` = UTF-16 code units in ``text[:i]`` (for writing NVivo-style positions)."""
    out = [0] * (len(text) + 1)
    total = 0
    for i, ch in enumerate(text):
        total += 2 if ord(ch) > 0xFFFF else 1
        out[i + 1] = total
    return out


def starts_word(text: str, start: int) -> bool:
    """True when offset ``start`` of ``text`` does not cut a word in two (its start is a word boundary)."""
    if start <= 0 or start >= len(text):
        return True
    return not (text[start - 1].isalnum() and text[start].isalnum())


@dataclass(frozen=True)
class RuleScore:
    rule: Rule
    quotes: int  # selections whose ``name`` quote equals the stored text at the mapped span
    boundaries: int  # selections placed exactly whose start is a word boundary
    placed: int  # selections whose both ends map exactly, in range


def score(pmap: PositionMap, selections: Sequence[tuple[int, int, str]]) -> RuleScore:
    """How well ``pmap``'s rule explains ``selections`` (``(start, end, quote-or-"")`` in source units)."""
    quotes = boundaries = placed = 0
    for start, end, quote in selections:
        s, e = pmap.to_stored(start), pmap.to_stored(end)
        if s is None or e is None or s > e:
            continue
        placed += 1
        boundaries += starts_word(pmap.text, s)
        if quote and _same_quote(pmap.text[s:e], quote):
            quotes += 1
    return RuleScore(pmap.rule, quotes, boundaries, placed)


def _same_quote(stored: str, quote: str) -> bool:
    return stored == canonical(quote) or stored.strip() == canonical(quote).strip()


def choose_rule(raw: str, selections: Sequence[tuple[int, int, str]]) -> tuple[PositionMap, list[RuleScore]]:
    """Try every rule in :data:`RULES` on source ``raw``; return the best map and every rule's score.

    Best: most ``name`` quotes matched, then most word-boundary starts, then most placed; a tie goes to
    the earlier rule (the standard's code points first). Rules that yield the same map are built once.
    This is one source's evidence alone: an import weighs it against the export's other sources and the
    program that wrote the file (:func:`evidence`, :func:`export_rule`, :func:`verdict`)."""
    found, pmap = evidence(raw, selections)
    return pmap, [found.scores[r] for r in RULES if found.reps[r] == r]


# -- one rule per export (issue 25, class 9) -------------------------------------------------------
#: How much better the best rule must explain a source's (or an export's) selections than every rule that
#: places them differently, for that evidence to decide: :func:`weight` counts a matched quote 3, a start on a
#: word boundary 1 and a selection placed at all 1. One or two unnamed selections whose starts fall on word
#: boundaries under both rules never reach it; three more boundary starts, or one more quote, do.
DECISIVE = 3


def weight(s: RuleScore) -> int:
    """How much of the selections ``s``'s rule explains (see :data:`DECISIVE`)."""
    return 3 * s.quotes + s.boundaries + s.placed


def _key(s: RuleScore, k: int) -> tuple[int, int, int, int]:
    return (s.quotes, s.boundaries, s.placed, -k)


@dataclass(frozen=True)
class Evidence:
    """What one source's selections say about the rule its positions were written by.

    ``reps`` maps every rule of :data:`RULES` to the first rule that gives this source the same map (a
    source without characters outside the BMP cannot tell UTF-16 from code points, one without CRLF cannot
    tell how a CRLF counts); ``scores`` holds the score of each such representative."""

    reps: dict[Rule, Rule]
    scores: dict[Rule, RuleScore]
    best: Rule
    selections: int

    def score(self, rule: Rule) -> RuleScore:
        return self.scores[self.reps[rule]]

    @property
    def margin(self) -> int | None:
        """How much better ``best`` explains the selections than the next rule that places them differently;
        None when every rule places them alike (nothing to tell apart)."""
        others = [weight(s) for r, s in self.scores.items() if r != self.best]
        return weight(self.scores[self.best]) - max(others) if others else None

    @property
    def decisive(self) -> bool:
        margin = self.margin
        return margin is not None and margin >= DECISIVE

    def differs(self, a: Rule, b: Rule) -> bool:
        """True when rules ``a`` and ``b`` place this source's positions differently."""
        return self.reps[a] != self.reps[b]


def evidence(raw: str, selections: Sequence[tuple[int, int, str]]) -> tuple[Evidence, PositionMap]:
    """Score every rule that gives source ``raw`` its own map (one map built at a time); return the evidence
    and the best rule's map."""
    has_crlf = "\r\n" in raw
    has_astral = not raw.isascii() and re.search("[\U00010000-\U0010ffff]", raw) is not None
    reps = {r: Rule(r.units if has_astral else "codepoints", r.crlf if has_crlf else "stored") for r in RULES}
    scores: dict[Rule, RuleScore] = {}
    best: tuple[tuple[int, int, int, int], PositionMap] | None = None
    for k, rule in enumerate(RULES):
        if reps[rule] != rule:
            continue  # the same map as an earlier rule
        pmap = position_map(raw, rule)  # one map at a time: only the best so far is kept
        s = scores[rule] = score(pmap, selections)
        if best is None or _key(s, k) > best[0]:
            best = (_key(s, k), pmap)
        del pmap
    assert best is not None
    return Evidence(reps, scores, best[1].rule, len(selections)), best[1]


#: The rule each program is known to write, by a word of the ``origin`` it names in the file. Only what was
#: checked on real exports: NVivo (Windows 12.6 and Mac 12.7) writes UTF-16 units with CRLF as two. MAXQDA,
#: ATLAS.ti and QualCoder are not listed (no coded export of theirs was at hand); their files are judged by
#: their selections, and where those are weak by the standard's code points.
PRIORS: tuple[tuple[str, Rule], ...] = (("nvivo", Rule("utf16", "stored")),)


def prior_of(origin: str) -> Rule | None:
    """The rule the program named in ``origin`` is known to write (:data:`PRIORS`), or None."""
    low = origin.casefold()
    return next((rule for word, rule in PRIORS if word in low), None)


@dataclass(frozen=True)
class ExportRule:
    """The one rule of an export (one program writes one rule), from all its sources' evidence pooled.

    ``basis``: ``"selections"`` (the pooled evidence decides), ``"program"`` (it does not, and the program
    named in the file has a known rule), ``"standard"`` (neither: the pooled evidence's best guess, a tie
    going to the standard's code points). ``against_prior``: the evidence decided against the program's rule."""

    rule: Rule
    basis: str
    prior: Rule | None
    margin: int | None
    against_prior: bool


def export_rule(evidences: Sequence[Evidence], origin: str) -> ExportRule:
    """Pool ``evidences`` (every source of one export that has selections) and weigh the program named in
    ``origin`` as a prior: see :class:`ExportRule`."""
    prior = prior_of(origin)
    totals = {r: RuleScore(r, *(sum(getattr(e.score(r), f) for e in evidences) for f in ("quotes", "boundaries",
                                                                                         "placed")))
              for r in RULES}
    best = max(RULES, key=lambda r: _key(totals[r], RULES.index(r)))
    apart = [weight(totals[r]) for r in RULES if any(e.differs(r, best) for e in evidences)]
    margin = weight(totals[best]) - max(apart) if apart else None
    if margin is not None and margin >= DECISIVE:
        against = prior is not None and any(e.differs(prior, best) for e in evidences)
        return ExportRule(best, "selections", prior, margin, against)
    if prior is not None:
        return ExportRule(prior, "program", prior, margin, False)
    return ExportRule(best, "standard", None, margin, False)


#: A source's verdict: how its rule was chosen (the report's ``evidence`` column).
OWN, ALIKE, AMBIGUOUS = "its selections", "any rule (they place it alike)", "ambiguous, placed by the project's rule"


def verdict(found: Evidence, export: ExportRule) -> tuple[Rule, str]:
    """The rule source ``found`` is placed by, and why: its own best rule where its evidence decides (even
    against the export's rule: the caller warns), the export's rule where its evidence is weak
    (:data:`AMBIGUOUS`) or where every rule places it alike."""
    if found.margin is None:
        return export.rule, ALIKE
    if found.decisive:
        return found.best, OWN
    return export.rule, AMBIGUOUS
