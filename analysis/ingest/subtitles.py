"""Readers for WebVTT (``.vtt``) and SubRip (``.srt``) transcripts.

Cues are parsed by hand (not webvtt-py) so that every error names its line. A cue's speaker comes
from a ``<v Name>`` voice tag, else from a label at the start of its text judged by the text rules
(:func:`analysis.ingest.text.find_labels`): ``Name:``, ``Name (role):``, ``[SPEAKER_00]:``,
``SPEAKER_00:``. A cue without a label continues the previous speaker; consecutive cues of one
speaker merge into one turn (``t_start`` of the first cue, ``t_end`` of the last), and every cue keeps
its own start and end as an anchor (:mod:`analysis.domain.timing`).

Canonical text: one paragraph per merged turn, ``[hh:mm:ss] Speaker: content``, where content is
the cue texts (tags stripped, entities unescaped, line breaks as spaces) joined by single spaces (in a file
that names no speaker at all, by line breaks: each cue is a line of the one turn);
paragraphs are joined by ``"\\n\\n"`` and the text ends with ``"\\n"``. A turn's ``[start, end)``
covers the content only; ``line`` is the source line of its first cue's text.

Errors and warnings. A timing line that cannot be read is an error naming its line: the cue's
place in time is unknown and guessing would misplace quotes. Timings that can be read but make no
sense are warnings (the text is intact, only the clock is off), each naming the cue (its position
in the file, from 1) and the line of its timing:

* a cue that ends before it starts (a negative duration): its end is taken as its start;
* a cue that starts before the previous cue started (the file runs backwards in time): cues stay
  in file order, which is the order people spoke in as far as the file says.

Overlapping cues (a cue starting before the previous one ends) are normal in WebVTT (two people
talking at once) and not reported. After :data:`MAX_TIMING_WARNINGS` such warnings the rest are
counted in one summary warning. A voice tag or label holding invisible formatting characters (a
right-to-left override ...) gives a speaker name without them, with a warning naming the cue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from analysis.errors import Errors, ImportFormatError
from analysis.ingest.decode import decode
from analysis.ingest.text import (
    DEFAULT_SPEAKER,
    NO_LABELS_WARNING,
    find_labels,
    invisible_chars,
    invisible_label_warning,
    strip_invisible,
)
from analysis.domain.model import Anchor, ParsedTranscript, ParsedTurn

_TIMING = re.compile(r"^\s*(?P<a>\S+)\s+-->\s+(?P<b>\S+)(?:\s+.*)?$")
# YouTube's SBV: ``0:00:00.599,0:00:04.160`` on its own line, the text below, ``>> NAME:`` for a new speaker.
_SBV_TIMING = re.compile(r"^\s*(\d+:\d{2}:\d{2}\.\d{1,3}),(\d+:\d{2}:\d{2}\.\d{1,3})\s*$")
_TIME = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{1,3})$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>")
_TAG = re.compile(r"</?(?:[A-Za-z][^<>]*|\d[\d:.]*)>")
_ASS_TAG = re.compile(r"\{\\[^{}]*\}")
_TIMEISH = re.compile(r"^\s*\d+:\d{2}")
_VTT_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_VTT_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")
MAX_TIMING_WARNINGS = 5


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: times in seconds, cleaned text, voice-tag speaker, source line of text;
    its position among the file's cues (from 1) and the line of its timing."""

    start: float
    end: float
    text: str
    voice: str | None
    line: int
    number: int = 0
    timing_line: int = 0
    voice_invisible: tuple[str, ...] = ()  # U+XXXX codes dropped from the voice tag's name


def _seconds(stamp: str) -> float | None:
    """Seconds of ``[hh:]mm:ss.mmm`` (``,`` also accepted), or None when malformed."""
    m = _TIME.match(stamp)
    if m is None:
        return None
    hours, minutes, seconds, millis = m.groups()
    if int(minutes) >= 60 or int(seconds) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + float(f"0.{millis}")


def _looks_timed(line: str) -> bool:
    """True for a line meant as a cue timing (it has an arrow or starts like a time)."""
    return "-->" in line or bool(_TIMEISH.match(line))


def _blocks(lines: list[str], first: int) -> Iterator[list[tuple[int, str]]]:
    """Runs of non-blank lines from index ``first`` on, as (1-based line, text) pairs."""
    block: list[tuple[int, str]] = []
    for index in range(first, len(lines)):
        if lines[index].strip():
            block.append((index + 1, lines[index]))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _clean(raw_lines: list[str]) -> tuple[str, str | None, tuple[str, ...]]:
    """Cue text without tags, entities unescaped, lines joined by spaces; the voice tag's name
    (invisible characters dropped); and the codes of the characters dropped from it."""
    joined = " ".join(line.strip() for line in raw_lines)
    voice_match = _VOICE.search(joined)
    voice = None
    dropped: tuple[str, ...] = ()
    if voice_match:
        raw = html.unescape(voice_match.group(1))
        dropped = tuple(invisible_chars(raw))
        voice = " ".join(strip_invisible(raw).split())
    text = html.unescape(_TAG.sub("", _ASS_TAG.sub("", joined)))
    return " ".join(text.split()), voice or None, dropped


def _timing_error(name: str, line_no: int, line: str) -> ImportFormatError:
    return ImportFormatError(
        name,
        Errors.E1111, line_text=line.strip(),
        line=line_no,
        hint="A cue timing reads like 00:01:02.500 --> 00:01:04.000 "
        "(SRT uses a comma: 00:01:02,500).",
    )


def _split_at_timings(block: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """A block with a timing line after its text (the layout youtube-dl writes: no blank line before the next
    cue) is several cues: a new one starts at each later timing line (with its SRT number, if any, before it)."""
    timed = [j for j, (_, line) in enumerate(block) if "-->" in line and _TIMING.match(line)]
    out: list[list[tuple[int, str]]] = []
    start = 0
    for j in timed[1:] if timed and timed[0] <= 1 else []:  # the block's own timing (after its number) stays
        cut = j - 1 if j - 1 > timed[0] and block[j - 1][1].strip().isdigit() else j
        if cut > start:
            out.append(block[start:cut])
            start = cut
    out.append(block[start:])
    return out


def parse_cues(name: str, text: str, fmt: str, warnings: list[str] | None = None) -> list[Cue]:
    """The cues of a decoded ``.vtt``, ``.srt`` or ``.sbv`` text, in file order; a text block without a timing
    line is kept as part of the cue before it, with a warning in ``warnings`` (when given)."""
    lines = text.split("\n")
    if fmt == "sbv":  # the same cues as SRT, once its timing lines and speaker marks read like SRT's
        lines = [f"{m[1]} --> {m[2]}" if (m := _SBV_TIMING.match(line)) else re.sub(r"^\s*>>\s*", "", line)
                 for line in lines]
    first = 0
    if fmt == "vtt":
        if not _VTT_HEADER.match(lines[0].rstrip()):
            raise ImportFormatError(
                name,
                Errors.E1114,
                line=1,
                hint="Check the file was exported as WebVTT, or rename an SRT file to .srt.",
            )
        first = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    cues: list[Cue] = []
    for block in (part for whole in _blocks(lines, first) for part in _split_at_timings(whole)):
        head = block[0][1].strip()
        if fmt == "vtt" and head.split(" ", 1)[0].split("\t", 1)[0] in _VTT_SKIPPED_BLOCKS:
            continue
        if "-->" in head or _TIMEISH.match(head):
            at = 0
        elif len(block) > 1 and (head.isdigit() or _looks_timed(block[1][1])):
            at = 1  # a cue identifier (SRT: the cue number) comes first
        elif head.isdigit() or not cues:
            raise ImportFormatError(
                name,
                Errors.E1151 if head.isdigit() else Errors.E1152, head=head,
                line=block[0][0],
                hint="Each cue needs a timing line such as 00:01:02.500 --> 00:01:04.000.",
            )
        else:  # a text-only block: a blank line inside the previous cue's text, or an orphan: kept, and said
            prev = cues[-1]
            extra, _, _ = _clean([line for _, line in block])
            cues[-1] = replace(prev, text=f"{prev.text} {extra}".strip())
            if warnings is not None:
                warnings.append(f"line {block[0][0]}: text without a timing line; kept as part of cue {prev.number} "
                                f"(line {prev.timing_line})")
            continue
        line_no, timing = block[at]
        m = _TIMING.match(timing)
        start = _seconds(m["a"]) if m else None
        end = _seconds(m["b"]) if m else None
        if start is None or end is None:
            raise _timing_error(name, line_no, timing)
        body = block[at + 1 :]
        cue_text, voice, dropped = _clean([line for _, line in body])
        if cue_text:
            cues.append(Cue(start, end, cue_text, voice, body[0][0], len(cues) + 1, line_no, dropped))
    if not cues:
        raise ImportFormatError(
            name, Errors.E1112, hint="The subtitle file holds no timed text to import."
        )
    return cues


def _stamp(seconds: float) -> str:
    """``hh:mm:ss.mmm`` for warnings."""
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis % 3_600_000 // 60_000:02d}:{millis % 60_000 // 1000:02d}.{millis % 1000:03d}"


def check_timings(cues: list[Cue]) -> tuple[list[Cue], list[str]]:
    """Cues with negative durations set to zero, and warnings for odd timings (module docstring)."""
    out: list[Cue] = []
    warnings: list[str] = []
    extra = 0
    for index, cue in enumerate(cues):
        problems: list[str] = []
        if cue.end < cue.start:
            problems.append(f"ends ({_stamp(cue.end)}) before it starts ({_stamp(cue.start)}); "
                            "its end is taken as its start")
            cue = replace(cue, end=cue.start)
        if index and cue.start < cues[index - 1].start:
            prev = cues[index - 1]
            problems.append(f"starts ({_stamp(cue.start)}) before the previous cue {prev.number} "
                            f"({_stamp(prev.start)}): the file runs backwards in time; cues are kept "
                            "in file order")
        for problem in problems:
            if len(warnings) < MAX_TIMING_WARNINGS:
                warnings.append(f"cue {cue.number} (line {cue.timing_line}) {problem}")
            else:
                extra += 1
        out.append(cue)
    if extra:
        warnings.append(f"{extra} more cue timing problem(s) like those above; check the file's timings")
    return out, warnings


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@dataclass
class _Group:
    speaker: str
    t_start: float
    t_end: float
    line: int
    parts: list[str]
    times: list[tuple[float, float]]  # each part's cue start and end: an anchor each


def _group(cues: list[Cue]) -> tuple[list[_Group], list[str], bool]:
    """Speakers for cues, consecutive cues of one speaker merged; warnings; whether any cue is labelled."""
    labels = find_labels([cue.text for cue in cues], cues=True)
    labelled = [i for i, cue in enumerate(cues) if cue.voice is not None or i in labels]
    groups: list[_Group] = []
    warnings: list[str] = []
    current = DEFAULT_SPEAKER
    for index, cue in enumerate(cues):
        speaker, content = cue.voice, cue.text
        dropped: list[str] = list(cue.voice_invisible) if speaker is not None else []
        if speaker is None and index in labels:
            speaker, content = labels[index].speaker, cue.text[labels[index].content :]
            dropped = invisible_chars(cue.text[: labels[index].content])
        if dropped and speaker:
            warnings.append(invisible_label_warning(f"cue {cue.number} (line {cue.line})", speaker, dropped))
        current = speaker = speaker or current
        if not content.strip():
            continue
        if groups and groups[-1].speaker == speaker:
            groups[-1].parts.append(content)
            groups[-1].times.append((cue.start, cue.end))
            groups[-1].t_end = max(groups[-1].t_end, cue.end)
        else:
            groups.append(_Group(speaker, cue.start, cue.end, cue.line, [content], [(cue.start, cue.end)]))
    if not labelled:
        warnings.append(NO_LABELS_WARNING)
    elif labelled[0] > 0:
        warnings.append(
            f"the first {labelled[0]} cue(s) have no speaker label; "
            f"they are attributed to '{DEFAULT_SPEAKER}'"
        )
    return groups, warnings, bool(labelled)


def read_subtitles(name: str, data: bytes, fmt: str) -> ParsedTranscript:
    """Read a ``.vtt`` (``fmt="vtt"``), ``.srt`` (``fmt="srt"``) or YouTube ``.sbv`` (``fmt="sbv"``) transcript
    from its bytes."""
    text, warnings = decode(name, data)
    orphans: list[str] = []
    cues, timing_warnings = check_timings(parse_cues(name, text, fmt, orphans))
    timing_warnings = [*orphans, *timing_warnings]
    groups, group_warnings, labelled = _group(cues)
    if not groups:
        raise ImportFormatError(
            name, Errors.E1113, hint="Every cue is a bare speaker label."
        )
    paragraphs: list[str] = []
    turns: list[ParsedTurn] = []
    anchors: list[Anchor] = []
    # A file that names no speakers is one turn; each cue is then a line of its own (timed cue by cue).
    joiner = " " if labelled else "\n"
    offset = 0
    for g in groups:
        prefix = f"[{_clock(g.t_start)}] {g.speaker}: "
        content = joiner.join(g.parts)
        start = offset + len(prefix)
        turns.append(ParsedTurn(g.speaker, start, start + len(content), g.t_start, g.t_end, g.line))
        at = start
        for part, (t_start, t_end) in zip(g.parts, g.times):  # every cue keeps its own time
            anchors.append(Anchor(at, t_start, t_end))
            at += len(part) + len(joiner)
        paragraphs.append(prefix + content)
        offset = start + len(content) + 2
    canonical = "\n\n".join(paragraphs) + "\n"
    return ParsedTranscript(canonical, tuple(turns), fmt, tuple([*warnings, *timing_warnings, *group_warnings]),
                            tuple(anchors))
