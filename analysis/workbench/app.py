"""Storyloom workbench: the router over the pages in analysis/workbench/pages/.

Streamlit runs this file as the entry script of the installed program (``storyloom open``); the
checkout's ``app.py`` runs :func:`main` too (``streamlit run app.py -- --project PATH``). Pages are
registered by absolute path (``pages.page_file``), so both entries see the same pages. A folder without a
project (or no folder at all) shows the start screen (analysis/workbench/start.py) instead.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

#: (section, page file in pages/, title, icon), in the sidebar's order; the first is the default page.
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("Analyse", "read_code.py", "Read & code", ":material/ink_highlighter:"),
    ("Analyse", "codebook.py", "Codebook", ":material/account_tree:"),
    ("Analyse", "themes.py", "Themes", ":material/grid_on:"),
    ("Analyse", "participant.py", "Participants", ":material/person:"),
    ("Analyse", "cases.py", "Cases", ":material/table_chart:"),
    ("Analyse", "assist.py", "Assist (suggestions)", ":material/manage_search:"),
    ("Write", "journal.py", "Journal & memos", ":material/book:"),
    ("Write", "vignettes.py", "Vignettes", ":material/edit_note:"),
    ("Write", "story.py", "Story", ":material/timeline:"),
    ("Project", "project.py", "Project", ":material/folder_open:"),
    ("Project", "team.py", "Team", ":material/group:"),
)
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"  # local; a ":material/...:" one loads from fonts.gstatic.com


def routes() -> list[tuple[str, str]]:
    """``(path relative to the checkout or site-packages, title)`` of every page, in the sidebar's order
    (what tests and benchmarks hand to ``AppTest.switch_page``)."""
    return [(f"analysis/workbench/pages/{file}", title) for _, file, title, _ in ROUTES]


def main() -> None:
    """One run of the workbench: the project's pages, or the start screen when there is no project."""
    from analysis.workbench.state import ACTIVITY

    ACTIVITY.started()  # the background loader waits for quiet moments between runs
    try:
        _run()
    finally:
        ACTIVITY.ended()


def _run() -> None:
    from analysis.workbench.guide import start_here
    from analysis.workbench.pages import page_file
    from analysis.workbench.start import start_screen
    from analysis.workbench.state import language_model, project_or_stop, project_ready, switch_project

    st.set_page_config(page_title="Storyloom", layout="wide", page_icon=str(FAVICON))
    if not project_ready():  # one hidden page: no sidebar of pages (nor Streamlit's pages/ folder listing)
        st.navigation([st.Page(start_screen, title="Storyloom", url_path="start")], position="hidden").run()
        return
    project_or_stop()
    pages: dict[str, list[st.Page]] = {}
    for n, (section, file, title, icon) in enumerate(ROUTES):
        pages.setdefault(section, []).append(st.Page(page_file(file), title=title, icon=icon, default=n == 0))
    try:
        navigation = st.navigation(pages)
        st.sidebar.button("Switch project", key="switch_project", type="tertiary", icon=":material/swap_horiz:",
                          on_click=switch_project, help="Open another project, create one, or try the sample study.")
        start_here(project_or_stop())  # the first-run guide above the page, until hidden
        navigation.run()
    finally:  # the first page has run: load the language model in the background (once per server process)
        language_model()
        st.session_state.pop("_reads", None)  # the run's memo of reads and version (analysis.workbench.state.run_version)


if __name__ == "__main__":  # run by Streamlit as the entry script
    main()
