"""Project: bring transcripts in (upload, or sync the transcripts/ folder), map speakers to
participants, edit participants' attributes, and see where the project stands."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from analysis import Project
from analysis.ingest import suffix_list
from analysis.errors import ConflictError, Errors
from analysis.domain.progress import Progress
from analysis.workbench.state import action
from analysis.workbench.embedding_jobs import worker_for
from analysis.workbench.transcribe_panel import transcribe_section
from analysis.workbench.widgets import (act, embedding_progress, fresh, on_click, participants, pending_error, read, recorded,
                                        sidebar, stage_bars)

INTERVIEWER, NEW = "Interviewer (not a participant)", "New participant…"


def import_with_progress(run: Callable[[Progress], dict[str, Any]], label: str) -> None:
    """Run an import with one progress bar per stage (reading, splitting, saving), fed by its progress
    callback; errors leave the project unchanged. It returns once the text is stored: the embedding goes on
    in the background (analysis.workbench.embedding_jobs), its bar at the top of this page."""
    area = st.container()
    area.caption(label)
    progress = stage_bars(area)

    def run_and_keep() -> None:
        st.session_state["_import_report"] = run(progress)
        worker_for(project).start()

    act(run_and_keep, "Import finished")
    area.empty()


def attribute_changes(table: pd.DataFrame, edited_rows: dict[Any, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """``{pseudonym: {attribute: new value}}`` for the cells the researcher changed (and only those)."""
    out: dict[str, dict[str, str]] = {}
    for row, cells in (edited_rows or {}).items():
        record = table.iloc[int(row)]
        changed = {k: "" if v is None else str(v) for k, v in cells.items()
                   if k in table.columns and k not in ("pseudonym", "transcripts")
                   and str(record[k] or "") != str(v or "")}
        if changed:
            out[str(record["pseudonym"])] = changed
    return out


def show_report(report: dict[str, Any]) -> None:
    added, updated, same = report.get("added", []), report.get("updated", []), report.get("unchanged", [])
    st.success(f"Transcripts: {len(added)} added, {len(updated)} re-imported, {len(same)} unchanged; "
               f"new sentences embedded: {report.get('segments_embedded', 0)}"
               + (f"; {report['embedding_pending']:,} being embedded in the background (readable and codable now)"
                  if report.get("embedding_pending") else "") + ".", icon=":material/download_done:")
    if report.get("codebook_imported") or report.get("codings_imported"):
        st.info(f"Brought in the codebook from codebooks/: {report.get('codebook_imported', 0)} codes, "
                f"{report.get('codings_imported', 0)} codings.")
    if report.get("reanchored") or report.get("orphaned"):
        st.warning(f"{report['reanchored']} codings re-anchored in changed transcripts; {report['orphaned']} could "
                   "not be placed and are kept as orphans (see Read & code).")
    if report.get("unmapped"):
        st.warning("Speakers not yet mapped to a participant: " + ", ".join(report["unmapped"]) + " (map them below).")
    if report.get("missing"):
        st.warning("In the project but no longer in transcripts/: " + ", ".join(report["missing"]))
    for warning in report.get("copy_warnings", []):
        st.warning(warning)
    if report.get("media_attached"):
        st.info("Recordings attached (matched by name): " + ", ".join(report["media_attached"]))
    for warning in report.get("media_warnings", []):
        st.warning(warning)
    if report.get("conflicts"):
        st.warning("Corrected in Storyloom and changed in transcripts/ too (the corrected text is kept, the file is "
                   "not overwritten): " + ", ".join(report["conflicts"]) + ". Import the file to replace the "
                   "corrected text with it.")


def recordings_section(project: Project, names: list[str], recordings: dict[str, Any]) -> None:
    """Attach a recording to a transcript (upload one, or pick one already in media/), or detach it."""
    from analysis.media.formats import MEDIA_SUFFIXES, media_suffix_list

    with st.expander(f"Recordings · {len(recordings)} attached", icon=":material/graphic_eq:"):
        st.caption("Audio or video beside a transcript: listen in Read & code while you read, code and correct. "
                   "A file in media/ named like a transcript (interview_03.m4a beside interview_03.vtt) is attached "
                   "on sync. Recordings stay on this computer; only this app serves them to your browser.")
        transcript = st.selectbox("Transcript", names, key="pj_media_transcript")
        folder = project.path / "media"
        taken = {m.file for m in recordings.values()}
        waiting = sorted(f.name for f in folder.iterdir() if f.suffix.lower() in MEDIA_SUFFIXES
                         and f.name not in taken) if folder.is_dir() else []
        pick = st.selectbox("A recording already in media/", ["(upload one instead)", *waiting], key="pj_media_pick")
        upload = st.file_uploader(f"Or upload a recording ({media_suffix_list()})", key=fresh("pj_media_upload"),
                                  type=[s.lstrip(".") for s in MEDIA_SUFFIXES])

        def attach() -> None:
            if pick != "(upload one instead)":
                done = project.media.attach(transcript, folder / pick)
            else:
                if upload is None:
                    return
                with tempfile.TemporaryDirectory() as tmp:
                    given = Path(tmp) / Path(upload.name).name
                    given.write_bytes(upload.getvalue())
                    done = project.media.attach(transcript, given)
            for warning in done.warnings:
                st.session_state.setdefault("_media_warnings", []).append(warning)

        left, right = st.columns(2)
        left.button("Attach recording", key="pj_media_attach", type="primary",
                    disabled=pick == "(upload one instead)" and upload is None,
                    on_click=on_click(attach, lambda: f"Recording attached to {transcript}", where="pj_media"))
        right.button("Detach", key="pj_media_detach", disabled=transcript not in recordings,
                     help="The file stays in media/ (undo in the sidebar)",
                     on_click=on_click(lambda: project.media.detach(transcript), f"Recording detached from {transcript}",
                                       where="pj_media"))
        pending_error("pj_media")
        for warning in st.session_state.pop("_media_warnings", []):
            st.warning(warning)


def first_words(project: Project, transcript: str, label: str) -> str:
    turn = next((t for t in project.transcripts.turns(transcript) if t.speaker == label), None)
    text = project.transcripts.get(transcript).text[turn.start:turn.end] if turn else ""
    return text[:160] + ("…" if len(text) > 160 else "")


def map_speaker_form(project: Project, transcript: str, speaker: Any, people: list[str]) -> None:
    """A form to say who ``speaker`` (a listed transcript's speaker: label, turns) of ``transcript`` is."""
    with st.form(fresh(f"map-{transcript}-{speaker.label}"), border=True):
        st.markdown(f"**{speaker.label}** in `{transcript}` ({speaker.turns} turns)")
        st.caption(f"First words: “{first_words(project, transcript, speaker.label)}”")
        left, right = st.columns(2)
        choice = left.selectbox("Is", [*people, INTERVIEWER, NEW], index=None, placeholder="Choose who this is")
        new_name = right.text_input("New participant's pseudonym", help=f"Used when you choose '{NEW}'.")
        if st.form_submit_button("Map speaker"):
            def map_it() -> None:
                if choice is None:
                    raise ConflictError(Errors.E8205)
                if choice == NEW:  # one action: undo takes back the participant and the mapping together
                    project.map_speaker_to_new(transcript, speaker.label, new_name)
                else:
                    project.transcripts.map_speaker(transcript, speaker.label, None if choice == INTERVIEWER else choice,
                                                    interviewer=choice == INTERVIEWER)
            act(map_it, f"Mapped {speaker.label} in {transcript}")


def participants_table(project: Project) -> None:
    people = participants()
    in_transcripts: dict[str, list[str]] = {}
    for t in read("transcripts", lambda p: p.transcripts.list()):
        for name in t.participants:
            in_transcripts.setdefault(name, []).append(t.name)
    keys = sorted({k for p in people for k in p.attributes})
    table = pd.DataFrame([{"pseudonym": p.pseudonym, **{k: p.attributes.get(k, "") for k in keys},
                           "transcripts": ", ".join(in_transcripts.get(p.pseudonym, []))} for p in people],
                         columns=["pseudonym", *keys, "transcripts"])
    key = f"participants-{project.version()}"
    st.data_editor(table, key=key, hide_index=True, disabled=["pseudonym", "transcripts"], width="stretch")
    if st.button("Save attribute changes", type="primary"):
        changes = attribute_changes(table, st.session_state.get(key, {}).get("edited_rows", {}))
        if not changes:
            st.info("No cell was changed: edit a cell in the table first (double-click it).")
        else:
            def save() -> None:
                for who, attrs in changes.items():
                    project.participants.set_attributes(who, attrs)
            act(save, f"Saved attributes of {', '.join(changes)}")
    with st.expander("Add a participant"):
        with st.form(fresh("add-participant")):
            pseudonym = st.text_input("Pseudonym", placeholder="e.g. Academic C")
            values = {k: st.text_input(k) for k in keys}
            extra = st.text_input("Other attributes", placeholder="name=value; name=value")
            if st.form_submit_button("Add participant"):
                values |= dict(pair.split("=", 1) for pair in extra.split(";") if "=" in pair)
                attrs = {k.strip(): v.strip() for k, v in values.items() if k.strip() and v.strip()}
                act(lambda: project.participants.add(pseudonym, attributes=attrs), f"Added participant {pseudonym}")


project = sidebar()
st.title("Project")
st.caption(f"`{project.path}`: transcripts/ holds the interviews, codebooks/ the codebook files, project.db the rest.")
status = read("status", lambda p: p.status())
for column, (label, value) in zip(st.columns(len(status)), status.items()):
    column.metric(label.capitalize(), value, border=True)
embedding_progress(project, where="project")
if report := st.session_state.pop("_import_report", None):
    show_report(report)

st.subheader("Bring transcripts in")
upload, folder = st.columns([3, 2])
with upload:
    files = st.file_uploader(f"Upload transcripts ({suffix_list()})", accept_multiple_files=True,
                             key=fresh("uploads"), help="Each file becomes a transcript named after the file; a copy is kept in transcripts/.")
    if st.button("Import uploaded files", disabled=not files):
        import_with_progress(lambda cb: project.transcripts.import_bytes([(f.name, f.getvalue()) for f in files],
                                                                         progress=cb, wait=False),
                             "Reading the files…")
with folder:
    st.markdown("Or rescan the project's **transcripts/** folder: new files are imported, changed ones "
                "re-imported (codings re-anchored), `participants.csv` applied.")
    if st.button("Sync transcripts/ folder", type="primary"):
        import_with_progress(lambda cb: project.sync(progress=cb, wait=False), "Scanning transcripts/…")

transcribe_section(project)

transcripts = read("transcripts", lambda p: p.transcripts.list())
unmapped = [(t.name, s) for t in transcripts for s in t.speakers if s.participant is None and not s.interviewer]
if unmapped:
    st.subheader(f"Speakers to map ({len(unmapped)})")
    st.caption("Say who each speaker is, so their words count for a participant in themes and vignettes.")
    names = [p.pseudonym for p in participants()]
    for transcript, speaker in unmapped:
        map_speaker_form(project, transcript, speaker, names)

st.subheader("Participants")
if participants():
    st.caption("Double-click a cell to edit an attribute, then save. Pseudonyms are fixed here.")
    participants_table(project)
else:
    st.info("No participants yet: sync or upload transcripts; participants.csv in transcripts/ names them.")

st.subheader("Transcripts")
if transcripts:
    recordings = {m.transcript: m for m in read("media", lambda p: p.media.list())}
    st.dataframe(pd.DataFrame([{"transcript": t.name, "format": t.format,
                                "participants": ", ".join(t.participants),
                                "recording": recordings[t.name].file if t.name in recordings else "",
                                "corrections": t.corrections,
                                "segments": t.segments, "warnings": "; ".join(t.warnings)} for t in transcripts]),
                 hide_index=True, width="stretch")
    recordings_section(project, [t.name for t in transcripts], recordings)
else:
    st.info("No transcripts yet. Upload some above, or put them in transcripts/ and press Sync.")

st.subheader("Other QDA programs (REFI-QDA)")
st.caption("Bring in a project or codebook from NVivo, MAXQDA, ATLAS.ti or QualCoder (.qdpx, .qdc), or hand "
           "yours to a co-author who uses one. Positions are checked against every source's text before anything "
           "is written; codings that cannot be placed exactly are reported, never guessed.")
qda_in, qda_out = st.columns([3, 2])
with qda_in:
    qda = st.file_uploader("A .qdpx project or .qdc codebook", type=["qdpx", "qdc"], key=fresh("qda"))
    for warning in st.session_state.pop("qda_warnings", []):  # what the last import left out (recordings)
        st.warning(warning)
    if qda is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(qda.name).name
            path.write_bytes(qda.getvalue())
            key = f"qda_preview_{hashlib.sha256(qda.getvalue()).hexdigest()}_{project.version()}"
            preview = st.session_state.get(key)
            if preview is None:
                with action(), st.spinner("Reading the file and checking every position…"):
                    preview = st.session_state[key] = project.interchange.import_project(path, dry_run=True)
            if preview is not None:
                st.write(f"**{preview.get('origin') or 'Unknown program'}**: {preview.get('codes', 0)} codes"
                         + (f", {len(preview['sources'])} sources, {preview['codings']} codings"
                            if "sources" in preview else ""))
                if preview.get("sources"):
                    st.dataframe(pd.DataFrame(preview["sources"]).drop(columns=["guid"], errors="ignore"),
                                 hide_index=True, width="stretch")
                if preview.get("media"):
                    st.caption("Recordings (audio and video sources): each is attached to its transcript")
                    st.dataframe(pd.DataFrame(preview["media"])[["name", "kind", "recording", "transcript"]],
                                 hide_index=True, width="stretch")
                for warning in preview.get("warnings", []):
                    st.warning(warning)
                if st.button("Import it into this project", key=fresh("qda_go")):
                    area = st.container()
                    area.caption("Reading, splitting into sentences, saving…")
                    bars = stage_bars(area)  # the same bars as a transcript import: one pipeline, one progress

                    def run_import() -> None:
                        done = project.interchange.import_project(path, progress=bars, wait=False)
                        worker_for(project).start()
                        st.session_state["qda_warnings"] = done.get("warnings", [])

                    act(run_import, f"Imported {qda.name}")
with qda_out:
    def refi_bytes(suffix: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"{project.path.name}{suffix}"
            project.interchange.export_project(out)  # recorded in the audit trail (refi.export)
            return out.read_bytes()
    st.download_button("Download the project (.qdpx)", recorded(lambda: refi_bytes(".qdpx")),
                       file_name=f"{project.path.name}.qdpx", mime="application/zip", on_click="ignore", key="qdpx")
    st.download_button("Download the codebook (.qdc)", recorded(lambda: refi_bytes(".qdc")),
                       file_name=f"{project.path.name}.qdc", mime="application/xml", on_click="ignore", key="qdc")

if not project.guide.shown():
    if st.button("Show the Start here guide again", key="guide_again", icon=":material/flag:"):
        with action():
            project.guide.show_again()
            st.session_state.pop("_guide_hidden", None)
            st.rerun()

with st.expander("Recent activity (audit trail)"):
    events = read("audit", lambda p: p.audit_trail(limit=25))
    st.dataframe(pd.DataFrame([{"when": e.at[:19].replace("T", " "), "who": e.who, "what": e.summary, "note": e.note,
                                "state": e.state} for e in reversed(events)]), hide_index=True, width="stretch")
