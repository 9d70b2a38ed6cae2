"""The session's two-voice interview recording (see recordings.py)."""

from __future__ import annotations

import shutil

import pytest

from tests.speech.recordings import SCRIPT, Recording, speak


@pytest.fixture(scope="session")
def interview(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed (make speech-deps)")
    folder = tmp_path_factory.mktemp("recordings")
    return Recording(speak(SCRIPT, folder / "garden_interview.wav"), SCRIPT)
