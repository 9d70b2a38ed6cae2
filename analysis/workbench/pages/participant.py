"""Participants: one person at a time: attributes, their themes and codes, their key quotes per theme
(the raw material of a vignette) and the memos written about them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.workbench.pages import page_file
from analysis.workbench.quotes_view import keep, kept, quote_rows, readable_quotes
from analysis.workbench.state import researcher
from analysis.workbench.widgets import (PHASE_LABELS, act, codes, codings, fresh, md_escape, no_codes_yet, participants, phase_picker,
                        read, sidebar)

PER_THEME = 5


def key_quotes(mine: pd.DataFrame) -> pd.DataFrame:
    """One row per coded span: the codes on it (and on spans overlapping it), most-coded and longest first."""
    spans = (mine.groupby(["transcript", "start", "end"], as_index=False)
             .agg(text=("text", "first"), timestamp=("timestamp", "first"), theme=("theme", "first"),
                  participant=("participant", "first"), coding_id=("coding_id", "first"),
                  codes=("code", lambda s: sorted(set(s)))))
    overlapping = []
    for row in spans.itertuples():
        same = mine[(mine["transcript"] == row.transcript) & (mine["start"] < row.end) & (mine["end"] > row.start)]
        overlapping.append(same["code"].nunique())
    spans["coded"] = overlapping
    spans["length"] = spans["text"].str.len()
    return spans.sort_values(["coded", "length"], ascending=False)


def memo_list(name: str) -> None:
    memos = read(f"memos:participant:{name}", lambda p: p.memos.list(kind="participant", target=name))
    if not memos:
        st.caption("No memos about this participant yet.")
    for memo in memos:
        with st.container(border=True):
            st.markdown(f"**{md_escape(memo.title or 'Memo')}**")
            when = memo.created_at[:16].replace("T", " ")
            st.caption(f"{memo.author} · {when} · {PHASE_LABELS.get(memo.phase, memo.phase)}")
            st.markdown(md_escape(memo.body))


project = sidebar()
readable_quotes()
st.title("Participants")
people = participants()
if not people:
    st.info("No participants yet: bring transcripts in on the Project page (participants.csv names them).")
    st.page_link(page_file("project"), label="Open the Project page", icon=":material/folder_open:")
    st.stop()

kept("pp_who")  # the participant survives a jump to Read & code and back
name = st.selectbox("Participant", [p.pseudonym for p in people], key="pp_who")
keep("pp_who")
person = next(p for p in people if p.pseudonym == name)
transcripts = [t.name for t in read("transcripts", lambda p: p.transcripts.list()) if name in t.participants]
st.markdown(" · ".join([f"**{md_escape(k.replace('_', ' '))}**: {md_escape(v)}"
                        for k, v in sorted(person.attributes.items())]
                       + [f"**transcripts**: {md_escape(', '.join(transcripts) or 'none')}"]))

frame = codings()
mine = frame[frame["participant"] == name]
if not codes():
    no_codes_yet()
elif mine.empty:
    st.info(f"Nothing of {name}'s has been coded yet: open their transcript in Read & code.")
else:
    st.caption("Ranked by number of codings: where their coded material sits, not what matters most to them.")
    themes_col, codes_col = st.columns(2)
    themes = mine.groupby("theme").size().sort_values(ascending=False).rename("codings")
    themes_col.dataframe(themes.reset_index(), hide_index=True, width="stretch")
    codes_col.dataframe(mine.groupby("code_path").size().sort_values(ascending=False).rename("codings").reset_index()
                        .rename(columns={"code_path": "code"}), hide_index=True, width="stretch")

    st.subheader("Key quotes by theme")
    st.caption(f"The first {PER_THEME} per theme: spans carrying the most codes first, then the longest "
               "(\"Show all\" lists every one). The raw material of a vignette.")
    spans = read(f"key_quotes:{name}", lambda p: key_quotes(mine))
    for i, theme in enumerate(themes.index):
        chosen = spans[spans["theme"] == theme]
        with st.expander(f"{theme} ({len(chosen)} coded passages)", expanded=i == 0):
            every = len(chosen) > PER_THEME and st.toggle(f"Show all {len(chosen)}", key=f"pp_all_{name}_{i}")
            shown = chosen if every else chosen.head(PER_THEME)
            quote_rows(shown, key=f"pp_q_{i}", code=False)
            if len(shown) < len(chosen):
                st.caption(f"{len(chosen) - len(shown)} more: \"Show all {len(chosen)}\" above.")

st.subheader(f"Memos about {name}")
memo_list(name)
with st.expander("Write a memo about this participant", icon=":material/edit_note:"):
    with st.form(fresh(f"pp-memo-{name}")):
        title_col, phase_col = st.columns([3, 2])
        title = title_col.text_input("Title")
        with phase_col:
            phase = phase_picker(key=fresh("pp-memo-phase"))
        body = st.text_area("Memo", height=140, placeholder="What stands out in their account? How does your own "
                                                             "position shape how you read it?")
        if st.form_submit_button("Save memo", type="primary"):
            act(lambda: project.memos.add(body, kind="participant", target=name, phase=phase, title=title,
                                         author=researcher()), f"Memo about {name} saved")
