"""Quote editing with integrity: a quote may carry marked edits only, and every exported quote is
checked against its source span.

Conventions (documented for the methods section of a write-up):

- **Elision**: ``[...]`` (also accepted: ``[…]`` and ``[. . .]``). An unbracketed ``...`` or ``…``
  is *not* an elision: transcripts use it for a speaker trailing off, so it must match the source.
- **Insertion or substitution**: any other bracketed text, e.g. ``[the regulator]`` for "they", or
  ``[T]he``. A bracket may stand in for at most :data:`MAX_SUBSTITUTED_WORDS` words of the source;
  to leave out more, mark an elision.
- **Trimming** at either end needs no mark (APA style), but a quote starts and ends on whole words.
- **Hesitations** (um, ah, er) are the participant's words: remove them only with a marked elision
  (:func:`mark_hesitations` does that).
- Transcriber annotations in square brackets in the source (``[laughs]``, ``[pause]``) are not the
  participant's words: a quote may keep them or drop them.
- Allowed without a mark: whitespace differences, straight vs typographic quotation marks, the case
  of the first letter after a mark or at the start, and the punctuation at the very end.

Everything else that is not inside brackets must match the source verbatim, in order.
:func:`check_quote` aligns the unmarked fragments in order against the source and raises
:class:`~analysis.errors.QuoteIntegrityError` saying what differs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from analysis.errors import Errors, QuoteIntegrityError

ELISION = "[...]"
ELISION_FORMS = ("[...]", "[…]", "[. . .]")
MAX_SUBSTITUTED_WORDS = 5
HESITATIONS = ("um", "umm", "uh", "uhm", "ah", "er", "erm", "eh", "hmm", "mm")
_CHAR_MAP = {"‘": "'", "’": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
             "\u00a0": " ", "\u202f": " ", "…": "..."}
_PUNCT = ",.;:!?"
_HESITATION_RE = re.compile(r"(?:,\s*)?(?<![\w'’])(?:" + "|".join(HESITATIONS) + r")(?![\w'’])[,.]?", re.I)


@dataclass(frozen=True)
class Mark:
    """A marked edit in a quote: an ``elision`` or an ``insertion`` (also a substitution)."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Fragment:
    """Unmarked text of a quote (``start``/``end`` into the edited quote)."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Alignment:
    """Where each unmarked fragment sits: ``(quote start, quote end, source start, source end)``."""

    fragments: tuple[tuple[int, int, int, int], ...]


def is_elision(mark_text: str) -> bool:
    return mark_text in ELISION_FORMS


def parse_quote(edited: str) -> list[Fragment | Mark]:
    """Split an edited quote into unmarked fragments and bracketed marks (in order)."""
    parts: list[Fragment | Mark] = []
    pos = 0
    for m in re.finditer(r"\[[^\[\]]*\]|[\[\]]", edited):
        if len(m.group()) == 1:
            raise QuoteIntegrityError(
                Errors.E3001, m=m.group(), v2=m.start() + 1, ELISION=ELISION)
        if m.start() > pos:
            parts.append(Fragment(edited[pos:m.start()], pos, m.start()))
        kind = "elision" if is_elision(m.group()) else "insertion"
        parts.append(Mark(kind, m.group(), m.start(), m.end()))
        pos = m.end()
    if pos < len(edited):
        parts.append(Fragment(edited[pos:], pos, len(edited)))
    return parts


def _normalise(text: str, *, drop_annotations: bool = False) -> tuple[str, list[int]]:
    """Comparable text and, for each of its characters, the offset in ``text`` it came from."""
    chars: list[tuple[str, int]] = []
    skip_to = -1
    for i, ch in enumerate(text):
        if i < skip_to:
            continue
        if drop_annotations and ch == "[":
            close = text.find("]", i)
            if close != -1 and "[" not in text[i + 1:close]:
                skip_to = close + 1
                chars.append((" ", i))
                continue
        for out in _CHAR_MAP.get(ch, ch):
            chars.append((" " if out.isspace() else out, i))
    squeezed: list[tuple[str, int]] = []
    for ch, i in chars:
        if ch == " " and (not squeezed or squeezed[-1][0] == " "):
            continue
        if ch in _PUNCT and squeezed and squeezed[-1][0] == " ":
            squeezed.pop()
        squeezed.append((ch, i))
    while squeezed and squeezed[-1][0] == " ":
        squeezed.pop()
    return "".join(c for c, _ in squeezed), [i for _, i in squeezed]


def _words(text: str, n: int, *, last: bool = False) -> str:
    words = text.split()
    picked = words[-n:] if last else words[:n]
    out = " ".join(picked)
    if len(words) <= n:
        return out
    return "… " + out if last else out + " …"


def quote_label(edited: str) -> str:
    """A quote named by its first words, for messages: ``"The approval took fourteen months, …"``."""
    return f'"{_words(edited, 5)}"'


def _pattern(fragment: str, *, bound_start: bool, bound_end: bool) -> re.Pattern[str]:
    head = fragment[0]
    first = f"[{re.escape(head.lower())}{re.escape(head.upper())}]" if head.isalpha() else re.escape(head)
    body = first + re.escape(fragment[1:])
    if bound_start and head.isalnum():
        body = r"(?<!\w)" + body
    if bound_end and fragment[-1].isalnum():
        body += r"(?!\w)"
    return re.compile(body)


def check_quote(edited: str, source: str, *, where: str = "") -> Alignment:
    """Check that ``edited`` is ``source`` with marked edits only; return where its fragments sit.

    ``where`` prefixes the error message (e.g. the vignette and quote). Raises
    :class:`QuoteIntegrityError` naming what differs.
    """
    prefix = f"{where}: " if where else ""
    edited = unicodedata.normalize("NFC", edited)
    try:
        parts = parse_quote(edited)
    except QuoteIntegrityError as err:  # the parser's own message (and code), now saying which quote
        err.message = prefix + err.message
        err.args = (err.message,)
        raise
    src, src_index = _normalise(unicodedata.normalize("NFC", source), drop_annotations=True)
    src_index = src_index + [len(source)]
    fragments = [(i, p) for i, p in enumerate(parts) if isinstance(p, Fragment) and p.text.strip()]
    if not fragments:
        raise QuoteIntegrityError(Errors.E3052, where=prefix)
    cursor, previous = 0, ""
    placed: list[tuple[int, int, int, int]] = []
    for n, (i, frag) in enumerate(fragments):
        text, qmap = _normalise(frag.text)
        is_last = n == len(fragments) - 1
        if is_last and text.rstrip(_PUNCT):
            text, qmap = text.rstrip(_PUNCT), qmap[:len(text.rstrip(_PUNCT))]
        before, after = parts[i - 1] if i > 0 else None, parts[i + 1] if i + 1 < len(parts) else None
        touches_before = isinstance(before, Mark) and before.kind == "insertion" and not frag.text[:1].isspace()
        touches_after = isinstance(after, Mark) and after.kind == "insertion" and not frag.text[-1:].isspace()
        pattern = _pattern(text, bound_start=not touches_before, bound_end=not touches_after)
        found = pattern.search(src, cursor)
        if found is None:
            raise QuoteIntegrityError(Errors.E3053, where=prefix, detail=_explain(text, src, cursor, previous, edited))
        if n > 0:
            between = parts[fragments[n - 1][0] + 1:i]
            gap = src[cursor:found.start()]
            if not any(isinstance(m, Mark) and m.kind == "elision" for m in between) and \
                    len(gap.split()) > MAX_SUBSTITUTED_WORDS:
                marks = " ".join(m.text for m in between if isinstance(m, Mark))
                raise QuoteIntegrityError(Errors.E3054, where=prefix, marks=marks, n_words=len(gap.split()),
                                          gap=_words(gap, 8), most=MAX_SUBSTITUTED_WORDS, ELISION=ELISION)
        placed.append((frag.start + qmap[0], frag.start + qmap[-1] + 1,
                       src_index[found.start()], src_index[found.end() - 1] + 1))
        cursor, previous = found.end(), text
    return Alignment(tuple(placed))


def _key(word: str) -> str:
    return word.strip(_PUNCT + "\"'()").lower()


def _anchor(quote: list[str], source: list[str]) -> tuple[int, int, int]:
    """The longest run of words the quote and the source share (punctuation and case aside):
    ``(start in quote, start in source, length)``, earliest in the quote on ties."""
    qk, sk = [_key(w) for w in quote], [_key(w) for w in source]
    best = (0, 0, 0)
    prev = [0] * (len(sk) + 1)
    for i in range(1, len(qk) + 1):
        row = [0] * (len(sk) + 1)
        for j in range(1, len(sk) + 1):
            if qk[i - 1] == sk[j - 1]:
                row[j] = prev[j - 1] + 1
                if row[j] > best[2]:
                    best = (i - row[j], j - row[j], row[j])
        prev = row
    return best


def _explain(fragment: str, src: str, cursor: int, previous: str, edited: str) -> str:
    """Why ``fragment`` was not found in ``src`` after ``cursor``: what the quote has, what the source has."""
    hints = []
    if "..." in fragment:
        hints.append(f"To mark an elision write {ELISION} (square brackets); an unbracketed '...' must be in the source.")
    if _pattern(fragment, bound_start=False, bound_end=False).search(src, cursor):
        return (f"\"{_words(fragment, 6)}\" starts or ends in the middle of a word of the source. A quote starts and "
                f"ends on whole words; mark a changed word part as [...] or [word].")
    words, source = fragment.split(" "), src[cursor:].split(" ")
    i, j, n = _anchor(words, source)
    differs: list[str] = []
    if n < (1 if len(words) <= 3 else 2):  # a one-word anchor ("the") explains nothing in a longer fragment
        where = f" after \"{_words(previous, 6, last=True)}\"" if previous else ""
        msg = f"\"{_words(fragment, 6)}\" is not in the source{where}."
        if _pattern(fragment, bound_start=False, bound_end=False).search(src, 0, cursor):
            hints.append("It comes earlier in the source: a quote keeps the source's order (split it into two quotes).")
    elif i > 0:
        differs = source[max(0, j - i - 1):j]
        msg = (f"before \"{_words(' '.join(words[i:i + n]), 6)}\" the quote has \"{_words(' '.join(words[:i]), 8, last=True)}\" "
               f"but the source has \"{'… ' if j - i - 1 > 0 else ''}{' '.join(differs)}\".")
    elif n < len(words):
        differs = source[j + n:j + n + min(8, len(words) - n + 1)]
        rest = " ".join(differs) + (" …" if j + n + len(differs) < len(source) else "")
        msg = (f"after \"{_words(' '.join(words[:n]), 6, last=True)}\" the quote has \"{_words(' '.join(words[n:]), 6)}\" "
               + (f"but the source has \"{rest}\"." if differs else "but the source span ends there."))
        if _pattern(" ".join(words[n:]), bound_start=False, bound_end=False).search(
                src, 0, cursor + len(" ".join(source[:j]))):
            hints.append(f"\"{_words(' '.join(words[n:]), 6)}\" comes earlier in the source: a quote keeps the "
                         f"source's order (split it into two quotes).")
    else:
        k = next((k for k in range(n) if words[k] != source[j + k]), 0)
        lo, hi = max(0, k - 1), k + 3
        msg = (f"the punctuation or capitals differ: the quote has \"{' '.join(words[lo:hi])}\" but the source has "
               f"\"{' '.join(source[j + lo:j + min(hi, n)])}\".")
    if any(_key(w) in HESITATIONS for w in differs):
        hints.append(f"Hesitations (um, ah, er) may be removed only as a marked elision: write {ELISION} there.")
    hints = hints or ["Change it back, or mark your edit: [...] for words left out, [word] for words put in."]
    return msg + " " + " ".join(hints)


def clean_source(text: str) -> str:
    """A quote's default rendering: the source span with its whitespace (line breaks) normalised."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def mark_hesitations(edited: str) -> str:
    """Remove hesitations (um, ah, er ...) as marked elisions; at either end they are simply trimmed.

    ``"So I'm, ah, one of the two"`` becomes ``"So I'm [...] one of the two"``.
    """
    out = _HESITATION_RE.sub(f" {ELISION} ", edited)
    out = re.sub(r"\s+", " ", out).strip()
    out = re.sub(r"(?:\[\.\.\.\]\s*)+\[\.\.\.\]", ELISION, out)
    while out.startswith(ELISION):
        out = out[len(ELISION):].lstrip(" ,")
        out = out[:1].upper() + out[1:]
    while out.endswith(ELISION):
        out = out[: -len(ELISION)].rstrip(" ,")
    return out
