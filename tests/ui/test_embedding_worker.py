"""The workbench's background embedding (analysis/workbench/embedding_jobs.py): one worker per project and
process, started at open when vectors are missing and after an import; its state for the pages; an error kept
for the page with the queue intact; off with STORYLOOM_EMBED_IN_BACKGROUND=0."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from analysis import open_project
from analysis.embedding.minilm import Done, HashingEmbedder
from analysis.workbench import embedding_jobs
from analysis.workbench.embedding_jobs import ENABLED, EmbeddingWorker, worker_for


def interview(n: int, who: str = "Leader A") -> str:
    body = " ".join(f"In week {i} the cohort of {who} met mentor number {i * 7 + 3}." for i in range(n))
    return f"Interviewer: Tell me about it.\n\n{who}: {body}\n"


class Gated(HashingEmbedder):
    """Waits at each batch until the test lets it go (the worker is seen running)."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.calls = 0

    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
        self.calls += 1
        assert self.go.wait(30)
        return super().embed(texts, done)


class Broken(HashingEmbedder):
    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
        raise MemoryError("no memory left for the model")


@pytest.fixture(autouse=True)
def _fresh_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding_jobs, "_workers", {})
    monkeypatch.delenv(ENABLED, raising=False)


def test_a_project_opened_with_missing_vectors_is_embedded_in_the_background(make_project):
    project = make_project(transcripts={"a.txt": interview(40)}, sync=False)
    project.sync(wait=False)
    gated = Gated()
    with open_project(project.path, embedder=gated) as opened:
        worker = worker_for(opened)
        assert worker.running() and worker_for(opened) is worker  # one per project and process
        (opened.path / "transcripts" / "b.txt").write_text(interview(10, "Leader B"), encoding="utf-8")
        opened.sync(wait=False)
        assert worker.start()  # an import while it runs: it looks at the queue again before it ends
        assert opened.assist.coverage().embedded == 0
        gated.go.set()
        assert worker.wait(60)
        assert opened.assist.coverage().complete and not worker.running()
        assert worker.snapshot().text == "" and worker.snapshot().error == ""
        assert worker.start() and worker.wait(30)  # nothing left: a run that finds the queue empty
        assert opened.assist.coverage().complete


def test_the_worker_reports_progress_while_it_runs(make_project):
    project = make_project(transcripts={"a.txt": interview(1500)}, sync=False)
    project.sync(wait=False)
    seen: list[str] = []

    class Watching(HashingEmbedder):
        def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
            seen.append(worker.snapshot().text)
            return super().embed(texts, done)

    with open_project(project.path, embedder=Watching()) as opened:
        worker = EmbeddingWorker(opened)
        worker.start()
        assert worker.wait(60)
    assert seen[0] == "Embedding sentences: 0 of 1,501 sentences"
    assert seen[1].startswith("Embedding sentences: 1,024 of 1,501 sentences")


def test_an_error_is_kept_for_the_page_and_the_queue_stays(make_project):
    project = make_project(transcripts={"a.txt": interview(5)}, sync=False)
    project.sync(wait=False)
    with open_project(project.path, embedder=Broken()) as opened:
        worker = worker_for(opened)
        assert worker.wait(30)
        assert "memory" in worker.snapshot().error.lower() and not worker.snapshot().running
        assert opened.assist.coverage().embedded == 0  # nothing half-written; the next start goes on
    with open_project(project.path, embedder=HashingEmbedder()) as healthy:
        assert worker_for(healthy).wait(30) and healthy.assist.coverage().complete


def test_background_embedding_can_be_switched_off(make_project, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENABLED, "0")
    project = make_project(transcripts={"a.txt": interview(5)}, sync=False)
    project.sync(wait=False)
    worker = worker_for(project)
    assert not worker.start() and not worker.running()
    assert project.assist.coverage().percent == 0
