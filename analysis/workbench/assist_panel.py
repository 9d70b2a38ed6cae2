"""The assist beside a transcript, and the pieces the Assist page shares with it: a search form with
hits shown in their turn and coded in one click, and "more like this code" with Accept/Reject.

Every suggestion and hit is labelled a machine suggestion; each click on Accept, Reject or "Code as"
is a researcher action (one Project call, one audit event). Searches and suggestion runs are logged
by the project, so they run only when the researcher presses the button, never on a rerun; their
results are kept in the session until the next press.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis import Project
from analysis.workbench import media
from analysis.workbench.state import action, researcher
from analysis.workbench.widgets import ALL, act, code_paths, code_picker, codes, md_escape, model_notice, participants, wait_for_model

MACHINE = ":material/smart_toy: Machine suggestion"
MODES = {"semantic": "Meaning (semantic)", "keyword": "Exact words (keyword)", "hybrid": "Both (hybrid)"}
CONTEXT_CHARS = 280


def in_context(turn: str, start: int, text: str) -> str:
    """A hit's ``text`` inside its ``turn`` (trimmed around it; ``start``: where the hit starts in the turn),
    the hit's words in bold; markdown-escaped."""
    end = start + len(text)
    before, after = turn[max(0, start - CONTEXT_CHARS):start], turn[end:end + CONTEXT_CHARS]
    lead = "… " if start > CONTEXT_CHARS else ""
    tail = " …" if end + CONTEXT_CHARS < len(turn) else ""
    return f"{lead}{md_escape(before)}**{md_escape(text)}**{md_escape(after)}{tail}"


def where(participant: str, transcript: str, line: int | None, stamp: str | None) -> str:
    """``Academic A · academic_a.txt · line 12 · 00:01:43``: who, and where as the researcher reads it
    (the line number in Read & code's margin), never character offsets."""
    place = (f"line {line}" if line else "") + (f" · {stamp}" if stamp else "")
    return " · ".join(md_escape(str(x)) for x in (participant, transcript) if x) + (
        f" · {place}" if place else "")


def interviewer_toggle(key: str) -> bool:
    return st.toggle("Include interviewer turns", key=f"{key}_interviewer", value=False,
                     help="Left out by default: the interviewer's questions are not data to code. Turn on to "
                          "search or suggest in them too.")


def _drop(key: str, hit: dict[str, Any]) -> None:
    """Take a decided hit out of the list kept in the session (it is not suggested again anyway)."""
    state = st.session_state.get(key)
    if state:
        gone = (hit["transcript"], hit["start"])
        state["items"] = [h for h in state["items"] if (h["transcript"], h["start"]) != gone]


def search_box(project: Project, *, key: str, transcript: str | None = None, filters: bool = True) -> None:
    """A search form; its hits are kept in ``st.session_state[key]``."""
    model_notice()
    with st.form(f"{key}_form", border=False):
        query = st.text_input("Search", key=f"{key}_query", placeholder='e.g. fear of being assessed, or "heat pump"',
                              help='Semantic search finds passages with a similar meaning; keyword search finds the '
                                   'exact words (accents and case ignored; "quote" a phrase).')
        mode = st.radio("Mode", list(MODES), format_func=MODES.__getitem__, horizontal=True, key=f"{key}_mode")
        options: dict[str, Any] = {}
        if filters:
            cols = st.columns(3)
            who = cols[0].selectbox("Participant", [ALL] + [p.pseudonym for p in participants()], key=f"{key}_who")
            options["participant"] = None if who == ALL else who
            coded = cols[1].selectbox("Coding", ["any", "uncoded only", "coded with…", "not coded with…"],
                                      key=f"{key}_coded")
            paths = code_paths()
            chosen = cols[2].selectbox("Code", [c.id for c in codes()], key=f"{key}_code",
                                       format_func=lambda cid: paths.get(cid, str(cid)),
                                       help="Used by 'coded with…' and 'not coded with…'.")
            options["uncoded"] = coded == "uncoded only"
            options["code"] = chosen if coded == "coded with…" else None
            options["exclude_code"] = chosen if coded == "not coded with…" else None
        only_here = transcript is not None and st.checkbox("Only this transcript", value=True, key=f"{key}_here")
        interviewer = interviewer_toggle(key)
        k = st.slider("Hits", 5, 50, 10, step=5, key=f"{key}_k")
        if st.form_submit_button("Search", type="primary") and query.strip():
            wait_for_model(mode)
            with st.spinner("Searching…"):
                hits = project.assist.search(query, mode=mode, k=k, transcript=transcript if only_here else None,
                                             interviewer=interviewer, **options)
            st.session_state[key] = {"mode": mode, "query": query, "items": hits}


def search_hits(project: Project, *, key: str) -> None:
    """The hits kept under ``key``, each in its turn, with one click to code it as the picked code."""
    state = st.session_state.get(key)
    if not state:
        return
    if not state["items"]:
        st.info(f"Nothing found for '{state['query']}'.")
        return
    if not codes():
        st.caption("Create a code first to code hits in one click.")
    paths = code_paths()
    # No code chosen in advance: a hit is coded only with a code the researcher picked for it.
    target = st.selectbox("Code hits as", [c.id for c in codes()], index=None, key=f"{key}_target",
                          format_func=lambda cid: paths.get(cid, str(cid)), placeholder="Choose a code…",
                          help="Pick the code first; then 'Code as…' under a hit codes it.") if codes() else None
    st.caption(f"{len(state['items'])} hits for *{md_escape(state['query'])}* ({MODES[state['mode']]}), "
               "ranked by the machine: read each in its context before coding it.")
    for n, hit in enumerate(state["items"]):
        with st.container(border=True):
            st.caption(f"{MACHINE} (search hit) · score {hit.score:.3f} · "
                       f"{where(hit.participant, hit.transcript, hit.line, hit.timestamp)}")
            st.markdown(in_context(hit.turn_text, hit.start - hit.turn_start, hit.text))
            media.listen(hit.transcript, hit.start, hit.end, key=f"{key}_hit_{n}")
            label = f"Code as '{paths.get(target, '')}'" if target is not None else "Code as… (choose a code above)"
            if codes() and target is not None and st.button(label, key=f"{key}_code_{n}"):
                act(lambda: project.codings.add_coding(transcript=hit.transcript, start=hit.start, end=hit.end,
                                                       code=target, coder=researcher(), origin=f"search:{state['mode']}"),
                    f"Coded the hit as '{code_paths().get(target, '')}'")
            elif codes() and target is None:
                st.button(label, key=f"{key}_code_{n}", disabled=True)


def suggestion_box(project: Project, *, key: str, transcript: str | None = None) -> None:
    """Pick a code, ask for passages like its codings; the list is kept in ``st.session_state[key]``."""
    if not codes():
        st.caption("More like this code needs a code with a few codings.")
        return
    code = code_picker("More like this code", key=f"{key}_for",
                       help="Passages similar to what you have coded with this code (and its sub-codes).")
    if code is None:  # not offered without codes (above)
        return
    only_here = transcript is not None and st.checkbox("Only this transcript", value=True, key=f"{key}_here")
    interviewer = interviewer_toggle(key)
    cols = st.columns([0.6, 0.4], vertical_alignment="bottom")
    k = cols[0].slider("Suggestions", 5, 30, 10, step=5, key=f"{key}_k")
    if cols[1].button("Suggest passages", key=f"{key}_go"):
        items = None
        with st.spinner("Comparing with your codings…"), action():  # e.g. the code has no codings yet
            items = project.suggestions.suggest(code, k=k, transcript=transcript if only_here else None,
                                                interviewer=interviewer)
        if items is None:
            return
        st.session_state[key] = {"code": code, "items": items}


def suggestion_list(project: Project, *, key: str) -> None:
    """Each suggestion labelled as the machine's, with the closest coded example, Accept and Reject."""
    state = st.session_state.get(key)
    if not state:
        return
    name = code_paths().get(state["code"], "")
    if not state["items"]:
        st.info(f"No more suggestions for '{name}'.")
        return
    st.caption(f"Machine suggestions for *{md_escape(name)}*: passages like your codings. You decide.")
    for n, s in enumerate(state["items"]):
        with st.container(border=True):
            st.caption(f"{MACHINE} · similarity {s['score']:.3f} · "
                       f"{where(s['participant'], s['transcript'], s.get('line'), s.get('timestamp'))}")
            st.markdown(in_context(s["turn_text"], s["start"] - s["turn_start"], s["text"]))
            ex = s["closest_coding"]
            st.caption(f"Closest coded example (coding {ex['id']}, similarity {ex['score']:.3f}): "
                       f"“{md_escape(ex['text'][:240])}”")
            left, right = st.columns(2)
            if left.button("Accept", key=f"{key}_accept_{n}", type="primary", width="stretch",
                           help="Code this passage with the code (your decision, recorded as such)."):
                def accept(s: dict[str, Any] = s) -> None:
                    project.suggestions.accept(state["code"], s, coder=researcher())
                    _drop(key, s)
                act(accept, f"Coded as '{name}' (accepted suggestion)")
            if right.button("Reject", key=f"{key}_reject_{n}", width="stretch",
                            help="Not this code: it will not be suggested again for it."):
                def reject(s: dict[str, Any] = s) -> None:
                    project.suggestions.reject(state["code"], s)
                    _drop(key, s)
                act(reject, "Rejected: it will not be suggested again for this code")


def render_assist_panel(project: Project, transcript: str | None) -> None:
    """The assist beside a transcript: search (this transcript by default) and more like a chosen code,
    each hit coded in one click. For the Read & code page."""
    st.markdown("**Assist** · machine suggestions")
    search_box(project, key="ap_search", transcript=transcript, filters=False)
    search_hits(project, key="ap_search")
    st.divider()
    suggestion_box(project, key="ap_suggest", transcript=transcript)
    suggestion_list(project, key="ap_suggest")
