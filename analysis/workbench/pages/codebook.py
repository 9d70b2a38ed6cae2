"""Codebook: the hierarchy of themes and codes with their counts; edit, move, merge, split and delete a
code (each with a reflexive note); its history; snapshots of the codebook and what changed between two."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import Project
from analysis.domain.model import CODE_KINDS, CODE_STATUSES, Code
from analysis.workbench.seen import guarded, seen
from analysis.workbench.widgets import (PHASE_LABELS, act, act_if_confirmed, ancestors, code_paths, code_picker, codes, codings,
                        colour_of, confirmed, fresh, md_escape, note_field, phase_picker, read, sidebar)

MARKS = {"theme": "◆", "candidate theme": "◇", "code": "●"}
FIELDS = {"definition": "Definition", "inclusion": "Include when…", "exclusion": "Exclude when…",
          "example": "Example"}


def tree_table() -> pd.DataFrame:
    """One row per code, indented under its parent, with codings and participants (its own and its sub-codes')."""
    frame = codings()[["code_id", "participant"]]
    frame = frame.assign(participant=frame["participant"].where(frame["participant"] != "(interviewer)"),
                         node=frame["code_id"].map({c.id: ancestors(c.id) for c in codes()})).explode("node")
    counts = frame.groupby("node").agg(codings=("code_id", "size"), participants=("participant", "nunique"))
    rows = [{"id": c.id, "●": MARKS.get(c.kind, "●"), "code": "\u2003" * (len(ancestors(c.id)) - 1) + c.name,
             "codings": int(counts["codings"].get(c.id, 0)), "participants": int(counts["participants"].get(c.id, 0)),
             "colour": colour_of(c.id)} for c in codes()]
    return pd.DataFrame(rows, columns=["id", "●", "code", "codings", "participants", "colour"])


def tree() -> None:
    """The codebook as an indented table; clicking a row opens that code on the right."""
    table = read("cb_tree_table", lambda p: tree_table())  # once per project version, not every rerun
    ids, colours = table.pop("id").tolist(), table.pop("colour")
    number = st.column_config.NumberColumn
    st.dataframe(table.style.apply(lambda _: [f"color: {c}" for c in colours], subset=["●"]), key="cb_tree",
                 on_select=lambda: pick_from_tree(ids), selection_mode=["single-row", "single-cell"], hide_index=True,
                 height=min(38 + 35 * len(table), 640), width="stretch",
                 column_config={"●": st.column_config.TextColumn("", width=24),
                                "code": st.column_config.TextColumn("Code or theme"),
                                "codings": number(help="Codings of it and its sub-codes", width="small"),
                                "participants": number("people", help="Participants with such codings", width="small")})
    st.caption("◆ theme · ◇ candidate theme · ● code. Click a row to open it. Counts show where coded material "
               "sits, not how much a theme matters.")


def pick_from_tree(ids: list[int]) -> None:
    selection = st.session_state["cb_tree"].selection
    rows = selection.rows or [row for row, _column in selection.cells]
    if rows:
        st.session_state["cb_code"] = ids[int(rows[0])]


def add_code_form(project: Project) -> None:
    with st.form(fresh("add-code")):
        name_col, kind_col, parent_col = st.columns([3, 2, 3])
        name = name_col.text_input("Name", placeholder="e.g. Approval burden")
        kind = kind_col.selectbox("Kind", CODE_KINDS, index=CODE_KINDS.index("code"))
        with parent_col:
            parent = code_picker("Under", key=fresh("add-parent"), none="(top level)")
        definition = st.text_input("Definition", placeholder="What this code captures")
        note = note_field(fresh("add-note"))
        if st.form_submit_button("Add", type="primary"):
            act(lambda: project.codebook.add_code(name, kind=kind, parent=parent, definition=definition, note=note),
                f"Added {kind} '{name.strip()}'")


def edit_form(project: Project, code: Code) -> None:
    form = fresh(f"edit-{code.id}")
    shown = seen(form, {k: getattr(code, k) for k in ("name", "kind", "status", "colour", "central_concept", *FIELDS)})
    with st.form(form):
        # drawn from what the editor first showed (not a newer version read on the submit's rerun), so what
        # the researcher typed is what is saved, or refused as a conflict when someone changed it meanwhile
        new = {"name": st.text_input("Name", shown["name"])}
        b, c, d = st.columns([2, 2, 1])
        new |= {"kind": b.selectbox("Kind", CODE_KINDS, index=CODE_KINDS.index(shown["kind"])),
                "status": c.selectbox("Status", CODE_STATUSES, index=CODE_STATUSES.index(shown["status"])),
                "colour": d.color_picker("Colour", shown["colour"] or "#999999")}
        new["central_concept"] = st.text_area(
            "Central organising concept", shown["central_concept"], height=100,
            help="For a theme: the idea that holds it together (a theme is more than a topic label).")
        left, right = st.columns(2)
        for i, (field, label) in enumerate(FIELDS.items()):
            new[field] = (left if i % 2 == 0 else right).text_area(label, shown[field], height=120)
        note = note_field(fresh(f"edit-note-{code.id}"))
        if st.form_submit_button("Save changes", type="primary"):
            same = {"colour": lambda v: v.lower() == (shown["colour"] or "#999999").lower()}
            changes = {k: v for k, v in new.items() if not same.get(k, lambda v, k=k: v == shown[k])(v)}
            if not changes:
                st.info("Nothing to save: no field was changed.")
            else:
                expected = {k: shown[k] for k in changes}  # another researcher's edit since: a conflict, not lost
                act(guarded(form, lambda: project.codebook.edit_code(code.id, note=note, expected=expected, **changes)),
                    f"Saved {', '.join(changes)} of '{code.name}'")


def move_merge_forms(project: Project, code: Code) -> None:
    with st.form(fresh(f"move-{code.id}")):
        st.markdown(f"**Move** '{md_escape(code.name)}' (with its sub-codes) under another code or theme.")
        parent = code_picker("New parent", key=fresh(f"move-to-{code.id}"), none="(top level)", exclude=[code.id])
        note, ok = note_field(fresh(f"move-note-{code.id}")), confirmed("Yes, move it", fresh(f"move-ok-{code.id}"))
        if st.form_submit_button("Move"):
            act_if_confirmed(ok, lambda: project.codebook.move_code(code.id, parent=parent, note=note), f"Moved '{code.name}'")
    with st.form(fresh(f"merge-{code.id}")):
        st.markdown(f"**Merge** '{md_escape(code.name)}' into another code: its codings, memos and sub-codes move "
                    "there, and it disappears (undoable).")
        target = code_picker("Merge into", key=fresh(f"merge-into-{code.id}"), exclude=[code.id])
        note = note_field(fresh(f"merge-note-{code.id}"))
        ok = confirmed("Yes, merge them", fresh(f"merge-ok-{code.id}"))
        if st.form_submit_button("Merge"):
            if target is None:
                st.warning("Nothing changed: there is no other code to merge into.", icon=":material/info:")
            else:
                act_if_confirmed(ok, lambda: project.codebook.merge_codes(code.id, target, note=note),
                                 f"Merged '{code.name}' into '{code_paths().get(target, str(target))}'")


def split_form(project: Project, code: Code) -> None:
    own = codings()[lambda f: f["code_id"] == code.id]
    if own.empty:
        st.info(f"'{code.name}' has no codings of its own to split off.")
        return
    quotes = {int(r.coding_id): f"{r.participant} · {r.transcript}: “{r.text[:110]}{'…' * (len(r.text) > 110)}”"
              for r in own.itertuples()}
    with st.form(fresh(f"split-{code.id}")):
        chosen = st.multiselect("Codings that go to the new code", list(quotes), format_func=quotes.__getitem__,
                                placeholder="Choose codings by their quotes")
        name = st.text_input("New code's name")
        definition = st.text_input("New code's definition")
        note = note_field(fresh(f"split-note-{code.id}"))
        ok = confirmed("Yes, split them off", fresh(f"split-ok-{code.id}"))
        if st.form_submit_button("Split"):
            act_if_confirmed(ok, lambda: project.codebook.split_code(code.id, new_name=name, coding_ids=chosen,
                                                            definition=definition, note=note),
                             f"Split {len(chosen)} codings into '{name.strip()}'")


def delete_form(project: Project, code: Code) -> None:
    count = int((codings()["code_id"] == code.id).sum())
    with st.form(fresh(f"delete-{code.id}")):
        st.markdown(f"**Delete** '{md_escape(code.name)}'. It has {count} codings of its own; "
                    "its sub-codes move up a level.")
        fate = st.radio("Its codings", ["Move them to another code", "Discard them"], horizontal=True)
        target = code_picker("Move them to", key=fresh(f"delete-to-{code.id}"), exclude=[code.id])
        note = note_field(fresh(f"delete-note-{code.id}"))
        ok = confirmed(f"Yes, delete '{code.name}'", fresh(f"delete-ok-{code.id}"))
        if st.form_submit_button("Delete", type="primary"):
            discard = fate == "Discard them"
            act_if_confirmed(ok, lambda: project.codebook.delete_code(code.id, move_to=None if discard else target,
                                                             discard=discard, note=note), f"Deleted '{code.name}'")


def history_table(code: Code) -> None:
    events = read(f"history:{code.id}", lambda p: p.codebook.history(code.id))
    rows = [{"when": e.at[:16].replace("T", " "), "who": e.who, "what": e.summary, "note": e.note} for e in events]
    st.dataframe(pd.DataFrame(rows, columns=["when", "who", "what", "note"]), hide_index=True, width="stretch")


def snapshots_tab(project: Project) -> None:
    with st.form(fresh("snapshot")):
        label_col, phase_col = st.columns([3, 2])
        label = label_col.text_input("Label", placeholder="e.g. end of initial coding")
        with phase_col:
            phase = phase_picker(key=fresh("snapshot-phase"))
        note = note_field(fresh("snapshot-note"))
        if st.form_submit_button("Take a snapshot of the codebook", type="primary"):
            act(lambda: project.codebook_files.snapshot(label, phase=phase, note=note), f"Snapshot '{label.strip()}' taken")
    snaps = read("snapshots", lambda p: p.codebook_files.snapshots())
    if not snaps:
        st.info("No snapshots yet. Take one at the end of each phase to see later how the codebook changed.")
        return
    st.dataframe(pd.DataFrame([{"label": s.label, "phase": PHASE_LABELS.get(s.phase, s.phase),
                                "taken": s.created_at[:16].replace("T", " "), "themes": len(s.codes)}
                               for s in snaps]), hide_index=True, width="stretch")
    labels = [s.label for s in snaps]
    a_col, b_col = st.columns(2)
    a = a_col.selectbox("Compare", labels, index=max(len(labels) - 2, 0), key="snap_a")
    b = b_col.selectbox("with", labels, index=len(labels) - 1, key="snap_b")
    diff = read(f"diff:{a}|{b}", lambda p: p.codebook_files.diff_snapshots(a, b))
    if diff.empty:
        st.info(f"No difference between '{a}' and '{b}'.")
    for kind, changes in diff.by_kind():
        if changes:
            st.markdown(f"**{kind.capitalize()}** ({len(changes)})")
            st.markdown("\n".join("- " + md_escape(" · ".join(f"{k}: {v}" for k, v in change.parts()))
                                   for change in changes))


project = sidebar()
st.title("Codebook")
codes_tab, snapshot_tab = st.tabs(["Codes and themes", "Snapshots"])
with codes_tab:
    with st.expander("Add a code or theme", expanded=not codes(), icon=":material/add:"):
        add_code_form(project)
    if not codes():
        st.info("The codebook is empty: add a first code or theme above, or sync the project (Project page) to "
                "bring in codebooks/.")
    else:
        tree_col, detail_col = st.columns([1, 1], gap="large")
        with tree_col:
            tree()
        with detail_col:
            code_id = code_picker("Code or theme", key="cb_code")
            code = next(c for c in codes() if c.id == code_id)
            st.markdown(f"### :material/label: {md_escape(code.name)}")
            st.caption(f"{code.kind} · {code.status} · {md_escape(code_paths()[code.id])}")
            edit, move, split, delete, history = st.tabs(["Edit", "Move / merge", "Split", "Delete", "History"])
            with edit:
                edit_form(project, code)
            with move:
                move_merge_forms(project, code)
            with split:
                split_form(project, code)
            with delete:
                delete_form(project, code)
            with history:
                history_table(code)
with snapshot_tab:
    snapshots_tab(project)
