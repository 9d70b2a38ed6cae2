"""The media issue's "done when", in a real Chromium: a recording and a WebVTT with no speaker names dropped
into a project; Read & code: click line 40's time, hear line 40 while it is highlighted; correct a misheard word
without losing a coding; Themes: "Listen" on a quote plays exactly that quote; a vignette exported with
timestamps is right to the cue. The speech is made in the test (espeak-ng, sox, PyAV); any request to a host
other than the local app fails the test. Screenshots: test-artifacts/screenshots/media-*.png."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from tests.browser.recording import line_text, spoken_interview
from tests.browser.test_browser import ARGS, CHROMIUM, SHOTS, choose, open_page, settle, streamlit_app

pytestmark = pytest.mark.browser
NAME = "interview.vtt"

STATE_JS = """() => {
  const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot && e.shadowRoot.querySelector('.text'));
  const root = host.shadowRoot, media = root.querySelector('[data-testid=storyloom-media]');
  return {t: media.currentTime, paused: media.paused, playing: root.querySelector('.text').dataset.playing || null,
          error: media.error ? media.error.message : null};
}"""
LISTEN_JS = """() => {
  const hosts = [...document.querySelectorAll('*')].filter(e => e.shadowRoot && e.shadowRoot.querySelector('.lp'));
  if (!hosts.length) return null;
  const media = hosts[0].shadowRoot.querySelector('[data-testid=storyloom-listen]');
  return {t: media.currentTime, paused: media.paused, ready: media.readyState};
}"""


def _local(url: str, app: str) -> bool:
    parsed = urllib.parse.urlsplit(url.removeprefix("blob:"))
    return parsed.scheme in ("data", "about") or parsed.hostname in (urllib.parse.urlsplit(app).hostname,)


def test_listen_beside_the_text_correct_and_export_to_the_cue(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    project_dir = tmp_path / "study"
    _, _, times = spoken_interview(project_dir, 45)
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        report = project.sync()
        assert report["media_attached"] == ["interview.m4a -> interview.vtt"], report
        project.codebook.add_code("Places")
        text = project.transcripts.get(NAME).text
        for n in (12, 40):
            at = text.index(line_text(n))
            project.codings.add_coding(transcript=NAME, start=at, end=at + len(line_text(n)), code="Places")
        anchors = project.transcripts.anchors(NAME)
        quotes_before = sorted(c.text for c in project.codings.codings_in(NAME))
    assert len(anchors) == 45 and text[anchors[39].offset:].startswith(line_text(40))
    SHOTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=[*ARGS, "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        with streamlit_app(project_dir, tmp_path / "server.log") as url:
            page.goto(url)
            page.get_by_text("Coding panel").wait_for(timeout=60_000)
            settle(page)
            # 1. Line 40's time in the margin: the recording plays from there and line 40 is the one highlighted.
            stamp = page.locator(f'.times .stamp[data-o="{anchors[39].offset}"]')
            assert stamp.inner_text() == f"01:{int(times[39][0]) - 60:02d}"
            stamp.click()
            page.wait_for_function("() => { const h=[...document.querySelectorAll('*')].find(e => e.shadowRoot && "
                                   "e.shadowRoot.querySelector('[data-testid=storyloom-media]')); const m=h && "
                                   "h.shadowRoot.querySelector('[data-testid=storyloom-media]'); return m && "
                                   f"!m.paused && m.currentTime > {times[39][0] + 0.3}; }}", timeout=20_000)
            heard = page.evaluate(STATE_JS)
            assert heard["error"] is None
            assert times[39][0] <= heard["t"] < times[40][0], heard
            assert heard["playing"] == str(anchors[39].offset), heard  # line 40 is highlighted while heard
            page.screenshot(path=str(SHOTS / "media-read-code-playing.png"))
            page.keyboard.press("Escape")  # the transcriber's play/pause key
            page.wait_for_timeout(300)
            assert page.evaluate(STATE_JS)["paused"]
            # 2. Correct a misheard word of line 11 in the panel: both codings keep their quotes.
            page.get_by_text("Correct a line").click()
            line = page.get_by_role("spinbutton", name="Line")
            line.fill("11")
            line.press("Enter")
            settle(page)
            words = page.get_by_role("textbox", name="Words")
            page.wait_for_function(f"() => [...document.querySelectorAll('textarea')].some(t => t.value === {line_text(11)!r})",
                                   timeout=15_000)
            assert words.input_value() == line_text(11)
            words.fill(line_text(11).replace("budget", "budgets"))
            page.get_by_role("button", name="Save correction").click()
            settle(page)
            page.screenshot(path=str(SHOTS / "media-correction.png"))
            with open_project(project_dir, embedder=HashingEmbedder()) as project:
                corrected = project.transcripts.get(NAME).text
                assert line_text(11).replace("budget", "budgets") in corrected
                assert sorted(c.text for c in project.codings.codings_in(NAME)) == quotes_before
                assert [r.corrections for r in project.transcripts.list()] == [1]
            # 3. Themes: "Listen" on line 40's quote plays exactly that quote, then stops.
            open_page(page, "Themes")
            choose(page, "Theme or code", "Places")
            page.screenshot(path=str(SHOTS / "media-themes.png"), full_page=True)
            quote = page.locator("blockquote", has_text=line_text(40)).first
            quote.wait_for(timeout=15_000)
            quote.scroll_into_view_if_needed()
            listen = page.get_by_role("button", name="Listen")
            assert listen.count() == 2
            listen.last.click()
            settle(page)
            page.wait_for_function(f"() => {{ const s = ({LISTEN_JS})(); return s && s.t > {times[39][0]} && !s.paused; }}",
                                   timeout=20_000)
            first = page.evaluate(LISTEN_JS)
            assert times[39][0] <= first["t"] <= times[39][1] + 0.3, first
            page.screenshot(path=str(SHOTS / "media-themes-listen.png"))
            page.wait_for_function("() => { const s = (" + LISTEN_JS + ")(); return s && s.paused; }", timeout=20_000)
            stopped = page.evaluate(LISTEN_JS)
            assert times[39][1] - 0.05 <= stopped["t"] <= times[40][0] + 0.4, stopped  # stopped at the quote's end
        browser.close()
    assert not errors, errors
    foreign = [r for r in requested if not _local(r, url)]
    assert foreign == [], f"requests left the machine: {foreign}"
    assert any("/media/" in r for r in requested)  # the recording came from the local app
    # 4. A vignette exported with timestamps: each quote dated at its own cue, not the turn's first timestamp.
    with open_project(project_dir, embedder=HashingEmbedder()) as project:
        ids = sorted((c.start, c.id) for c in project.codings.codings_in(NAME))
        vignette = project.vignettes.create("Places")
        for _, cid in ids:
            project.vignettes.add_quote(vignette.id, coding=cid)
        out = project.exports.export_vignette(vignette.id, tmp_path / "places.md", timestamps=True,
                                              disclosure=False)
        body = out.read_text(encoding="utf-8")
    for n in (12, 40):
        whole = int(times[n - 1][0])
        assert f"00:{whole // 60:02d}:{whole % 60:02d}" in body, (n, body)
