"""Embedding in the background (issue 26): the workbench's one worker thread per project and server process.

An import or sync from the Project page stores and segments the text (readable and codable at once) and
returns; the new segments are the embedding queue, a query (``TranscriptService.embed_pending``), so this
worker holds no state of its own worth keeping: a server killed midway loses at most the batch in flight,
and the worker started when the project is next opened goes on from there. It starts when a project opens
with segments still to embed (:func:`embedding_worker`, called by every page's sidebar: the first call per
process checks the queue) and after every import or sync (:meth:`EmbeddingWorker.start`). Pages read
:meth:`EmbeddingWorker.snapshot` (the Project page's bar) and ``project.assist.coverage()`` (the Assist
page's "semantic search covers 41 % of segments so far").

``STORYLOOM_EMBED_IN_BACKGROUND=0`` starts no worker (tests that need a partial index to stay partial;
``storyloom embed`` does the work instead).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.domain.progress import Rate, Step, describe
from analysis.errors import explain

if TYPE_CHECKING:
    from analysis.project import Project

ENABLED = "STORYLOOM_EMBED_IN_BACKGROUND"


@dataclass(frozen=True)
class Snapshot:
    """What a page shows of the worker: ``running``, the current run's ``done`` of ``total`` sentences, its
    line (``text``: "Embedding sentences: 1,024 of 3,300 sentences · 410 sentences/s · about 6 s left"),
    and ``error`` (why the last run stopped, in the researcher's words)."""

    running: bool
    done: int
    total: int
    text: str
    error: str

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(self.done / self.total, 1.0)


class EmbeddingWorker:
    """Works the project's embedding queue in one daemon thread, until the queue is empty."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False  # asked to start while running: look at the queue once more before ending
        self._step: Step | None = None
        self._rate = Rate()
        self._text = ""
        self._error = ""
        self.runs = 0  # how many times the thread went through the queue (tests)

    @property
    def enabled(self) -> bool:
        return os.environ.get(ENABLED, "1") != "0"

    def start(self) -> bool:
        """Work the queue now (after an import, at open); True if a thread was started or told to look again."""
        if not self.enabled:
            return False
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return True
            self.stop.clear()
            self._again, self._error = False, ""
            self._thread = threading.Thread(target=self._run, name="storyloom-embedding", daemon=True)
            self._thread.start()
            return True

    def _progress(self, step: Step) -> None:
        if self._step is None or step.done < self._step.done:
            self._rate = Rate()
        rate, left = self._rate.update(step)
        self._step, self._text = step, describe(step, rate, left)

    def _run(self) -> None:
        while True:
            try:
                self.runs += 1
                self.project.transcripts.embed_pending(progress=self._progress, stop=self.stop)
            except Exception as err:  # noqa: BLE001 - a thread's boundary: kept for the page, the queue stays
                self._error = explain(err, path=self.project.path)[0]
                with self._lock:
                    self._again = False
                    return
            with self._lock:
                if not self._again or self.stop.is_set():
                    self._step = None
                    return
                self._again = False

    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def snapshot(self) -> Snapshot:
        step = self._step
        if step is None or not self.running():
            return Snapshot(self.running(), 0, 0, "", self._error)
        return Snapshot(True, step.done, step.total, self._text, self._error)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker is idle (tests); False if ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.running():
            thread = self._thread
            if thread is not None:
                thread.join(None if deadline is None else max(deadline - time.monotonic(), 0))
            if deadline is not None and time.monotonic() >= deadline:
                return not self.running()
        return True


_workers: dict[str, EmbeddingWorker] = {}
_workers_lock = threading.Lock()


def worker_for(project: Project) -> EmbeddingWorker:
    """The project's worker in this process (made, and started if the queue is not empty, on first use)."""
    key = str(project.path)
    with _workers_lock:
        found = _workers.get(key)
        if found is not None and found.project is project:
            return found
        found = _workers[key] = EmbeddingWorker(project)
    if found.enabled and not project.assist.coverage().complete:
        found.start()
    return found
