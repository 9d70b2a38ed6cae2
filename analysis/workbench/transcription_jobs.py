"""Transcription as a background job (the Project page's Transcribe action; issue 22).

A job runs :meth:`TranscriptionService.transcribe` in a thread, so the workbench's pages stay usable, and
keeps what a page shows: audio seconds done and in all, words so far, time left, the passages recognised
so far (the transcript as it grows). One job per project at a time, held by :data:`JOBS` for the server
process, so a page reload finds it again. Its state is also written to ``.storyloom/transcription.json`` in
the project folder, and the recordings it was given are kept in ``.storyloom/recordings/`` until it ends:
a server killed mid-job leaves a state that says ``running`` with no thread behind it, which
:func:`current` reports as ``interrupted`` (nothing was written: the service writes only once a recording
is recognised in full), and :meth:`Jobs.restart` starts it again from the kept recordings. Cancelling sets
the service's cancel flag, checked between recognised segments: the project stays unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.domain.progress import Step
from analysis.errors import Errors, StoryloomError, ValidationError, translate

if TYPE_CHECKING:
    from analysis.project import Project

STATE_DIR = ".storyloom"
STATE_FILE = "transcription.json"
RECORDINGS = "recordings"
MAX_PASSAGES = 400  # the growing transcript the page shows (the last ones)


@dataclass
class JobState:
    """What a page shows of a job; ``status``: running, done, failed, cancelled, interrupted."""

    recordings: list[str]
    speakers: int
    language: str
    beam: int
    researcher: str | None
    status: str = "running"
    stage: str = "prepare"
    stage_text: str = "Preparing the speech model"
    current: str = ""
    audio_done: float = 0.0
    audio_total: float = 0.0
    words: int = 0
    seconds_left: float | None = None
    started: float = field(default_factory=time.time)
    passages: list[str] = field(default_factory=list)
    error: str = ""
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status != "running"


class Job:
    def __init__(self, project: Project, state: JobState) -> None:
        self.project = project
        self.state = state
        self.cancel = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="storyloom-transcription", daemon=True)
        self._recognise_start: float | None = None

    # -- the worker ------------------------------------------------------------------------------
    def _progress(self, step: Step) -> None:
        from analysis.domain.progress import STAGE_LABELS

        with self.lock:
            s = self.state
            s.stage, s.stage_text = step.stage, STAGE_LABELS.get(step.stage, step.stage)
            if step.item and step.stage == "prepare":
                s.stage_text = step.item[0].upper() + step.item[1:]
            if step.stage == "recognise":
                if step.done == 0:
                    s.current, s.audio_total, self._recognise_start = step.item, float(step.total), time.monotonic()
                s.audio_done = float(step.done)
                if step.item.endswith(" words"):
                    s.words = int(step.item.split()[0].replace(",", ""))
                elapsed = time.monotonic() - (self._recognise_start or time.monotonic())
                s.seconds_left = (elapsed / step.done * (step.total - step.done)) if step.done > 0 else None
        self._save()

    def _passage(self, recording: str, speaker: str, start: float, text: str) -> None:
        with self.lock:
            minutes, seconds = divmod(int(start), 60)
            self.state.passages.append(f"[{minutes:02d}:{seconds:02d}] {text}")
            del self.state.passages[:-MAX_PASSAGES]

    def _run(self) -> None:
        folder = recordings_dir(self.project.path)
        paths = [folder / name for name in self.state.recordings]
        try:
            with self.project.acting_as(self.state.researcher):
                report = self.project.transcription.transcribe(
                    paths, speakers=self.state.speakers, language=self.state.language, beam=self.state.beam,
                    replace=True, progress=self._progress, passage=self._passage, cancel=self.cancel)
        except StoryloomError as err:
            self._end("cancelled" if err.code == "SL1707" else "failed", error=translate(err))
        except Exception as err:  # noqa: BLE001 - a worker thread: the page shows the message, never a traceback
            self._end("failed", error=translate(err))
        else:
            self._end("done", report=asdict(report))  # the state file is JSON

    def _end(self, status: str, *, error: str = "", report: dict[str, Any] | None = None) -> None:
        with self.lock:
            self.state.status, self.state.error, self.state.report = status, error, report or {}
            self.state.seconds_left = 0.0 if status == "done" else None
        self._save()
        if status in ("done", "cancelled"):  # a failed job keeps its recordings, to restart it
            shutil.rmtree(recordings_dir(self.project.path), ignore_errors=True)

    def _save(self) -> None:
        with self.lock:
            data = asdict(self.state)
        data["pid"] = os.getpid()
        save_state(self.project.path, data)


def state_path(folder: Path) -> Path:
    return folder / STATE_DIR / STATE_FILE


def recordings_dir(folder: Path) -> Path:
    return folder / STATE_DIR / RECORDINGS


def save_state(folder: Path, data: dict[str, Any]) -> None:
    path = state_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load_state(folder: Path) -> JobState | None:
    try:
        data = json.loads(state_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    data.pop("pid", None)
    try:
        return JobState(**data)
    except TypeError:
        return None


class Jobs:
    """The server process's transcription jobs, one per project folder."""

    def __init__(self) -> None:
        self._jobs: dict[Path, Job] = {}
        self._lock = threading.Lock()

    def start(self, project: Project, recordings: list[tuple[str, bytes]] | None, *, speakers: int,
              language: str, beam: int, researcher: str | None,
              restart_of: JobState | None = None) -> JobState:
        """Start a job over ``recordings`` (name, bytes), kept in ``.storyloom/recordings/`` first, or again
        over the recordings an interrupted or failed job kept (``restart_of``). Options are checked first."""
        folder = project.path
        with self._lock:
            running = self._jobs.get(folder)
            if running is not None and running.thread.is_alive():
                return running.state
            kept = recordings_dir(folder)
            if restart_of is None:
                shutil.rmtree(kept, ignore_errors=True)
                kept.mkdir(parents=True, exist_ok=True)
                names = []
                for name, data in recordings or []:
                    target = kept / Path(name).name
                    target.write_bytes(data)
                    names.append(target.name)
            else:
                names = [n for n in restart_of.recordings if (kept / n).is_file()]
            if not names:
                raise ValidationError(Errors.E1710)
            project.transcription.check([kept / n for n in names], speakers=speakers, language=language, beam=beam,
                                        replace=True)
            job = Job(project, JobState(names, speakers, language, beam, researcher))
            self._jobs[folder] = job
            job._save()
            job.thread.start()
            return job.state

    def current(self, project: Project) -> JobState | None:
        """The project's job: the live one, else the last one on disk (``running`` there without a live job
        means the server stopped during it: reported as ``interrupted``)."""
        with self._lock:
            job = self._jobs.get(project.path)
        if job is not None:
            with job.lock:
                return JobState(**{**asdict(job.state), "passages": list(job.state.passages)})
        state = load_state(project.path)
        if state is not None and state.status == "running":
            state.status = "interrupted"
        return state

    def cancel(self, project: Project) -> None:
        with self._lock:
            job = self._jobs.get(project.path)
        if job is not None:
            job.cancel.set()

    def wait(self, project: Project, timeout: float | None = None) -> JobState | None:
        with self._lock:
            job = self._jobs.get(project.path)
        if job is not None:
            job.thread.join(timeout)
        return self.current(project)

    def dismiss(self, project: Project) -> None:
        """Forget a finished job (its state file and any kept recordings)."""
        with self._lock:
            job = self._jobs.get(project.path)
            if job is not None and job.thread.is_alive():
                return
            self._jobs.pop(project.path, None)
        state_path(project.path).unlink(missing_ok=True)
        shutil.rmtree(recordings_dir(project.path), ignore_errors=True)


#: The server's jobs (a page reload, or another browser session, finds a running job here).
JOBS = Jobs()
