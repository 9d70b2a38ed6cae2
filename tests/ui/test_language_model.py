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
