"""Vignettes: compose a participant's (or a theme's) story from quotes and your own narrative, check
every quote against its transcript and the whole for identifying details, and export it for a journal
article (Markdown, Word, LaTeX, HTML)."""

from __future__ import annotations

import streamlit as st

from analysis.workbench.vignette_widgets import (add_panel, disclosure_panel, downloads, export_options, item_editor, label,
                                 new_vignette_panel, preview, vignettes)
from analysis.workbench.seen import guarded, seen
from analysis.workbench.widgets import act, fresh, md_escape, sidebar

project = sidebar()
st.title("Vignettes")
st.caption("A vignette tells a participant's story, or a theme's, through ordered quotes and your own writing. "
           "Quotes carry marked edits only: [...] for words left out, [word] for words put in.")

existing = vignettes()
with st.expander(":material/add: New vignette", expanded=not existing):
    new_vignette_panel(project)
if not existing:
    st.info("No vignettes yet. Draft one from a participant's or a theme's codings above, or start an empty one.")
    st.stop()

ids = [v.id for v in existing]
if st.session_state.get("vg_pick") not in ids:
    st.session_state["vg_pick"] = ids[-1]
vid = st.selectbox("Vignette", ids, key="vg_pick", format_func=lambda i: label(next(v for v in existing if v.id == i)))
v = project.vignettes.get(vid)

if v.status == "draft":
    st.info("A machine draft: quotes were chosen by closeness to each code's centroid, and the [Narrative: ...] "
            "paragraphs are placeholders. Saving any edit makes it yours (status 'edited').", icon=":material/smart_toy:")

compose, look, check = st.tabs(["Compose", "Preview & export", "Disclosure check"])
with compose:
    with st.form(form := fresh(f"vg-title-{v.id}")):
        title = st.text_input("Title", v.title, key=fresh(f"vg_title_{v.id}"))
        expected = seen(form, {"updated_at": v.updated_at})  # another researcher's edit since: a conflict
        if st.form_submit_button("Save title"):
            act(guarded(form, lambda: project.vignettes.update(v.id, title=title, expected=expected)), "Title saved")
    if not v.items:
        st.caption("Empty: add quotes from codings or a paragraph below.")
    for index, item in enumerate(v.items):
        item_editor(project, v, index, item)
    add_panel(project, v)
    with st.expander("Delete this vignette"):
        if st.button("Delete vignette", key=f"vg_delete_{v.id}", help="Undoable from the sidebar"):
            act(lambda: project.vignettes.delete(v.id), f"Deleted '{v.title}'")

with look:
    options = export_options(v)
    st.markdown("**Download**")
    downloads(project, v, options)
    st.divider()
    st.caption(f"Preview of *{md_escape(v.title)}* as it will print (Markdown).")
    with st.container(border=True):
        preview(project, v, options)

with check:
    disclosure_panel(project, v, options)
