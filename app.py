"""Storyloom workbench: a router over the pages in ui/ (``streamlit run app.py -- --project PATH``)."""

import streamlit as st

from ui.state import project_or_stop

st.set_page_config(page_title="Storyloom", page_icon="🧶", layout="wide")
project_or_stop()

pages = {
    "Analyse": [
        st.Page("ui/read_code.py", title="Read & code", icon="🖍️", default=True),
        st.Page("ui/codebook.py", title="Codebook", icon="📚"),
        st.Page("ui/themes.py", title="Themes", icon="🧭"),
        st.Page("ui/participant.py", title="Participants", icon="🧑"),
        st.Page("ui/assist.py", title="Assist (suggestions)", icon="🔎"),
    ],
    "Write": [
        st.Page("ui/journal.py", title="Journal & memos", icon="📓"),
        st.Page("ui/vignettes.py", title="Vignettes", icon="📝"),
    ],
    "Project": [
        st.Page("ui/project.py", title="Project", icon="🗂️"),
    ],
}
st.navigation(pages).run()
