"""Cases: list and edit cases and conditions; the case x condition matrix as an editable grid (✓ / ✗ /
partial value), each cell's value, note and evidence (the coded passages linked to the case, one-click
attach of the Read & code selection); machine suggestions (never applied by themselves); the
set-theoretic comparison for a chosen outcome; downloads of the publication table."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analysis.cases import OUTCOME_MARK, comparison_table, format_cell, separating_sentence
from ui.state import action, get_project
from ui.widgets import act, code_paths, codings, fresh, md_escape, quote_card, quote_meta, read, sidebar

FORMATS = {"md": "Markdown", "docx": "Word (.docx)", "tex": "LaTeX", "html": "HTML", "csv": "CSV"}
MIME = {"md": "text/markdown", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "tex": "application/x-tex", "html": "text/html", "csv": "text/csv"}
SELECTION = "rc_selection"  # the Read & code page's pending selection ({"transcript", "start", "end"})


def matrix() -> Any:
    return read("cases_matrix", lambda p: p.cases.matrix())


def grid(m: Any) -> pd.DataFrame:
    """Cases as rows, conditions as columns (the outcome last, marked), cells as ✓ / ✗ / value / blank."""
    conds = [c for c in m.conditions if not c.is_outcome] + [c for c in m.conditions if c.is_outcome]
    data = {c.name + (OUTCOME_MARK if c.is_outcome else ""): [
        "" if (v := m.value(case.name, c.name)) is None else format_cell(v) for case in m.cases] for c in conds}
    return pd.DataFrame(data, index=pd.Index([c.name for c in m.cases], name="case"))


def _attributes(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def matrix_tab(m: Any) -> None:
    if not m.cases or not m.conditions:
        st.info("Add cases and conditions (the tabs to the right), or import a matrix built in a spreadsheet.")
        return
    st.caption("Type 1 or ✓ (present), 0 or ✗ (absent), a number between 0 and 1 (partial membership), or clear "
               "the cell (not yet judged). Each change is one undoable action.")
    before = grid(m)
    edited = st.data_editor(before, key=fresh("cs_grid"), width="stretch",
                            column_config={c: st.column_config.TextColumn(c, width="small") for c in before.columns})
    changes = [(case, col, str(edited.at[case, col] or "")) for case in before.index for col in before.columns
               if str(edited.at[case, col] or "") != str(before.at[case, col] or "")]
    if changes:
        project = get_project()

        def apply() -> None:
            for case, col, text in changes:
                project.cases.set_cell(case, col.removesuffix(OUTCOME_MARK), text.strip() or "clear")

        act(apply, f"Set {len(changes)} cell(s)")
    cell_panel(m)


def cell_panel(m: Any) -> None:
    project = get_project()
    st.subheader("A cell: judgement, note and evidence")
    left, right = st.columns(2)
    case = left.selectbox("Case", [c.name for c in m.cases], key="cs_cell_case")
    cond = right.selectbox("Condition", [c.name for c in m.conditions], key="cs_cell_cond")
    cell = m.cells.get((case, cond))
    value = None if cell is None else cell.value
    st.markdown(f"**Value**: {format_cell(value)}" + (" (not yet judged)" if value is None else "")
                + (f" · judged by {md_escape(cell.judged_by)}" if cell and cell.judged_by else "")
                + (" · an accepted machine suggestion" if cell and cell.origin == "suggestion" else ""))
    suggestion = read(f"cs_suggest:{case}:{cond}", lambda p: p.cases.suggestion(case, cond))
    if suggestion and value is None:
        st.info(f"Machine suggestion: present ({suggestion['reason']}). Nothing is set until you accept it.",
                icon=":material/smart_toy:")
        if st.button("Accept the suggestion", key="cs_accept"):
            act(lambda: project.cases.accept_suggestion(case, cond), f"Accepted the suggestion for {case} x {cond}")
    with st.form(fresh("cs_cell_form")):
        choice = st.radio("Judgement", ["present", "absent", "partial", "not yet judged"], horizontal=True,
                          index=3 if value is None else 0 if value == 1.0 else 1 if value == 0.0 else 2)
        partial = st.slider("Partial membership", 0.0, 1.0, value if value not in (None, 0.0, 1.0) else 0.5, 0.05)
        note = st.text_input("Justification", value=cell.note if cell else "")
        if st.form_submit_button("Save the cell"):
            chosen: Any = {"present": 1, "absent": 0, "partial": partial, "not yet judged": "clear"}[choice]
            act(lambda: project.cases.set_cell(case, cond, chosen, note=note), f"Saved {case} x {cond}")
    frame = codings()
    the_case = next(c for c in m.cases if c.name == case)
    attached = set(cell.evidence) if cell else set()
    st.markdown("**Evidence of this cell**" if attached else "*No evidence attached to this cell yet.*")
    for _, row in frame[frame["coding_id"].isin(attached)].iterrows():
        quote_card(str(row["text"]), meta=quote_meta(row))
        if st.button("Detach", key=f"cs_detach_{row['coding_id']}"):
            cid = int(row["coding_id"])
            act(lambda: project.cases.detach_evidence(case, cond, cid), "Detached the passage")
    linked = frame[frame["coding_id"].isin(set(the_case.evidence) - attached)]
    condition = next(c for c in m.conditions if c.name == cond)
    if condition.code_id is not None:
        paths = code_paths()
        st.caption(f"Tied to the code *{md_escape(paths.get(condition.code_id, ''))}*: its passages are listed first.")
        linked = linked.assign(_tied=linked["code_id"] == condition.code_id).sort_values("_tied", ascending=False)
    if not linked.empty:
        options = {int(r["coding_id"]): f"{r['code']} · {r['participant']}: {str(r['text'])[:90]}"
                   for _, r in linked.iterrows()}
        picked = st.multiselect("Attach passages linked to this case", list(options), format_func=options.get,
                                key=fresh("cs_attach"))
        if picked and st.button("Attach", key="cs_attach_btn"):
            act(lambda: project.cases.attach_evidence(case, cond, picked), f"Attached {len(picked)} passage(s)")
    selection = st.session_state.get(SELECTION)
    if selection:
        found = read(f"cs_sel:{selection['transcript']}:{selection['start']}:{selection['end']}",
                     lambda p: p.cases.codings_in_selection(selection["transcript"], selection["start"], selection["end"]))
        label = f"Attach the Read & code selection ({len(found)} coding(s) in {selection['transcript']})"
        if st.button(label, key="cs_attach_sel", disabled=not found):
            act(lambda: project.cases.attach_evidence(case, cond, found), f"Attached {len(found)} passage(s)")


def cases_tab(m: Any) -> None:
    project = get_project()
    if m.cases:
        st.dataframe(pd.DataFrame([{"case": c.name, "kind": c.kind, "description": c.description,
                                    "attributes": ", ".join(f"{k}={v}" for k, v in c.attributes.items()),
                                    "participants": ", ".join(c.participants), "linked passages": len(c.evidence)}
                                   for c in m.cases]), hide_index=True, width="stretch")
    with st.form(fresh("cs_add_case")):
        st.markdown("**Add a case**")
        a, b = st.columns(2)
        name = a.text_input("Name", placeholder="Programme A")
        kind = b.text_input("Kind", value="programme", help="participant, programme, organisation, event...")
        description = st.text_input("Description")
        attrs = st.text_area("Attributes (one KEY=VALUE a line)", height=68)
        if st.form_submit_button("Add case"):
            act(lambda: project.cases.add(name, kind=kind, description=description, attributes=_attributes(attrs)),
                f"Added case {name}")
    if st.button("Make a case of every participant", key="cs_from_people"):
        act(lambda: project.cases.from_participants(), "Made participant cases")
    if m.cases:
        with st.form(fresh("cs_edit_case")):
            st.markdown("**Edit, link or remove a case**")
            case = st.selectbox("Case", [c.name for c in m.cases])
            new_name = st.text_input("New name (blank: keep)")
            coding = st.number_input("Link coding id (0: none)", min_value=0, step=1)
            remove = st.checkbox("Remove this case (undoable)")
            if st.form_submit_button("Apply"):
                def apply() -> None:
                    if remove:
                        project.cases.remove(case)
                        return
                    if new_name.strip():
                        project.cases.edit(case, new_name=new_name)
                    if coding:
                        project.cases.link(new_name.strip() or case, coding=int(coding))
                act(apply, f"Updated {case}")


def conditions_tab(m: Any) -> None:
    project = get_project()
    if m.conditions:
        st.dataframe(pd.DataFrame([{"condition": c.name, "code": c.code, "outcome": c.is_outcome,
                                    "description": c.description} for c in m.conditions]),
                     hide_index=True, width="stretch")
    paths = code_paths()
    with st.form(fresh("cs_add_cond")):
        st.markdown("**Add a condition**")
        name = st.text_input("Name", placeholder="Commissioned by a client")
        code = st.selectbox("Tied to code (optional)", [None, *paths], format_func=lambda c: "none" if c is None else paths[c])
        outcome = st.checkbox("This is the outcome")
        if st.form_submit_button("Add condition"):
            act(lambda: project.cases.add_condition(name, code=code, outcome=outcome), f"Added condition {name}")
    if m.conditions:
        with st.form(fresh("cs_edit_cond")):
            cond = st.selectbox("Condition", [c.name for c in m.conditions])
            make_outcome = st.checkbox("Make it the outcome")
            remove = st.checkbox("Remove it with its cells (undoable)")
            if st.form_submit_button("Apply"):
                act(lambda: project.cases.remove_condition(cond) if remove
                    else project.cases.edit_condition(cond, outcome=True) if make_outcome else None, f"Updated {cond}")


def compare_tab(m: Any) -> None:
    if not m.conditions:
        st.info("Add conditions and an outcome first.")
        return
    names = [c.name for c in m.conditions]
    default = names.index(m.outcome) if m.outcome in names else 0
    outcome = st.selectbox("Outcome", names, index=default, key="cs_outcome")
    judged = any(m.value(c.name, outcome) is not None for c in m.cases)
    if not judged:
        st.info(f"No case is judged on '{outcome}' yet.")
        return
    result = read(f"cs_compare:{outcome}", lambda p: p.cases.compare(outcome))
    st.markdown(f"**{md_escape(separating_sentence(result))}**")
    st.caption(result["note"])
    header, rows = comparison_table(result)
    st.dataframe(pd.DataFrame(rows, columns=header), hide_index=True, width="stretch")
    st.markdown("**Truth table**")
    st.dataframe(pd.DataFrame([{**{k: format_cell(float(v)) for k, v in r["configuration"].items()},
                                "cases": ", ".join(r["cases"]), "outcome": r["outcome"],
                                "consistency": r["consistency"]} for r in result["truth_table"]]),
                 hide_index=True, width="stretch")
    for c in result["contradictions"]:
        st.warning(f"Contradictory configuration: {', '.join(c['with_outcome'])} have the outcome, "
                   f"{', '.join(c['without_outcome'])} do not.", icon=":material/warning:")
    if result["incomplete_cases"]:
        st.caption("Left out of the truth table (not judged on every condition, or at 0.5): "
                   + ", ".join(c["case"] for c in result["incomplete_cases"]))


def downloads_tab(m: Any) -> None:
    project = get_project()
    if not m.cases or not m.conditions:
        st.info("Nothing to download yet.")
    else:
        a, b, c = st.columns(3)
        fmt = a.selectbox("Format", list(FORMATS), format_func=FORMATS.get, key="cs_fmt")
        cases_as = b.radio("Cases as", ["columns", "rows"], horizontal=True, key="cs_orient")
        evidence = c.checkbox("Evidence appendix", key="cs_evidence", disabled=fmt == "csv")
        data: bytes | None = None
        with action():
            data = (project.cases.matrix_frame(cases_as="rows" if cases_as == "rows" else "columns")
                    .to_csv(index=False).encode("utf-8-sig") if fmt == "csv"
                    else project.cases.render(fmt, cases_as=cases_as, evidence=evidence))
        if data is not None:
            st.download_button(f"Download {FORMATS[fmt]}", data, file_name=f"case-matrix.{fmt}", mime=MIME[fmt],
                               on_click=lambda: project.cases.log_download(fmt, cases_as=cases_as, evidence=evidence))
    st.markdown("**Import a matrix (CSV)**")
    upload = st.file_uploader("CSV: first header cell 'case' (cases as rows) or 'condition' (cases as columns)",
                              type=["csv"], key=fresh("cs_upload"))
    if upload is not None and st.button("Import", key="cs_import"):
        act(lambda: project.cases.import_csv(upload.name, data=upload.getvalue()), f"Imported {upload.name}")


project = sidebar()
st.title("Cases")
st.caption("Compare cases (programmes, units, participants...) against conditions: each cell is your judgement, "
           "justified by coded passages. Machine suggestions are labelled and never set a cell by themselves.")
m = matrix()
tabs = st.tabs(["Matrix", "Cases", "Conditions", "Compare", "Downloads & import"])
with tabs[0]:
    matrix_tab(m)
with tabs[1]:
    cases_tab(m)
with tabs[2]:
    conditions_tab(m)
with tabs[3]:
    compare_tab(m)
with tabs[4]:
    downloads_tab(m)
