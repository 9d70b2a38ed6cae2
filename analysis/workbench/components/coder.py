"""The text-coding component (Streamlit Custom Components v2, no build step, no iframe).

The transcript is shown as ONE ``white-space: pre-wrap`` element whose text content is exactly the
stored transcript text (``transcript_html`` promises that: tags dropped and entities decoded, the
HTML reads back as the text). Turns are block spans, codings coloured spans. In the browser,
``coder.js`` measures a mouse selection with a DOM Range from the start of that element, converts
UTF-16 code units to code points, and sends ``selected`` = ``{start, end, text, transcript}``;
a click on a highlight sends ``clicked`` = ``{ids, offset, transcript}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

TIMESTAMP = re.compile(r"^(\s*\[?\(?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\]?\)?\s*)")
FALLBACK_COLOUR = "#c9c9c9"


@dataclass(frozen=True)
class TurnSpan:
    """What the renderer needs of a turn: where its words are and who speaks them."""

    start: int
    end: int
    speaker: str
    participant: str | None
    interviewer: bool
    t_start: float | None = None


@dataclass(frozen=True)
class CodingSpan:
    """What the renderer needs of a coding: where it is, and its code's name and colour."""

    id: int
    start: int
    end: int
    code: str
    colour: str
    theme: str = ""


# -- the transcript as blocks --------------------------------------------------------------------
@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    kind: str  # turn | interviewer | aside | gap
    label_end: int = 0  # for turns: where the speaker label ends (the words start)
    participant: str | None = None
    speaker: str = ""


def _between(text: str, lo: int, hi: int, out: list[_Block]) -> None:
    """Text outside every turn: whitespace becomes an invisible gap, anything else an aside."""
    chunk = text[lo:hi]
    if not chunk:
        return
    body = chunk.strip()
    if not body:
        out.append(_Block(lo, hi, "gap"))
        return
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    if lead:
        out.append(_Block(lo, lo + lead, "gap"))
    out.append(_Block(lo + lead, hi - trail, "aside"))
    if trail:
        out.append(_Block(hi - trail, hi, "gap"))


def blocks(text: str, turns: Sequence[TurnSpan]) -> list[_Block]:
    """Cut the text into contiguous blocks: a turn runs from its speaker label to its last word."""
    out: list[_Block] = []
    pos = 0
    for turn in sorted(turns, key=lambda t: t.start):
        if turn.start < pos or turn.end <= turn.start:
            continue  # overlapping or empty turns would break the 1:1 text mapping; show them as text
        gap = text[pos:turn.start]
        newline = gap.rfind("\n")
        label_start = pos + newline + 1 if newline >= 0 else pos
        _between(text, pos, label_start, out)
        out.append(_Block(label_start, turn.end, "interviewer" if turn.interviewer else "turn",
                          label_end=turn.start, participant=turn.participant, speaker=turn.speaker))
        pos = turn.end
    _between(text, pos, len(text), out)
    return out


# -- rendering -------------------------------------------------------------------------------------
def _text(s: str) -> str:
    """Escape text for HTML; a carriage return as a reference (the HTML parser would drop it)."""
    return escape(s, quote=False).replace("\r", "&#13;")


def _label_html(text: str, block: _Block, spans: Callable[[int, int], str]) -> str:
    """The speaker label (``[00:01:02] Leader A: ``): a grey timestamp, a bold speaker, and the
    participant's pseudonym as a badge when the label does not say it (CSS text, not DOM text)."""
    lo, hi = block.start, block.label_end
    if lo >= hi:
        return ""
    match = TIMESTAMP.match(text[lo:hi])
    mid = lo + (len(match.group(1)) if match else 0)
    extra = ""
    if block.participant and block.participant not in text[mid:hi]:
        extra = f' data-p="{escape(block.participant)}"'
    html = f'<span class="ts">{spans(lo, mid)}</span>' if mid > lo else ""
    return html + f'<span class="who"{extra}>{spans(mid, hi)}</span>'


def _segment_style(colours: list[str]) -> str:
    """Background tint of the first code; one stacked underline per code (overlaps stay visible)."""
    shadows = ", ".join(f"inset 0 -{3 * (i + 1)}px 0 {c}" for i, c in enumerate(colours))
    return f"background-color:{colours[0]}40;box-shadow:{shadows}"


def edges(codings: Sequence[CodingSpan], text: str) -> set[int]:
    """Offsets where a coding meets another coding of the same theme (touching, or with only spaces
    between): there the renderer draws a visible edge, so two adjacent codings do not read as one."""
    out: set[int] = set()
    by_theme: dict[str, list[CodingSpan]] = {}
    for c in codings:
        by_theme.setdefault(c.theme or c.colour, []).append(c)
    for group in by_theme.values():
        group = sorted(group, key=lambda c: (c.start, c.end))
        for a, b in zip(group, group[1:]):
            if a.end <= b.start and not text[a.end:b.start].strip():
                out.update((a.end, b.start))
    return out


def _spans_html(
    text: str, lo: int, hi: int, codings: Sequence[CodingSpan], selection: tuple[int, int] | None,
    active: set[int], markup: Sequence[tuple[int, int]] = (), lines: dict[int, int] | None = None,
    marks: set[int] | None = None, times: dict[int, str] | None = None,
    unsure: Sequence[tuple[int, int]] = (),
) -> str:
    """Text ``[lo, hi)`` with codings (and the pending selection) as spans, no text added or lost;
    ``markup`` ranges (Markdown syntax) are kept in the DOM but not displayed (``hidden``). Empty
    elements (no text) mark each numbered line's start (``lines``: offset -> number, shown in the
    margin) and the edges between adjacent codings of one theme (``marks``)."""
    lines = lines or {}
    marks = marks or set()
    times = times or {}
    cuts = {lo, hi}
    cuts.update(p for p in lines if lo < p < hi)
    cuts.update(p for p in times if lo < p < hi)
    cuts.update(p for p in marks if lo < p < hi)
    inside = [c for c in codings if c.start < hi and c.end > lo]
    for c in inside:
        cuts.update(p for p in (c.start, c.end) if lo < p < hi)
    if selection:
        cuts.update(p for p in selection if lo < p < hi)
    hidden = [m for m in markup if m[0] < hi and m[1] > lo]
    for m in hidden:
        cuts.update(p for p in m if lo < p < hi)
    doubtful = [u for u in unsure if u[0] < hi and u[1] > lo]
    for u in doubtful:
        cuts.update(p for p in u if lo < p < hi)
    points = sorted(cuts)
    parts: list[str] = []
    for a, b in zip(points, points[1:]):
        if a in marks:
            parts.append('<span class="edge"></span>')
        if a in lines:
            parts.append(f'<span class="ln" data-l="{lines[a]}"></span>')
        if a in times:
            parts.append(times[a])
        piece = _text(text[a:b])
        if any(m[0] <= a and m[1] >= b for m in hidden):
            piece = f'<span class="mk" hidden>{piece}</span>'
        over = [c for c in inside if c.start <= a and c.end >= b]
        selected = selection is not None and selection[0] <= a and selection[1] >= b
        if any(u[0] <= a and u[1] >= b for u in doubtful):  # a word the recogniser was unsure of
            piece = f'<span class="u" title="The recogniser was unsure of this word">{piece}</span>'
        if not over and not selected:
            parts.append(piece)
            continue
        classes, attrs = [], ""
        if over:
            classes.append("c")
            if active & {c.id for c in over}:
                classes.append("on")
            names = " · ".join(dict.fromkeys(c.code for c in over))
            attrs = (f' data-c="{" ".join(str(c.id) for c in over)}" title="{escape(names)}"'
                     f' style="{_segment_style([c.colour or FALLBACK_COLOUR for c in over])}"')
        if selected:
            classes.append("sel")
        parts.append(f'<span class="{" ".join(classes)}"{attrs}>{piece}</span>')
    return "".join(parts)


def _marker(offset: int, t_start: float, t_end: float | None) -> str:
    """An empty element (no text) where an anchor's time begins."""
    end = "" if t_end is None else f' data-e="{t_end:.3f}"'
    return f'<span class="tm" data-o="{offset}" data-t="{t_start:.3f}"{end}></span>'


def transcript_html(
    text: str, turns: Sequence[TurnSpan], codings: Sequence[CodingSpan], *,
    selection: tuple[int, int] | None = None, active: Iterable[int] = (),
    markup: Sequence[tuple[int, int]] = (), lines: Sequence[int] = (),
    anchors: Sequence[tuple[int, float, float | None]] = (), unsure: Sequence[tuple[int, int]] = (),
) -> str:
    """The transcript as HTML for one ``white-space: pre-wrap`` element whose text is exactly ``text``.

    Turns are block spans (speaker label, then words; interviewer turns styled apart), whitespace
    between turns is kept but collapsed visually, codings are coloured spans with their code names in
    ``title``, ``selection`` (the pending ``[start, end)``) is marked ``sel`` and ``active`` codings
    (the ones the researcher clicked) ``on``. ``markup`` (sorted ``[start, end)`` ranges: a Markdown
    transcript's ``#``, ``**``...) stays in the text but is not displayed, so offsets are unchanged.
    ``lines`` (offsets where numbered lines start, :func:`analysis.domain.explore.line_starts`) get their
    number in the margin; adjacent codings of one theme get a visible edge between them (:func:`edges`).
    ``anchors`` (``(offset, t_start, t_end)``, by offset: the transcript's times) become empty ``tm`` markers
    (``data-o`` offset, ``data-t``/``data-e`` seconds): the player's clickable times and the line being heard.
    ``unsure`` (``[start, end)`` of words the recogniser was unsure of) are marked ``u`` until reviewed.
    """
    if selection and not (0 <= selection[0] < selection[1] <= len(text)):
        selection = None
    live = sorted((c for c in codings if 0 <= c.start < c.end <= len(text)), key=lambda c: (c.start, -c.end))
    chosen = set(active)
    every = {start: i for i, start in enumerate(lines, start=1)}
    starts = {b.start for b in blocks(text, turns) if b.kind != "gap"}
    numbers = {p: n for p, n in every.items() if p not in starts}  # a block's own number goes before its label

    def ln(block: _Block) -> str:
        return f'<span class="ln" data-l="{every[block.start]}"></span>' if block.start in every else ""

    marks = edges(live, text)
    times = {o: _marker(o, t, e) for o, t, e in anchors if 0 <= o < len(text)}
    out: list[str] = []
    for block in blocks(text, turns):
        if block.kind == "gap":
            out.append(f'<span class="gap">{_spans_html(text, block.start, block.end, live, selection, chosen, markup, numbers, marks, times, unsure)}</span>')
            continue
        if block.kind == "aside":
            words = _spans_html(text, block.start, block.end, live, selection, chosen, markup, numbers, marks, times, unsure)
            out.append(f'<span class="blk aside" data-s="{block.start}">{ln(block)}{words}</span>')
            continue
        label = _label_html(text, block, lambda a, b: _spans_html(text, a, b, live, selection, chosen, markup, numbers, marks, times, unsure))
        words = _spans_html(text, block.label_end, block.end, live, selection, chosen, markup, numbers, marks, times, unsure)
        out.append(f'<span class="blk {block.kind}" data-s="{block.start}">{ln(block)}{label}<span class="w">{words}</span></span>')
    return "".join(out)


def html_text(html: str) -> str:
    """The text content of HTML made by ``transcript_html`` (for tests and checks)."""
    from html import unescape

    return unescape(re.sub(r"<[^>]*>", "", html))




# -- the component -----------------------------------------------------------------------------------
_HERE = Path(__file__).parent
HTML = ('<div class="scroll"><div class="player" data-testid="storyloom-player" hidden></div>'
        '<div class="page"><div class="text" data-testid="storyloom-transcript"></div>'
        '<div class="times" data-testid="storyloom-times"></div>'
        '<div class="stripes" data-testid="storyloom-stripes" aria-hidden="true"></div>'
        '<div class="qc" data-testid="storyloom-quickcode" hidden><input type="text" aria-label="Code as" '
        'placeholder="Type a code…" autocomplete="off"><ul></ul></div></div></div>')

_component = None


def _mount() -> Any:
    """Register the component once per process (registration needs a running Streamlit)."""
    global _component
    if _component is None:
        import streamlit as st

        _component = st.components.v2.component(
            "storyloom_coder", html=HTML, css=(_HERE / "coder.css").read_text(encoding="utf-8"),
            js=(_HERE / "coder.js").read_text(encoding="utf-8"),
        )
    return _component


def coder(
    *, html: str, transcript: str, key: str, on_selected: Callable[[], None], on_clicked: Callable[[], None],
    clearable: bool = False, base: int = 0, focus: str | None = None, on_keycoded: Callable[[], None] | None = None,
    labels: dict[int, tuple[str, str]] | None = None, stripes: bool = False,
    codes: Sequence[tuple[int, str]] = (), selection: tuple[int, int] | None = None,
    media: dict[str, str] | None = None, play: dict[str, Any] | None = None,
) -> Any:
    """Show the transcript (``html`` from :func:`transcript_html`) and report selections and clicks.

    ``on_selected``/``on_clicked`` run before the rerun; they read the trigger value with
    :func:`trigger`. ``clearable`` says the page shows a selection or clicked codings that a click
    on plain text should clear; ``base`` is the code point offset of ``html``'s first character;
    a new ``focus`` token scrolls the text to the clicked codings (or the selection) once.

    Coding stripes (``stripes``): one bar per coding in the margin beside its lines, with its code's
    name, from ``labels`` (``{coding id: (code name, colour)}``). Keyboard coding: with a selection
    (``selection``, the pending one, or a live one), the key ``C`` opens a type-ahead over ``codes``
    (``(id, path)``); Enter sends ``keycoded`` = ``{transcript, code, start, end, text}`` to
    ``on_keycoded`` (start/end/text of the live selection, or None for the pending one).

    The player (``media``: ``{url, kind, mime, name}``, the recording served by the local app): an HTML media
    element above the text, a clickable time beside each line with an anchor, the line being heard
    highlighted as it plays (the view follows it unless "Follow" is off). Keys: Esc play/pause, Ctrl+Left/
    Right back/forward 5 s, Ctrl+Down/Up slower/faster (0.5x-2x); none clash with keyboard coding (C).
    ``play`` (``{token, start, end}``) plays exactly ``[start, end)`` seconds once per new token ("Listen").
    """
    return _mount()(
        data={"html": html, "transcript": transcript, "base": base, "clearable": clearable, "focus": focus,
              "labels": {str(k): list(v) for k, v in (labels or {}).items()}, "stripes": stripes,
              "codes": [list(c) for c in codes], "selection": list(selection) if selection else None,
              "media": media, "play": play},
        key=key, on_selected_change=on_selected, on_clicked_change=on_clicked,
        on_keycoded_change=on_keycoded or (lambda: None),
    )


def trigger(key: str, name: str) -> Any:
    """The value of trigger ``name`` of the component mounted with ``key`` (inside its callback)."""
    import streamlit as st

    result = st.session_state.get(key)
    if result is None:
        return None
    return result.get(name) if hasattr(result, "get") else getattr(result, name, None)
