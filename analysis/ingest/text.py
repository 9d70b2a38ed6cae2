"""Reader for plain-text and Markdown transcripts, and the one home of the speaker-label rules.

The canonical text is the decoded file itself; labels and timestamps stay in it (except the repeated
labels of joined timestamped blocks, below). A turn's
``[start, end)`` covers only the spoken content (after the label and any timestamp), stripped of
surrounding whitespace, and runs on over unlabelled continuation lines. A repeated untimed label starts a
new turn (merging would put the label text inside the turn). The docx and subtitle readers reuse
:func:`match_label` / :func:`find_labels` so that every format agrees on what a label is.

Label rule. A line (after optional indentation and an optional ``[hh:mm:ss]``, ``(hh:mm:ss)`` or
``hh:mm:ss`` timestamp) starts with one of ``Name: text``, ``Name : text``, ``Name (role): text``,
``Name (00:01:02): text``, ``[Name] text``, ``[Name]: text``, ``**Name:** text`` or
``**Name**: text``; a timestamp may also follow the label. A name starts with a letter, holds
letters, digits, spaces and ``. ' - _ &``, has at most 40 characters and 5 words, and a plain colon
must be followed by whitespace or the line end. Rejected: names holding note or metadata words
(``Note``, ``Date``, ``Transcript``...), single filler words (``So:``, ``Yes:``), bracketed
transcriber notes (``[laughs]``, ``[inaudible 00:12:03]``, lowercase ``[pause]``). A multi-word
name must look like a name (each word capitalised, a number or a particle such as ``van``) unless
the same label starts at least two lines of the file. A one-word label that starts only one line of the
file counts only where the file uses it as a label: never before an opening quotation mark (``Digo: "Le
doy la vuelta"`` is reported speech) except on the first line; else at a subtitle cue's start, where the
file has other labels, or at the start of a block (the first line, after a blank line or heading); alone
inside a paragraph it is dialogue (issue 25, class 10; :func:`find_labels`).
Markdown headings and YAML front matter are never labels; a heading ends the turn before it.

Timestamped block formats (Otter.ai, Microsoft Word/Teams Transcribe, Zoom's saved transcript,
Rev, Trint, Descript). A line holding only a name and a timestamp, in either order
(``Speaker Name  0:02``, ``Speaker 1  00:00:05``, ``00:00:05 Speaker 1``, ``[Speaker Name]
10:02:03``, ``[00:00:05] Speaker 1``, ``Name (00:00):``), is a block header: the text follows on
the next lines. Such headers count when the file has at least two of them and they (with timed
labels alone on their lines, ``[Name] 10:02:03``) are no fewer than labels followed by words on
their line: they are the file's style, not two stray ``Lunch  12:00`` lines in a labelled interview. When consecutive
timestamped labels name the same speaker (no other label or heading between them), as these
services write a long answer, the blocks are ONE turn that keeps the first block's timestamp:
the later blocks' labels are left out of the canonical text (a header line alone is dropped
with one blank line beside it), so the turn is one span of spoken words. Untimed repeated labels
(``Ana: ...`` twice) still start new turns. A closing ``Transcribed by https://otter.ai`` line
ends the last turn and is never part of it.

Invisible characters in a label. Control characters and invisible format characters (Unicode Cf:
bidirectional overrides and isolates U+202A-202E/U+2066-2069, zero-width spaces, soft hyphens)
inside the label part of a line are ignored when the label is read, so the speaker name never
carries an invisible reordering or a look-alike twin of another name into the UI; the reader adds
a warning naming the line. Zero-width (non-)joiners between two letters are kept: Persian and
Indic names need them. The canonical text keeps every character (offsets stay exact).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from analysis.ingest.decode import decode
from analysis.domain.timing import normalise
from analysis.domain.model import Anchor, ParsedTranscript, ParsedTurn

DEFAULT_SPEAKER = "Speaker"
NO_LABELS_WARNING = "no speaker labels found; the whole file is one speaker's turn"

_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_TS_TOKEN = rf"(?:\[{_TS}\]|\({_TS}\)|{_TS})"
_NAME = r"[^\W\d_][\w.'’&\- \u200c\u200d]{0,39}?"
_ROLE = r"\s*\([^()\n:]{1,40}\)"
_COLON = r"(?::(?=[ \t]|$)|：)"
_LABEL_RE = re.compile(
    rf"""^[ \t]*
    (?:(?P<ts1>{_TS_TOKEN})[ \t]+)?
    (?:
        \*\*(?P<bold>{_NAME}(?:{_ROLE})?)[ \t]*(?::\*\*|\*\*[ \t]*:)(?=[ \t]|$)
      | \[(?P<bracket>{_NAME})\](?:[ \t]*{_COLON}|(?=[ \t]|$))
      | (?P<plain>{_NAME}(?:{_ROLE})?)(?:[ \t]*(?P<ts2>\[{_TS}\]|\({_TS}\)))?[ \t]*{_COLON}
    )
    [ \t]*
    (?:(?P<ts3>{_TS_TOKEN})(?=[ \t]|$)[ \t]*)?
    """,
    re.VERBOSE,
)
_TS_PARTS = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,3}))?")
_ROLE_SPLIT = re.compile(r"^(?P<name>.*?)\s*(?P<role>\([^()]*\))?$")
_HEADING_RE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
# A block header: a name and a timestamp alone on a line, in either order (no colon after the name).
_HEADER_NAME_TS = re.compile(
    rf"^[ \t]*(?:\[(?P<bname>[^\[\]\n]{{1,40}})\]|(?P<name>[^\W\d_][^\[\]()\n:]{{0,39}}?(?:{_ROLE})?))[ \t]+"
    rf"(?P<ts>{_TS_TOKEN})[ \t]*$"
)
_HEADER_TS_NAME = re.compile(
    rf"^[ \t]*(?P<ts>{_TS_TOKEN})[ \t]+(?:\[(?P<bname>[^\[\]\n]{{1,40}})\]"
    rf"|(?P<name>[^\W\d_][^\[\]()\n:]{{0,39}}?(?:{_ROLE})?))[ \t]*$"
)
_BOILERPLATE_RE = re.compile(r"^[ \t]*transcribed by (?:https?://)?(?:www\.)?otter(?:\.ai)?[ \t]*$", re.IGNORECASE)
_INTERVIEWER_RE = re.compile(
    r"^(?:interviewer(?:\s*[-_#]?\s*\d+)*(?:\s+[a-z])?|i|q|(?:moderator|facilitator)(?:\s*\d+)?)$"
)

_NOISE_WORDS = frozenset(
    "inaudible unintelligible indistinct laughs laugh laughing laughter crosstalk cross-talk "
    "pause pauses paused silence music applause cough coughs sigh sighs noise background "
    "overlapping overlap unclear redacted interruption interrupted".split()
)
_NOT_SPEAKER_WORDS = frozenset(
    "note notes nb ps example examples e.g eg i.e ie update edit warning caution important tip "
    "source sources date time duration location place venue title subject topic transcript "
    "transcribed transcriber transcription recording recorded file length language keywords tags "
    "summary comment comments page agenda attendees http https www".split()
)
_FILLER_WORDS = frozenset(
    "yes no so well ok okay and but because also then now like basically anyway yeah um uh".split()
)
_PARTICLES = frozenset(
    "de da del della der den van von la le di du bin al el of the and y &".split()
)
_ROLE_WORDS = (
    "interviewer", "interviewee", "participant", "respondent", "moderator", "facilitator"
)


_OPENING_QUOTES = frozenset("\"“„«‹‚‘「『")  # a quotation opening after a one-off label: reported speech
_LABEL_HEAD = 200  # a label, role and timestamps fit in this many characters at the start of a line
_JOINERS = frozenset("\u200c\u200d")


def _invisible_at(text: str, i: int) -> bool:
    """True if ``text[i]`` is a control or invisible format character to drop from a label."""
    ch = text[i]
    category = unicodedata.category(ch)
    if category == "Cc":
        return ch not in "\t\n"
    if category != "Cf":
        return False
    if ch in _JOINERS and 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha():
        return False
    return True


def invisible_chars(text: str) -> list[str]:
    """``U+XXXX`` codes of the characters :func:`match_label` ignores in ``text``, in order."""
    if text.isprintable():
        return []
    return [f"U+{ord(text[i]):04X}" for i in range(len(text)) if _invisible_at(text, i)]


def strip_invisible(text: str) -> str:
    """``text`` without the characters :func:`match_label` ignores (for names read elsewhere)."""
    if text.isprintable():
        return text
    return "".join(ch for i, ch in enumerate(text) if not _invisible_at(text, i))


def invisible_label_warning(where: str, speaker: str, codes: Sequence[str]) -> str:
    """The warning for a label that held invisible characters (``where``: 'line 3', 'cue 2 (line 5)')."""
    shown = ", ".join(dict.fromkeys(codes))
    return (f"{where}: the speaker label '{speaker}' held invisible formatting character(s) {shown} "
            "(e.g. a right-to-left override); they were left out of the speaker name")


@dataclass(frozen=True)
class Label:
    """A speaker label at the start of a line: who, where the content begins, and when."""

    speaker: str
    content: int  # offset in the line where the spoken content begins
    t_start: float | None = None
    name_like: bool = True  # False: accepted only if the label recurs in the file


def parse_timestamp(token: str | None) -> float | None:
    """Seconds of a ``hh:mm:ss[.mmm]`` or ``mm:ss`` token (brackets allowed), else None."""
    m = _TS_PARTS.search(token or "")
    if m is None:
        return None
    a, b, c, frac = m.groups()
    hours, minutes, seconds = (int(a), int(b), int(c)) if c is not None else (0, int(a), int(b))
    if minutes >= 60 or seconds >= 60:
        return None
    return hours * 3600 + minutes * 60 + seconds + (float(f"0.{frac}") if frac else 0.0)


def _bare_name(label: str) -> str:
    """The label without a trailing ``(role)``."""
    m = _ROLE_SPLIT.match(label)
    return m["name"] if m else label


def is_interviewer_label(label: str) -> bool:
    """True for labels such as Interviewer, Interviewer 1, Interviewer2, I, Q, Moderator,
    Facilitator, Interviewer (Research team); case-insensitive."""
    name = " ".join(_bare_name(label.strip()).replace("*", "").strip("[]: ").split()).casefold()
    return bool(_INTERVIEWER_RE.match(name))


def match_label(line: str) -> Label | None:
    """The speaker label that starts ``line``, judged on the line alone, or None.

    Invisible characters in the label are ignored (see the module docstring); ``content`` is an
    offset into ``line`` as given.
    """
    head = line[:_LABEL_HEAD]
    if head.isprintable():  # the common case, checked in C
        return _match_clean(line)
    kept = [i for i, ch in enumerate(head) if ch.isprintable() or not _invisible_at(head, i)]
    if len(kept) == len(head):
        return _match_clean(line)
    stripped = "".join(head[i] for i in kept)
    lab = _match_clean(stripped + line[_LABEL_HEAD:])
    if lab is None:
        return None
    if lab.content > len(stripped):
        content = lab.content - len(stripped) + len(head)
    else:
        content = kept[lab.content - 1] + 1 if lab.content else 0
    return replace(lab, content=content)


def _match_clean(line: str) -> Label | None:
    m = _LABEL_RE.match(line)
    if m is None:
        return None
    raw = m["bold"] or m["bracket"] or m["plain"] or ""
    speaker = " ".join(raw.split())
    words = _bare_name(speaker).split()
    if not words or len(_bare_name(speaker)) > 40 or len(words) > 5:
        return None
    folded = [w.casefold().strip(".'’-") for w in words]
    if any(w in _NOT_SPEAKER_WORDS or w in _NOISE_WORDS for w in folded):
        return None
    if len(words) == 1 and folded[0] in _FILLER_WORDS:
        return None
    if m["bracket"] and not (words[0][0].isupper() or folded[0].startswith(_ROLE_WORDS)):
        return None
    name_like = len(words) == 1 or all(
        w[0].isupper() or w[0].isdigit() or f in _PARTICLES for w, f in zip(words, folded)
    )
    t_start = next(
        (t for t in (parse_timestamp(m[g]) for g in ("ts1", "ts2", "ts3")) if t is not None), None
    )
    return Label(speaker, m.end(), t_start, name_like)


def find_labels(lines: Sequence[str], skip: Collection[int] = (), *, cues: bool = False) -> dict[int, Label]:
    """Labels by 0-based line index; lines in ``skip`` are never labels (``cues``: each of ``lines`` is one
    subtitle cue's text).

    A label that does not look like a name (e.g. ``project lead:``) counts only when the same
    label starts at least two lines. A one-word label that starts only one line counts only where the file
    uses it as a label (issue 25, class 10): never when a quotation opens after its colon (``Digo: "Le doy
    la vuelta"`` is reported speech), except on the file's first line; else at a cue's start, where the file
    has other labels, or at the start of a block (the first line, after a blank line, a heading or front
    matter). Alone inside a paragraph it is dialogue.
    """
    found = {i: lab for i, line in enumerate(lines) if i not in skip and (lab := match_label(line))}
    counts = Counter(lab.speaker for lab in found.values())

    def used_as_label(i: int, lab: Label) -> bool:
        if counts[lab.speaker] >= 2:
            return True
        if not lab.name_like:
            return False
        if len(_bare_name(lab.speaker).split()) > 1:
            return True
        if i > 0 and lines[i][lab.content:].lstrip()[:1] in _OPENING_QUOTES:
            return False
        # a cue's start; the file has other labels; the start of a block
        return cues or len(found) >= 2 or i == 0 or i - 1 in skip or not lines[i - 1].strip()

    return {i: lab for i, lab in found.items() if used_as_label(i, lab)}


def match_block_header(line: str) -> Label | None:
    """A block header (``Speaker Name  0:02``, ``00:00:05 Speaker 1``): a name and a timestamp alone
    on ``line``, the name judged by :func:`match_label`'s rules; its content starts at the line end."""
    m = _HEADER_NAME_TS.match(line) or _HEADER_TS_NAME.match(line)
    if m is None:
        return None
    name = " ".join((m["bname"] or m["name"] or "").split())
    t_start = parse_timestamp(m["ts"])
    lab = match_label(f"{name}: x") if name and t_start is not None else None
    if lab is None or lab.speaker != " ".join(strip_invisible(name).split()):
        return None
    return Label(lab.speaker, len(line), t_start, lab.name_like)


def find_block_headers(lines: Sequence[str], skip: Collection[int] = ()) -> dict[int, Label]:
    """Block headers by 0-based line index, when the file has at least two (a timestamped block
    format); names that do not look like names must recur, as in :func:`find_labels`."""
    found = {i: lab for i, line in enumerate(lines) if i not in skip and (lab := match_block_header(line))}
    if len(found) < 2:
        return {}
    counts = Counter(lab.speaker for lab in found.values())
    return {i: lab for i, lab in found.items() if lab.name_like or counts[lab.speaker] >= 2}


def _join_blocks(
    lines: list[str], labels: dict[int, Label], skip: set[int], line_of: Sequence[int] | None,
) -> tuple[list[str], dict[int, Label], set[int], Sequence[int] | None, dict[int, float]]:
    """Consecutive timestamped blocks of one speaker as one turn (see the module docstring): the
    later blocks' labels leave the text, their times stay as anchors. Returns the new lines, labels,
    skipped lines, line map, and the times of the kept lines where a dropped block began."""
    drop: dict[int, int] = {}
    last: Label | None = None
    for i in range(len(lines)):
        if i in labels:
            lab = labels[i]
            if last is not None and lab.speaker == last.speaker and lab.t_start is not None \
                    and last.t_start is not None:
                drop[i] = lab.content
            else:
                last = lab
        elif i in skip:
            last = None
    if not drop:
        return lines, labels, skip, line_of, {}
    source = list(line_of) if line_of is not None else [i + 1 for i in range(len(lines))]
    out: list[str] = []
    new_of: list[int] = []
    index: dict[int, int] = {}
    skip_blank = False
    times: dict[int, float] = {}
    waiting: float | None = None  # the time of a dropped header alone on its line: its block's next line
    for i, line in enumerate(lines):
        if skip_blank and not line.strip():
            skip_blank = False
            continue
        skip_blank = False
        if i in drop:
            rest = line[drop[i]:].lstrip(" \t")
            if not rest.strip():  # a header alone on its line: the line goes, and one blank beside it
                skip_blank = bool(out) and not out[-1].strip()
                waiting = labels[i].t_start
                continue
            line = rest
            waiting = labels[i].t_start
        if waiting is not None and line.strip():
            times[len(out)] = waiting
            waiting = None
        index[i] = len(out)
        out.append(line)
        new_of.append(source[i])
    new_labels = {index[i]: lab for i, lab in labels.items() if i not in drop and i in index}
    new_skip = {index[i] for i in skip if i in index}
    return out, new_labels, new_skip, new_of, times


def _front_matter(lines: Sequence[str]) -> range:
    """Line indices of a YAML front-matter block at the top (``---`` ... ``---``), if any."""
    if lines and lines[0].strip() == "---":
        for j in range(1, min(len(lines), 100)):
            if lines[j].strip() in ("---", "..."):
                return range(j + 1)
    return range(0)


def link_times(turns: list[ParsedTurn]) -> tuple[ParsedTurn, ...]:
    """Set each missing ``t_end`` to the next turn's ``t_start`` when known (and not earlier)."""
    out = list(turns)
    for k in range(len(out) - 1):
        nxt, own = out[k + 1].t_start, out[k].t_start
        if out[k].t_end is None and nxt is not None and (own is None or nxt >= own):
            out[k] = replace(out[k], t_end=nxt)
    return tuple(out)


@dataclass
class _Draft:
    speaker: str
    line: int
    t_start: float | None
    start: int | None = None
    end: int = 0


def _whole_text_turn(
    text: str, fmt: str, warnings: list[str], line_of: Sequence[int] | None
) -> ParsedTranscript:
    """The whole text (stripped) as one turn of the default speaker, with a warning."""
    start = len(text) - len(text.lstrip())
    index = text.count("\n", 0, start)
    line = line_of[index] if line_of is not None else index + 1
    turn = ParsedTurn(DEFAULT_SPEAKER, start, len(text.rstrip()), line=line)
    return ParsedTranscript(text, (turn,), fmt, tuple([*warnings, NO_LABELS_WARNING]))


def parse_text(
    text: str,
    *,
    fmt: str,
    warnings: Sequence[str] = (),
    known_labels: Mapping[int, Label] | None = None,
    headings: Collection[int] = (),
    line_of: Sequence[int] | None = None,
) -> ParsedTranscript:
    """Split canonical ``text`` into speaker turns.

    ``known_labels`` adds labels found by other means (docx bold runs) by 0-based line index;
    ``headings`` are line indices that end a turn and are never labels; ``line_of`` maps a 0-based
    line index to the line (or paragraph) number reported in turns and warnings.
    """
    lines = text.split("\n")
    skip = set(_front_matter(lines)) | set(headings)
    skip.update(i for i, line in enumerate(lines) if _HEADING_RE.match(line) or _BOILERPLATE_RE.match(line))
    labels = find_labels(lines, skip)
    headers = find_block_headers(lines, skip | set(labels) | set(known_labels or {}))
    alone = sum(1 for i, lab in labels.items() if lab.t_start is not None and not lines[i][lab.content:].strip())
    if len(headers) + alone >= len(labels) - alone:  # the file's style, not stray "Lunch  12:00" lines
        labels.update(headers)
    labels.update(known_labels or {})
    lines, labels, skip, line_of, block_times = _join_blocks(lines, labels, skip, line_of)
    text = "\n".join(lines)
    out_warnings = list(warnings)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    anchors = [*inline_anchors(text), *(Anchor(starts[i] + len(lines[i]) - len(lines[i].lstrip()), t)
                                      for i, t in block_times.items())]
    if not labels:
        return _with_anchors(_whole_text_turn(text, fmt, out_warnings, line_of), anchors)
    for i in sorted(labels):
        codes = invisible_chars(lines[i][: labels[i].content])
        if codes:
            where = f"line {line_of[i] if line_of is not None else i + 1}"
            out_warnings.append(invisible_label_warning(where, labels[i].speaker, codes))
    drafts: list[_Draft] = []
    current: _Draft | None = None
    offset = 0
    for i, line in enumerate(lines):
        line_start, offset = offset, offset + len(line) + 1
        body_from = 0
        if i in labels:
            lab = labels[i]
            current = _Draft(lab.speaker, line_of[i] if line_of is not None else i + 1, lab.t_start)
            drafts.append(current)
            body_from = lab.content
        elif i in skip:
            current = None
        body = line[body_from:]
        if current is None or not body.strip():
            continue
        if current.start is None:
            current.start = line_start + body_from + len(body) - len(body.lstrip())
        current.end = line_start + len(line.rstrip())
    turns: list[ParsedTurn] = []
    for d in drafts:
        if d.start is None:
            out_warnings.append(f"line {d.line}: the label '{d.speaker}' has no text; skipped")
        else:
            turns.append(ParsedTurn(d.speaker, d.start, d.end, d.t_start, None, d.line))
    if not turns:
        return _with_anchors(_whole_text_turn(text, fmt, out_warnings, line_of), anchors)
    return _with_anchors(ParsedTranscript(text, link_times(turns), fmt, tuple(out_warnings)), anchors)


# Inline timestamps that become anchors wherever they stand: ``[00:12:03]``, ``(12:03)``, ATLAS.ti's
# ``#00:12:03.5#`` and NVivo's bare ``00:12:03`` (a bare ``12:03`` is a time of day as often as not: left).
_INLINE_TS = re.compile(
    rf"\[(?P<a>{_TS})\]|\((?P<b>{_TS})\)|#(?P<c>{_TS})#|(?<![\w:.])(?P<d>\d{{1,2}}:\d{{2}}:\d{{2}}(?:[.,]\d{{1,3}})?)(?![\w:])")


def inline_time_spans(text: str) -> list[tuple[int, int]]:
    """The ``[start, end)`` of each inline timestamp of ``text`` (``[00:12:03]``, ``#00:12:03.5#``...): a
    time the transcriber wrote, not words anyone said."""
    return [m.span() for m in _INLINE_TS.finditer(text) if parse_timestamp(m.group(m.lastgroup or "a")) is not None]


def inline_anchors(text: str) -> list[Anchor]:
    """An anchor after each inline timestamp of ``text`` (where the words it times begin)."""
    out: list[Anchor] = []
    for m in _INLINE_TS.finditer(text):
        seconds = parse_timestamp(m.group(m.lastgroup or "a"))
        if seconds is None:
            continue
        at = m.end()
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        out.append(Anchor(at, seconds))
    return out


def _with_anchors(parsed: ParsedTranscript, found: Sequence[Anchor]) -> ParsedTranscript:
    """``parsed`` with its anchors: each timed turn's start, each joined block's, each inline timestamp."""
    turn_anchors = [Anchor(t.start, t.t_start) for t in parsed.turns if t.t_start is not None]
    return replace(parsed, anchors=normalise([*turn_anchors, *found], len(parsed.text)))


def read_text(name: str, data: bytes, fmt: str = "txt") -> ParsedTranscript:
    """Read a ``.txt`` or ``.md`` transcript from its bytes."""
    text, warnings = decode(name, data)
    return parse_text(text, fmt=fmt, warnings=warnings)
