"""Storyloom workbench: a router over the pages in ui/ (``streamlit run app.py -- --project PATH``)."""

import streamlit as st

from ui.guide import start_here
from ui.state import language_model, project_or_stop

st.set_page_config(page_title="Storyloom", layout="wide",  # local favicon; a ":material/...:" one loads from fonts.gstatic.com
                   page_icon=str(__import__("pathlib").Path(__file__).with_name("ui") / "static" / "favicon.png"))
project_or_stop()

pages = {
    "Analyse": [
        st.Page("ui/read_code.py", title="Read & code", icon=":material/ink_highlighter:", default=True),
        st.Page("ui/codebook.py", title="Codebook", icon=":material/account_tree:"),
        st.Page("ui/themes.py", title="Themes", icon=":material/grid_on:"),
        st.Page("ui/participant.py", title="Participants", icon=":material/person:"),
        st.Page("ui/cases.py", title="Cases", icon=":material/table_chart:"),
        st.Page("ui/assist.py", title="Assist (suggestions)", icon=":material/manage_search:"),
    ],
    "Write": [
        st.Page("ui/journal.py", title="Journal & memos", icon=":material/book:"),
        st.Page("ui/vignettes.py", title="Vignettes", icon=":material/edit_note:"),
        st.Page("ui/story.py", title="Story", icon=":material/timeline:"),
    ],
    "Project": [
        st.Page("ui/project.py", title="Project", icon=":material/folder_open:"),
        st.Page("ui/team.py", title="Team", icon=":material/group:"),
    ],
}
try:
    navigation = st.navigation(pages)
    start_here(project_or_stop())  # the first-run guide above the page, until hidden
    navigation.run()
finally:  # the first page has run: load the language model in the background (once per server process)
    language_model()
    st.session_state.pop("_reads", None)  # the run's memo of reads and version (ui.state.run_version)
