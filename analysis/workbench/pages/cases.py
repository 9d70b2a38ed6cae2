"""Cases: list and edit cases and conditions; the case x condition matrix as an editable grid (✓ / ✗ /
partial value), each cell's value, note and evidence (the coded passages linked to the case, one-click
attach of the Read & code selection); machine suggestions (never applied by themselves); the
set-theoretic comparison for a chosen outcome; downloads of the publication table."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis.domain.cases import LEGEND, OUTCOME_MARK, Comparison, comparison_table, format_cell, separating_sentence
from analysis.export import BY_NAME, formats_for
from analysis.workbench import media
from analysis.workbench.case_grid import ROW_HEIGHT, grid, kept, label, matrix, ordered, widths
from analysis.workbench.state import action, get_project
from analysis.workbench.widgets import act, code_paths, codings, fresh, md_escape, participants, quote_card, quote_meta, sidebar

FORMATS = {f: BY_NAME[f].label for f in formats_for("matrix")}  # the export registry's, as every download's
SELECTION, CLICKED = "rc_selection", "rc_clicked"  # Read & code's pending selection / clicked highlight
TABS = ["Matrix", "Cases", "Conditions", "Compare", "Downloads & import"]
GRID, CASE_KEY, COND_KEY, SEEN, CELL = "cs_grid", "cs_cell_case", "cs_cell_cond", "cs_grid_seen", "cs_cell"


def _attributes(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def matrix_tab(m: Any) -> None:
    if not m.cases or not m.conditions:
        st.info("Add cases and conditions (the tabs to the right), or import a matrix built in a spreadsheet "
                "(**Downloads & import**).")
        return
    judged = sum(1 for c in m.cells.values() if c.value is not None)
    evidenced = sum(1 for c in m.cells.values() if c.value is not None and c.evidence)
    head, toggle = st.columns([0.75, 0.25], vertical_alignment="center")
    head.caption(f"{len(m.cases)} cases x {len(m.conditions)} conditions · {judged} of "
                 f"{len(m.cases) * len(m.conditions)} cells judged, {evidenced} with evidence · {LEGEND}")
    typing = toggle.toggle("Type into the grid", key="cs_typing",
                           help="Off: click a cell to judge it below and see its evidence. On: type 1 or ✓, 0 or ✗, "
                                "a number between 0 and 1, or clear a cell; each change is one undoable action.")
    frame = kept("grid:typing" if typing else "grid", lambda _p: grid(m, blank="" if typing else "–"))
    height = min(ROW_HEIGHT * (len(m.cases) + 1) + 3, 16 * ROW_HEIGHT)
    about = {label(c): f"{label(c)}: {c.description}" if c.description else label(c) for c in m.conditions}
    case_width, cell_width = widths(m)
    columns: dict[str, Any] = {c: st.column_config.TextColumn(c, width=cell_width, help=about.get(c), alignment="center")
                               for c in frame.columns}
    columns["_index"] = st.column_config.TextColumn("case", width=case_width, pinned=True)
    if typing:
        key = fresh("cs_editor")
        st.data_editor(frame, key=key, width="stretch", height=height, row_height=ROW_HEIGHT,
                       column_config=columns, disabled=["case"])
        edits = (st.session_state.get(key) or {}).get("edited_rows", {})
        changes = [(frame.index[int(row)], col, str(text or "")) for row, cols in edits.items()
                   for col, text in cols.items()]
        if changes:
            project = get_project()

            def apply() -> None:
                for case, col, text in changes:
                    project.cases.set_cell(case, col.removesuffix(OUTCOME_MARK), text.strip() or "clear")

            act(apply, f"Set {len(changes)} cell(s)")
    else:
        event = st.dataframe(frame, key=GRID, on_select="rerun", selection_mode="single-cell", width="stretch",
                             height=height, row_height=ROW_HEIGHT, column_config=columns)
        cells = event.selection.cells if event is not None else []
        picked = (frame.index[int(cells[0][0])], str(cells[0][1]).removesuffix(OUTCOME_MARK)) if cells else None
        if picked and picked != st.session_state.get(SEEN):  # a new click in the grid: show that cell below
            st.session_state[SEEN] = picked
            if picked[1] in {c.name for c in m.conditions}:
                st.session_state[CASE_KEY], st.session_state[COND_KEY] = picked
    cell_panel(m)


def _short(text: str, n: int = 12) -> str:
    words = str(text).split()
    return " ".join(words[:n]) + (" …" if len(words) > n else "")


def cell_panel(m: Any) -> None:
    project = get_project()
    names, conds = [c.name for c in m.cases], [c.name for c in ordered(m)]
    last = st.session_state.get(CELL) or (None, None)  # the cell shown last (widget state goes with another page)
    if st.session_state.get(CASE_KEY) not in names:
        st.session_state[CASE_KEY] = last[0] if last[0] in names else names[0]
    if st.session_state.get(COND_KEY) not in conds:
        st.session_state[COND_KEY] = last[1] if last[1] in conds else conds[0]
    with st.container(border=True):
        left, right = st.columns(2)
        case = left.selectbox("Case", names, key=CASE_KEY)
        cond = right.selectbox("Condition", conds, key=COND_KEY)
        st.session_state[CELL] = (case, cond)
        cell = m.cells.get((case, cond))
        value = None if cell is None else cell.value
        condition = next(c for c in m.conditions if c.name == cond)
        st.markdown(f"#### {md_escape(case)} × {md_escape(cond)}: {format_cell(value)}"
                    + (" :gray[(not yet judged)]" if value is None else ""))
        about = [f"judged by {md_escape(cell.judged_by)}" if cell and cell.judged_by and value is not None else "",
                 "an accepted machine suggestion" if cell and cell.origin == "suggestion" and value is not None else "",
                 "imported" if cell and cell.origin == "import" and value is not None else "",
                 f"what counts as present: {md_escape(condition.description)}" if condition.description else ""]
        if any(about):
            st.caption(" · ".join(a for a in about if a))
        quick = st.columns(4)
        choices: list[tuple[str, str | float]] = [("✓ Present", 1), ("✗ Absent", 0), ("Not yet judged", "clear")]
        for col, (text, chosen) in zip(quick, choices):
            if col.button(text, key=f"cs_set_{chosen}", width="stretch", disabled=value == chosen or (
                    chosen == "clear" and value is None)):
                act(lambda: project.cases.set_cell(case, cond, chosen), f"{case} x {cond}: {text}")
        suggestion = kept(f"suggest:{case}:{cond}", lambda p: p.cases.suggestion(case, cond))
        if suggestion and value is None:
            st.info(f"Machine suggestion: present ({suggestion.reason}). Nothing is set until you accept it.",
                    icon=":material/smart_toy:")
            if quick[3].button("Accept the suggestion", key="cs_accept", width="stretch"):
                act(lambda: project.cases.accept_suggestion(case, cond), f"Accepted the suggestion for {case} x {cond}")
        with st.form(fresh("cs_cell_form")):
            choice = st.radio("Judgement", ["present", "absent", "partial", "not yet judged"], horizontal=True,
                              index=3 if value is None else 0 if value == 1.0 else 1 if value == 0.0 else 2)
            partial = st.slider("Partial membership", 0.0, 1.0, value if value not in (None, 0.0, 1.0) else 0.5, 0.05,
                                help="For fuzzy sets: above 0.5 more in than out, below 0.5 more out than in.")
            note = st.text_input("Justification", value=cell.note if cell else "",
                                 placeholder="A short reason, e.g. 'Built at the council's request for its staff.'")
            if st.form_submit_button("Save the cell"):
                chosen_value: Any = {"present": 1, "absent": 0, "partial": partial, "not yet judged": "clear"}[choice]
                act(lambda: project.cases.set_cell(case, cond, chosen_value, note=note), f"Saved {case} x {cond}")
        evidence_panel(m, case, cond, cell, condition)


def evidence_panel(m: Any, case: str, cond: str, cell: Any, condition: Any) -> None:
    project = get_project()
    frame = codings()
    the_case = next(c for c in m.cases if c.name == case)
    attached = list(cell.evidence) if cell else []
    st.markdown(f"**Evidence of this cell** · {len(attached)}" if attached else "*No evidence attached to this cell yet.*")
    shown = frame[frame["coding_id"].isin(attached)]
    for _, row in shown.iterrows():
        quote, button = st.columns([0.88, 0.12], vertical_alignment="center")
        cid = int(row["coding_id"])
        with quote:
            quote_card(str(row["text"]), meta=quote_meta(row))
            media.listen(str(row["transcript"]), int(row["start"]), int(row["end"]), key=f"cs_q{cid}")
        if button.button("Detach", key=f"cs_detach_{cid}", help="Detach this passage from the cell (it stays linked "
                         "to the case)"):
            act(lambda: project.cases.detach_evidence(case, cond, cid), "Detached the passage")
    offered = frame[frame["coding_id"].isin(set(the_case.evidence) - set(attached))]
    if condition.code_id is not None:
        paths = code_paths()
        tied = frame[(frame["code_id"] == condition.code_id) & ~frame["coding_id"].isin([*attached, *the_case.evidence])]
        st.caption(f"Tied to the code *{md_escape(paths.get(condition.code_id, ''))}*: its passages are offered first.")
        offered = pd.concat([offered[offered["code_id"] == condition.code_id], tied,
                             offered[offered["code_id"] != condition.code_id]])
    if not offered.empty:
        linked = set(the_case.evidence)
        options = {int(r["coding_id"]): f"{r['code']} · {r['participant']}: {_short(r['text'])}"
                   + ("" if int(r["coding_id"]) in linked else " (not yet linked to this case)")
                   for _, r in offered.iterrows()}
        pick, go = st.columns([0.8, 0.2], vertical_alignment="bottom")
        picked = pick.multiselect("Attach passages (linked to this case, or coded with the condition's code)",
                                  list(options), format_func=options.__getitem__, key=fresh("cs_attach"))
        if go.button("Attach", key="cs_attach_btn", disabled=not picked, width="stretch"):
            act(lambda: project.cases.attach_evidence(case, cond, picked), f"Attached {len(picked)} passage(s)")
    from_read_code(case, cond, attached)


def from_read_code(case: str, cond: str, attached: list[int]) -> None:
    """One click attaches what is selected on Read & code: the codings under the pending selection, or
    those of the highlight clicked there."""
    project = get_project()
    selection, clicked = st.session_state.get(SELECTION), st.session_state.get(CLICKED)
    found: list[int] = []
    where = ""
    if selection:
        found = kept(f"sel:{selection['transcript']}:{selection['start']}:{selection['end']}",
                     lambda p: p.cases.codings_in_selection(selection["transcript"], selection["start"], selection["end"]))
        where = f"the passage selected in {selection['transcript']}"
    elif clicked and clicked.get("ids"):
        found = [int(i) for i in clicked["ids"]]
        where = f"the highlight clicked in {clicked.get('transcript', '')}"
    if not where:
        st.caption("To attach a passage as you read: select it (or click its highlight) on **Read & code**, "
                   "then come back here.")
        return
    new = [i for i in found if i not in attached]
    frame = codings()
    texts = frame[frame["coding_id"].isin(new)]
    quotes = "; ".join(f"“{_short(t, 8)}”" for t in texts["text"].head(3))
    if not found:
        st.caption(f"Read & code: {md_escape(where)} is not coded yet. Code it there first, then attach it here.")
    elif not new:
        st.caption(f"Read & code: {md_escape(where)} is already evidence of this cell.")
    elif st.button(f"Attach from Read & code: {len(new)} coded passage(s) in {where}", key="cs_attach_sel",
                   icon=":material/attach_file:", help=quotes):
        act(lambda: project.cases.attach_evidence(case, cond, new), f"Attached {len(new)} passage(s) from Read & code")


def cases_tab(m: Any) -> None:
    project = get_project()
    if m.cases:
        st.dataframe(pd.DataFrame([{"case": c.name, "kind": c.kind, "description": c.description,
                                    "attributes": ", ".join(f"{k}={v}" for k, v in c.attributes.items()),
                                    "participants": ", ".join(c.participants), "linked passages": len(c.evidence)}
                                   for c in m.cases]), hide_index=True, width="stretch")
    left, right = st.columns(2, gap="medium")
    with left, st.form(fresh("cs_add_case")):
        st.markdown("**Add a case**")
        a, b = st.columns(2)
        name = a.text_input("Name", placeholder="Programme A")
        kind = b.text_input("Kind", value="programme", help="participant, programme, organisation, event...")
        description = st.text_input("Description")
        attrs = st.text_area("Attributes (one KEY=VALUE a line)", height=68, placeholder="sector=health")
        if st.form_submit_button("Add case"):
            act(lambda: project.cases.add(name, kind=kind, description=description, attributes=_attributes(attrs)),
                f"Added case {name}")
    with right:
        if m.cases:
            case = st.selectbox("Edit a case", [c.name for c in m.cases], key="cs_edit_pick")
            the_case = next(c for c in m.cases if c.name == case)
            with st.form(fresh(f"cs_edit_case:{case}")):
                a, b = st.columns(2)
                new_name = a.text_input("Name", value=the_case.name)
                kind = b.text_input("Kind", value=the_case.kind)
                description = st.text_input("Description", value=the_case.description)
                attrs = st.text_area("Attributes (one KEY=VALUE a line)", height=68,
                                     value="\n".join(f"{k}={v}" for k, v in the_case.attributes.items()))
                people = [p.pseudonym for p in participants()]
                linked = st.multiselect("Participants linked to it", people, default=[p for p in the_case.participants
                                                                                      if p in people])
                remove = st.checkbox("Remove this case with its links and cells (undoable)")
                if st.form_submit_button("Save the case"):
                    def apply() -> None:
                        if remove:
                            project.cases.remove(case)
                            return
                        project.cases.edit(case, new_name=new_name, kind=kind, description=description,
                                           attributes=_attributes(attrs))
                        now = new_name.strip() or case
                        for person in set(linked) - set(the_case.participants):
                            project.cases.link(now, participant=person)
                        for person in set(the_case.participants) - set(linked):
                            project.cases.unlink(now, participant=person)
                    act(apply, f"Removed {case}" if remove else f"Saved {new_name.strip() or case}")
        if st.button("Make a case of every participant", key="cs_from_people",
                     help="A case of kind 'participant' for each participant that has none of that name, linked to them."):
            act(lambda: project.cases.from_participants(), "Made participant cases")


def conditions_tab(m: Any) -> None:
    project = get_project()
    if m.conditions:
        st.dataframe(pd.DataFrame([{"condition": c.name, "code": c.code, "outcome": c.is_outcome,
                                    "description": c.description} for c in m.conditions]),
                     hide_index=True, width="stretch")
    paths = code_paths()
    left, right = st.columns(2, gap="medium")
    with left, st.form(fresh("cs_add_cond")):
        st.markdown("**Add a condition**")
        name = st.text_input("Name", placeholder="Commissioned by a client")
        description = st.text_input("What counts as present", placeholder="1: built at one client's request")
        code = st.selectbox("Tied to code (optional)", [None, *paths], format_func=lambda c: "none" if c is None else paths[c],
                            help="Passages coded with it and linked to a case are offered as evidence, and the "
                                 "machine may suggest 'present' (you decide).")
        outcome = st.checkbox("This is the outcome")
        if st.form_submit_button("Add condition"):
            act(lambda: project.cases.add_condition(name, code=code, outcome=outcome, description=description),
                f"Added condition {name}")
    with right:
        if m.conditions:
            cond = st.selectbox("Edit a condition", [c.name for c in m.conditions], key="cs_edit_cond_pick")
            the = next(c for c in m.conditions if c.name == cond)
            with st.form(fresh(f"cs_edit_cond:{cond}")):
                new_name = st.text_input("Name", value=the.name)
                description = st.text_input("What counts as present", value=the.description)
                options = [None, *paths]
                tied = st.selectbox("Tied to code", options, index=options.index(the.code_id) if the.code_id in paths else 0,
                                    format_func=lambda c: "none" if c is None else paths[c])
                make_outcome = st.checkbox("This is the outcome", value=the.is_outcome)
                remove = st.checkbox("Remove it with its cells (undoable)")
                if st.form_submit_button("Save the condition"):
                    act(lambda: project.cases.remove_condition(cond) if remove else project.cases.edit_condition(
                        cond, new_name=new_name, description=description, code=tied, untie=tied is None,
                        outcome=make_outcome), f"Removed {cond}" if remove else f"Saved {new_name.strip() or cond}")


def compare_tab(m: Any) -> None:
    if not m.conditions:
        st.info("Add conditions and an outcome first.")
        return
    names = [c.name for c in m.conditions]
    if st.session_state.get("cs_outcome") not in names:
        st.session_state["cs_outcome"] = m.outcome if m.outcome in names else names[0]
    outcome = st.selectbox("Outcome", names, key="cs_outcome",
                           help="The condition marked as the outcome is chosen first; any other can be compared too.")
    judged = any(m.value(c.name, outcome) is not None for c in m.cases)
    if not judged:
        st.info(f"No case is judged on '{outcome}' yet.")
        return
    result: Comparison | None = None
    with action():
        result = kept(f"compare:{outcome}", lambda p: p.cases.compare(outcome))
    if result is None:
        return
    st.markdown(f"**{md_escape(separating_sentence(result))}**")
    st.caption(result.note)
    header, rows = comparison_table(result)
    st.dataframe(pd.DataFrame(rows, columns=header), hide_index=True, width="stretch")
    st.markdown("**The cases by outcome** · the cases with the outcome first, separating conditions first")
    order = [*result.with_outcome, *[c for c in result.cases if c not in result.with_outcome]]
    first = [s.name for s in result.separating]
    cols = [label(c) for c in ordered(m) if c.name in first] + [label(c) for c in ordered(m) if c.name not in first]
    by_outcome = grid(m).loc[order, cols]
    st.dataframe(by_outcome, width="stretch")
    st.markdown("**Truth table**")
    st.dataframe(pd.DataFrame([{**{k: format_cell(float(v)) for k, v in r.configuration.items()},
                                "cases": ", ".join(r.cases), "outcome": r.outcome,
                                "consistency": r.consistency} for r in result.truth_table]),
                 hide_index=True, width="stretch")
    for c in result.contradictions:
        st.warning(f"Contradictory configuration: {', '.join(c.with_outcome)} have the outcome, "
                   f"{', '.join(c.without_outcome)} do not.", icon=":material/warning:")
    if result.incomplete_cases:
        st.caption("Left out of the truth table (not judged on every condition, or at 0.5): "
                   + ", ".join(c.case for c in result.incomplete_cases))


def downloads_tab(m: Any) -> None:
    project = get_project()
    if not m.cases or not m.conditions:
        st.info("Nothing to download yet.")
    else:
        a, b, c = st.columns(3)
        fmt = a.selectbox("Format", list(FORMATS), format_func=FORMATS.__getitem__, key="cs_fmt")
        cases_as = b.radio("Cases as", ["columns", "rows"], horizontal=True, key="cs_orient")
        evidence = c.checkbox("Evidence appendix", key="cs_evidence", disabled=fmt == "csv",
                              help="For each judged cell, its justifying quotes with attribution, checked word for "
                                   "word against the transcripts (XLSX: a second sheet; CLI: a second CSV file).")
        evidence = evidence and fmt != "csv"
        data: bytes | None = None
        with action():
            data = kept(f"table:{fmt}:{cases_as}:{evidence}",
                        lambda p: p.case_tables.table_bytes(fmt, cases_as=cases_as, evidence=evidence))
        if data is not None:
            st.download_button(f"Download {FORMATS[fmt]}", data, file_name=f"case-matrix.{fmt}", mime=BY_NAME[fmt].mime,
                               on_click=lambda: project.case_tables.log_download(fmt, cases_as=cases_as, evidence=evidence),
                               icon=":material/download:")
    st.markdown("**Import a matrix (CSV)**")
    upload = st.file_uploader("CSV: first header cell 'case' (cases as rows) or 'condition' (cases as columns); "
                              "cells 1/0, ✓/✗, X, yes/no, a number between 0 and 1, or blank",
                              type=["csv"], key=fresh("cs_upload"))
    if upload is not None and st.button("Import", key="cs_import"):
        act(lambda: project.case_tables.import_csv(upload.name, data=upload.getvalue()), f"Imported {upload.name}")


project = sidebar()
st.title("Cases")
st.caption("Compare cases (programmes, units, participants...) against conditions: each cell is your judgement, "
           "justified by coded passages. Machine suggestions are labelled and never set a cell by themselves.")
m = matrix()
# Only the open tab runs (a 50 x 30 matrix, its comparison and its downloads are not built on every rerun).
tabs = st.tabs(TABS, key="cs_tab", on_change="rerun")
for tab, render in zip(tabs, (matrix_tab, cases_tab, conditions_tab, compare_tab, downloads_tab)):
    if tab.open:
        with tab:
            render(m)
