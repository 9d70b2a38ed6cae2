"""The blind mode of a team (issue 14): a coder sees only their own codings until they choose to compare.

Kept in ``st.session_state`` under a plain key (not a widget's, which Streamlit forgets on another
page), set on the Team page; the Read & code view asks :func:`blind_coder` which codings to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import streamlit as st

from analysis.workbench.state import researcher

BLIND = "team_blind"
T = TypeVar("T")


def blind_coder() -> str | None:
    """The researcher whose codings alone are shown, while blind mode is on; else None."""
    return researcher() if st.session_state.get(BLIND) else None


def visible(codings: Sequence[T]) -> list[T]:
    """``codings`` as the researcher may see them now: only their own in blind mode."""
    who = blind_coder()
    return [c for c in codings if who is None or getattr(c, "coder", None) == who]
