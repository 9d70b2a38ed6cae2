"""Team: the researchers of the project and their roles, blind coding, comparing coders (where they
disagree, side by side, with one click to discuss or reconcile), inter-coder agreement, and merging
another copy of the project (issue 14).

Roles are accountability inside a trusted team, not security; agreement statistics are for
codebook-style studies, not a measure of a reflexive analysis: the page says both where it matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analysis.domain.roles import ROLES
from analysis.workbench.blind import BLIND, blind_coder
from analysis.workbench.state import action, researcher
from analysis.workbench.widgets import act, fresh, md_escape, read, sidebar

UNIT_LABELS = {"character": "characters (as NVivo)", "sentence": "sentences", "turn": "speaker turns"}
PAGE = 10

project = sidebar()
me = researcher()
st.title("Team")
st.caption("Coding together: who is on the team, coding blind, comparing coders and reconciling, "
           "agreement for codebook-style studies, and merging a copy coded offline.")

# -- the team --------------------------------------------------------------------------------------------
team = read("researchers", lambda p: p.researchers.list())
mine = next((r.role for r in team if r.name.casefold() == me.casefold()), None)
with st.container(border=True):
    st.subheader("Researchers and roles", anchor=False)
    if not team:
        st.info("No researchers registered: no roles apply, and whoever opens the project may change anything "
                "(one researcher, or a team that has not set roles). Register the lead first.",
                icon=":material/group:")
    else:
        st.dataframe(pd.DataFrame([{"name": r.name, "role": r.role, "added by": r.added_by,
                                    "added": r.added_at[:10]} for r in team]), hide_index=True, width="stretch")
        st.caption(f"You are **{md_escape(me)}**" + (f", a **{mine}**." if mine else
                   ": not on the team, so your changes are refused. Set your name in the sidebar."))
    st.caption("A lead may also merge, split and delete codes and manage the team; a coder codes, writes memos "
               "and vignettes; a reader reads and changes nothing. This is accountability inside a trusted team, "
               "not security: who may reach the data at all is the database server's business (its logins).")
    with st.form(fresh("team-add")):
        name_col, role_col, go_col = st.columns([3, 2, 1], vertical_alignment="bottom")
        new_name = name_col.text_input("Name", value="" if team else me,
                                       help="The name they code under (the sidebar's Researcher).")
        new_role = role_col.selectbox("Role", ROLES, index=0 if not team else 1)
        if go_col.form_submit_button("Add", type="primary"):
            act(lambda: project.researchers.add(new_name, role=new_role), f"Added {new_name} as {new_role}")
    if team:
        with st.form(fresh("team-role")):
            who_col, role_col, go_col = st.columns([3, 2, 1], vertical_alignment="bottom")
            who = who_col.selectbox("Researcher", [r.name for r in team])
            role = role_col.selectbox("New role", ROLES, key=fresh("team-new-role"))
            if go_col.form_submit_button("Change role"):
                act(lambda: project.researchers.set_role(who, role), f"{who} is now a {role}")

# -- blind coding ----------------------------------------------------------------------------------------
with st.container(border=True):
    st.subheader("Blind coding", anchor=False)
    blind = blind_coder() is not None
    if blind:
        st.warning(f"Blind mode is on: Read & code shows only **{md_escape(me)}**'s codings. Compare when you "
                   "have finished coding on your own.", icon=":material/visibility_off:")
        if st.button("Compare now (end blind mode)", icon=":material/visibility:"):
            st.session_state[BLIND] = False
            st.rerun()
        st.stop()
    st.caption("For an independent second coding: while blind mode is on, you see only your own codings in "
               "Read & code, and this page hides the comparison until you choose to compare.")
    if st.button("Code blind", icon=":material/visibility_off:"):
        st.session_state[BLIND] = True
        st.rerun()

# -- comparing coders ------------------------------------------------------------------------------------
coders = read("coders", lambda p: p.agreement.coders())
st.subheader("Compare coders", anchor=False)
if len(coders) < 2:
    st.info("Comparing needs codings by at least two coders (each coding carries its coder: the sidebar's "
            "Researcher, or `storyloom coding add ... --coder NAME`).", icon=":material/group:")
    st.stop()
transcript_names = [t.name for t in read("transcripts", lambda p: p.transcripts.list())]
pick = st.columns([3, 3, 2])
chosen = pick[0].multiselect("Coders", coders, default=coders[:2], key="team_coders")
chosen_transcripts = pick[1].multiselect("Transcripts", transcript_names, placeholder="All they coded",
                                         key="team_transcripts")
unit = pick[2].selectbox("Unit", list(UNIT_LABELS), format_func=UNIT_LABELS.__getitem__, key="team_unit")
st.caption("Agreement statistics are offered for codebook-style (coding-reliability) studies; they are not a "
           "measure of quality for a reflexive thematic analysis, where the researcher's interpretation is the point.")
if len(chosen) < 2:
    st.warning("Choose two or more coders.")
    st.stop()

to_report = st.checkbox("The one to report", key="team_report",
                        help="Mark this comparison as the one the methods report reports (otherwise it reports the "
                             "last comparison run, and says so).")
if st.button("Compute agreement", icon=":material/calculate:"):
    with st.spinner("Comparing..."):
        done: dict[str, Any] = {}
        with action():
            done["r"] = project.agreement.compare(chosen, unit=unit, transcripts=chosen_transcripts or None,
                                                  report=to_report)
        if "r" in done:
            st.session_state["team_agreement"] = done["r"]
result = st.session_state.get("team_agreement")
if result and list(result.coders) == chosen and result.unit == unit:
    def num(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    rows = [{"code": c.code, "units": c.units, "percent agreement": num(c.percent_agreement),
             "Cohen's kappa": num(c.cohen_kappa), "Krippendorff's alpha": num(c.krippendorff_alpha)}
            for c in result.codes]
    o = result.overall
    rows.append({"code": "(overall)", "units": o.units, "percent agreement": num(o.percent_agreement),
                 "Cohen's kappa": num(o.cohen_kappa), "Krippendorff's alpha": num(o.krippendorff_alpha)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.markdown("**For the methods section**")
    st.code(result.methods, language=None, wrap_lines=True)

passages = read(f"disagreements:{','.join(chosen)}:{','.join(chosen_transcripts)}",
                lambda p: p.agreement.disagreements(chosen, transcripts=chosen_transcripts or None),
                copy=False)  # thousands of passages at study scale: not unpickled on every run
st.markdown(f"**Where they disagree** · {len(passages)} passage(s)")
if not passages:
    st.success("No disagreements: every coder who coded a transcript coded it alike.", icon=":material/check:")
pages = max(1, -(-len(passages) // PAGE))
page = st.number_input("Page", 1, pages, 1, key="team_page") if pages > 1 else 1
for i, d in enumerate(passages[(page - 1) * PAGE:page * PAGE], start=(page - 1) * PAGE):
    with st.container(border=True):
        st.markdown(f"**{md_escape(d.code)}** · {md_escape(d.transcript)} · characters {d.start}–{d.end}"
                    + (f" · not coded by {md_escape(', '.join(d.not_coded_by))}" if d.not_coded_by else ""))
        cols = st.columns(len(d.codings))
        for col, (coder, theirs) in zip(cols, d.codings.items()):
            with col:
                st.markdown(f"*{md_escape(coder)}*")
                if not theirs:
                    st.caption("did not apply this code here")
                for c in theirs:
                    st.markdown(f"> {md_escape(c.quote[:400])}")
                    st.caption(f"characters {c.start}–{c.end}" + (f" · memo: {md_escape(c.memo[:80])}"
                                                                   if c.memo else ""))
                if st.button(f"Accept {coder}'s", key=f"team_accept_{i}_{coder}", icon=":material/done_all:",
                             help=f"Reconcile: the other coders' codings of this code here become {coder}'s (undoable)."):
                    act(lambda: project.agreement.reconcile(
                        code=d.code_id, transcript=d.transcript, start=d.start, end=d.end, accept=coder,
                        coders=list(d.codings)), f"Reconciled: accepted {coder}'s coding")
        first = next((c for cs in d.codings.values() for c in cs), None)
        with st.popover("Discuss", icon=":material/forum:"):
            note = st.text_area("Memo on this passage", key=f"team_note_{i}",
                                placeholder="What does each of you see here? What does the codebook say?")
            if st.button("Save memo", key=f"team_discuss_{i}", type="primary", disabled=first is None):
                act(lambda: project.memos.add(
                    note, kind="coding", target=first.id if first else None, author=me,
                    title=f"Discussion: {d.code} in {d.transcript} ({d.start}–{d.end})"),
                    "Memo saved: the discussion is on the coding, in Journal & memos")

# -- merging a copy coded offline -----------------------------------------------------------------------
with st.expander("Merge a copy of this project coded offline", icon=":material/merge:"):
    st.caption("Another copy (a SQLite project folder) coded separately from the same transcripts: codes match "
               "by GUID where the copies share an origin, else by path; codings keep their coders; nothing is "
               "lost (a different definition is kept as a memo on the code). One action: undo takes it back.")
    other = st.text_input("Folder of the other copy", key="team_merge_path", placeholder="/path/to/copy")
    left, right = st.columns(2)
    if left.button("Dry run", disabled=not other.strip()):
        with action():
            st.session_state["team_merge_report"] = project.merge.from_project(Path(other.strip()), dry_run=True)
    if right.button("Merge", type="primary", disabled=not other.strip()):
        def merge() -> None:
            st.session_state["team_merge_report"] = project.merge.from_project(Path(other.strip()))

        act(merge, "Merged the other copy (undo takes it back)")
    report = st.session_state.get("team_merge_report")
    if report:
        c, k = report.codes, report.codings
        st.markdown(f"{'Would merge' if report.dry_run else 'Merged'}: **{len(c.matched_by_guid)}** codes "
                    f"matched by GUID, **{len(c.matched_by_path)}** by path, **{len(c.added)}** added; "
                    f"**{k.added}** codings added, **{k.matched}** already here, {k.orphaned} kept as "
                    f"orphans, {k.unplaced} on transcripts this project lacks.")
        for x in c.conflicts:
            st.caption(f"Conflict: {md_escape(x.code)}: {x.field} differs (ours kept; theirs in a memo).")
