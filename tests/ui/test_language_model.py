"""The workbench's background model loader (analysis.workbench.state.LanguageModel) when the load fails:
the researcher is told why, in the catalogue's words, and nothing raises (the loader used to call a
``translate`` it never imported, so a failed load raised ``NameError`` in its thread)."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from analysis.errors import Errors, StorageError
from analysis.workbench import state, widgets


def failing_project(err: BaseException, tmp_path: Path) -> Any:
    """A project whose first warm-up step (the codings frame) fails with ``err``."""
    def codings_frame() -> None:
        raise err
    return SimpleNamespace(path=tmp_path, explore=SimpleNamespace(codings_frame=codings_frame))


def loaded(project: Any, monkeypatch: pytest.MonkeyPatch) -> state.LanguageModel:
    monkeypatch.setenv(state.LOAD_AT_START, "1")
    model = state.LanguageModel(project).start()
    assert model.wait(timeout=30)
    return model


def test_a_failed_load_is_kept_as_the_researchers_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    model = loaded(failing_project(RuntimeError("model files missing"), tmp_path), monkeypatch)
    assert not errors  # the thread ended cleanly: no NameError
    assert model.error and "model files missing" in model.error and "[SL" not in model.error


def test_a_catalogue_error_keeps_its_own_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    err = StorageError(Errors.E4003, path=tmp_path)
    model = loaded(failing_project(err, tmp_path), monkeypatch)
    assert model.error == err.ui_message


def test_the_search_panel_says_why_the_model_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = loaded(failing_project(RuntimeError("no space for the ONNX export"), tmp_path), monkeypatch)
    shown: list[str] = []
    monkeypatch.setattr(widgets, "language_model", lambda: model)
    monkeypatch.setattr(widgets.st, "warning", lambda text, **_: shown.append(text))
    widgets.model_notice()
    assert shown == [f"{widgets.MODEL_FAILED} {model.error}"]


# -- between a researcher's clicks (the loader holds the interpreter: an apply at x50 took 672 ms beside it) --
class _Fast(state.Activity):
    QUIET_S = 0.2
    MAX_DEFER_S = 20.0


def recording_project(tmp_path: Path, steps: list[tuple[str, float]]) -> Any:
    import time

    def note(name: str) -> Any:
        return lambda *a, **k: steps.append((name, time.monotonic()))
    return SimpleNamespace(path=tmp_path, explore=SimpleNamespace(codings_frame=note("frame")),
                           embedder=SimpleNamespace(embed=note("embed")),
                           assist=SimpleNamespace(segment_index=note("index")))


def test_the_loader_waits_for_a_quiet_moment_and_a_search_cuts_it_short(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import analysis.domain.segment as segment

    monkeypatch.setenv(state.LOAD_AT_START, "1")
    monkeypatch.setattr(segment, "load_nlp", lambda **_: None)
    steps: list[tuple[str, float]] = []
    activity = _Fast()
    activity.started()  # a page is running when the loader starts (app.py starts it in the first run)
    model = state.LanguageModel(recording_project(tmp_path, steps), activity).start()
    time.sleep(0.5)
    assert steps == [] and not model.ready.is_set()  # nothing heavy while the page runs
    activity.ended()
    ended = time.monotonic()
    assert model.ready.wait(10)
    assert [name for name, _ in steps] == ["frame", "embed", "index"]
    assert steps[0][1] - ended >= _Fast.QUIET_S * 0.9  # then a quiet moment first
    # a researcher clicking all the time: a search that needs the model does not wait for a pause
    steps.clear()
    busy = _Fast()
    busy.started()
    second = state.LanguageModel(recording_project(tmp_path, steps), busy).start()
    time.sleep(0.3)
    assert steps == []
    t0 = time.monotonic()
    assert second.wait(timeout=5) and time.monotonic() - t0 < 2
    assert [name for name, _ in steps] == ["frame", "embed", "index"]


def test_search_is_ready_before_the_spacy_warm_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.domain.segment as segment

    monkeypatch.setenv(state.LOAD_AT_START, "1")
    release, loading = threading.Event(), threading.Event()

    def slow_nlp(**_: Any) -> None:
        loading.set()
        release.wait(10)
        raise OSError("spaCy's model is missing")  # a warm-up failure is the disclosure check's to report

    monkeypatch.setattr(segment, "load_nlp", slow_nlp)
    model = state.LanguageModel(recording_project(tmp_path, []), _Fast()).start()
    assert model.wait(timeout=10)
    assert loading.wait(10) and model.ready.is_set() and model.error is None
    release.set()
    model._thread.join(10)
    assert model.error is None and not model._thread.is_alive()


def test_a_researcher_clicking_all_the_time_delays_the_load_no_longer_than_its_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.domain.segment as segment

    class Short(state.Activity):
        QUIET_S = 5.0
        MAX_DEFER_S = 0.5

    monkeypatch.setenv(state.LOAD_AT_START, "1")
    monkeypatch.setattr(segment, "load_nlp", lambda **_: None)
    steps: list[tuple[str, float]] = []
    busy = Short()
    busy.started()  # never ends: no quiet moment comes
    model = state.LanguageModel(recording_project(tmp_path, steps), busy).start()
    assert model.ready.wait(5)  # not wait(): nobody asks; the limit alone ends the deferral
    assert [name for name, _ in steps] == ["frame", "embed", "index"]
