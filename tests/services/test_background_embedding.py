"""Start working before the embeddings are done (issue 26 item 3): an import stores and segments first,
the segments without a vector are the embedding queue (a query), worked in batches that each write their
own short transaction. A run killed midway resumes with nothing embedded twice and nothing lost; search
covers what is embedded and says how much; a transcript is codable before any vector exists. Runs on
SQLite and, with ``--database postgresql``, on the PostgreSQL server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from analysis import Project, open_project
from analysis.embedding.minilm import Done, HashingEmbedder, text_sha256
from analysis.store import embeddings as embedding_store
from analysis.store.schema import embeddings

REPO = Path(__file__).absolute().parents[2]


def interview(n: int, who: str = "Leader A", topic: str = "cohort") -> str:
    """An interview of ``n`` distinct sentences by ``who``."""
    body = " ".join(f"In week {i} the {topic} of {who} met mentor number {i * 7 + 3}." for i in range(n))
    return f"Interviewer: Tell me about it.\n\n{who}: {body}\n"


class Counting(HashingEmbedder):
    """The hashing embedder, counting every text it is given (and, optionally, doing something first)."""

    def __init__(self, before: Callable[[Sequence[str]], None] | None = None) -> None:
        self.texts: list[str] = []
        self.before = before

    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
        if self.before is not None and len(texts) > 1:
            self.before(texts)
        self.texts.extend(texts)
        return super().embed(texts, done)


def stored_hashes(project: Project) -> set[str]:
    with project.store.read() as conn:
        return {str(r[0]) for r in conn.execute(sa.select(embeddings.c.text_sha256).where(
            embeddings.c.model_id == project.embedder.model_id))}


def segment_hashes(project: Project) -> set[str]:
    from analysis.store.schema import segments

    with project.store.read() as conn:
        return {str(r[0]) for r in conn.execute(sa.select(segments.c.text_sha256))}


def reopen(project: Project, embedder: HashingEmbedder) -> Project:
    return open_project(project.path, embedder=embedder)


# -- readable and codable before any vector ----------------------------------------------------------------
def test_an_import_that_does_not_wait_is_codable_and_keyword_searchable_before_any_vector(make_project):
    project = make_project(transcripts={"a.txt": interview(40)}, sync=False)
    report = project.sync(wait=False)
    assert report["added"] == ["a.txt"] and report["segments_embedded"] == 0 and report["embedding_pending"] == 41
    assert stored_hashes(project) == set()
    coverage = project.assist.coverage()
    assert (coverage.embedded, coverage.segments, coverage.percent, coverage.complete) == (0, 41, 0, False)
    assert coverage.text.startswith("Semantic search covers 0 % of segments so far (0 of 41)")
    text = project.transcripts.get("a.txt").text
    start = text.index("In week 3 ")
    project.codebook.add_code("Mentoring")
    coding = project.codings.add_coding(transcript="a.txt", start=start, end=text.index(".", start) + 1,
                                        code="Mentoring")
    assert coding.id and project.explore.codings_frame()["code"].tolist() == ["Mentoring"]
    keyword = project.assist.search("mentor number 24", mode="keyword")
    assert [h.text for h in keyword][:1] == ["In week 3 the cohort of Leader A met mentor number 24."]
    assert project.assist.search("mentor number 24", mode="semantic") == []  # nothing embedded: nothing ranked
    assert project.transcripts.embed_pending() == 41
    assert project.assist.coverage().complete and project.assist.coverage().text == ""
    assert project.assist.search("mentor number 24", mode="semantic")


def test_search_covers_only_the_embedded_segments_and_says_how_many(make_project):
    project = make_project(transcripts={"a.txt": interview(29)})  # waited: 30 segments embedded
    (project.path / "transcripts" / "b.txt").write_text(interview(69, "Leader B", "whanau"), encoding="utf-8")
    project.sync(wait=False)  # 70 more, waiting (the question "Tell me about it." is embedded already)
    coverage = project.assist.coverage()
    assert (coverage.embedded, coverage.segments) == (31, 100)  # b's question shares a's vector
    assert coverage.percent == 31 and "covers 31 % of segments so far (31 of 100)" in coverage.text
    semantic = project.assist.search("whanau met mentor", mode="semantic", k=50)
    assert semantic and {h.transcript for h in semantic} == {"a.txt"}
    hybrid = project.assist.search("whanau", mode="hybrid", k=50)
    assert "b.txt" in {h.transcript for h in hybrid}  # found by its words, ranked without a vector
    assert len(project.assist.search("whanau", mode="keyword", k=100)) == 69
    index = project.assist.segment_index()
    assert len(index.frame) == 100 and int(index.embedded.sum()) == 31
    semantic_index = project.assist.semantic_index()
    spoken = semantic_index.frame[~semantic_index.frame["interviewer"]]
    assert len(semantic_index.frame) == 31 and set(spoken["transcript"]) == {"a.txt"}  # + b's shared question
    found = project.patterns.list(min_size=3)
    assert found and all(s["transcript"] == "a.txt" for p in found for s in p["segments"])  # clusters: embedded only
    project.transcripts.embed_pending()
    assert project.assist.coverage().percent == 100 and project.assist.semantic_index() is project.assist.segment_index()


# -- the queue: batches, resuming, late vectors ---------------------------------------------------------------
def test_the_queue_goes_in_batches_each_written_before_the_next_is_embedded(make_project):
    project = make_project(transcripts={"a.txt": interview(249)}, sync=False)
    project.sync(wait=False)
    seen: list[int] = []
    counting = Counting(before=lambda texts: seen.append(len(stored_hashes(project))))
    with reopen(project, counting) as again:
        steps: list[Any] = []
        assert again.transcripts.embed_pending(steps.append, batch=100) == 250
    assert seen == [0, 100, 200]  # each batch's vectors were committed before the next batch was embedded
    assert len(counting.texts) == 250 == len(set(counting.texts))
    embeds = [(s.done, s.total) for s in steps]
    assert embeds[0] == (0, 250) and embeds[-1] == (250, 250) and [d for d, _ in embeds] == sorted(d for d, _ in embeds)


KILLABLE = textwrap.dedent("""
    import sys, time
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    class Slow(HashingEmbedder):
        def embed(self, texts, done=None):
            out = super().embed(texts, done)
            print(f"embedded {len(texts)}", flush=True)
            time.sleep(0.5)  # between a batch's embedding and its write: killed here, that batch is lost
            return out

    project = open_project(sys.argv[1], embedder=Slow())
    project.transcripts.embed_pending(batch=int(sys.argv[2]))
    print("finished", flush=True)
""")


def test_a_killed_embedding_resumes_with_nothing_embedded_twice_and_nothing_lost(make_project):
    texts = {f"t{i}.txt": interview(99, f"Leader {i}", f"topic{i}") for i in range(3)}
    project = make_project(transcripts=texts, sync=False)
    project.sync(wait=False)
    wanted = segment_hashes(project)
    assert len(wanted) == 298 and project.assist.coverage().embedded == 0  # 3 x 99 + the shared question
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(project.path), "50"], stdout=subprocess.PIPE,
                             text=True, env=env)
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 120
        while len(stored_hashes(project)) < 100 and time.monotonic() < deadline:  # two batches written
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    before = stored_hashes(project)
    assert 100 <= len(before) < len(wanted), len(before)  # killed midway: some stored, the rest waiting
    counting = Counting()
    with reopen(project, counting) as again:
        assert again.assist.coverage().embedded == sum(1 for h in wanted if h in before) + (
            2 if text_sha256("Tell me about it.") in before else 0)  # the question's three segments, one vector
        assert again.transcripts.embed_pending(batch=50) == len(wanted) - len(before)
        assert again.assist.coverage().complete
    resumed = {text_sha256(t) for t in counting.texts}
    assert len(counting.texts) == len(resumed) == len(wanted) - len(before)  # each waiting text embedded once
    assert not resumed & before  # nothing the killed run stored was embedded again
    assert stored_hashes(project) == wanted  # nothing lost
    with reopen(project, Counting()) as third:
        assert third.transcripts.embed_pending() == 0  # a third run finds nothing to do


def test_a_vector_for_text_changed_while_it_was_embedded_is_dropped(make_project):
    project = make_project(transcripts={"a.txt": interview(20)}, sync=False)
    project.sync(wait=False)
    old = project.transcripts.get("a.txt").text
    new = old.replace("mentor number", "coach number")

    def edit(_texts: Sequence[str]) -> None:  # another process re-imports the file meanwhile
        with open_project(project.path, embedder=HashingEmbedder()) as other:
            (project.path / "transcripts" / "a.txt").write_text(new, encoding="utf-8")
            other.sync(wait=False)

    old_hashes = segment_hashes(project) - {text_sha256("Tell me about it.")}
    counting = Counting(before=edit)
    with reopen(project, counting) as again:
        # the first batch (21 texts) is embedded, the file changes meanwhile: only the question's vector lands;
        # the run then finds the 20 new sentences in the queue and embeds them
        assert again.transcripts.embed_pending(batch=100) == 21
        assert len(counting.texts) == 41
        assert not stored_hashes(again) & old_hashes  # the 20 old sentences' vectors never landed
        assert stored_hashes(again) == segment_hashes(again)
    with project.store.write() as conn:  # the write itself checks: a hash no segment holds is not stored
        assert embedding_store.insert_fresh(conn, project.embedder.model_id, {"0" * 64: np.ones(64)}) == 0


def test_a_correction_and_its_undo_embed_their_own_new_sentences(make_project):
    project = make_project(transcripts={"a.txt": interview(10)})
    assert project.assist.coverage().complete
    project.transcripts.correct("a.txt", line=2, text="A wholly new line about the marae.")
    assert project.assist.coverage().complete  # the correction embedded its new sentence itself
    assert project.assist.search("wholly new line marae", mode="semantic", k=1)[0].text.startswith("A wholly")
    project.undo()
    assert project.assist.coverage().complete and stored_hashes(project) >= segment_hashes(project)
    assert "wholly" not in project.transcripts.get("a.txt").text


def test_cli_no_wait_then_embed(make_project, tmp_path: Path):
    from typer.testing import CliRunner

    from analysis.cli import app

    project = make_project(transcripts={"a.txt": interview(5)}, sync=False)
    runner = CliRunner()
    stored = runner.invoke(app, ["sync", "--no-wait", "--project", str(project.path), "--json"])
    assert stored.exit_code == 0, stored.output
    report = json.loads(stored.output)
    assert report["added"] == ["a.txt"] and report["embedding_pending"] == 6 and report["segments_embedded"] == 0
    text = runner.invoke(app, ["sync", "--no-wait", "--project", str(project.path)])
    assert "Segments embedded: 0" in text.output
    done = runner.invoke(app, ["embed", "--project", str(project.path), "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert (result["segments_embedded"], result["percent"], result["complete"]) == (6, 100, True)
