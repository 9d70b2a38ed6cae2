"""Optimistic concurrency in the UI (issue 14): what an editor showed when it was first drawn.

A Streamlit form reruns the script on submit, so the values it was drawn with must be kept: ``seen(key,
values)`` remembers ``values`` under the form's key (renewed after every successful action, see
``analysis.workbench.widgets.fresh``) and returns them on every later run, to be passed as ``expected=`` to the edit.
When the edit is refused because someone else changed the thing meanwhile, ``guarded`` forgets them, so
the form is drawn again from the new version and the researcher can redo the edit on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from analysis.errors import ConflictError

T = TypeVar("T")
_KEY = "_seen"


def seen(key: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as they were when the editor ``key`` was first drawn."""
    memo: dict[str, dict[str, Any]] = st.session_state.setdefault(_KEY, {})
    return memo.setdefault(key, dict(values))


def guarded(key: str, fn: Callable[[], T]) -> Callable[[], T]:
    """``fn``, forgetting what editor ``key`` saw when ``fn`` meets a conflicting edit (then re-raised)."""
    def run() -> T:
        try:
            return fn()
        except ConflictError:
            st.session_state.get(_KEY, {}).pop(key, None)
            raise
    return run
