"""The pieces of the Vignettes page: the new-vignette panel, the item editor (quotes with marked edits,
narrative paragraphs), picking quotes from codings, the preview, the disclosure check and the downloads.

Every change is one ``Project`` action through :func:`analysis.workbench.widgets.act` (an integrity error shows where
the researcher is looking, and nothing changes); checks and renders run under :func:`analysis.workbench.state.action`.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import streamlit as st

from analysis import Project
from analysis.domain.disclosure import label_words
from analysis.export import BY_NAME, VIGNETTE_FORMATS, render_document
from analysis.domain.quotes import ELISION, mark_hesitations
from analysis.workbench.state import action, cached
from analysis.workbench.seen import guarded, seen
from analysis.workbench.widgets import act, code_paths, codes, codings, fresh, md_escape, participants, recorded, subtree

ANY = "(any)"
LABELS = {f: BY_NAME[f].label for f in VIGNETTE_FORMATS}
EDIT_HELP = (f"Marked edits only: {ELISION} where you leave words out (hesitations too), [word] for words you put "
             f"in or substitute (at most five words), trimming at either end. Checked against the transcript on save.")


def vignettes() -> list[Any]:
    return cached("vignettes", lambda p: p.vignettes.list())


def label(v: Any) -> str:
    about = " · ".join(x for x in (v.participant, v.theme) if x)
    return f"{v.title} ({about}) [{v.status}]" if about else f"{v.title} [{v.status}]"


def new_vignette_panel(project: Project) -> None:
    """Draft a vignette from codings, or start an empty one."""
    people = [ANY, *[p.pseudonym for p in participants()]]
    themes = {ANY: None, **{code_paths()[c.id]: c.id for c in codes()}}
    draft, empty = st.tabs(["Draft from codings", "Empty vignette"])
    with draft, st.form(fresh("vg-draft")):
        who = st.selectbox("Participant", people, key="vg_draft_who")
        theme = st.selectbox("Theme or code", list(themes), key="vg_draft_theme")
        per_code = st.number_input("Quotes per code", 1, 6, 2, key="vg_draft_per")
        st.caption("A machine draft: per code, the quotes closest to the code's centroid and a placeholder "
                   "paragraph for you to write. It stays a draft until you save an edit.")
        if st.form_submit_button("Draft", type="primary"):
            done = act(lambda: project.vignettes.draft(participant=None if who == ANY else who,
                                                      theme=themes[theme], per_code=int(per_code)), "Draft created")
            st.session_state["vg_pick"] = getattr(done, "id", None)
    with empty, st.form(fresh("vg-new")):
        title = st.text_input("Title", key="vg_new_title")
        who = st.selectbox("About participant", people, key="vg_new_who")
        theme = st.selectbox("About theme", list(themes), key="vg_new_theme")
        if st.form_submit_button("Create"):
            act(lambda: project.vignettes.create(title, participant=None if who == ANY else who,
                                                theme=themes[theme]), f"Vignette '{title}' created")


def item_editor(project: Project, v: Any, index: int, item: Any) -> None:
    """One item: its text (a quote's rendering, or a paragraph), save, mark hesitations, move, remove."""
    with st.container(border=True):
        if item.kind == "quote":
            where = [item.participant or "unknown speaker", item.transcript]
            where += [item.timestamp] if item.timestamp else [f"line {item.line}"]
            st.caption(f"Quote {index + 1} · " + " · ".join(where) + (f" · coded *{md_escape(item.code)}*" if item.code else ""))
        else:
            st.caption(f"Paragraph {index + 1}" + (" · placeholder: write it" if item.text.startswith("[Narrative:") else ""))
        key = fresh(f"vg-{v.id}-{index}")
        text = st.text_area("Quote as printed" if item.kind == "quote" else "Narrative", item.text, key=key,
                            height=110 if item.kind == "quote" else 90, help=EDIT_HELP if item.kind == "quote" else None)
        if item.kind == "quote":
            with st.expander("The transcript says (verbatim)"):
                st.markdown(md_escape(item.source))
        if item.kind == "quote" and index and v.items[index - 1].kind == "quote":
            joined = st.toggle("Same paragraph as the quote before", value=item.joined, key=f"{key}-join",
                               help="By default each quote that follows a quote starts its own paragraph; a short "
                                    "quote joined to the one before runs on in its paragraph.")
            if joined != item.joined:
                act(lambda: project.vignettes.join_item(v.id, index, joined=joined),
                    "Joined to the quote before" if joined else "In its own paragraph")
        cols = st.columns([2, 3, 1, 1, 1])
        if cols[0].button("Save", key=f"{key}-save", type="primary"):
            act(lambda: project.vignettes.edit_item(v.id, index, text), f"Item {index + 1} saved")
        if item.kind == "quote" and cols[1].button("Mark hesitations as [...]", key=f"{key}-hes"):
            act(lambda: project.vignettes.edit_item(v.id, index, mark_hesitations(text)), "Hesitations marked as elisions")
        if cols[2].button("↑", key=f"{key}-up", disabled=index == 0, help="Move up"):
            act(lambda: project.vignettes.move_item(v.id, index, to=index - 1), "Moved up")
        if cols[3].button("↓", key=f"{key}-down", disabled=index == len(v.items) - 1, help="Move down"):
            act(lambda: project.vignettes.move_item(v.id, index, to=index + 1), "Moved down")
        if cols[4].button(":material/delete:", key=f"{key}-rm", help="Remove this item"):
            act(lambda: project.vignettes.remove_item(v.id, index), "Item removed")


def add_panel(project: Project, v: Any) -> None:
    """Add quotes picked from the participant's / theme's codings, or a narrative paragraph."""
    frame = codings()
    if v.participant:
        frame = frame[frame["participant"] == v.participant]
    theme_id = next((cid for cid, path in code_paths().items() if path == v.theme), None)
    if theme_id is not None:
        frame = frame[frame["code_id"].isin(subtree(theme_id))]
    used = {(q.transcript, q.start, q.end) for q in v.quotes}
    frame = frame[[(r.transcript, r.start, r.end) not in used for r in frame.itertuples()]]
    quotes_tab, narrative_tab = st.tabs(["Add quotes from codings", "Add a paragraph"])
    with quotes_tab, st.form(form := fresh(f"vg-add-{v.id}")):
        expected = seen(form, {"updated_at": v.updated_at})  # the item list is saved whole: a conflict, not a loss
        rows = {int(cast(int, r.coding_id)): r for r in frame.drop_duplicates(["transcript", "start", "end"]).itertuples()}
        picked = st.multiselect(f"Codings ({len(rows)})", list(rows), key=f"vg_add_{v.id}",
                                format_func=lambda c: f"{rows[c].participant} · {rows[c].code}: "
                                                      f"{' '.join(str(rows[c].text).split()[:14])} …")
        if st.form_submit_button("Add quotes"):
            new = [{"transcript": rows[c].transcript, "start": rows[c].start, "end": rows[c].end, "coding_id": c,
                    "code": rows[c].code_path} for c in picked]
            act(guarded(form, lambda: project.vignettes.update(v.id, items=[*v.items, *new], expected=expected)),
                f"{len(new)} quotes added")
    with narrative_tab, st.form(fresh(f"vg-para-{v.id}")):
        para = st.text_area("Paragraph", key=f"vg_para_{v.id}", height=100)
        if st.form_submit_button("Add paragraph"):
            act(lambda: project.vignettes.add_narrative(v.id, para), "Paragraph added")


def export_options(v: Any) -> dict[str, Any]:
    names = sorted({k for p in participants() for k in p.attributes})
    c1, c2, c3, c4 = st.columns(4)
    return dict(timestamps=c1.checkbox("Timestamps", key="vg_ts"), line_refs=c2.checkbox("Line numbers", key="vg_ln"),
                appendix=c3.checkbox("Appendix of sources", key="vg_app"),
                block_words=int(c4.number_input("Block quote from (words)", 10, 200, 40, key="vg_bw")),
                attributes=tuple(st.multiselect("Print attributes in attributions", names, key="vg_attr")),
                allow_draft=st.checkbox("Allow a draft (titled DRAFT)", key=f"vg_draft_ok_{v.id}",
                                        value=v.status == "draft"),
                straight_quotes=c1.checkbox("Straight quotes (\" ')", key="vg_straight",
                                            help="Typographic marks (“ ” ‘ ’) unless the journal asks for straight ones."),
                fragment=c2.checkbox("LaTeX to \\input", key="vg_fragment",
                                     help="The LaTeX download holds only the vignette, to \\input into your manuscript."),
                author=c3.text_input("Author (document properties)", value=st.session_state.get("researcher", ""),
                                     key="vg_author", help="Shown in Word's document properties; leave it empty "
                                                           "for blind review."))


def preview(project: Project, v: Any, options: dict[str, Any]) -> None:
    with action():
        doc = project.exports.layout_vignette(v.id, **{**options, "allow_draft": True}, disclosure=False)
        st.markdown(render_document(doc, "md").decode("utf-8"))


def disclosure_panel(project: Project, v: Any, options: dict[str, Any]) -> None:
    """Run the NER check on demand; accept each flag, or edit the quote with a bracketed substitution."""
    key = f"vg_flags_{v.id}_{project.version()}_{options['attributes']}"
    if st.button("Run the disclosure check", key=f"vg_check_{v.id}"):
        with action(), st.spinner("Reading for names, organisations and places..."):
            st.session_state[key] = project.disclosure.check(v.id, attributes=options["attributes"])
    flags = st.session_state.get(key)
    if flags is None:
        st.caption("Flags people, organisations and places not on the allow-list (pseudonyms, attributes, code "
                   "names and accepted terms), and attribute combinations only one participant has.")
    elif not flags:
        st.success("No possible identifying details found.")
    for n, flag in enumerate(flags or []):
        left, right = st.columns([5, 1])
        left.markdown(f"**{md_escape(flag.text)}** · {md_escape(label_words(flag.label))} · in "
                      f"{md_escape(flag.quote)}" + (f"  \n:small[{md_escape(flag.detail)}]" if flag.detail else ""))
        if right.button("Accept", key=f"vg_accept_{v.id}_{n}", help="Not identifying: stop flagging it"):
            act(lambda: project.disclosure.accept_term(flag.text, label=flag.label), f"Accepted '{flag.text}'")
    if flags:
        st.caption("Or edit the quote with a bracketed substitution, e.g. [a colleague], and save.")
    accepted = cached("allow_list", lambda p: p.disclosure.allow_list())
    with st.expander(f"Accepted as not identifying ({len(accepted)})"):
        for n, row in enumerate(accepted):
            left, right = st.columns([5, 1])
            left.markdown(f"{md_escape(row.term)} · {row.label or '-'} · {row.accepted_by}, {row.at[:10]}")
            if right.button("Remove", key=f"vg_unaccept_{n}", help="Flag it again"):
                act(lambda: project.disclosure.remove_term(row.term), f"'{row.term}' will be flagged again")


def downloads(project: Project, v: Any, options: dict[str, Any]) -> None:
    """One download button per format, once the vignette passes its checks (draft, integrity, disclosure)."""
    with action():
        cached(f"vg_layout_{v.id}_{sorted(options.items())}", lambda p: p.exports.layout_vignette(v.id, **options))
        cols = st.columns(len(VIGNETTE_FORMATS))
        for col, fmt in zip(cols, VIGNETTE_FORMATS):
            col.download_button(
                LABELS[fmt], recorded(functools.partial(project.exports.download_vignette, v.id, format=fmt, **options)),
                file_name=f"{v.title}{BY_NAME[fmt].suffixes[0]}", mime=BY_NAME[fmt].mime, on_click="ignore",
                key=f"vg_dl_{v.id}_{fmt}")
