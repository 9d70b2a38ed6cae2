"""Read & code: review the words the recogniser was unsure of (a transcribed transcript's ``.unsure.json``).

One word at a time, in text order: its sentence with the word in bold, where it is in the recording and how
sure the recogniser was. **Next** and **Previous** (keys ``N`` and ``P``) move to it and select it in the
transcript (scrolled there, marked as the selection) and play the recording from a second before it;
**Accept** keeps it as recognised, **Correct** changes it as said (a correction while listening: recorded,
undoable, codings re-anchored, counted in the methods report). Until then it stays on this list and is
underlined in the transcript."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from analysis import Project
from analysis.domain.progress import clock_text
from analysis.workbench import media, reading
from analysis.workbench.widgets import md_escape, on_click, pending_error

INDEX = "rc_unsure_index"


def _go(name: str, words: list[Any], index: int) -> None:
    index %= len(words)
    st.session_state[INDEX] = {"transcript": name, "index": index}
    word = words[index]
    st.session_state[reading.SELECTION] = {"transcript": name, "start": word.start, "end": word.end}
    st.session_state[reading.FOCUS] = f"unsure-{word.start}-{time.monotonic_ns()}"
    # with the recording attached, hear it: from a second before the word to just after it
    st.session_state[media.PLAY] = {"token": f"unsure-{time.monotonic_ns()}", "transcript": name, "where": "reader",
                                    "start": max(0.0, word.time - 1.0), "end": word.time + 1.5}


def review_panel(project: Project, name: str) -> None:
    words = project.transcription.unsure(name)
    if not words:
        return
    at = st.session_state.get(INDEX) or {}
    index = int(at.get("index", 0)) % len(words) if at.get("transcript") == name else 0
    word = words[index]
    with st.expander(f"Unsure words to review · {len(words)}", icon=":material/hearing:", expanded=True):
        text = project.transcripts.get(name).text
        lo, hi = max(0, word.start - 80), min(len(text), word.end + 80)
        st.markdown(f"…{md_escape(text[lo:word.start])}**{md_escape(text[word.start:word.end])}**"
                    f"{md_escape(text[word.end:hi])}…")
        st.caption(f"Word {index + 1} of {len(words)} · at {clock_text(word.time)} in the recording · "
                   f"the recogniser was {word.probability:.0%} sure")
        prev_col, next_col, accept_col = st.columns(3)
        prev_col.button("Previous", key="unsure_prev", shortcut="p", icon=":material/arrow_back:",
                        on_click=_go, args=(name, words, index - 1), help="Previous unsure word (key P)")
        next_col.button("Next", key="unsure_next", shortcut="n", icon=":material/arrow_forward:",
                        on_click=_go, args=(name, words, index + 1), help="Next unsure word (key N)")
        accept_col.button("Accept", key="unsure_accept", icon=":material/check:",
                          on_click=on_click(lambda: project.transcription.accept_word(name, word.start),
                                            f"Accepted '{word.text}'", where="unsure"))
        key = f"unsure_fix_{name}_{word.start}"
        fix = st.text_input("Correct it to", key=key, placeholder=word.text)
        st.button("Correct", key="unsure_correct", disabled=not fix.strip(),  # (the callback reads the field)
                  on_click=on_click(lambda: project.transcription.correct_word(name, word.start, st.session_state[key]),
                                    lambda: f"Corrected '{word.text}' to '{st.session_state[key].strip()}'",
                                    where="unsure"))
        pending_error("unsure")
