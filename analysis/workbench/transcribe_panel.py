"""The Project page's Transcribe action: recordings to speaker-labelled transcripts, in the background.

The job (:mod:`analysis.workbench.transcription_jobs`) runs in a server thread, so every page stays usable;
this panel polls it once a second in a fragment: audio time done, words so far, time left, the transcript as
it grows, and Cancel. A reload finds the job again; a job the server was killed during shows as interrupted,
with Restart (its recordings were kept)."""

from __future__ import annotations

import streamlit as st

from analysis import Project
from analysis.domain.progress import clock_text
from analysis.media.formats import RECORDING_SUFFIXES
from analysis.workbench.transcription_jobs import JOBS, JobState
from analysis.workbench.state import action, researcher
from analysis.workbench.widgets import fresh

LANGUAGES = {"Detect it": "auto", "English": "en", "French": "fr", "German": "de", "Spanish": "es",
             "Italian": "it", "Portuguese": "pt", "Dutch": "nl", "Māori": "mi", "Chinese": "zh", "Japanese": "ja",
             "Arabic": "ar", "Hindi": "hi"}


def describe_job(s: JobState) -> str:
    if s.stage != "recognise" or s.audio_total <= 0:
        return s.stage_text + "…"
    text = f"Recognising {s.current}: {clock_text(s.audio_done)} of {clock_text(s.audio_total)} audio · {s.words:,} words"
    return text + (f" · about {clock_text(s.seconds_left)} left" if s.seconds_left is not None else "")


@st.fragment(run_every=1.0)
def live(project: Project) -> None:
    state = JOBS.current(project)
    if state is None or state.finished:
        st.rerun(scope="app")  # the job ended: the whole page shows its outcome (and the new transcript)
        return
    fraction = state.audio_done / state.audio_total if state.stage == "recognise" and state.audio_total else 0.0
    st.progress(min(max(fraction, 0.0), 1.0), text=describe_job(state))
    if st.button("Cancel transcription", key="transcribe_cancel", icon=":material/cancel:"):
        JOBS.cancel(project)
        st.toast("Cancelling: nothing will be written.")
    if state.passages:
        with st.container(height=220, border=True):
            st.markdown("  \n".join(state.passages[-60:]))


def outcome(project: Project, state: JobState) -> None:
    if state.status == "done":
        for t in state.report.get("transcribed", []):
            st.success(f"Transcribed {t['recording']} into {t['transcript']} ({t['language']}, {t['words']:,} words, "
                       f"{t['speakers']} speaker(s), {t['unsure']} unsure word(s) to review). Map its speakers below.",
                       icon=":material/record_voice_over:")
        for warning in state.report.get("warnings", []):
            st.warning(warning)
    elif state.status == "cancelled":
        st.info("The transcription was cancelled: nothing was written and the project is unchanged.")
    else:
        st.error(state.error or "The server stopped during the transcription (nothing was written).")
        if st.button("Restart the transcription", key="transcribe_restart", icon=":material/restart_alt:"):
            with action():
                JOBS.start(project, None, speakers=state.speakers, language=state.language, beam=state.beam,
                           researcher=researcher(), restart_of=state)
                st.rerun()
    if st.button("Dismiss", key="transcribe_dismiss"):
        JOBS.dismiss(project)
        st.rerun()


def transcribe_section(project: Project) -> None:
    st.subheader("Transcribe recordings")
    st.caption("Privately, on this machine (Whisper base; nothing leaves it). Each recording becomes a transcript "
               "with speakers “Speaker 1…N” to map, its recording attached; words the recogniser was unsure of "
               "are listed for review. About a third of the recording's length on a laptop.")
    state = JOBS.current(project)
    if state is not None and state.status == "running":
        live(project)
        return
    if state is not None:
        outcome(project, state)
    with st.form(fresh("transcribe"), border=True):
        files = st.file_uploader("Recordings", type=[s.lstrip(".") for s in RECORDING_SUFFIXES],
                                 accept_multiple_files=True)
        left, middle, right = st.columns(3)
        speakers = left.number_input("Number of speakers", min_value=1, max_value=20, value=2, step=1,
                                     help="How many people speak in each recording (the interviewer included).")
        language = middle.selectbox("Language", list(LANGUAGES), help="Detect it, or say which language is spoken.")
        beam = right.selectbox("Accuracy", ["Careful (beam 5)", "Fast (beam 1)"])
        if st.form_submit_button("Transcribe", type="primary", icon=":material/graphic_eq:"):
            with action():
                JOBS.start(project, [(f.name, f.getvalue()) for f in files or []], speakers=int(speakers),
                           language=LANGUAGES[str(language)], beam=5 if str(beam).startswith("Careful") else 1,
                           researcher=researcher())
                st.rerun()
