"""What every page shares: the open project (cached once per process), cached reads keyed on the
project's change counter, and one way to show errors."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from analysis.offline import set_offline_env

set_offline_env()

from analysis import Project, open_project  # noqa: E402
from analysis.errors import explain  # noqa: E402


#: The project chosen on the start screen by this server's last session (a reload keeps it open).
_chosen: dict[str, str] = {}
CHOSEN = "_storyloom_project"


def project_path() -> Path:
    """The project this session works on: the one chosen on the start screen (this session's, else the
    server's last), else ``--project PATH`` after ``--`` on the streamlit command line, else
    $STORYLOOM_PROJECT, else '.'."""
    chosen = st.session_state.get(CHOSEN) or _chosen.get("path")
    if chosen:
        return Path(chosen)
    return _project_path(tuple(sys.argv[1:]), os.environ.get("STORYLOOM_PROJECT"))


def asked_path() -> Path | None:
    """The folder this session was asked to open (chosen, ``--project`` or $STORYLOOM_PROJECT); None when
    none was named (``storyloom open`` in a folder without a project: the start screen alone)."""
    named = st.session_state.get(CHOSEN) or _chosen.get("path") or os.environ.get("STORYLOOM_PROJECT")
    if named or "--project" in " ".join(sys.argv[1:]):
        return project_path()
    return None


def choose_project(path: Path | str) -> None:
    """Work on ``path`` from now on (the start screen's choice), in this session and any new one."""
    st.session_state[CHOSEN] = _chosen["path"] = str(Path(path).resolve())
    st.session_state.pop(SWITCHING, None)


SWITCHING = "_storyloom_switching"


def switch_project() -> None:
    """Show the start screen in this session (the sidebar's "Switch project"), until a project is chosen."""
    st.session_state[SWITCHING] = True


def project_ready() -> bool:
    """Whether :func:`project_path` holds a project (``project.db``, or ``project.toml`` of a team
    project); if not, the router shows the start screen, which offers to create one: a folder is never
    made a project silently."""
    from analysis.project import is_project

    return not st.session_state.get(SWITCHING) and is_project(project_path())


@functools.lru_cache(maxsize=8)  # asked for many times in every run: parse the command line once
def _project_path(argv: tuple[str, ...], env: str | None) -> Path:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--project", default=None)
    args, _ = parser.parse_known_args(list(argv))
    return Path(args.project or env or ".").resolve()


@st.cache_resource(show_spinner="Opening the project...")
def _open(path: str) -> Project:
    return open_project(path, create=False)


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


LOAD_AT_START = "STORYLOOM_LOAD_MODEL_AT_START"


class Activity:
    """Whether a page is running, and when the last one ended, across this server's sessions: the
    background loader does its heavy steps between a researcher's clicks, not during them (it holds the
    interpreter: at x50 an apply made seconds after opening took 672 ms beside it and 380 ms after it)."""

    QUIET_S = 1.5  # no page run for this long: the researcher is reading, not clicking
    MAX_DEFER_S = 20.0  # the whole load waits no longer for quiet moments than this, from its start

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._ended = 0.0

    def started(self) -> None:
        with self._lock:
            self._running += 1

    def ended(self) -> None:
        with self._lock:
            self._running = max(0, self._running - 1)
            self._ended = time.monotonic()

    def quiet(self) -> bool:
        with self._lock:
            return self._running == 0 and time.monotonic() - self._ended >= self.QUIET_S


ACTIVITY = Activity()  # app.py marks each run's start and end


class LanguageModel:
    """The project's sentence-embedding model (and its segment index), loaded once per server process
    by a background thread started with the app, so that no page waits for it: semantic search waits
    (or says "preparing the language model") only while it is still loading. Each heavy step waits for a
    quiet moment (:class:`Activity`) unless a search is waiting for the model (:meth:`wait`); spaCy's
    warm-up for the disclosure checks comes after the model is ready for search."""

    def __init__(self, project: Project, activity: Activity = ACTIVITY) -> None:
        self.ready = threading.Event()
        self.wanted = threading.Event()  # a search waits: no more waiting for quiet moments
        self.activity = activity
        self._deadline = 0.0
        self.error: str | None = None  # why the load failed, in the researcher's words (widgets.model_notice)
        self._thread = threading.Thread(target=self._load, args=(project,), name="storyloom-language-model",
                                        daemon=True)

    def start(self) -> LanguageModel:
        """Start loading; with ``STORYLOOM_LOAD_MODEL_AT_START=0`` (the fast tests) load nothing now:
        the model loads on its first use, as the CLI's does."""
        if os.environ.get(LOAD_AT_START, "1") == "0":
            self.ready.set()
        else:
            self._thread.start()
        return self

    def _load(self, project: Project) -> None:
        self._deadline = time.monotonic() + self.activity.MAX_DEFER_S
        try:  # at the pages' priority: a lower one starves on a busy machine, and a search may be waiting
            # First what a page's first visit would otherwise wait for (x10 project: 0.25 s and 0.16 s of
            # Codebook's 0.7 s): the codings frame of this version (Themes, Codebook, Story, Participants
            # share it) and pandas' Styler with its templates (the code tree).
            self._quiet_moment()
            project.explore.codings_frame()
            import pandas as pd

            pd.DataFrame({"warm": [1]}).style.to_html()
            self._quiet_moment()
            project.embedder.embed(["Preparing the language model."])
            project.assist.segment_index()
        except Exception as err:  # noqa: BLE001 - shown when a search needs the model (its own message)
            self.error = explain(err, path=project.path)[0]
        finally:
            self.ready.set()
        try:  # spaCy with its NER, for the disclosure checks (Story's chapter, exports): about 5 s of importing
            self._quiet_moment()  # (torch among it, through thinc), not needed by search
            from analysis.domain.segment import load_nlp

            load_nlp(full=True)
        except Exception:  # noqa: BLE001 - a warm-up only: the disclosure check loads spaCy itself and says why it failed
            pass

    def _quiet_moment(self) -> None:
        """Wait until no page has run for :attr:`Activity.QUIET_S`, unless a search wants the model or the
        load has waited :attr:`Activity.MAX_DEFER_S` since it started (a researcher clicking all the time)."""
        while not self.wanted.is_set() and not self.activity.quiet() and time.monotonic() < self._deadline:
            self.wanted.wait(0.1)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the model is loaded (or failed to); False if ``timeout`` passed first. The loader
        stops waiting for quiet moments: someone needs it now."""
        self.wanted.set()
        return self.ready.wait(timeout)


@st.cache_resource(show_spinner=False)
def _language_model(path: str) -> LanguageModel:
    return LanguageModel(_open(path)).start()


def language_model() -> LanguageModel:
    """The background loader of the open project's model: started by the first call (app.py makes it
    once the first page has run), the same object for every session of this server process."""
    return _language_model(str(project_path()))


T = TypeVar("T")


def cached(name: str, fn: Callable[[Project], T]) -> T:
    """``fn(project)``, computed once per project version (every change bumps the version)."""
    project = get_project()
    result: T = _cached_call(str(project.path), run_version(project), name, fn)
    return result


def run_version(project: Project) -> int:
    """The project's version, read once per script run (a page's cached reads used to read it once
    each, a query every time): kept in the run's memo (``_reads``, made by analysis.workbench.widgets.sidebar,
    dropped by app.py when the run ends and by :func:`action` after every action). Callbacks and
    fragments, which run without that memo, read it afresh."""
    memo = st.session_state.get("_reads")
    if memo is None:
        return project.version()
    if "_version" not in memo:
        memo["_version"] = project.version()
    return int(memo["_version"])


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs={type(lambda: 0): lambda f: f.__qualname__})
def _cached_call(path: str, version: int, name: str, fn: Callable[[Project], Any]) -> Any:
    return fn(get_project())


def shared(name: str, fn: Callable[[Project], T]) -> T:
    """:func:`cached` without the copy: the one result of this project version, handed to every run as it
    is (``st.cache_data`` unpickles a fresh copy on every hit: 1.45 s a run for the Team page's 15,000
    disagreements at x50). For large results that pages only read: never change what it returns."""
    project = get_project()
    result: T = _shared_call(str(project.path), run_version(project), name, fn)
    return result


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs={type(lambda: 0): lambda f: f.__qualname__})
def _shared_call(path: str, version: int, name: str, fn: Callable[[Project], Any]) -> Any:
    return fn(get_project())


def show_error(err: BaseException) -> None:
    """The UI's one way to show an error: the catalogue message in the researcher's words
    (:func:`analysis.errors.explain`: buttons, not Python arguments), its code on a small details line."""
    message, details = explain(err, path=project_path())
    st.error(f"{message}\n\n:small[:gray[Details: {details}]]" if details else message, icon=":material/error:")


@contextmanager
def action(success: str | None = None, *, on_error: Callable[[BaseException], None] | None = None) -> Iterator[bool]:
    """The UI's one error boundary: run the block as the sidebar's researcher (every action is
    recorded under that name); any error becomes ``st.error`` with its catalogue message, never a
    traceback, and the page keeps working. Streamlit's own rerun/stop signals pass through.
    ``on_error``: what to do with the error instead of showing it here (a callback keeps it for the page).

    ``with action() as ok:`` -- ``ok`` is not meaningful inside the block; use :func:`analysis.workbench.widgets.act`
    for an action that must rerun the page on success."""
    try:
        with get_project().acting_as(researcher()):
            yield True
    except ScriptControlException:
        raise
    except Exception as err:  # noqa: BLE001 - the boundary
        (on_error or show_error)(err)
    else:
        if success:
            st.toast(success)
    finally:  # the project may have changed: later reads in this run see its new version
        memo = st.session_state.get("_reads")
        if memo:
            memo.pop("_version", None)


def researcher() -> str:
    """The name recorded as coder/author (sidebar setting, default: the project's user)."""
    return st.session_state.get("researcher") or get_project().user
