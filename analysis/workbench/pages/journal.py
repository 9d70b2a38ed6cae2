"""Journal & memos: the reflexive journal and every memo (on transcripts, codes, codings, participants)
in one list, filtered by kind, phase, author, code and participant; and a form for a journal entry."""

from __future__ import annotations

from typing import Any, cast

import streamlit as st

from analysis import Project
from analysis.domain.memos import MEMO_KINDS
from analysis.domain.model import PHASES
from analysis.workbench.state import researcher
from analysis.workbench.widgets import (PHASE_LABELS, act, code_paths, code_picker, codes, codings, fresh, md_escape, participants,
                        phase_picker, read, sidebar, subtree)

ANYONE = "Any participant"


def memo_rows(project: Project) -> list[dict[str, Any]]:
    """Every memo with what it is about (a readable label, the codes and participants it concerns)."""
    people = {p.id: p.pseudonym for p in participants()}
    paths = code_paths()
    names = {project.transcripts.get(t.name).id: t for t in read("transcripts", lambda p: p.transcripts.list())}
    frame = codings().set_index("coding_id")
    rows = []
    for m in project.memos.list():
        about, code_ids, who = "the project", set(), set()
        if m.kind == "code" and m.target_id in paths:
            about, code_ids = paths[m.target_id], {m.target_id}
        elif m.kind == "participant" and m.target_id in people:
            about, who = people[m.target_id], {people[m.target_id]}
        elif m.kind == "familiarisation" and m.target_id in names:
            about, who = names[m.target_id].name, set(names[m.target_id].participants)
        elif m.kind == "coding" and m.target_id in frame.index:
            c = frame.loc[m.target_id]
            about = f"a coding of {c['code_path']} ({c['participant']}, {c['transcript']})"
            code_ids, who = {int(cast(int, c["code_id"]))}, {c["participant"]}
        rows.append({"memo": m, "about": about, "codes": code_ids, "participants": who})
    return rows


project = sidebar()
st.title("Journal & memos")
st.caption("Your reflexive journal and every memo in one place: how your reading, your position and your "
           "decisions shaped the analysis, phase by phase.")

with st.expander("Write a journal entry", icon=":material/edit_note:",
                 expanded=not read("memo_count", lambda p: len(p.memos.list()))):
    with st.form(fresh("journal-entry")):
        title_col, phase_col = st.columns([3, 2])
        title = title_col.text_input("Title", placeholder="e.g. Rethinking 'approval burden'")
        with phase_col:
            phase = phase_picker(key=fresh("journal-phase"))
        body = st.text_area("Entry", height=160, placeholder="What did you notice today? What assumptions are you "
                                                             "bringing? What changed in how you see the data?")
        if st.form_submit_button("Save entry", type="primary"):
            act(lambda: project.memos.add(body, kind="journal", phase=phase, title=title, author=researcher()),
                "Journal entry saved")

rows = read("memo_rows", memo_rows)
kind_col, phase_col, author_col = st.columns(3)
kinds = kind_col.multiselect("Kind", MEMO_KINDS, key="jn_kind", placeholder="All kinds")
phases = phase_col.multiselect("Phase", PHASES, key="jn_phase", format_func=PHASE_LABELS.__getitem__, placeholder="All phases")
authors = author_col.multiselect("Author", sorted({r["memo"].author for r in rows}), key="jn_author",
                                 placeholder="Everyone")
code_col, person_col = st.columns(2)
with code_col:
    code = code_picker("About code", key="jn_code", none="Any code") if codes() else None
person = person_col.selectbox("About participant", [ANYONE, *[p.pseudonym for p in participants()]], key="jn_person")

wanted = subtree(code) if code is not None else None
shown = [r for r in rows if (not kinds or r["memo"].kind in kinds) and (not phases or r["memo"].phase in phases)
         and (not authors or r["memo"].author in authors) and (wanted is None or r["codes"] & wanted)
         and (person == ANYONE or person in r["participants"])]
st.caption(f"{len(shown)} of {len(rows)} entries, newest first.")
if not rows:
    st.info("Nothing written yet. Start the journal above: note what you bring to this study before you code.")
for r in shown:
    m = r["memo"]
    with st.container(border=True):
        title = m.title or ("Journal entry" if m.kind == "journal" else f"{m.kind.capitalize()} memo")
        st.markdown(f"**{md_escape(title)}**")
        st.caption(f"{m.kind} · about {md_escape(r['about'])} · {m.author} · {m.created_at[:16].replace('T', ' ')}"
                   " · "
                   f"{PHASE_LABELS.get(m.phase, m.phase)}")
        st.markdown(m.body.replace("\n", "  \n"))
