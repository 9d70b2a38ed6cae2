"""Quotes as the Themes and Participants pages list them: every one reachable (pages of
:data:`PAGE_SIZE`, or all at once), each with where it is (participant, transcript, line, timestamp)
and a button that opens its transcript at that place in Read & code; quote text at WCAG AA contrast.

Filters kept across page switches: Streamlit forgets a widget's value when its page is left, so
:func:`kept` mirrors the chosen values in a plain session key and puts them back on return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from analysis.workbench import media, reading
from analysis.workbench.widgets import md_escape, quote_card

PAGE_SIZE = 40
# Streamlit draws a blockquote at 60% opacity: about 3.9:1 on white, under WCAG AA's 4.5:1 for body
# text. Quotes are what a researcher reads most: full opacity, the theme's text colour (about 13:1).
QUOTE_CSS = ("<style>[data-testid='stMarkdownContainer'] blockquote{opacity:1;color:inherit;"
             "border-left-color:#8a93a3}</style>")


def readable_quotes() -> None:
    """Make the page's quote cards readable (AA contrast); call once per page."""
    st.html(QUOTE_CSS)


def kept(key: str, default: Any = None) -> None:
    """Restore widget ``key``'s value from its mirror when Streamlit has dropped it (the researcher left
    the page and came back), so filters survive a jump to Read & code and back."""
    mirror = st.session_state.setdefault("_kept", {})
    if key not in st.session_state and key in mirror:
        st.session_state[key] = mirror[key]
    elif key not in st.session_state and default is not None:
        st.session_state[key] = default


def keep(key: str) -> None:
    """Mirror widget ``key``'s current value (see :func:`kept`)."""
    if key in st.session_state:
        st.session_state.setdefault("_kept", {})[key] = st.session_state[key]


def where(row: Any, *, code: bool = True) -> str:
    """``Academic A · academic_a.txt · line 12 · 00:01:43 · coded *Theme > Code*`` (markdown)."""
    transcript = str(row["transcript"])
    parts = [md_escape(str(row["participant"] or "unknown speaker")), md_escape(transcript),
             reading.place(transcript, int(row["start"]))]
    if code and "code_path" in row:
        parts.append(f"coded *{md_escape(str(row['code_path']))}*")
    elif "codes" in row:
        parts.append(f"coded {md_escape(', '.join(row['codes']))}")
    return " · ".join(parts)


def pager(total: int, *, key: str) -> tuple[int, int]:
    """``[first, last)`` rows to show: a page of :data:`PAGE_SIZE`, or all with "Show all"."""
    if total <= PAGE_SIZE:
        return 0, total
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    left, right = st.columns([0.3, 0.7], vertical_alignment="bottom")
    show_all = right.toggle(f"Show all {total}", key=f"{key}_all")
    if show_all:
        return 0, total
    if st.session_state.get(f"{key}_page", 1) > pages:
        st.session_state[f"{key}_page"] = pages
    page = int(left.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key=f"{key}_page"))
    return (page - 1) * PAGE_SIZE, min(total, page * PAGE_SIZE)


def quote_rows(rows: pd.DataFrame, *, key: str, code: bool = True, ids: Sequence[int] | None = None) -> None:
    """Each row (a coding: transcript, start, text, coding_id...) as a quote card with where it is and
    an "Open in Read & code" button; ``ids`` (aligned with ``rows``) the coding to open, if not
    ``coding_id``."""
    for i, (_, row) in enumerate(rows.iterrows()):
        quote_card(str(row["text"]), meta=where(row, code=code))
        coding = int(ids[i]) if ids is not None else int(row["coding_id"])
        media.listen(str(row["transcript"]), int(row["start"]), int(row["end"]), key=f"{key}_q{coding}")
        if st.button("Open in Read & code", key=f"{key}_open_{coding}", icon=":material/open_in_new:",
                     type="tertiary", help="Open this transcript at this quote, with its coding shown in the panel."):
            reading.open_in_reader(str(row["transcript"]), coding=coding)
