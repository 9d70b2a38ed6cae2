"""The start screen (issue 23) through AppTest: a folder without a project is offered, never made one
silently; a recent project opens with one click; the sample study is copied, imported and opened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.userdirs import recent_projects, remember_project

REPO = Path(__file__).absolute().parents[2]


@pytest.fixture
def start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A private per-user folder, and no choice left over from another test's start screen."""
    import analysis.workbench.state as state

    monkeypatch.setenv("STORYLOOM_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(state, "_chosen", {})
    yield tmp_path


def _app(project: Path | None, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    if project is None:
        monkeypatch.delenv("STORYLOOM_PROJECT", raising=False)
        monkeypatch.chdir(project or Path("/"))  # '.' (the cwd) holds no project
    else:
        monkeypatch.setenv("STORYLOOM_PROJECT", str(project))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_folder_without_a_project_is_offered_not_made_one(start: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = start / "my study"
    folder.mkdir()
    at = _app(folder, monkeypatch)
    assert any("no Storyloom project" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not (folder / "project.db").exists()  # shown, not created
    at.run()
    assert not (folder / "project.db").exists()
    at = _click(at, f"Create a project in {folder.resolve()}")
    assert (folder / "project.db").is_file() and (folder / "transcripts").is_dir() and (folder / "codebooks").is_dir()
    assert any("No transcripts yet" in i.value for i in at.info)  # the workbench, on the new project
    assert recent_projects() == [folder.resolve()]


def test_no_project_named_shows_the_start_screen_and_opens_a_recent_one(start: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = start / "study"
    (study / "transcripts").mkdir(parents=True)
    (study / "transcripts" / "a.txt").write_text("Interviewer: Hello?\n\nAna: Hello there.\n", encoding="utf-8")
    with open_project(study, embedder=HashingEmbedder()) as project:
        project.sync()
    remember_project(study)
    at = _app(None, monkeypatch)
    assert not at.warning  # nothing was named: no offer for the current folder
    assert [t.label for t in at.text_input] == ["Folder", "Copy it into"]
    at = _click(at, "study")
    assert at.session_state["_storyloom_project"] == str(study.resolve())
    assert all(b.label != "Create project" for b in at.button)  # the workbench, not the start screen
    assert any(s.label == "Transcript" for s in at.selectbox)  # Read & code, on the study's transcript


@pytest.mark.slow
def test_the_sample_study_is_copied_imported_and_opened(start: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(None, monkeypatch)
    target = start / "sample"
    next(t for t in at.text_input if t.label == "Copy it into").input(str(target))
    at = _click(at, "Open the sample study")
    assert (target / "transcripts" / "participants.csv").is_file() and (target / "codebooks" / "story.yaml").is_file()
    with open_project(target, embedder=HashingEmbedder(), create=False) as project:
        status = project.status()
    assert status["transcripts"] == 7 and status["codings"] == 318, status
    assert recent_projects() == [target.resolve()]
    assert not at.text_input or all(t.label != "Copy it into" for t in at.text_input)  # the workbench now


def test_switch_project_shows_the_start_screen_and_back(start: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = start / "a", start / "b"
    for folder in (a, b):
        with open_project(folder, embedder=HashingEmbedder()):
            pass
    remember_project(b)
    at = _app(a, monkeypatch)
    at = _click(at, "Switch project")
    assert not at.warning and any(t.label == "Folder" for t in at.text_input)  # the start screen, no false alarm
    at = _click(at, "b")
    assert at.session_state["_storyloom_project"] == str(b.resolve())
    assert any(b.label == "Switch project" for b in at.button)  # the workbench again, on b
