"""Storyloom workbench: a router over the pages in analysis/workbench/pages/ (``streamlit run app.py -- --project PATH``)."""

import streamlit as st

from analysis.workbench.guide import start_here
from analysis.workbench.state import language_model, project_or_stop

st.set_page_config(page_title="Storyloom", layout="wide",  # local favicon; a ":material/...:" one loads from fonts.gstatic.com
                   page_icon=str(__import__("pathlib").Path(__file__).parent / "analysis" / "workbench" / "static" / "favicon.png"))
project_or_stop()

pages = {
    "Analyse": [
        st.Page("analysis/workbench/pages/read_code.py", title="Read & code", icon=":material/ink_highlighter:", default=True),
        st.Page("analysis/workbench/pages/codebook.py", title="Codebook", icon=":material/account_tree:"),
        st.Page("analysis/workbench/pages/themes.py", title="Themes", icon=":material/grid_on:"),
        st.Page("analysis/workbench/pages/participant.py", title="Participants", icon=":material/person:"),
        st.Page("analysis/workbench/pages/cases.py", title="Cases", icon=":material/table_chart:"),
        st.Page("analysis/workbench/pages/assist.py", title="Assist (suggestions)", icon=":material/manage_search:"),
    ],
    "Write": [
        st.Page("analysis/workbench/pages/journal.py", title="Journal & memos", icon=":material/book:"),
        st.Page("analysis/workbench/pages/vignettes.py", title="Vignettes", icon=":material/edit_note:"),
        st.Page("analysis/workbench/pages/story.py", title="Story", icon=":material/timeline:"),
    ],
    "Project": [
        st.Page("analysis/workbench/pages/project.py", title="Project", icon=":material/folder_open:"),
        st.Page("analysis/workbench/pages/team.py", title="Team", icon=":material/group:"),
    ],
}
try:
    navigation = st.navigation(pages)
    start_here(project_or_stop())  # the first-run guide above the page, until hidden
    navigation.run()
finally:  # the first page has run: load the language model in the background (once per server process)
    language_model()
    st.session_state.pop("_reads", None)  # the run's memo of reads and version (analysis.workbench.state.run_version)
