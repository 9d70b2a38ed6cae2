"""What every page shares: the open project (cached once per process), cached reads keyed on the
project's change counter, and one way to show errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import streamlit as st

from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from analysis.offline import set_offline_env

set_offline_env()

from analysis import Project, open_project  # noqa: E402
from analysis.errors import explain  # noqa: E402


def project_path() -> Path:
    """``--project PATH`` after ``--`` on the streamlit command line, else $STORYLOOM_PROJECT, else '.'."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:])
    return Path(args.project or os.environ.get("STORYLOOM_PROJECT") or ".").resolve()


@st.cache_resource(show_spinner="Opening the project...")
def _open(path: str) -> Project:
    return open_project(path)


def get_project() -> Project:
    return _open(str(project_path()))


def project_or_stop() -> Project:
    try:
        return get_project()
    except ScriptControlException:
        raise
    except Exception as err:  # noqa: BLE001 - the boundary: an unopenable project is a message
        show_error(err)
        st.stop()
        raise


def cached(name: str, fn: Callable[[Project], Any]) -> Any:
    """``fn(project)``, computed once per project version (every change bumps the version)."""
    project = get_project()
    return _cached_call(str(project.path), project.version(), name, fn)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={type(lambda: 0): lambda f: f.__qualname__})
def _cached_call(path: str, version: int, name: str, fn: Callable[[Project], Any]) -> Any:
    return fn(get_project())


def show_error(err: BaseException) -> None:
    """The UI's one way to show an error: the catalogue message in the researcher's words
    (:func:`analysis.errors.explain`: buttons, not Python arguments), its code on a small details line."""
    message, details = explain(err, path=project_path())
    st.error(f"{message}\n\n:small[:gray[Details: {details}]]" if details else message, icon=":material/error:")


@contextmanager
def action(success: str | None = None) -> Iterator[bool]:
    """The UI's one error boundary: run the block as the sidebar's researcher (every action is
    recorded under that name); any error becomes ``st.error`` with its catalogue message, never a
    traceback, and the page keeps working. Streamlit's own rerun/stop signals pass through.

    ``with action() as ok:`` -- ``ok`` is not meaningful inside the block; use :func:`ui.widgets.act`
    for an action that must rerun the page on success."""
    try:
        with get_project().acting_as(researcher()):
            yield True
    except ScriptControlException:
        raise
    except Exception as err:  # noqa: BLE001 - the boundary
        show_error(err)
    else:
        if success:
            st.toast(success)


def researcher() -> str:
    """The name recorded as coder/author (sidebar setting, default: the project's user)."""
    return st.session_state.get("researcher") or get_project().user
