"""The sidebar's undo: Undo/Redo buttons, a confirmation before undoing a bulk action (an import, a
merge: :meth:`analysis.Project.is_bulk`) that names what it would reverse, and the undo history (the
last 20 actions that changed data: when, who, what, and whether undone)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis import Project

CONFIRM = "_undo_confirm"
HISTORY = 20
STATES = {"done": "", "undone": " · *undone*", "discarded": " · *undone, redo cleared*", "final": ""}


def undo_controls(project: Project, undo: Any, redo: Any) -> None:
    """Undo/Redo (inside the sidebar), the bulk confirmation, and the history."""
    from analysis.workbench.widgets import act, md_escape, on_click, pending_error, read

    def press_undo() -> None:  # callbacks: the page runs once, already undone (not twice)
        if undo is not None and project.is_bulk(undo):
            st.session_state[CONFIRM] = undo.id  # ask first (below), naming what it reverses
        else:
            on_click(lambda: project.undo(allow_bulk=False, expect=undo.id if undo else None),
                     f"Undone: {undo.summary}" if undo else "Undone", where="sidebar_undo")()

    left, right = st.columns(2)
    left.button("↶ Undo", key="sidebar_undo", disabled=undo is None, width="stretch", on_click=press_undo,
                help=f"Undo: {undo.summary}" if undo else "Nothing to undo")
    right.button("↷ Redo", key="sidebar_redo", disabled=redo is None, width="stretch",
                 on_click=on_click(project.redo, f"Redone: {redo.summary}" if redo else "Redone", where="sidebar_undo"),
                 help=f"Redo: {redo.summary}" if redo else "Nothing to redo")
    pending_error("sidebar_undo")
    pending = st.session_state.get(CONFIRM)
    if pending is not None and (undo is None or undo.id != pending):
        st.session_state.pop(CONFIRM, None)  # the last action changed meanwhile: ask again on the next press
        pending = None
    if pending is not None and undo is not None:
        scope = read(f"undo_scope:{undo.id}", lambda p: p.describe_scope(undo))
        with st.container(border=True, key="undo_confirm"):
            st.markdown(f":material/warning: **This undo reverses a bulk action:** *{md_escape(undo.summary)}* "
                        f"({md_escape(scope)}; by {md_escape(undo.who)}, {undo.at[:16].replace('T', ' ')}). "
                        "Undo it?")
            yes, no = st.columns(2)
            if yes.button("Yes, undo it", key="sidebar_undo_yes", type="primary", width="stretch"):
                st.session_state.pop(CONFIRM, None)
                act(lambda: project.undo(allow_bulk=True, expect=pending), f"Undone: {undo.summary}")
            if no.button("Cancel", key="sidebar_undo_no", width="stretch"):
                st.session_state.pop(CONFIRM, None)
                st.rerun()
    elif undo:
        st.caption(f"Undo would reverse: *{md_escape(undo.summary)}*")
    history(read("undo_history", lambda p: p.undo_history(HISTORY)))


def history(events: list[Any]) -> None:
    """The last actions, newest first: when, who, what (and whether undone)."""
    from analysis.workbench.widgets import md_escape

    with st.expander(f"Undo history · last {len(events)}", icon=":material/history:"):
        if not events:
            st.caption("No actions yet.")
            return
        lines = [f"{e.at[11:16]} · **{md_escape(e.who)}** · {md_escape(e.summary[:90])}{STATES.get(e.state, '')}"
                 for e in events]
        st.caption("  \n".join(lines))
        st.caption("Undo reverses your own last action: the top one of yours that is not undone.")
