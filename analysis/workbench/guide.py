"""The first-run guide: a short "Start here" above the page, what each page is for in the order of the
six phases of reflexive thematic analysis, until a researcher hides it (remembered in the project:
``project.guide``; the Project page brings it back)."""

from __future__ import annotations

import streamlit as st

from analysis.workbench.pages import page_file
from analysis import Project
from analysis.workbench.state import action

#: Page title (as app.py names it) -> its file, for the guide's links.
PAGE_FILES: dict[str, str] = {
    "Project": page_file("project"), "Read & code": page_file("read_code"), "Journal & memos": page_file("journal"),
    "Assist (suggestions)": page_file("assist"), "Codebook": page_file("codebook"), "Themes": page_file("themes"),
    "Participants": page_file("participant"), "Cases": page_file("cases"), "Vignettes": page_file("vignettes"),
    "Story": page_file("story"),
}


def start_here(project: Project) -> None:
    """The guide, unless hidden in this project."""
    if st.session_state.get("_guide_hidden") == str(project.path) or not project.guide.shown():
        return
    with st.container(border=True, key="start-here"):
        head, hide = st.columns([5, 1], vertical_alignment="center")
        head.markdown("#### :material/flag: Start here")
        if hide.button("Hide", key="guide_hide", icon=":material/close:",
                       help="Hidden in this project from now on; the Project page shows it again."):
            with action():
                project.guide.dismiss()
                st.session_state["_guide_hidden"] = str(project.path)
                st.rerun()
        st.caption("Reflexive thematic analysis (Braun & Clarke) in six phases, and the pages for each. "
                   "You will go back and forth between them: that is the method.")
        for n, step in enumerate(project.guide.steps()):
            label = f"**{n}. {step.phase.capitalize()}**" if step.phase else "**Before you start**"
            cols = st.columns([2, 3, 5], vertical_alignment="center")
            cols[0].markdown(label)
            with cols[1]:
                for title in step.pages:
                    st.page_link(PAGE_FILES[title], label=title)
            cols[2].markdown(step.what)
