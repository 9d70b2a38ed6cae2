"""The language model loads in the background when the app starts (analysis.workbench.state.LanguageModel): a page
renders while it is still loading and says "preparing the language model"; search works once it is
loaded. Correctness only: how fast is benchmarks/browser.py's business (no timing thresholds here)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import analysis.workbench.state
from analysis import Project, open_project
from analysis.embedding.minilm import Done, HashingEmbedder

REPO = Path(__file__).absolute().parents[2]
INTERVIEW = ("Interviewer: How was the approval?\n\n"
             "Leader A: The approval took fourteen months and the paperwork never ended.\n\n"
             "Interviewer: And the learners?\n\n"
             "Leader A: The learners were afraid of being assessed again after years away.\n")


class GatedEmbedder(HashingEmbedder):
    """The hashing embedder, but the first use blocks until ``gate`` opens (a model still loading)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0

    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
        self.calls += 1
        assert self.gate.wait(60), "the test never let the model load"
        return super().embed(texts, done)


def _captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture
def app(make_project: Callable[..., Project], monkeypatch: pytest.MonkeyPatch) -> tuple[Project, GatedEmbedder]:
    synced = make_project("bg", transcripts={"leader_a.txt": INTERVIEW})
    embedder = GatedEmbedder()
    served = open_project(synced.path, embedder=embedder)  # the app's handle: its model is "still loading"
    monkeypatch.setattr(analysis.workbench.state, "_open", lambda path: served)
    monkeypatch.setenv("STORYLOOM_PROJECT", str(synced.path))
    monkeypatch.setenv(analysis.workbench.state.LOAD_AT_START, "1")
    yield served, embedder
    embedder.gate.set()
    served.close()


def test_pages_render_while_the_model_loads_and_search_works_once_it_has(app: tuple[Project, GatedEmbedder]) -> None:
    project, embedder = app
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.run()  # Read & code: renders although the model is not loaded
    assert not at.exception, [e.value for e in at.exception]
    assert any("Coding panel" in m.value for m in at.markdown)
    model = analysis.workbench.state._language_model(str(project.path))  # started by app.py after the first page
    assert not model.ready.is_set() and model._thread.is_alive()
    assert model._thread.name == "storyloom-language-model"

    at.switch_page("analysis/workbench/pages/assist.py").run()  # Assist: the search form is there, with the notice
    assert not at.exception, [e.value for e in at.exception]
    assert "Preparing the language model" in _captions(at)
    assert at.text_input(key="as_search_query") is not None
    assert not model.ready.is_set()  # no page waited for it

    embedder.gate.set()  # the model finishes loading
    assert model.wait(30) and model.error is None
    assert embedder.calls >= 1  # the background thread embedded its warm-up sentence
    at.run()
    assert "Preparing the language model" not in _captions(at)
    at.text_input(key="as_search_query").input("afraid of being assessed")
    at.button(key="FormSubmitter:as_search_form-Search").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "hits for" in _captions(at)
    assert any("assessed" in m.value for m in at.markdown)


def test_without_loading_at_start_the_model_loads_on_first_use(
        app: tuple[Project, GatedEmbedder], monkeypatch: pytest.MonkeyPatch) -> None:
    project, embedder = app
    monkeypatch.setenv(analysis.workbench.state.LOAD_AT_START, "0")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.switch_page("analysis/workbench/pages/assist.py").run()
    assert not at.exception, [e.value for e in at.exception]
    model = analysis.workbench.state._language_model(str(project.path))
    assert model.ready.is_set() and not model._thread.is_alive() and embedder.calls == 0
    assert "Preparing the language model" not in _captions(at)


def test_the_codings_frame_kept_per_version_follows_every_change(make_project: Callable[..., Project]) -> None:
    """ExploreService keeps the joined frame for one project version: a coding, a rename, its undo
    and an uncoding each show in the next frame (and the frame handed out is the caller's to change)."""
    project = make_project("frame", transcripts={"leader_a.txt": INTERVIEW})
    code = project.codebook.add_code("Approval burden")
    assert project.explore.codings_frame().empty
    text = project.transcripts.get("leader_a.txt").text
    start = text.index("fourteen months")
    project.codings.add_coding(transcript="leader_a.txt", start=start, end=start + 15, code=code.id, coder="A")
    frame = project.explore.codings_frame()
    assert frame["text"].tolist() == ["fourteen months"] and frame["code"].tolist() == ["Approval burden"]
    frame.loc[0, "text"] = "changed by the caller"
    assert project.explore.codings_frame()["text"].tolist() == ["fourteen months"]
    project.codebook.edit_code(code.id, name="Approval delay")
    assert project.explore.codings_frame()["code_path"].tolist() == ["Approval delay"]
    project.undo()
    assert project.explore.codings_frame()["code_path"].tolist() == ["Approval burden"]
    project.codings.remove_coding(int(frame.loc[0, "coding_id"]))
    assert project.explore.codings_frame().empty
