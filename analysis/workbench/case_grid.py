"""The Cases page's grid and reads (analysis/workbench/pages/cases.py is the page): the matrix kept per project version in the
session, its grid as a table of ✓ / ✗ / values, and the grid's column widths (the browser test clicks
cells from them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from analysis.domain.cases import OUTCOME_MARK, format_cell
from analysis.workbench.state import get_project

ROW_HEIGHT = 35  # px, the grid's rows (its header row too)
FITS = 960  # px, about the width of the page's main column in a 1440 px window


def widths(m: Any) -> tuple[int, int]:
    """The grid's case column and cell widths in px: wide enough for the longest names where the grid
    still fits the page (a few conditions), else narrower down to 80 px a cell and the grid scrolls
    sideways (a cut name is whole in its column's tooltip)."""
    def px(n: int) -> int:
        return 8 * n + 28

    case = min(max(px(max((len(c.name) for c in m.cases), default=4)), 120), 280)
    fit = (FITS - case) // max(len(m.conditions), 1)
    cell = max(min(px(max((len(label(c)) for c in m.conditions), default=4)), 200, fit), 80)
    return case, cell


def kept(name: str, fn: Callable[[Any], Any]) -> Any:
    """``fn(project)``, computed once per project version and kept in this session as it is (no copy:
    treat it as read-only). The page's big reads (the matrix, its grid, the comparison, a rendered table)
    would otherwise be unpickled from Streamlit's data cache on every rerun (a 50 x 30 matrix: 1,500 cells)."""
    project = get_project()
    run = st.session_state.setdefault("_reads", {})  # emptied by the sidebar at the start of every run
    if "_cs_key" not in run:
        run["_cs_key"] = (str(project.path), project.version())
    key = run["_cs_key"]
    memo: tuple[Any, dict[str, Any]] | None = st.session_state.get("_cs_kept")
    if memo is None or memo[0] != key:
        memo = (key, {})
        st.session_state["_cs_kept"] = memo
    if name not in memo[1]:
        memo[1][name] = fn(project)
    return memo[1][name]


def matrix() -> Any:
    return kept("matrix", lambda p: p.cases.matrix())


def ordered(m: Any) -> list[Any]:
    """The conditions as the grid shows them: the outcome last."""
    return [c for c in m.conditions if not c.is_outcome] + [c for c in m.conditions if c.is_outcome]


def label(c: Any) -> str:
    return str(c.name) + (OUTCOME_MARK if c.is_outcome else "")


def grid(m: Any, *, blank: str = "–") -> pd.DataFrame:
    """Cases as rows, conditions as columns (the outcome last, marked), cells as ✓ / ✗ / value / ``blank``."""
    def shown(case: str, cond: str) -> str:
        cell = m.cells.get((case, cond))
        return blank if cell is None or cell.value is None else format_cell(cell.value)

    data = {label(c): [shown(case.name, c.name) for case in m.cases] for c in ordered(m)}
    return pd.DataFrame(data, index=pd.Index([c.name for c in m.cases], name="case"))
