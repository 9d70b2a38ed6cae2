"""Read & code: read a transcript turn by turn, select words with the mouse, apply a code.

Two actions code a passage: select the words, click "Apply code". A click on a highlight shows
its codings (uncode, memo). Selections arrive from the coder component in code points of the
stored text (see analysis/workbench/components/coder.js), checked against the text and snapped to whole words.
"""

import streamlit as st

from analysis.workbench.pages import page_file
from analysis.workbench import media, reading
from analysis.workbench.assist_panel import render_assist_panel
from analysis.workbench.components.coder import coder
from analysis.workbench.quotes_view import readable_quotes
from analysis.workbench.state import researcher
from analysis.workbench.unsure_panel import review_panel
from analysis.workbench.widgets import code_paths, codes, pending_error, sidebar

project = sidebar()
readable_quotes()
rows = reading.transcript_rows()
if not rows:
    st.title("Read & code")
    st.info("No transcripts yet. Put interview files (.txt, .md, .docx, .vtt, .srt, .sbv) in the project's "
            "`transcripts/` folder and press **Sync** on the Project page.")
    st.page_link(page_file("project"), label="Open the Project page", icon=":material/folder_open:")
    st.stop()

names = [r.name for r in rows]
labels = {r.name: reading.transcript_label(r) for r in rows}
if st.session_state.get(reading.TRANSCRIPT) not in names:
    st.session_state[reading.TRANSCRIPT] = names[0]

# A workspace: less air above the text, so the transcript and the coding panel fill the screen.
st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.25rem;padding-bottom:1rem}</style>")
top = st.columns([0.35, 0.19, 0.16, 0.30], vertical_alignment="bottom")
name = top[0].selectbox("Transcript", names, key=reading.TRANSCRIPT, format_func=labels.__getitem__,
                        on_change=reading.clear, help="Participants first; type to filter.")
top[1].toggle("Snap to words", value=True, key=reading.SNAP,
              help="Widen a selection to whole words and trim spaces at its edges.")
stripes = top[2].toggle("Code stripes", value=True, key=reading.STRIPES,
                        help="A bar per coding in the margin, with its code's name.")
top[3].caption("Select words, then **C** to code by keyboard (type, Enter) · click a highlight for its "
               "codings · margin numbers are lines")
reading.apply_keycoded(project, researcher())  # a request still pending (the callback applies it first)

span = reading.selection(name)
ids = reading.clicked_ids(name)
left, right = st.columns([0.63, 0.37], gap="medium")
with left:
    paths = code_paths()
    coder(html=reading.view_html(name), transcript=name, key=reading.COMPONENT_KEY,
          on_selected=reading.on_selected, on_clicked=reading.on_clicked, clearable=bool(span or ids),
          focus=st.session_state.get(reading.FOCUS), on_keycoded=reading.on_keycoded,
          labels=reading.stripe_labels(name) if stripes else None, stripes=stripes,
          codes=[(c.id, paths.get(c.id, c.name)) for c in codes()], selection=span,
          media=media.payload(name), play=media.play_request(name))

with right:
    if notice := st.session_state.pop(reading.NOTICE, None):
        st.warning(notice)
    pending_error(reading.KEYCODED)  # a keyboard coding that failed (its callback kept the error)
    with st.container(border=True):
        if span:
            st.markdown("**Code the selection**")
            reading.apply_panel(project, name, span, researcher())
        elif ids:
            st.markdown(f"**Coded here** · {len(ids)}")
            reading.codings_panel(project, name, ids)
            if st.button("Close", key="rc_close"):
                reading.clear()
                st.rerun()
        else:
            st.markdown("**Coding panel**")
            st.caption("Select a passage in the transcript with the mouse: it appears here, ready to code. "
                       "Click a coloured highlight to see, uncode or memo the codings there.")
            reading.legend(name)
    reading.correction_panel(project, name, span)
    review_panel(project, name)
    reading.orphans(project, name)
    reading.familiarisation(project, name)
    with st.expander("Assist · machine suggestions for this transcript", icon=":material/manage_search:"):
        render_assist_panel(project, name)


# Others' new codings (a team: other windows, other machines, the CLI) appear within a few seconds: a
# small fragment reads the project's change counter every 3 s and reruns the page when it moved.
@st.fragment(run_every=3)
def _watch_for_changes(seen: int) -> None:
    if project.version() != seen:
        st.rerun(scope="app")


_watch_for_changes(project.version())
