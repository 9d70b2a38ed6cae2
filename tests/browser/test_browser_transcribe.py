"""Transcription in a real Chromium (issue 22's gap): a researcher uploads a recording on the Project page, says
two people speak, transcribes it; the progress shows while the page stays usable, the outcome names the new
transcript, and Read & code shows its words with the recording attached. The two-voice interview is spoken in
the test (espeak-ng, sox); no request goes to any host but the local app. Screenshots:
test-artifacts/screenshots/transcribe-*.png."""

from __future__ import annotations

import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.test_browser import ARGS, CHROMIUM, SHOTS, open_page, settle, streamlit_app
from tests.speech.recordings import SCRIPT, normalise, speak, wer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_transcribe_a_recording_from_the_project_page(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: `make test` installs it (make speech-deps)")
    project_dir = tmp_path / "study"
    (project_dir / "transcripts").mkdir(parents=True)
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        assert project.transcripts.list() == []
    recording = speak(SCRIPT, tmp_path / "garden_interview.wav")
    SHOTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            with streamlit_app(project_dir, tmp_path / "server.log") as url:
                page.goto(url)
                page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)
                settle(page)
                open_page(page, "Project")
                page.get_by_text("Transcribe recordings").first.scroll_into_view_if_needed()
                form = page.get_by_test_id("stForm").filter(has=page.get_by_text("Number of speakers"))
                form.locator("input[type=file]").set_input_files(str(recording))
                page.get_by_text(recording.name).wait_for(timeout=15_000)
                speakers = form.get_by_role("spinbutton", name="Number of speakers")
                speakers.fill("2")
                speakers.press("Tab")
                form.get_by_role("button", name="Transcribe").click()
                # the job runs in the background: its progress (or, on a fast machine, its outcome) shows
                page.get_by_text("Transcribed garden_interview.wav into").or_(
                    page.get_by_role("button", name="Cancel transcription")).first.wait_for(timeout=60_000)
                page.screenshot(path=str(SHOTS / "transcribe-running.png"), full_page=True)
                page.get_by_text("Transcribed garden_interview.wav into").wait_for(timeout=300_000)
                settle(page)
                page.screenshot(path=str(SHOTS / "transcribe-done.png"), full_page=True)
                open_page(page, "Read & code")
                page.get_by_text("Coding panel").wait_for(timeout=60_000)
                settle(page)
                shown = page.evaluate("""() => {
                  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text'));
                  const root = host.shadowRoot;
                  return {text: root.querySelector('.text').innerText,
                          media: !!root.querySelector('[data-testid=storyloom-media]'),
                          stamps: root.querySelectorAll('.times .stamp').length};
                }""")
                page.screenshot(path=str(SHOTS / "transcribe-read-code.png"))
        finally:
            browser.close()
    reference = [w for _, line in SCRIPT for w in normalise(line)]
    spoken = re.sub(r"\[[0-9:.]+\]\s*Speaker \d+:", " ", shown["text"])  # the shown times and speaker labels
    assert "Speaker 1:" in shown["text"] and "Speaker 2:" in shown["text"], shown["text"]
    assert wer(reference, normalise(spoken)) < 0.25, shown["text"]
    assert shown["media"], "the recording is attached and playable beside the transcript"
    assert shown["stamps"] >= 3, "each cue keeps its time in the margin"
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        (listed,) = project.transcripts.list()
        assert listed.name == "garden_interview.vtt", listed
        labels = {s.label for s in listed.speakers}
        assert labels == {"Speaker 1", "Speaker 2"}, labels
    assert errors == [], errors
    app = urllib.parse.urlsplit(url).hostname
    outside = [u for u in requested if urllib.parse.urlsplit(u.removeprefix("blob:")).scheme not in ("data", "about")
               and urllib.parse.urlsplit(u.removeprefix("blob:")).hostname != app]
    assert outside == [], outside
