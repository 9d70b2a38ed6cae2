"""Assist (suggestions): search, more like this code, patterns in uncoded text, consistency checks and
the methods report. The machine proposes passages; the researcher decides, and every decision is a
recorded action. Nothing here names a theme. Only the open tab runs."""

import functools
from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st

from analysis.workbench import assist_panel as panel
from analysis.workbench.state import cached, researcher
from analysis.export import BY_NAME
from analysis.domain.methods_report import REPORT_FORMATS
from analysis.workbench.widgets import act, embedding_progress, fresh, md_escape, recorded, sidebar

project = sidebar()
PATTERNS, CHECKS, SHOWN = "as_patterns", "as_checks", 12


def search() -> None:
    panel.search_box(project, key="as_search")
    panel.search_hits(project, key="as_search")


def more_like_this() -> None:
    panel.suggestion_box(project, key="as_suggest")
    panel.suggestion_list(project, key="as_suggest")


def _drop_pattern(pattern_id: str) -> None:
    st.session_state[PATTERNS] = [c for c in st.session_state.get(PATTERNS, []) if c["id"] != pattern_id]


def patterns() -> None:
    st.caption("Groups of similar participant passages that no coding covers yet, grouped by the machine. "
               "A pattern is not a theme: read the passages, and make a code only if you see one.")
    left, right = st.columns([0.3, 0.7], vertical_alignment="bottom")
    min_size = left.number_input("Fewest passages", min_value=3, max_value=50, value=5, key="as_min_size")
    if right.button("Find patterns in uncoded text", key="as_find"):
        with st.spinner("Grouping uncoded passages…"):
            st.session_state[PATTERNS] = project.patterns.list(min_size=int(min_size))
    found = st.session_state.get(PATTERNS)
    if found == []:
        st.info("No patterns: the uncoded passages do not group closely (or you have coded them).")
    for c in found or []:
        with st.expander(f"{panel.MACHINE} · {c['size']} passages · {', '.join(c['words'][:6])}"):
            st.caption("Distinctive words (the machine's, from these passages): " + md_escape(", ".join(c["words"])))
            chosen = [s for i, s in enumerate(c["segments"][:SHOWN])
                      if st.checkbox(f"{md_escape(s['participant'])}: {md_escape(s['text'])}", value=i < 5,
                                     key=f"as_pat_{c['id']}_{i}")]
            if c["size"] > SHOWN:
                st.caption(f"… and {c['size'] - SHOWN} more passages, less central.")
            name = st.text_input("Name of the new code", key=fresh(f"as_pat_name_{c['id']}"),
                                 placeholder="Your name for what these passages share, if anything")
            b1, b2 = st.columns(2)
            if b1.button("Make a code from selected segments", key=f"as_pat_make_{c['id']}", type="primary"):
                def make(c: dict[str, Any] = c) -> None:
                    project.patterns.make_code(c, name=name, segments=chosen, coder=researcher())
                    _drop_pattern(c["id"])
                act(make, f"Made code '{name}' from {len(chosen)} passages")
            if b2.button("Dismiss", key=f"as_pat_dismiss_{c['id']}", help="Recorded; not shown again."):
                def dismiss(c: dict[str, Any] = c) -> None:
                    project.patterns.dismiss(c)
                    _drop_pattern(c["id"])
                act(dismiss, "Pattern dismissed")


def checks() -> None:
    st.caption("Prompts to look again, not verdicts: a far-off coding may be a facet you mean to keep, and a "
               "participant without a theme may be a finding.")
    if st.button("Run the checks", key="as_check"):
        with st.spinner("Comparing codings…"):
            st.session_state[CHECKS] = project.consistency.check()
    result = st.session_state.get(CHECKS)
    if result is None:
        return
    for title, rows, columns in (
        ("Codings far from the rest of their code", "outlying_codings", ["code", "text", "z", "similarity"]),
        ("Codes whose coded material is nearly the same (merge candidates)", "similar_codes",
         ["code_a", "code_b", "similarity"]),
        ("Participants with no coding under a theme most others have (to check, not to fill)",
         "participants_without_theme", ["theme", "participant", "others_with", "others"]),
    ):
        found = getattr(result, rows)
        st.markdown(f"**{title}** · {len(found)}")
        if found:
            st.dataframe(pd.DataFrame([asdict(x) for x in found])[columns], hide_index=True, width="stretch")
        else:
            st.caption("None.")


def report() -> None:
    methods = cached("methods_report", lambda p: p.exports.methods_report())
    st.caption("Generated from the audit trail: what you did, and what the machine only suggested.")
    with st.container(border=True):
        st.markdown(methods.markdown)
    d1, d2 = st.columns(2)
    for col, fmt in zip((d1, d2), REPORT_FORMATS):
        col.download_button(f"Download {BY_NAME[fmt].label}",
                            recorded(functools.partial(project.exports.download_methods_report, format=fmt)),
                            file_name=f"methods{BY_NAME[fmt].suffixes[0]}", mime=BY_NAME[fmt].mime,
                            on_click="ignore", key=f"as_{fmt}")


st.title("Assist")
st.caption("Machine suggestions from a local sentence-embedding model (all-MiniLM-L6-v2, on this computer). "
           "They point at passages; you read them in context and decide. Themes are yours to construct.")
embedding_progress(project, where="assist")  # while embedding: what semantic search, suggestions, patterns cover
SECTIONS = {"Search": search, "More like this code": more_like_this, "Patterns in uncoded text": patterns,
            "Consistency checks": checks, "Methods report": report}
for tab, render in zip(st.tabs(list(SECTIONS), key="as_tab", on_change="rerun"), SECTIONS.values()):
    if tab.open:
        with tab:
            render()
