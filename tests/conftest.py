"""Shared fixtures: the sample study built once per session with the real models, and a project
factory for fast unit tests (a hashing embedder, real SQLite on disk)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from analysis.offline import set_offline_env  # noqa: E402

set_offline_env()
os.environ.setdefault("STORYLOOM_USER", "Test Researcher")

from analysis import Project, open_project  # noqa: E402
from analysis.embed import HashingEmbedder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXTDATA = REPO.parent / "shared" / "extdata"
needs_extdata = pytest.mark.skipif(not EXTDATA.is_dir(), reason=f"external test data folder {EXTDATA} is absent")


@pytest.fixture(scope="session")
def sample_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's sample study (transcripts/ + codebooks/), synced once with spaCy and MiniLM."""
    folder = tmp_path_factory.mktemp("sample") / "study"
    folder.mkdir()
    shutil.copytree(REPO / "transcripts", folder / "transcripts")
    if (REPO / "codebooks").exists():
        shutil.copytree(REPO / "codebooks", folder / "codebooks")
    project = open_project(folder)
    project.sync()
    project.close()
    return folder


@pytest.fixture
def sample_project(sample_study_dir: Path, tmp_path: Path) -> Iterator[Project]:
    """A private copy of the synced sample study (real models), for tests that change it."""
    folder = tmp_path / "study"
    shutil.copytree(sample_study_dir, folder)
    project = open_project(folder)
    yield project
    project.close()


@pytest.fixture
def make_project(tmp_path: Path) -> Iterator[Callable[..., Project]]:
    """Factory: a fresh project on disk with a fast hashing embedder (unit tests only)."""
    made: list[Project] = []

    def factory(name: str = "p", *, transcripts: dict[str, str | bytes] | None = None, sync: bool = True) -> Project:
        folder = tmp_path / name
        (folder / "transcripts").mkdir(parents=True, exist_ok=True)
        for fname, content in (transcripts or {}).items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            (folder / "transcripts" / fname).write_bytes(data)
        project = open_project(folder, embedder=HashingEmbedder())
        made.append(project)
        if sync and transcripts:
            project.sync()
        return project

    yield factory
    for p in made:
        p.close()


INTERVIEW = """Interviewer: Can you tell me about the micro-credential?

Leader A: Um, it was... it was hard. We built an assessment-only credential and nobody wanted it.
The ākonga were afraid of failing 😬 again after years away.

Interviewer: What about approvals?

Leader A: The approval took fourteen months. By then the employer had trained staff in-house.
"""


@pytest.fixture
def interview_text() -> str:
    return INTERVIEW
