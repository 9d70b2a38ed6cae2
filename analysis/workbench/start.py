"""The start screen, shown when there is no project to open (``storyloom open`` in a folder without one,
or a folder named that holds none): create a project in a folder, open a recent one, or try the sample
study. A folder becomes a project only when the researcher presses Create; never silently."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.project import create_project, is_project
from analysis.sample import copy_sample
from analysis.userdirs import recent_projects, remember_project
from analysis.workbench.state import asked_path, choose_project, get_project, show_error
from analysis.workbench.widgets import stage_bars

SAMPLE_FOLDER = Path.home() / "storyloom-sample"
NEW_FOLDER = Path.home() / "storyloom-study"


def start_screen() -> None:
    """The whole page (the router stops after it)."""
    st.title("Storyloom")
    st.caption("A local-first workbench for narrative inquiry and reflexive thematic analysis. "
               "Everything stays on this computer.")
    asked = asked_path()
    if asked is not None and is_project(asked):  # "Switch project": the one open now is on the recent list
        asked = None
    if asked is not None:
        st.warning(f"There is no Storyloom project in `{asked}` yet.", icon=":material/folder_off:")
        if st.button(f"Create a project in {asked}", type="primary", key="start_create_asked",
                     icon=":material/create_new_folder:"):
            _create(asked)
    new, recent, sample = st.columns(3, gap="large")
    with new, st.container(border=True):
        st.markdown("#### :material/create_new_folder: New project")
        st.caption("A folder for your study: put interview files in its `transcripts/` folder, then Sync.")
        folder = st.text_input("Folder", value=str(asked or NEW_FOLDER), key="start_new_folder")
        if st.button("Create project", key="start_create", disabled=not folder.strip()):
            _create(Path(folder.strip()).expanduser())
    with recent, st.container(border=True):
        st.markdown("#### :material/history: Recent projects")
        projects = recent_projects()
        if not projects:
            st.caption("None yet: the projects you open are listed here.")
        for n, path in enumerate(projects):
            if st.button(path.name or str(path), key=f"start_recent_{n}", help=str(path),
                         icon=":material/folder_open:", use_container_width=True):
                _open(path)
    with sample, st.container(border=True):
        st.markdown("#### :material/school: Try the sample study")
        st.caption("Seven interviews about a polytechnic's micro-credential programme, already coded, with "
                   "cases and a story. A copy is made: change it as you like.")
        target = st.text_input("Copy it into", value=str(SAMPLE_FOLDER), key="start_sample_folder")
        if st.button("Open the sample study", key="start_sample", disabled=not target.strip()):
            _sample(Path(target.strip()).expanduser())


def _create(folder: Path) -> None:
    try:
        with create_project(folder):
            pass
    except Exception as err:  # noqa: BLE001 - the boundary: a folder that cannot be a project is a message
        show_error(err)
        return
    _open(folder)


def _open(folder: Path) -> None:
    remember_project(folder)
    choose_project(folder)
    st.rerun()


def _sample(folder: Path) -> None:
    area = st.container()
    try:
        copied = copy_sample(folder)
        fresh = not is_project(folder)
        with create_project(folder):
            pass
        choose_project(folder)
        if fresh or copied["copied"]:
            area.caption("Importing the sample study: reading, splitting into sentences, saving (embedding goes on "
                         "in the background)")
            get_project().sync(progress=stage_bars(area), wait=False)
    except Exception as err:  # noqa: BLE001 - the boundary
        show_error(err)
        return
    _open(folder)
