"""Themes: where coded material sits across participants (theme x participant matrix and heat map),
the quotes behind a cell, how codes co-occur, and a map of themes, codes and their links."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd
import streamlit as st

from analysis import Project
from analysis.workbench.quotes_view import keep, kept, pager, quote_rows, readable_quotes
from analysis.workbench.widgets import ALL, attribute_values, code_paths, codes, codings, colour_of, no_codes_yet, read, sidebar, subtree

EVERYTHING = "All themes and codes"
FILTERS = ["th_code", "th_participant", "th_all_codes", "th_cooc_kind", "th_threshold"]


def matrix_and_cells(
    project: Project, level: str, attributes: dict[str, list[str]] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The theme (or code) x participant matrix, and the same as one row per cell for the heat map."""
    matrix = project.explore.theme_matrix(level=level, attributes=dict(attributes) if attributes else None)
    stacked = matrix.stack()
    cells = pd.DataFrame({"row": stacked.index.get_level_values(0), "participant": stacked.index.get_level_values(1),
                          "codings": stacked.to_numpy()})
    return matrix, cells


def row_ids(level: str) -> dict[str, int]:
    """Matrix row label -> code id (theme names at the theme level, code paths at the code level)."""
    if level == "theme":
        return {c.name: c.id for c in codes() if c.parent_id is None}
    return {path: cid for cid, path in code_paths().items()}


def drill_to(row: str | None, participant: str | None, level: str) -> None:
    """Point the quote list at a matrix cell (called by a click on the table or the heat map)."""
    if row is not None and row in row_ids(level):
        st.session_state["th_code"] = row_ids(level)[row]
    if participant:
        st.session_state["th_participant"] = participant


def on_table_click(matrix: pd.DataFrame, level: str) -> None:
    cells = st.session_state["th_table"].selection.cells
    if cells:
        row, column = cells[0]
        drill_to(matrix.index[int(row)], None if column == matrix.index.name else column, level)


def on_heat_click(level: str) -> None:
    points = st.session_state["th_heat"].selection.get("cell") or []
    if points:
        drill_to(points[0].get("row"), points[0].get("participant"), level)


def heat_map(long: pd.DataFrame, *, x: str, y: str, value: str, order: list[str], title: str, key: str | None = None,
             on_select: Any = "ignore") -> Any:
    """A heat map with the count in each cell; a click selects the cell (``cell`` holds its row and column).

    A plain Vega-Lite spec rather than Altair: Altair validates its schema on every rerun (~100 ms)."""
    spec = {
        "title": {"text": title, "anchor": "start"}, "height": {"step": 30},
        "encoding": {
            "x": {"field": x, "type": "nominal", "title": None, "sort": order if x != "participant" else None,
                  "axis": {"labelAngle": -40, "labelLimit": 180, "labelOverlap": False}},
            "y": {"field": y, "type": "nominal", "title": None, "sort": order, "axis": {"labelLimit": 260}}},
        "layer": [
            {"mark": {"type": "rect", "stroke": "white"},
             "params": [{"name": "cell",
                         "select": {"type": "point", "fields": [y, x], "on": "click", "clear": "dblclick"}}],
             "encoding": {"color": {"field": value, "type": "quantitative", "scale": {"scheme": "blues"},
                                    "legend": None},
                          "opacity": {"condition": {"param": "cell", "value": 1, "empty": True}, "value": 0.55},
                          "tooltip": [{"field": y}, {"field": x}, {"field": value, "type": "quantitative"}]}},
            {"mark": {"type": "text", "fontSize": 11},
             "encoding": {"text": {"field": value, "type": "quantitative"},
                          "color": {"condition": {"test": f"datum['{value}'] > {float(long[value].max()) / 2}",
                                                  "value": "white"}, "value": "#333"}}}]}
    return st.vega_lite_chart(long, spec, key=key, on_select=on_select, selection_mode="cell" if key else None,
                              width="stretch")


def theme_map(cooc: pd.DataFrame, threshold: int) -> str:
    """A DOT picture: themes, their codes, and dashed links between codes that co-occur >= ``threshold`` times."""
    def node(c: Any) -> str:
        label = c.name.replace('"', '\\"')
        shape = ('shape=box, style="rounded,filled", penwidth=2' if c.parent_id is None
                 else 'shape=ellipse, style=filled')
        return f'c{c.id} [label="{label}", {shape}, fillcolor="{colour_of(c.id)}55", color="{colour_of(c.id)}"];'

    lines = ["graph map {", 'graph [rankdir=LR, bgcolor="transparent", overlap=false, splines=true];',
             'node [fontname="Helvetica", fontsize=11]; edge [color="#888888"];']
    lines += [node(c) for c in codes()]
    lines += [f"c{c.parent_id} -- c{c.id} [penwidth=1.5];" for c in codes() if c.parent_id is not None]
    ids = {path: cid for cid, path in code_paths().items()}
    labels, counts = list(cooc.index), cooc.to_numpy()
    for i, j in zip(*np.nonzero(np.triu(counts, k=1) >= threshold)):
        a, b, n = labels[i], labels[j], int(counts[i, j])
        if a in ids and b in ids:
            lines.append(f'c{ids[a]} -- c{ids[b]} [style=dashed, color="#d9534f", label="{n}", fontsize=9, '
                         f'fontcolor="#d9534f", constraint=false, penwidth={1 + min(n, 10) / 4:.2f}];')
    return "\n".join(lines + ["}"])


project = sidebar()
readable_quotes()
st.title("Themes")
st.caption("Themes are constructed by you, the researcher, from your codes. Counts show where coded material sits "
           "across participants, not how important a theme is.")
if not codes():
    no_codes_yet()
    st.stop()

values = attribute_values()
for key in FILTERS + [f"th_filter_{attr}" for attr in values]:
    kept(key)  # filters survive a jump to Read & code and back
filter_cols = st.columns(len(values) + 1)
chosen = {attr: col.multiselect(attr.replace("_", " ").capitalize(), options, key=f"th_filter_{attr}",
                                placeholder="All")
          for col, (attr, options) in zip(filter_cols, values.items())}
all_codes = filter_cols[-1].toggle("Show all codes", key="th_all_codes", help="Rows: every code, not only themes")
level = "code" if all_codes else "theme"
attributes = {k: v for k, v in chosen.items() if v} or None
matrix, cells = read(f"matrix:{level}:{attributes}", lambda p: matrix_and_cells(p, level, attributes))


def matrix_view() -> None:
    if matrix.empty or matrix.shape[1] == 0:
        st.info("No participant matches these filters.")
    else:
        shown = matrix.reset_index()
        st.dataframe(shown, key="th_table", on_select=lambda: on_table_click(matrix, level),
                     selection_mode="single-cell", hide_index=True, width="stretch",
                     column_config={str(matrix.index.name): st.column_config.TextColumn(level.capitalize(), pinned=True)})
        heat_map(cells, x="participant", y="row", value="codings",
                 order=list(matrix.index), title="Codings per participant", key="th_heat",
                 on_select=lambda: on_heat_click(level))
        st.caption("Click a cell (table or heat map) to read its quotes below, or choose with the boxes.")

    st.subheader("Quotes")
    paths = code_paths()
    options = [None, *[c.id for c in codes()]]
    if st.session_state.get("th_code") not in options:  # only a code merged or deleted since
        st.session_state.pop("th_code", None)
    # Every participant, whatever the attribute filters: choosing one filter never resets another (a
    # participant outside the filtered group simply has no quotes here, and the page says so).
    people = [ALL, *[p.pseudonym for p in read("participants", lambda p: p.participants.list())]]
    if st.session_state.get("th_participant", ALL) not in people:
        st.session_state.pop("th_participant", None)
    code_col, person_col = st.columns(2)
    code_id = code_col.selectbox("Theme or code", options, key="th_code",
                                 format_func=lambda cid: EVERYTHING if cid is None else paths[cid])
    person = person_col.selectbox("Participant", people, key="th_participant")
    quotes = codings()
    if code_id is not None:
        quotes = quotes[quotes["code_id"].isin(subtree(code_id))]
    if person != ALL:
        quotes = quotes[quotes["participant"] == person]
    for attr, wanted in (attributes or {}).items():
        quotes = quotes[quotes[attr].isin(wanted)] if attr in quotes else quotes
    quotes = quotes.sort_values("coding_id", ascending=False) if code_id is None else quotes
    first, last = pager(len(quotes), key="th_quotes")
    st.caption(f"{len(quotes)} quotes" + (", newest first" if code_id is None else ", in transcript order")
               + (f"; showing {first + 1}–{last}" if 0 < last - first < len(quotes) else ""))
    if quotes.empty:
        outside = person != ALL and attributes and person not in matrix.columns
        st.info(f"{person} is not among the participants these filters select." if outside
                else "No coded quotes here yet.")
    quote_rows(quotes.iloc[first:last], key="th_q")


def cooc_view() -> None:
    words = {"overlap": "overlap in the text", "turn": "fall in the same turn"}
    kind = st.segmented_control("Codes co-occur when their codings", ["overlap", "turn"], default="overlap",
                                key="th_cooc_kind", required=True, format_func=lambda k: words[k]) or "overlap"
    shown_cooc = read(f"cooc:{kind}:{level}", lambda p: p.explore.cooccurrence(kind=kind, level=level))
    names = {path: path.split(" > ")[-1] for path in shown_cooc.index}
    if len(set(names.values())) < len(names):
        names = {path: path for path in shown_cooc.index}
    pairs = cast("pd.Series[int]", shown_cooc.rename(index=names, columns=names).rename_axis(index="code", columns="with").stack())
    long = pairs.rename("codings").reset_index().query("code != `with` and codings > 0")
    if long.empty:
        st.info("No two codes share a passage yet." if kind == "overlap" else "No two codes share a turn yet.")
    else:
        linked = [n for n in names.values() if n in set(long["code"])]
        heat_map(long, x="with", y="code", value="codings", order=linked,
                 title=f"Co-occurring codings ({'themes' if level == 'theme' else 'codes'} co-occurring at least once)")
        st.caption("Empty cells: no co-occurrence. Co-occurrence is a prompt to reread the passages, not evidence "
                   "of a relationship. 'Show all codes' (above) switches between themes and codes.")


def map_view() -> None:
    kind = st.session_state.get("th_cooc_kind") or "overlap"
    cooc = read(f"cooc:{kind}:code", lambda p: p.explore.cooccurrence(kind=kind, level="code"))
    off = cooc.to_numpy(copy=True)
    np.fill_diagonal(off, 0)
    top = int(off.max()) if off.size else 0
    threshold = st.slider("Link codes that co-occur at least this often", 1, max(top, 2), min(max(top, 1), 3),
                          key="th_threshold") if top else top + 1
    st.graphviz_chart(theme_map(cooc, threshold), width="content")
    st.caption("Boxes: themes; ovals: codes; solid lines: the hierarchy; dashed red lines: codes whose codings "
               f"{'overlap' if kind == 'overlap' else 'fall in the same turn'} at least {threshold} times (choose "
               "overlap or same turn on the Co-occurrence tab). A picture of your codebook to think with.")


# Lazy tabs: only the open tab's code runs (choosing a tab reruns the page), so the co-occurrence
# matrix and the theme map are neither computed nor sent while the researcher reads the matrix.
for tab, view in zip(st.tabs(["Theme × participant", "Co-occurrence", "Theme map"], key="th_tab", on_change="rerun"),
                     (matrix_view, cooc_view, map_view)):
    if tab.open:
        with tab:
            view()
for key in FILTERS + [f"th_filter_{attr}" for attr in values]:
    keep(key)
