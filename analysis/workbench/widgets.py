"""Shared pieces of the workbench pages: the sidebar (researcher, undo/redo, project status), running a
researcher action with a visible outcome, cached reads, pickers and quote cards.

Every page calls :func:`sidebar` first. Actions go through :func:`act`: a domain error becomes an
``st.error`` where the researcher is looking (the project is unchanged, the page keeps working); a
success is announced after a rerun, so every table on the page shows the new state.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from analysis.workbench.pages import page_file
from analysis import Project
from analysis.domain.model import PHASES, Code
from analysis.domain.progress import Progress, Rate, Step, describe
from analysis.workbench.state import (action, cached, get_project, language_model, project_or_stop, researcher, shared,
                                      show_error)

ALL = "All participants"
PHASE_LABELS = {p: f"{i}. {p}" for i, p in enumerate(PHASES, start=1)}
T = TypeVar("T")


# -- reads: cached per project version (analysis.workbench.state.cached) and memoised for the current run ----------
def read(name: str, fn: Callable[[Project], T], *, copy: bool = True) -> T:
    """``fn(project)`` through :func:`analysis.workbench.state.cached`, fetched at most once per script run.

    :func:`sidebar` starts each run with an empty memo, so a page reading the codebook twenty times
    (pickers, tree, forms) pays for one cache lookup; a page that does not call it just gets no memo.
    The result is shared: treat it as read-only. ``copy=False``: through :func:`analysis.workbench.state.shared`
    (no copy per run, for a large result: it must never be changed).
    """
    memo = st.session_state.get("_reads")
    get = cached if copy else shared
    if memo is None:
        return get(name, fn)
    if name not in memo:
        memo[name] = get(name, fn)
    return memo[name]  # type: ignore[no-any-return]  # the memo holds what ``fn`` returned under ``name``


def codes() -> list[Code]:
    return read("codes", lambda p: p.codebook.codes())


def code_paths() -> dict[int, str]:
    return read("code_paths", lambda p: p.codebook.code_paths())


def participants() -> list[Any]:
    return read("participants", lambda p: p.participants.list())


def codings() -> pd.DataFrame:
    """Every coding with code path, theme, participant (+ attributes), transcript, timestamp and text."""
    return read("codings_frame", lambda p: p.explore.codings_frame())


def _family() -> tuple[dict[int | None, list[int]], dict[int, Code]]:
    memo = st.session_state.get("_reads", {})
    if "_family" not in memo:
        children: dict[int | None, list[int]] = {}
        for c in codes():
            children.setdefault(c.parent_id, []).append(c.id)
        memo["_family"] = (children, {c.id: c for c in codes()})
    family: tuple[dict[int | None, list[int]], dict[int, Code]] = memo["_family"]
    return family


def subtree(code_id: int) -> set[int]:
    """``code_id`` and the ids of every code under it."""
    children = _family()[0]
    out, frontier = {code_id}, [code_id]
    while frontier:
        for child in children.get(frontier.pop(), []):
            out.add(child)
            frontier.append(child)
    return out


def ancestors(code_id: int) -> list[int]:
    """``code_id``, its parent, its parent's parent... up to its theme."""
    by_id = _family()[1]
    out, node = [], by_id.get(code_id)
    while node is not None:
        out.append(node.id)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return out


def colour_of(code_id: int) -> str:
    """A code's colour, or its nearest ancestor's (codes often take their theme's colour)."""
    by_id = _family()[1]
    return next((by_id[a].colour for a in ancestors(code_id) if by_id[a].colour), "#999999")


def attribute_values() -> dict[str, list[str]]:
    """``{attribute: sorted values}`` over all participants (stakeholder group, unit, period...)."""
    out: dict[str, set[str]] = {}
    for person in participants():
        for key, value in person.attributes.items():
            if value:
                out.setdefault(key, set()).add(value)
    return {k: sorted(v) for k, v in sorted(out.items())}


# -- actions ----------------------------------------------------------------------------------------
def act(fn: Callable[[], Any], success: str) -> Any:
    """Run one researcher action through the UI's error boundary (:func:`analysis.workbench.state.action`: recorded
    under the sidebar's researcher; an error is shown, nothing changed, ``None`` returned); on success
    the page reruns and announces ``success``."""
    done = False
    result = None
    with action():
        result = fn()
        done = True
    if not done:
        return None
    _changed(success)
    st.rerun()
    return result  # pragma: no cover - st.rerun() does not return


def _changed(success: str) -> None:
    """After an action: announce it on the next run, forget this run's reads, give forms fresh keys."""
    st.session_state["_flash"] = success
    st.session_state["_reads"] = {}
    st.session_state["_generation"] = st.session_state.get("_generation", 0) + 1


PENDING_ERROR = "_pending_error"


def on_click(fn: Callable[[], Any], success: str | Callable[[], str], *, where: str) -> Callable[[], None]:
    """:func:`act` as a widget's ``on_click``/``on_change`` callback. Streamlit runs a callback before
    the page's script, so the page is drawn once, already changed: one script run per click instead of
    act's two (the run that acts, then its rerun). ``fn`` must read the widgets' values from
    ``st.session_state`` (a callback's arguments are those of the run that drew the button). On success
    ``success`` (or what it returns) is announced; an error (nothing changed) is kept for the page to show
    at ``where`` (:func:`pending_error`), beside the button, not at the top of the page where a callback's
    own output would go (and would shift every element below it, closing the expander it came from)."""
    def callback() -> None:
        done = False
        with action(on_error=lambda err: st.session_state.__setitem__(PENDING_ERROR, (where, err))):
            fn()
            done = True
        if done:
            _changed(success() if callable(success) else success)
    return callback


def pending_error(where: str) -> None:
    """Show the error a callback kept for ``where`` (see :func:`on_click`), once."""
    kept = st.session_state.get(PENDING_ERROR)
    if kept and kept[0] == where:
        del st.session_state[PENDING_ERROR]
        show_error(kept[1])


def recorded(fn: Callable[[], bytes]) -> Callable[[], bytes]:
    """A download's data, made when the researcher clicks (Streamlit's deferred download): ``fn`` goes
    through the project's export method, so the download is in the audit trail and the methods report
    under the sidebar's researcher, as the CLI's export is."""
    who = researcher()
    project = get_project()

    def make() -> bytes:
        with project.acting_as(who):
            return fn()
    return make


def fresh(name: str) -> str:
    """A widget key renewed after every successful action, so forms start empty again."""
    return f"{name}-{st.session_state.get('_generation', 0)}"


def _as(project: Project, who: str, fn: Callable[[], Any]) -> Any:
    with project.acting_as(who):
        return fn()


def sidebar() -> Project:
    """The sidebar every page shares; returns the open project."""
    project = project_or_stop()
    st.session_state["_reads"] = {}
    st.session_state.setdefault("researcher", project.user)
    if message := st.session_state.pop("_flash", None):
        st.toast(message, icon=":material/check_circle:")
    who = st.session_state["researcher"]  # undo is per researcher (a team): the candidates are this name's
    undo = read(f"can_undo:{who}", lambda p: _as(p, who, p.can_undo))
    redo = read(f"can_redo:{who}", lambda p: _as(p, who, p.can_redo))
    status = read("status_brief", lambda p: p.status(brief=True))
    from analysis.workbench.embedding_jobs import worker_for

    worker_for(project)  # the first run per process starts the background embedding if vectors are missing
    with st.sidebar:
        # No widget key: keyed widget state does not survive a switch to another page, "researcher" does.
        name = st.text_input("Researcher", value=st.session_state["researcher"],
                             help="Recorded as the author of memos and the coder of codings.").strip()
        if name and name != st.session_state["researcher"]:
            st.session_state["researcher"] = name
        from analysis.workbench.undo_panel import undo_controls  # Undo/Redo, the bulk confirmation, the undo history

        undo_controls(project, undo, redo)
        st.caption(
            f"**{project.path.name}** · {status['transcripts']} transcripts · {status['participants']} participants"
            f" · {status['codes']} codes · {status['codings']} codings"
        )
    return project


# -- the language model, loaded in the background (analysis.workbench.state.LanguageModel) ----------------------------
PREPARING = ("Preparing the language model… semantic search is ready in a moment; keyword search works now. "
             "(It loads once, when the app starts.)")
MODEL_FAILED = "The language model could not be loaded in the background; keyword search works. The reason:"


def embedding_progress(project: Project, *, where: str) -> None:
    """While sentences are still being embedded: a bar (the Project page) or the coverage line (the Assist
    page: "Semantic search covers 41 % of segments so far"), redrawn every few seconds by a fragment that
    stops, rerunning the page once, when the last vector is in."""
    from analysis.workbench.embedding_jobs import worker_for

    worker = worker_for(project)
    if project.assist.coverage().complete and not worker.running():
        return

    @st.fragment(run_every=3)
    def live() -> None:
        coverage = project.assist.coverage()
        state = worker.snapshot()
        if coverage.complete and not state.running:
            st.rerun(scope="app")  # the page redrawn without the bar, its search over every segment
        if where == "project":
            text = state.text or f"Embedding sentences: {coverage.embedded:,} of {coverage.segments:,} segments"
            st.progress(coverage.percent / 100, text=f"{text} (in the background: transcripts are readable "
                                                        "and codable now)")
        else:
            st.info(coverage.text, icon=":material/hourglass_top:")
        if state.error:
            st.warning(f"Embedding stopped: {state.error}", icon=":material/warning:")
        elif not state.running and not worker.enabled:
            st.caption("Background embedding is off here: run `storyloom embed` to finish it.")

    live()


def model_notice() -> None:
    """Say "preparing the language model" while it loads (gone from the next rerun once it is ready).
    Not a polling fragment: reruns every few seconds would compete with the load and the researcher."""
    model = language_model()
    if not model.ready.is_set():
        st.caption(f":material/hourglass_top: {PREPARING}")
    elif model.error:
        st.warning(f"{MODEL_FAILED} {model.error}", icon=":material/warning:")


def wait_for_model(mode: str) -> None:
    """Before a search in ``mode``: wait for the model (semantic and hybrid need it), with a spinner."""
    if mode != "keyword" and not language_model().ready.is_set():
        with st.spinner("Preparing the language model…"):
            language_model().wait()


# -- pickers and display ----------------------------------------------------------------------------
def code_picker(
    label: str, *, key: str, exclude: Sequence[int] = (), none: str | None = None, help: str | None = None,
) -> int | None:
    """A selectbox over the codebook by path (``Theme > Code``); returns a code id (or None for ``none``)."""
    paths = code_paths()
    options: list[int | None] = ([None] if none else []) + [c.id for c in codes() if c.id not in exclude]
    if st.session_state.get(key, options[0] if options else None) not in options:
        st.session_state.pop(key, None)  # the code was merged or deleted since: fall back to the first
    return st.selectbox(label, options, key=key, help=help,
                        format_func=lambda cid: (none or "") if cid is None else paths.get(cid, str(cid)))


def phase_picker(label: str = "Phase", *, key: str, default: str = "coding") -> str:
    return st.selectbox(label, PHASES, index=PHASES.index(default), key=key, format_func=PHASE_LABELS.__getitem__,
                        help="The phase of reflexive thematic analysis (Braun & Clarke) this belongs to.")


def md_escape(text: str) -> str:
    """Text shown as-is inside markdown (no accidental formatting, no HTML)."""
    escaped = html.escape(text, quote=False)
    for ch in "\\`*_{}[]()#+-.!|>~$":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


def quote_card(text: str, *, meta: str) -> None:
    """A quote as a blockquote of plain text (escaped, so the words appear in the page as written),
    with where it comes from underneath (``meta`` is markdown: escape what it quotes)."""
    body = "\n".join(f"> {md_escape(line.strip())}" if line.strip() else ">" for line in text.splitlines() or [""])
    st.markdown(f"{body}\n\n:small[:gray[{meta}]]")


def quote_meta(row: Any, *, code: bool = True) -> str:
    where = [str(row["participant"] or "unknown speaker"), str(row["transcript"])]
    if row.get("timestamp"):
        where.append(str(row["timestamp"]))
    if code:
        where.append(f"coded *{md_escape(str(row['code_path']))}*")
    return " · ".join(where)


def no_codes_yet() -> None:
    st.info(
        "The codebook is empty. Create a first code or theme on the **Codebook** page, or select text in "
        "**Read & code** and code it; a sample codebook in `codebooks/` is brought in by **Sync** on the "
        "Project page."
    )
    st.page_link(page_file("codebook"), label="Open the codebook", icon=":material/account_tree:")


def note_field(key: str) -> str:
    return st.text_area("Reflexive note (why?)", key=key, height=68,
                        placeholder="Why this change: kept in the code's history and the audit trail.")


def confirmed(label: str, key: str) -> bool:
    return st.checkbox(label, key=key)


def act_if_confirmed(ok: bool, fn: Callable[[], Any], success: str) -> Any:
    """:func:`act`, once the researcher has ticked the confirmation box (else a warning, nothing done)."""
    if not ok:
        st.warning("Nothing changed: tick the confirmation box first.", icon=":material/check_box:")
        return None
    return act(fn, success)


def stage_bars(area: Any) -> Progress:
    """A progress callback drawing one bar per stage (reading, splitting, embedding with sentences/s and
    the time left, saving) into ``area`` (a container): an import's, a sync's."""
    bars: dict[str, Any] = {}
    rates: dict[str, Rate] = {}

    def progress(step: Step) -> None:
        if step.stage not in bars:
            bars[step.stage], rates[step.stage] = area.progress(0.0, text=describe(step)), Rate()
        rate, left = rates[step.stage].update(step)
        bars[step.stage].progress(step.fraction, text=describe(step, rate, left))

    return progress
