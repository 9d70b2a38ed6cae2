"""Bulk paths write codings in batches (issue 26, item 4): the codings import, the REFI-QDA import and merge go
through one ``CodingBatch``: a coding already here is matched, not added, and the new ones arrive in multi-row
``INSERT ... RETURNING`` statements of up to a thousand rows, not one statement (and two look-ups) a coding.
The statements are counted on the engine, so the tests hold on both dialects; the speed is
``benchmarks/bulk.py``'s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder

CODES = ["Delay", "Fear", "Hope", "Money"]
CODERS = ["A", "B"]


def _text(i: int) -> str:
    lines = [f"Leader {i}: " + " ".join(f"w{i}x{j}y{k}" for k in range(12)) + "." for j in range(40)]
    return "\n".join(lines) + "\n"


def _codings(texts: dict[str, str], per_transcript: int) -> list[dict[str, Any]]:
    """``per_transcript`` codings in each transcript: word spans of varying length, codes and coders."""
    out: list[dict[str, Any]] = []
    for name, text in texts.items():
        words = [m.span() for m in re.finditer(r"w\S+y\d+", text)]
        for n in range(per_transcript):
            s, _ = words[n % len(words)]
            _, e = words[min(len(words) - 1, n % len(words) + n // len(words))]
            out.append({"transcript": name, "code": CODES[n % len(CODES)], "quote": text[s:e], "start": s, "end": e,
                        "coder": CODERS[(n // len(CODES)) % len(CODERS)]})
    return out


@contextmanager
def statements(project: Any) -> Iterator[list[str]]:
    """The SQL statements the project's engine executes meanwhile (executemany counts once: one round trip)."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(project.store.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(project.store.engine, "before_cursor_execute", listen)


def _on_codings(seen: list[str], verb: str) -> list[str]:
    return [s for s in seen if s.upper().startswith(verb) and re.search(r"\bcodings\b", s.split(" WHERE ")[0])]


def _coded(project: Any, texts: dict[str, str], n: int, tmp_path: Path) -> list[dict[str, Any]]:
    for code in CODES:
        project.codebook.add_code(code)
    items = _codings(texts, n)
    path = tmp_path / f"codings-{id(project)}.yaml"
    path.write_text(yaml.safe_dump({"codings": items}, allow_unicode=True), encoding="utf-8")
    with statements(project) as seen:
        result = project.codebook_files.import_codings(path)
    assert (result.placed, result.orphaned, result.skipped) == (len(items), 0, 0), result
    inserts = _on_codings(seen, "INSERT")
    assert 1 <= len(inserts) <= -(-len(items) // 1000) + 1, inserts[:3]  # a thousand rows a statement
    assert len(_on_codings(seen, "SELECT")) <= len(texts) + 2, _on_codings(seen, "SELECT")[:5]
    return items


def _rows(project: Any) -> list[tuple[Any, ...]]:
    with project.store.read() as conn:
        return sorted(conn.execute(sa.text(
            "SELECT t.name, c.name, g.start, g.\"end\", g.coder, g.quote, g.context_before, g.context_after, g.orphaned "
            "FROM codings g JOIN codes c ON c.id = g.code_id JOIN transcripts t ON t.id = g.transcript_id")).all())


def test_a_codings_import_is_batched_and_matches_what_it_already_holds(make_project: Any, tmp_path: Path) -> None:
    texts = {f"t{i}.txt": _text(i) for i in range(3)}
    p = make_project("bulk", transcripts=texts)
    items = _coded(p, texts, 700, tmp_path)  # 2,100 codings: three statements of up to 1,000 rows
    rows = _rows(p)
    assert len(rows) == len(items)
    for (tname, code, start, end, coder, quote, *_), item in zip(rows, sorted(
            items, key=lambda i: (i["transcript"], i["code"], i["start"], i["end"], i["coder"]))):
        assert (tname, code, start, end, coder, quote) == (
            item["transcript"], item["code"], item["start"], item["end"], item["coder"], item["quote"])
    # the same file again, with one coding twice: every coding is already here, nothing is written
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump({"codings": [*items, items[0]]}), encoding="utf-8")
    with statements(p) as seen:
        result = p.codebook_files.import_codings(again)
    assert (result.placed, result.skipped) == (0, len(items) + 1) and not _on_codings(seen, "INSERT")
    # a new file whose codings repeat one another: the second is matched to the first, in the same batch
    twice = tmp_path / "twice.yaml"
    one = {**items[0], "code": "Hope", "coder": "C"}
    twice.write_text(yaml.safe_dump({"codings": [one, one]}), encoding="utf-8")
    result = p.codebook_files.import_codings(twice)
    assert (result.placed, result.skipped) == (1, 1)
    p.undo()
    p.undo()
    assert _rows(p) == rows  # the import is one action: undone as one
    p.undo()
    assert _rows(p) == []


def test_a_refi_import_is_batched_and_a_second_import_adds_nothing(make_project: Any, tmp_path: Path) -> None:
    texts = {f"t{i}.txt": _text(i) for i in range(3)}
    src = make_project("src", transcripts=texts)
    _coded(src, texts, 500, tmp_path)
    qdpx = src.interchange.export_project(tmp_path / "study.qdpx")
    dst = make_project("dst")
    with statements(dst) as seen:
        dst.interchange.import_project(qdpx)
    inserts = _on_codings(seen, "INSERT")
    assert 1 <= len(inserts) <= 3, len(inserts)  # 1,500 codings
    assert len(_on_codings(seen, "SELECT")) <= 6, _on_codings(seen, "SELECT")[:6]
    strip = [r[:6] for r in _rows(src)]
    assert [r[:6] for r in _rows(dst)] == strip and len(strip) == 1500
    with dst.store.read() as conn:
        coders = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT coder FROM codings"))}
    assert coders == set(CODERS)
    with statements(dst) as seen:
        report = dst.interchange.import_project(qdpx)
    assert not _on_codings(seen, "INSERT") and report["codings"] == 1500, report
    assert [r[:6] for r in _rows(dst)] == strip


def test_merge_is_batched_and_keeps_memos_on_their_codings(make_project: Any, tmp_path: Path) -> None:
    texts = {f"t{i}.txt": _text(i) for i in range(2)}
    folder = tmp_path / "theirs"  # the other coder's laptop: a SQLite copy, whatever this project's dialect
    (folder / "transcripts").mkdir(parents=True)
    for name, text in texts.items():
        (folder / "transcripts" / name).write_text(text, encoding="utf-8")
    theirs = open_project(folder, embedder=HashingEmbedder())
    theirs.sync()
    _coded(theirs, texts, 600, tmp_path)
    coding = theirs.codings.codings_in("t1.txt")[5]
    theirs.memos.add("A memo on one coding", kind="coding", target=coding.id, title="Why this one")
    theirs.close()
    ours = make_project("ours", transcripts=texts)
    with statements(ours) as seen:
        report = ours.merge.from_project(folder)
    assert report.codings.added == 1200 and report.codings.matched == 0, report.codings
    assert 1 <= len(_on_codings(seen, "INSERT")) <= 3
    assert len(_on_codings(seen, "SELECT")) <= 6, _on_codings(seen, "SELECT")[:6]
    mine = [c for c in ours.codings.codings_in("t1.txt")
            if (c.start, c.end, c.coder, c.guid) == (coding.start, coding.end, coding.coder, coding.guid)]
    [memo] = [m for m in ours.memos.list(kind="coding") if m.title == "Why this one"]
    assert len(mine) == 1 and memo.target_id == mine[0].id
    again = ours.merge.from_project(folder)
    assert again.codings.added == 0 and again.codings.matched == 1200
