"""A team in a real Chromium (issue 26): a coding another researcher makes in another process appears in
an open Read & code page by itself (the page's fragment reads the change counter every 3 s), on SQLite
and on a PostgreSQL server. The test waits generously for it; it asserts that it appears, not how fast
(benchmarks/team.py measures the delay)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.offline import OFFLINE_ENV
from tests.browser.test_browser import REPO, browser, settle, streamlit_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

INTERVIEW = """Interviewer: How did the approval go?

Leader A: We waited for the approval for months. Nobody told us why it took so long.

Interviewer: And then?

Leader A: The council finally wrote back in March.
"""
PASSAGE = "Nobody told us why it took so long"

OTHER_CODER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    folder, passage = Path(sys.argv[1]), sys.argv[2]
    with open_project(folder, embedder=HashingEmbedder(), user="another researcher", create=False) as p:
        text = p.transcripts.get("interview.txt").text
        start = text.index(passage)
        p.codings.add_coding(transcript="interview.txt", start=start, end=start + len(passage), code="Waiting")
""")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_another_researchers_coding_appears_in_the_open_page(browser: Any, tmp_path: Path, store: str,  # noqa: F811
                                                             request: pytest.FixtureRequest) -> None:
    folder = tmp_path / "team"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "interview.txt").write_text(INTERVIEW, encoding="utf-8")
    database = None
    if store == "postgresql":
        server = request.getfixturevalue("postgres_server")
        database = server.url(server.new_database())
    with open_project(folder, embedder=HashingEmbedder(), database=database) as project:
        project.sync()
        project.codebook.add_code("Waiting")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    highlight = page.locator("[data-testid=storyloom-transcript] .c").filter(has_text="took so long")
    with streamlit_app(folder, tmp_path / "server.log") as url:
        page.goto(url)
        page.get_by_text("Coding panel").wait_for(timeout=60_000)
        settle(page)
        page.get_by_text("We waited for the approval").first.wait_for(timeout=15_000)
        assert highlight.count() == 0
        subprocess.run([sys.executable, "-c", OTHER_CODER, str(folder), PASSAGE], check=True, cwd=REPO,
                       env={**OFFLINE_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, timeout=120)
        highlight.first.wait_for(timeout=60_000)  # nobody touched the page: its 3-s poll redrew it
        assert highlight.count() >= 1
    page.close()
    with open_project(folder, embedder=HashingEmbedder()) as project:
        coders = [c.coder for c in project.codings.codings_in("interview.txt")]
    assert coders == ["another researcher"]
