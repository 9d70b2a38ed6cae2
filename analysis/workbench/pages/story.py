"""Story: narrative inquiry in time. The timeline of events across participants (story time across,
participants down; hover shows the quote, a click opens it in Read & code; disagreements said in words),
marking events and periods and linking passages to them; restorying one participant's account in story
order with its gaps; and the findings chapter (headed sections of your prose and verified quotes) with
its downloads."""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from analysis.domain.vignettes import QuoteItem

from analysis.export import BY_NAME, formats_for
from analysis.workbench import media
from analysis.workbench.reading import open_in_reader
from analysis.workbench.state import action, cached
from analysis.workbench.widgets import act, codings, fresh, md_escape, participants, quote_card, read, recorded, sidebar

FORMATS = formats_for("chapter")
FIGURE_NAMES = {"timeline": "The timeline (a picture in DOCX and HTML)", "cases": "The case x condition matrix",
                "themes": "The theme x participant table"}
project = sidebar()
st.title("Story")
st.caption("Events in the story's time (not the interview's clock), each participant's account restoried in "
           "that order, and the findings chapter. Every change is one undoable action.")


def timeline(**filters: Any) -> list[Any]:
    return read(f"st_timeline_{sorted(filters.items())}", lambda p: p.story.timeline(**filters))


def timeline_tab() -> None:
    with st.expander(":material/add: Mark an event", expanded=not timeline()):
        with st.form(fresh("st_event_form")):
            name = st.text_input("Event name")
            when = st.text_input("When", help="2019-03-14, 2019-03 or March 2019, 2019, a period such as "
                                              "'pre-pandemic', 'before EVENT', 'after EVENT', or 'unknown'.")
            description = st.text_input("Description")
            if st.form_submit_button("Mark the event"):
                act(lambda: project.story.add_event(name, when=when or "unknown", description=description),
                    f"Marked '{name}'")
    with st.expander(":material/schedule: Periods of the story (order them once)"):
        periods = read("st_periods", lambda p: p.story.periods())
        for p in periods:
            st.markdown(f"{p.position + 1}. **{md_escape(p.name)}**" + (f" ({md_escape(p.anchor)})" if p.anchor else
                                                                         " (no dates: placed by this order only)"))
        with st.form(fresh("st_period_form")):
            pname = st.text_input("Period name")
            dates = st.text_input("Its dates (optional: a date, month or year)")
            if st.form_submit_button("Add the period"):
                act(lambda: project.story.add_period(pname, dates=dates), f"Added period '{pname}'")
    left, middle, right = st.columns(3)
    everyone = participants()
    people = [p.pseudonym for p in everyone]
    chosen = left.multiselect("Participants", people, key="st_filter_people")
    frame = codings()
    themes = sorted(set(frame["theme"])) if not frame.empty else []
    theme = middle.selectbox("Theme", ["All themes", *themes], key="st_filter_theme")
    values = sorted({f"{k}: {v}" for p in everyone for k, v in p.attributes.items() if v})
    picked = right.multiselect("Participant attributes", values, key="st_filter_attrs",
                               help="Only participants with these attribute values (e.g. period: pre-pandemic).")
    attributes: dict[str, list[str]] = {}
    for item in picked:
        key, _, value = item.partition(": ")
        attributes.setdefault(key, []).append(value)
    filters: dict[str, Any] = {"participant": chosen or None, "theme": None if theme == "All themes" else theme,
                               "attributes": attributes or None}
    events = timeline(**filters)
    if not events:
        st.info("No events yet. Mark one above, then link coded passages to it below.")
        return
    points = read(f"st_frame_{sorted(filters.items())}", lambda p: p.story.timeline_frame(**filters))
    if not points.empty:
        order = [f"{e.order}{'=' if e.placement.tied else ''}. {e.name}" for e in events]
        label = {e.name: o for e, o in zip(events, order)}
        data = points.assign(event_label=points["event"].map(label), quote=points["text"].str.slice(0, 240),
                             placed=["at another time" if t != w else "as the event" for t, w in
                                     zip(points["told"], points["when"])])
        pick = alt.selection_point(fields=["coding_id"], name="passage", on="click")
        chart = alt.Chart(data).mark_point(size=170, filled=True, opacity=0.85).encode(
            x=alt.X("event_label:O", sort=order, title="Story time (events in story order)",
                    axis=alt.Axis(labelAngle=-45, labelLimit=240, labelOverlap=False, labelFontSize=10)),
            y=alt.Y("participant:N", title="Participant", axis=alt.Axis(labelOverlap=False, labelFontSize=11)),
            color=alt.Color("theme:N", title="Theme", legend=alt.Legend(orient="bottom", columns=2, labelLimit=320)),
            shape=alt.Shape("placed:N", title="Placed by the participant",
                            scale=alt.Scale(domain=["as the event", "at another time"], range=["circle", "diamond"])),
            tooltip=["event", alt.Tooltip("when", title="event's when"), alt.Tooltip("told", title="placed by them"),
                     "participant", "quote", alt.Tooltip("coding_id", title="coding")],
        ).add_params(pick).properties(height=alt.Step(34))
        st.caption("Hover a point for the quote; click it to open the passage in Read & code. A diamond is a "
                   "participant who places the event at another time than the event's own.")
        clicked = st.altair_chart(chart, on_select="rerun", key="st_chart", width="stretch")
        selection: dict[str, Any] = dict(clicked.get("selection", {})) if clicked else {}
        chosen_ids = [int(x["coding_id"]) for x in selection.get("passage", []) if "coding_id" in x]
        if chosen_ids and st.session_state.get("st_opened") != chosen_ids[0]:
            st.session_state["st_opened"] = chosen_ids[0]
            row = points[points["coding_id"] == chosen_ids[0]].iloc[0]
            open_in_reader(str(row["transcript"]), coding=int(row["coding_id"]))
        elif not chosen_ids:
            st.session_state.pop("st_opened", None)
    for e in events:
        if e.disagreement:
            st.warning(e.disagreement + " The timeline keeps both placements; it does not average them.",
                       icon=":material/call_split:")
    table = pd.DataFrame([{"order": f"{e.order}{'=' if e.placement.tied else ''}", "event": e.name, "when": e.when.label,
                           "told by": ", ".join(e.participants), "passages": len(e.codings),
                           "note": e.placement.note or (f"overlaps {', '.join(e.placement.uncertain)}" if e.placement.uncertain else "")}
                          for e in events])
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("'=' marks events tied in story time; overlapping dates (2019 and March 2019) are said, not hidden.")
    link_panel(events)
    left, right, _ = st.columns([1, 1, 2])
    for col, suffix, mime in ((left, "svg", "image/svg+xml"), (right, "png", "image/png")):
        col.download_button(f"Download the timeline ({suffix.upper()})", recorded(functools.partial(_picture, filters, suffix)),
                            file_name=f"timeline.{suffix}", mime=mime, on_click="ignore", key=f"st_{suffix}")


def _picture(filters: dict[str, Any], suffix: str) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        return project.story.export_timeline(Path(tmp) / f"timeline.{suffix}", **filters).read_bytes()


def link_panel(events: list[Any]) -> None:
    frame = codings()
    if frame.empty:
        return
    with st.form(fresh("st_link_form")):
        st.markdown("**Link a coded passage to an event**")
        event = st.selectbox("Event", [e.name for e in timeline()])
        options = {int(r["coding_id"]): f"{r['participant']} · {r['code']}: {str(r['text'])[:90]}"
                   for _, r in frame.iterrows()}
        coding = st.selectbox("Passage", list(options), format_func=options.__getitem__)
        told = st.text_input("Where this participant places it (if not where the event is)")
        if st.form_submit_button("Link"):
            act(lambda: project.story.link(event, coding, when=told or None), f"Linked the passage to '{event}'")


def restory_tab() -> None:
    people = [p.pseudonym for p in participants()]
    if not people:
        st.info("No participants yet.")
        return
    who = st.selectbox("Participant", people, key="st_restory_who")
    story = None
    with action():
        story = cached(f"st_restory_{who}", lambda p: p.story.restory(who))
    if story is None:
        return
    if not story.passages:
        st.info(f"None of {who}'s passages is linked to an event yet.")
    st.caption(f"{who}'s passages in story order (not interview order), with the events others tell that {who} "
               "does not, in their place in the story.")
    told = {p.event for p in story.passages}
    gaps = {g.name: g for g in story.gaps}
    for e in timeline():
        if e.name in told:
            mine = [p for p in story.passages if p.event == e.name]
            differs = mine[0].when != e.when
            st.markdown(f"**{e.order}. {md_escape(e.name)}** · {md_escape(mine[0].when.label)}"
                        + (f" (the event: {md_escape(e.when.label)})" if differs else ""))
            for p in mine:
                quote_card(p.text, meta=p.code)
                media.listen(p.transcript, p.start, p.end, key=f"st_rs_{p.coding_id}_{e.order}")
        elif e.name in gaps:
            st.markdown(f":gray[**{e.order}. {md_escape(e.name)}** · {md_escape(e.when.label)} — a gap: told by "
                        f"{md_escape(', '.join(e.participants))}, not by {md_escape(who)}]")
    if story.passages:
        draft_panel(who)


def draft_panel(who: str) -> None:
    """The restoried account as a draft vignette in chronological order, and its download."""
    title = f"{who}: the story in time"
    drafted = [v for v in read("vignettes", lambda p: p.vignettes.list()) if v.title == title]
    if st.button("Draft a vignette in story order" if not drafted else "Draft it again (a new vignette)",
                 key="st_restory_draft"):
        act(lambda: project.story.restory_vignette(who), f"Drafted {who}'s account in story order (Vignettes page)")
    if drafted:
        v = drafted[-1]
        st.caption(f"Vignette {v.id} '{v.title}': placeholders mark the paragraphs to write in your words; edit it "
                   "on the Vignettes page. Download it as it stands (titled DRAFT):")
        cols = st.columns(len(FORMATS))
        for col, fmt in zip(cols, FORMATS):
            col.download_button(BY_NAME[fmt].label, recorded(functools.partial(
                project.exports.download_vignette, v.id, format=fmt, allow_draft=True, disclosure=False)), file_name=f"{v.title}{BY_NAME[fmt].suffixes[0]}",
                mime=BY_NAME[fmt].mime, on_click="ignore", key=f"st_draft_dl_{v.id}_{fmt}")


def chapter_tab() -> None:
    chapters = read("st_chapters", lambda p: p.chapters.list())
    with st.expander(":material/add: New chapter", expanded=not chapters):
        with st.form(fresh("st_chapter_form")):
            title = st.text_input("Chapter title")
            intro = st.text_area("Introduction")
            if st.form_submit_button("Create the chapter"):
                act(lambda: project.chapters.create(title, introduction=intro), f"Created chapter '{title}'")
    if not chapters:
        return
    ids = [c.id for c in chapters]
    cid = st.selectbox("Chapter", ids, format_func=lambda i: next(c.title for c in chapters if c.id == i), key="st_ch_pick")
    ch = next(c for c in chapters if c.id == cid)
    with st.form(fresh(f"st_intro_{cid}")):
        intro = st.text_area("Introduction", value=ch.introduction)
        if st.form_submit_button("Save the introduction"):
            act(lambda: project.chapters.edit(cid, introduction=intro), "Saved the introduction")
    counts = None
    with action():
        counts = cached(f"st_words_{cid}", lambda p: p.chapters.word_counts(cid))
    for n, s in enumerate(ch.sections):
        words = counts.sections[n].words if counts is not None and n < len(counts.sections) else 0
        with st.expander(f"{n + 1}. {s.heading} ({words} words)"):
            for item in s.items:
                if isinstance(item, QuoteItem):
                    quote_card(item.text, meta=item.participant or "")
                    media.listen(item.transcript, item.start, item.end, key=f"st_ch_{s.id}_{item.start}")
                else:
                    st.markdown(md_escape(item.text))
            a, b, c = st.columns(3)
            if a.button("Move up", key=f"st_up_{s.id}", disabled=n == 0):
                act(lambda: project.chapters.move_section(cid, n, to=n - 1), "Moved the section")
            if b.button("Move down", key=f"st_down_{s.id}", disabled=n == len(ch.sections) - 1):
                act(lambda: project.chapters.move_section(cid, n, to=n + 1), "Moved the section")
            if c.button("Remove", key=f"st_rm_{s.id}"):
                act(lambda: project.chapters.remove_section(cid, n), "Removed the section")
    vignettes = read("vignettes", lambda p: p.vignettes.list())
    with st.form(fresh(f"st_section_{cid}")):
        st.markdown("**Add a section**")
        options = {0: "(an empty section with one paragraph)", **{v.id: f"{v.id}: {v.title}" for v in vignettes}}
        source = st.selectbox("Start from a vignette", list(options), format_func=options.__getitem__)
        heading = st.text_input("Heading (default: the vignette's title)")
        para = st.text_area("A paragraph of your own")
        if st.form_submit_button("Add the section"):
            items = [{"kind": "narrative", "text": para}] if para.strip() else []
            act(lambda: project.chapters.add_section(cid, heading=heading or None, vignette=source or None,
                                                      items=items), "Added the section")
    st.subheader("Export")
    allow_draft = st.checkbox("Allow a draft (placeholder paragraphs; titled DRAFT)", key="st_allow_draft")
    check = st.checkbox("Run the disclosure check", value=True, key="st_disclosure")
    figures = st.multiselect("Figures after the last section", list(FIGURE_NAMES), format_func=FIGURE_NAMES.__getitem__,
                             key="st_figures")
    options_: dict[str, Any] = {"allow_draft": allow_draft, "disclosure": check, "figures": tuple(figures)}
    with action():
        cached(f"st_layout_{cid}_{sorted(options_.items())}", lambda p: p.chapters.layout(cid, **options_))
        st.caption(f"The whole chapter passes its checks (every quote against its transcript"
                   f"{', disclosure' if check else ''}): {counts.total if counts is not None else 0} words.")
        cols = st.columns(len(FORMATS))
        for col, fmt in zip(cols, FORMATS):
            col.download_button(BY_NAME[fmt].label,
                                recorded(functools.partial(project.chapters.download, cid, format=fmt, **options_)),
                                file_name=f"{ch.title}{BY_NAME[fmt].suffixes[0]}", mime=BY_NAME[fmt].mime,
                                on_click="ignore", key=f"st_dl_{cid}_{fmt}")


# Lazy tabs, as on Themes: only the open tab runs (the chapter's checks read every quote and run the
# disclosure check; the timeline draws a chart), and choosing a tab reruns the page.
for tab, view in zip(st.tabs(["Timeline", "Restorying", "Chapter"], key="st_tab", on_change="rerun"),
                     (timeline_tab, restory_tab, chapter_tab)):
    if tab.open:
        with tab:
            view()
