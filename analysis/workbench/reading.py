"""Helpers for the Read & code page: the transcript view (cached per project version), what the
researcher selected or clicked (kept in ``st.session_state``), and the panels beside the text.

Session state the page reads (tests set these to simulate the browser, which AppTest cannot run):
``rc_transcript`` (the transcript's name), ``rc_selection`` (``{"transcript", "start", "end"}``
in code points) and ``rc_clicked`` (``{"transcript", "offset", "ids"}``: codings clicked on).
"""

from __future__ import annotations

import re
import time
from typing import Any

import streamlit as st

from analysis.workbench.pages import page_file
from analysis import Project
from analysis.domain.codebook import PALETTE
from analysis.errors import Errors, NotFoundError
from analysis.domain.explore import line_at, line_starts, place_label
from analysis.domain.timing import stamp_at
from analysis.ingest.markdown import markup_spans, plain
from analysis.domain.model import Anchor, Code, Coding
from analysis.workbench import blind, media
from analysis.workbench.components.coder import CodingSpan, TurnSpan, transcript_html, trigger
from analysis.workbench.state import cached, get_project, researcher, run_version
from analysis.workbench.widgets import (act, code_paths, codes, fresh, md_escape, on_click, pending_error, phase_picker,
                        quote_card, read)

COMPONENT_KEY = "rc_coder"
TRANSCRIPT, SELECTION, CLICKED, SNAP, NOTICE = "rc_transcript", "rc_selection", "rc_clicked", "rc_snap", "rc_notice"
LAST_CODE, FOCUS, STRIPES, KEYCODED = "rc_last_code", "rc_focus", "rc_stripes", "rc_keycoded"


# -- labels and selections ---------------------------------------------------------------------------
def transcript_label(row: Any) -> str:
    """``"Leader A: leader_a.docx"`` (participants first, so the selectbox reads like a list of people) for a
    listed transcript (``project.transcripts.list()``'s rows: name, participants)."""
    people = ", ".join(row.participants)
    return f"{people}: {row.name}" if people else str(row.name)


def short(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_selection(text: str, start: int, end: int, seen: str | None) -> tuple[int, int] | None:
    """Make sure ``[start, end)`` is what the browser showed as selected.

    ``seen`` is the selection's text as the browser reported it. The offsets are trusted when they
    cut out exactly that text; else the nearest occurrence of ``seen`` is used; else None.
    """
    start, end = max(0, int(start)), min(len(text), int(end))
    if start >= end:
        return None
    if seen is None or text[start:end] == seen:
        return start, end
    hits = [m.start() for m in re.finditer(re.escape(seen), text)] if seen else []
    if not hits:
        return None
    best = min(hits, key=lambda h: abs(h - start))
    return best, best + len(seen)


# -- cached reads ------------------------------------------------------------------------------------
# The transcript's text, turns, lines and times through the run's memo (widgets.read): a page of 40 quotes
# asks for them 160 times a run (Themes' quote list), each a cache lookup of about a millisecond.
def transcript_rows() -> list[Any]:
    """The transcripts as listed (``project.transcripts.list()``: name, format, participants, corrections ...)."""
    return read("transcripts", lambda p: p.transcripts.list())


def text_of(name: str) -> str:
    return read(f"rc_text:{name}", lambda p: p.transcripts.get(name).text)


def is_markdown(name: str) -> bool:
    """A Markdown transcript: its markup is stored (offsets stay exact) and hidden on display."""
    return any(r.name == name and r.format == "md" for r in transcript_rows())


def markup_of(name: str) -> list[tuple[int, int]]:
    return read(f"rc_markup:{name}", lambda p: markup_spans(p.transcripts.get(name).text)) if is_markdown(name) else []


def shown(name: str, passage: str) -> str:
    """A passage of transcript ``name`` as the researcher reads it (a Markdown one without markup)."""
    return plain(passage) if is_markdown(name) else passage


def turns_of(name: str) -> list[TurnSpan]:
    return read(f"rc_turns:{name}", lambda p: [
        TurnSpan(t.start, t.end, t.speaker, t.participant, t.interviewer, t.t_start) for t in p.transcripts.turns(name)])


def anchors_of(name: str) -> list[Anchor]:
    """The transcript's times (anchors), by offset: the player's times and the time of every place."""
    found: list[Anchor] = read(f"anchors:{name}", lambda p: p.transcripts.anchors(name))
    return found


def unsure_of(name: str) -> list[tuple[int, int]]:
    """The words of a transcribed transcript still to review (marked in the text until accepted or corrected;
    read each run: reviewing a word changes its sidecar file, not the project's version)."""
    return [(w.start, w.end) for w in get_project().transcription.unsure(name)]


def lines_of(name: str) -> list[int]:
    """Where the transcript's numbered lines start (the numbers in Read & code's margin)."""
    return read(f"rc_lines:{name}", lambda p: line_starts(p.transcripts.get(name).text))


def line_of(name: str, offset: int) -> int:
    return line_at(lines_of(name), offset)


def place(name: str, offset: int) -> str:
    """``"line 12 · 00:01:43"``: where ``offset`` of transcript ``name`` is, as the researcher reads it
    (the line number in the margin; the time of the nearest anchor at or before it)."""
    turn = next((t.start for t in turns_of(name) if t.start <= offset < t.end), None)
    return place_label(line_of(name, offset), stamp_at(anchors_of(name), offset, turn))


def codings_of(name: str) -> list[Coding]:
    return blind.visible(cached(f"rc_codings:{name}", lambda p: p.codings.codings_in(name)))  # blind: mine only


def shade(colour: str, i: int) -> str:
    """The ``i``-th shade of ``colour``'s family (``i = 0``: the colour itself): same hue, a step lighter
    or darker each time, so sub-codes are told apart and still read as their theme's."""
    import colorsys

    if i == 0 or not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        return colour
    r, g, b = (int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5))
    h, light, sat = colorsys.rgb_to_hls(r, g, b)
    steps = [-0.12, 0.10, -0.22, 0.18, -0.30, 0.25]
    step = steps[(i - 1) % len(steps)] * (1 + (i - 1) // len(steps) * 0.3)
    light = min(0.85, max(0.18, light + step))
    r, g, b = colorsys.hls_to_rgb(h, light, sat)
    return "#" + "".join(f"{round(v * 255):02x}" for v in (r, g, b))


def _colours(project: Project) -> dict[int, str]:
    """Each code's colour: its own; else a shade of its nearest coloured ancestor's family (a theme's
    sub-codes take their theme's colour family, each its own shade); else a shade of a palette colour
    per theme. A sub-code whose stored colour is its parent's (new codes inherit it) counts as having
    none: one colour for a whole theme would hide where one code ends and the next begins."""
    all_codes = project.codebook.codes()
    by_id = {c.id: c for c in all_codes}
    tops = [c.id for c in all_codes if c.parent_id is None]

    def own(code: Any) -> str:
        parent = by_id.get(code.parent_id) if code.parent_id is not None else None
        inherited = parent is not None and code.colour.lower() == (own(parent) or parent.colour).lower()
        return "" if not code.colour or inherited else str(code.colour)

    base: dict[int, str] = {}
    for code in all_codes:  # the colour whose family the code belongs to, and that family's head
        node: Code | None = code
        top = code
        while node is not None and not own(node):
            top = node
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
        base[code.id] = own(node) if node is not None else PALETTE[tops.index(top.id) % len(PALETTE)]
    out: dict[int, str] = {}
    members: dict[str, int] = {}
    for code in all_codes:  # codebook order: a family's head first, then its codes, a shade each
        if own(code):
            out[code.id] = own(code)
            members.setdefault(own(code), 0)
            continue
        n = members.get(base[code.id], 0) + (0 if code.parent_id is None else 1)
        members[base[code.id]] = n
        out[code.id] = shade(base[code.id], n)
    return out


def theme_of() -> dict[int, str]:
    """Each code's theme (its top-level ancestor's name)."""
    by_id = {c.id: c for c in codes()}
    out = {}
    for c in codes():
        top = c
        while top.parent_id is not None and top.parent_id in by_id:
            top = by_id[top.parent_id]
        out[c.id] = top.name
    return out


def colours() -> dict[int, str]:
    return cached("rc_colours", _colours)


@st.cache_data(show_spinner=False, max_entries=48)
def _view(path: str, version: int, name: str, selection: tuple[int, int] | None, active: tuple[int, ...],
          blind_as: str | None = None, unsure: tuple[tuple[int, int], ...] = ()) -> str:
    paths, colour, themes = code_paths(), colours(), theme_of()
    spans = [CodingSpan(c.id, c.start, c.end, paths[c.code_id], colour[c.code_id], themes.get(c.code_id, ""))
             for c in codings_of(name) if not c.orphaned and c.code_id in paths]
    return transcript_html(text_of(name), turns_of(name), spans, selection=selection, active=active,
                           markup=markup_of(name), lines=lines_of(name),
                           anchors=[(a.offset, a.t_start, a.t_end) for a in anchors_of(name)],
                           unsure=unsure)


def stripe_labels(name: str) -> dict[int, tuple[str, str]]:
    """``{coding id: (code name, colour)}`` for the coding stripes beside the text."""
    by_id, colour = {c.id: c for c in codes()}, colours()
    return {c.id: (by_id[c.code_id].name, colour[c.code_id]) for c in codings_of(name)
            if not c.orphaned and c.code_id in by_id}


def view_html(name: str) -> str:
    """The transcript's HTML with its codings, the pending selection and the clicked codings marked."""
    project = get_project()
    sel = selection(name)
    return _view(str(project.path), run_version(project), name, (sel[0], sel[1]) if sel else None,
                 tuple(clicked_ids(name)), blind.blind_coder(), tuple(unsure_of(name)))


# -- what the researcher selected or clicked -----------------------------------------------------------
def selection(name: str) -> tuple[int, int] | None:
    sel = st.session_state.get(SELECTION)
    if not sel or sel.get("transcript") != name:
        return None
    return int(sel["start"]), int(sel["end"])


def clicked_ids(name: str) -> list[int]:
    hit = st.session_state.get(CLICKED)
    if not hit or hit.get("transcript") != name:
        return []
    live = {c.id for c in codings_of(name)}
    return [i for i in hit.get("ids", []) if i in live]


def clear() -> None:
    """Forget the pending selection and the clicked codings (the panel goes back to its overview)."""
    for key in (SELECTION, CLICKED, FOCUS):
        st.session_state.pop(key, None)


def on_selected() -> None:
    """The component reported a selection: check it against the text, snap it, keep it."""
    value = trigger(COMPONENT_KEY, "selected")
    name = st.session_state.get(TRANSCRIPT)
    if not value or value.get("transcript") != name:
        return
    span = check_selection(text_of(name), value.get("start", 0), value.get("end", 0), value.get("text"))
    if span is None:
        st.session_state[NOTICE] = "That selection could not be matched to the transcript text; select it again."
        return
    if st.session_state.get(SNAP, True):
        span = get_project().codings.snap_span(name, *span)
    if span[0] >= span[1]:
        return
    clear()
    st.session_state[SELECTION] = {"transcript": name, "start": span[0], "end": span[1]}


def on_clicked() -> None:
    """A click in the text: on a highlight, show its codings; on plain text, clear the panel."""
    value = trigger(COMPONENT_KEY, "clicked")
    name = st.session_state.get(TRANSCRIPT)
    if not value or value.get("transcript") != name:
        return
    clear()
    if value.get("ids"):
        st.session_state[CLICKED] = {"transcript": name, "offset": value.get("offset"),
                                     "ids": [int(i) for i in value["ids"]]}


def on_keycoded() -> None:
    """Keyboard coding: the type-ahead sent a code for the live (or pending) selection; the page applies
    it (:func:`apply_keycoded`) as one action."""
    value = trigger(COMPONENT_KEY, "keycoded")
    name = st.session_state.get(TRANSCRIPT)
    if not value or value.get("transcript") != name or value.get("code") is None:
        return
    if value.get("start") is not None:
        span = check_selection(text_of(name), value["start"], value.get("end", 0), value.get("text"))
        if span is None:
            st.session_state[NOTICE] = "That selection could not be matched to the transcript text; select it again."
            return
        if st.session_state.get(SNAP, True):
            span = get_project().codings.snap_span(name, *span)
    else:
        span = selection(name)
    if span is None or span[0] >= span[1]:
        return
    st.session_state[KEYCODED] = {"transcript": name, "start": span[0], "end": span[1], "code": int(value["code"])}
    apply_keycoded(get_project(), researcher())  # here, in the callback: the page then runs once, coded


def apply_keycoded(project: Project, coder_name: str) -> None:
    """Apply the code chosen with the keyboard (set by :func:`on_keycoded`), if any, as a callback's
    action (:func:`analysis.workbench.widgets.on_click`)."""
    request = st.session_state.pop(KEYCODED, None)
    if not request:
        return
    paths = code_paths()
    code_id = request["code"]

    def apply() -> None:
        if code_id not in paths:
            raise NotFoundError(Errors.E8103, typed=str(code_id))
        project.codings.add_coding(transcript=request["transcript"], start=request["start"], end=request["end"],
                                   code=code_id, coder=coder_name)
        st.session_state[LAST_CODE] = code_id
        clear()

    on_click(apply, f"Coded as '{paths.get(code_id, code_id)}'", where=KEYCODED)()


def speaker_at(name: str, offset: int) -> str:
    for turn in turns_of(name):
        if turn.start <= offset < turn.end:
            return turn.participant or ("interviewer" if turn.interviewer else turn.speaker)
    return "between turns"


# -- panels ----------------------------------------------------------------------------------------------
def code_help(code_id: int) -> None:
    code = next((c for c in codes() if c.id == code_id), None)
    if code is None:
        return
    lines = [f"**Definition.** {md_escape(code.definition)}" if code.definition else "*No definition yet.*"]
    if code.inclusion:
        lines.append(f"**Include:** {md_escape(code.inclusion)}")
    if code.exclusion:
        lines.append(f"**Exclude:** {md_escape(code.exclusion)}")
    st.caption("  \n".join(lines))


def apply_panel(project: Project, name: str, span: tuple[int, int], coder_name: str) -> None:
    """Code the selected span: with an existing code, or a new one created on the spot."""
    start, end = span
    quote_card(short(shown(name, text_of(name)[start:end]), 600),
               meta=f"{md_escape(speaker_at(name, start))} · {md_escape(name)} · {place(name, start)}")
    paths = code_paths()
    options = [c.id for c in codes()]
    if options:
        last = st.session_state.get(LAST_CODE)  # the code applied last is offered first (coding runs of passages)
        code_id = st.selectbox("Code", options, index=options.index(last) if last in options else None, key="rc_code",
                               format_func=lambda i: paths.get(i, str(i)), placeholder="Type to find a code…",
                               help="Type part of a name or path to filter.")
        if code_id is not None:
            code_help(code_id)
        memo_key = fresh("rc_coding_memo")
        st.text_input("Coding memo (optional)", key=memo_key)

        def apply() -> None:  # a callback: the values are read as they are at the click
            chosen = st.session_state["rc_code"]  # the selectbox above (the button is disabled without a code)
            project.codings.add_coding(transcript=name, start=start, end=end, code=chosen, coder=coder_name,
                                       memo=st.session_state.get(memo_key) or "")
            st.session_state[LAST_CODE] = chosen
            clear()

        left, right = st.columns(2)
        left.button("Apply code", key="rc_apply", type="primary", disabled=code_id is None, width="stretch",
                    on_click=on_click(apply, lambda: f"Coded as '{paths.get(st.session_state[LAST_CODE], '?')}'",
                                      where="rc_apply"))
        right.button("Clear selection", key="rc_clear", width="stretch", on_click=clear)
        pending_error("rc_apply")
    with st.expander("Create a new code and apply it", expanded=not options):
        keys = {k: fresh(f"rc_new_{k}") for k in ("name", "parent", "definition")}
        st.text_input("New code name", key=keys["name"], placeholder="e.g. Approval burden")
        st.selectbox("Under", [None, *options], key=keys["parent"],
                     format_func=lambda i: "(top level)" if i is None else paths.get(i, str(i)))
        st.text_area("Definition", key=keys["definition"], height=80,
                     placeholder="What this code captures, in a sentence.")

        def create() -> None:
            create_and_apply(project, name, span, st.session_state.get(keys["name"]) or "",
                             st.session_state.get(keys["parent"]), st.session_state.get(keys["definition"]) or "",
                             coder_name)

        st.button("Create code and apply", key="rc_new_apply", width="stretch", on_click=on_click(
            create, lambda: f"Created '{(st.session_state.get(keys['name']) or '').strip()}' and coded the selection",
            where="rc_new_apply"))
        pending_error("rc_new_apply")


def create_and_apply(project: Project, name: str, span: tuple[int, int], code_name: str, parent: int | None,
                     definition: str, coder_name: str) -> None:
    """Create a code and apply it to the selection: one Project action, one undo step."""
    coding = project.codings.add_coding_with_new_code(transcript=name, start=span[0], end=span[1], name=code_name,
                                              parent=parent, definition=definition, coder=coder_name)
    st.session_state[LAST_CODE] = coding.code_id
    clear()


def codings_panel(project: Project, name: str, ids: list[int]) -> None:
    """The codings under the clicked spot: code, coder, memo, quote; uncode; edit the memo."""
    paths, colour_of = code_paths(), colours()
    by_id = {c.id: c for c in codings_of(name)}
    for coding_id in ids:
        coding = by_id[coding_id]
        with st.container(border=True):
            colour = colour_of.get(coding.code_id, "#c9c9c9")
            st.markdown(f'<span style="color:{colour}">●</span> **{md_escape(paths.get(coding.code_id, "?"))}**',
                        unsafe_allow_html=True)
            quote_card(short(shown(name, coding.text), 500), meta=f"coded by {md_escape(coding.coder)} · {coding.origin}"
                       f" · {place(name, coding.start)}")
            memo_key = fresh(f"rc_memo_{coding_id}")
            st.text_area("Memo", value=coding.memo, key=memo_key, height=80)
            left, right = st.columns(2)

            def save_memo(cid: int = coding_id, key: str = memo_key) -> None:
                project.codings.set_coding_memo(cid, st.session_state.get(key) or "")

            def uncode(cid: int = coding_id) -> None:
                project.codings.remove_coding(cid)
                clear()

            if media.media_of(name) is not None:
                st.button("Listen", key=f"rc_listen_{coding_id}", icon=":material/play_arrow:",
                          help="Play exactly this passage of the recording",
                          on_click=media.request_listen, args=(name, coding.start, coding.end))
            left.button("Save memo", key=f"rc_memo_save_{coding_id}", width="stretch",
                        on_click=on_click(save_memo, "Memo saved", where=f"rc_coding_{coding_id}"))
            right.button("Uncode", key=f"rc_uncode_{coding_id}", width="stretch",
                         help="Remove this coding (undo in the sidebar)",
                         on_click=on_click(uncode, f"Uncoded from '{paths.get(coding.code_id)}'",
                                           where=f"rc_coding_{coding_id}"))
            pending_error(f"rc_coding_{coding_id}")


def correction_panel(project: Project, name: str, span: tuple[int, int] | None) -> None:
    """Correct while listening: a line's words (and its turn's speaker), one recorded, undoable action; the
    codings outside the changed words keep their quotes (``project.transcripts.correct``)."""
    count = next((r.corrections for r in transcript_rows() if r.name == name), 0)
    label = "Correct a line" + (f" · {count} correction{'s' * (count != 1)} so far" if count else "")
    with st.expander(label, icon=":material/edit:", expanded=bool(st.session_state.get("rc_fix_open"))):
        starts = lines_of(name)
        if not starts:
            st.caption("This transcript has no lines to correct.")
            return
        default = line_of(name, span[0]) if span else 1
        line = int(st.number_input("Line", min_value=1, max_value=len(starts), value=min(default, len(starts)),
                                   key=f"rc_fix_line_{name}", help="As numbered in the margin"))
        text = text_of(name)
        lo = starts[line - 1]
        hi = text.find("\n", lo)
        turn = next((t for t in turns_of(name) if t.start < (len(text) if hi < 0 else hi) and t.end > lo), None)
        words = text[max(lo, turn.start):min(len(text) if hi < 0 else hi, turn.end)] if turn else ""
        words_key, speaker_key = fresh(f"rc_fix_words_{name}_{line}"), fresh(f"rc_fix_speaker_{name}_{line}")
        st.text_area("Words", value=words.strip(), key=words_key, height=90, disabled=turn is None)
        st.text_input("Speaker", value=turn.speaker if turn else "", key=speaker_key, disabled=turn is None)

        def save() -> None:
            st.session_state["rc_fix_open"] = True
            project.transcripts.correct(name, line=line, text=st.session_state.get(words_key) or "",
                                        speaker=st.session_state.get(speaker_key) or None)

        st.button("Save correction", key=f"rc_fix_save_{name}", disabled=turn is None,
                  help="One recorded action (undo in the sidebar); codings outside the changed words keep their quotes",
                  on_click=on_click(save, f"Line {line} corrected", where="rc_fix"))
        pending_error("rc_fix")


def _chip(label: str, colour: str) -> str:
    return (f'<span style="background:{colour}40;border-bottom:3px solid {colour};padding:0 .4em;'
            f'margin:0 .3em .35em 0;display:inline-block;border-radius:3px;font-size:.9em">{label}</span>')


def legend(name: str) -> None:
    """What is coded in this transcript: one coloured chip per theme (codings under it), then per code."""
    by_id, colour_of = {c.id: c for c in codes()}, colours()
    per_code: dict[int, int] = {}
    for c in codings_of(name):
        if c.code_id in by_id and not c.orphaned:
            per_code[c.code_id] = per_code.get(c.code_id, 0) + 1
    if not per_code:
        st.caption("Nothing coded in this transcript yet.")
        return
    per_theme: dict[int, int] = {}
    for code_id, n in per_code.items():
        top = by_id[code_id]
        while top.parent_id is not None and top.parent_id in by_id:
            top = by_id[top.parent_id]
        per_theme[top.id] = per_theme.get(top.id, 0) + n
    st.caption(f"Coded in this transcript: {sum(per_code.values())} codings")
    st.markdown(" ".join(_chip(f"{md_escape(by_id[i].name)} · {n}", colour_of[i])
                         for i, n in sorted(per_theme.items(), key=lambda kv: -kv[1])), unsafe_allow_html=True)
    with st.expander(f"By code · {len(per_code)}"):
        st.markdown(" ".join(_chip(f"{md_escape(by_id[i].name)} · {n}", colour_of[i])
                             for i, n in sorted(per_code.items(), key=lambda kv: -kv[1])), unsafe_allow_html=True)


def orphans(project: Project, name: str) -> None:
    """Codings that lost their place when the transcript's text changed: their quotes, to code again."""
    lost = [c for c in codings_of(name) if c.orphaned]
    if not lost:
        return
    paths = code_paths()
    with st.expander(f":material/warning: Orphaned codings · {len(lost)}", expanded=True):
        st.caption("The transcript changed and these quotes could not be found again. Select the passage in the "
                   "text and apply the code again, then remove the orphan.")
        for coding in lost:
            quote_card(short(coding.text, 300), meta=f"*{md_escape(paths.get(coding.code_id, '?'))}* · {coding.coder}")
            if st.button("Remove", key=f"rc_orphan_{coding.id}"):
                act(lambda: project.codings.remove_coding(coding.id), "Orphaned coding removed")


def familiarisation(project: Project, name: str) -> None:
    notes = cached(f"rc_notes:{name}", lambda p: p.memos.list(kind="familiarisation", target=name))
    with st.expander(f"Familiarisation notes · {len(notes)}", expanded=False):
        for note in notes:
            title = f"**{md_escape(note.title)}** · " if note.title else ""
            st.markdown(title + "  \n".join(md_escape(line) for line in note.body.splitlines()))
            st.caption(f"{note.author} · {note.phase} · {note.created_at[:16].replace('T', ' ')}")
        with st.form(key=fresh("rc_note_form"), border=False):
            body = st.text_area("New note", placeholder="First impressions, what stands out, what surprises you…",
                                height=90)
            title = st.text_input("Title (optional)")
            phase = phase_picker(key=fresh("rc_note_phase"), default="familiarising")
            if st.form_submit_button("Add note"):
                act(lambda: project.memos.add(body, kind="familiarisation", target=name, phase=phase, title=title,
                                             author=researcher()), "Note added")


def open_in_reader(transcript: str, *, coding: int | None = None) -> None:
    """For other pages: open ``transcript`` on Read & code, with ``coding`` shown in the panel and the
    text scrolled to it."""
    st.session_state.update(reader_request(transcript, coding=coding))
    st.switch_page(page_file("read_code"))


def reader_request(transcript: str, *, coding: int | None = None) -> dict[str, Any]:
    """The session state that opens ``transcript`` at ``coding`` on Read & code (for a button's
    ``on_click``: a callback cannot switch pages, the page then does)."""
    clear()
    out: dict[str, Any] = {TRANSCRIPT: transcript}
    if coding is not None:
        out[CLICKED] = {"transcript": transcript, "offset": None, "ids": [coding]}
        out[FOCUS] = f"coding-{coding}-{time.monotonic_ns()}"  # a new token: scroll there again
    return out
