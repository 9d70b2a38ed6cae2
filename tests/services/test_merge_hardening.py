"""Merges that must refuse cleanly (issue 25, classes 2-5): a corrupt, truncated or empty copy; a copy whose
codes or codings point at a parent, code or transcript that does not exist; a cycle of code parents (which
walked forever); codes nested past the cap; names with control or bidirectional characters; a copy another
process keeps locked (which retried forever): each is one catalogue error naming the copy, and a dump of
every table of this project shows that nothing changed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import ImportFormatError, ProjectError, StoryloomError
from analysis.limits import CODE_DEPTH
from tests.conftest import table_dump


@pytest.fixture
def ours(make_project: Callable[..., Any], interview_text: str) -> Any:
    p = make_project("ours", transcripts={"a.txt": interview_text})
    p.codebook.add_code("Delay")
    return p


@pytest.fixture
def theirs(tmp_path: Path, interview_text: str) -> Path:
    """The other coder's copy: the same transcript, a theme with a code, one coding; closed."""
    folder = tmp_path / "ben-laptop"
    (folder / "transcripts").mkdir(parents=True)
    (folder / "transcripts" / "a.txt").write_text(interview_text, encoding="utf-8")
    other = open_project(folder, embedder=HashingEmbedder(), user="Ben")
    other.sync()
    other.codebook.add_code("Barriers", kind="theme")
    other.codebook.add_code("Fear", parent="Barriers")
    other.codings.add_coding(transcript="a.txt", start=0, end=11, code="Fear")
    other.close()
    return folder


def refused(ours: Any, folder: Path, code: str, kind: type[StoryloomError] = ProjectError) -> StoryloomError:
    before = table_dump(ours.path)
    for dry_run in (True, False):
        with pytest.raises(kind) as err:
            ours.merge.from_project(folder, dry_run=dry_run)
        assert err.value.code == code, str(err.value)
        assert str(folder) in str(err.value)
    assert table_dump(ours.path) == before
    return err.value


def edit(folder: Path, *statements: str) -> None:
    conn = sqlite3.connect(folder / "project.db", isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        for s in statements:
            conn.execute(s)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


# -- class 3: corrupt, truncated, empty copies ------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "zeroed pages"])
def test_a_damaged_copy_is_refused_by_name(damage: str, ours: Any, theirs: Path) -> None:
    db = theirs / "project.db"
    edit(theirs)
    data = db.read_bytes()
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes({"truncated": data[: len(data) // 3], "garbage": b"this is not a database" * 100,
                    "empty": b"", "zeroed pages": data[:4096] + b"\0" * (len(data) - 4096)}[damage])
    err = refused(ours, theirs, "SL4451")
    assert "Nothing was changed" in str(err)


# -- class 3/4: rows that do not hold together, cycles, depth --------------------------------------------
def test_a_code_whose_parent_does_not_exist(ours: Any, theirs: Path) -> None:
    edit(theirs, "update codes set parent_id = 9999 where name = 'Fear'")
    err = refused(ours, theirs, "SL4452")
    assert "'Fear'" in str(err) and "9999" in str(err)


def test_a_coding_whose_code_does_not_exist(ours: Any, theirs: Path) -> None:
    edit(theirs, "update codings set code_id = 777")
    assert "code id 777" in str(refused(ours, theirs, "SL4452"))


def test_a_coding_whose_transcript_does_not_exist(ours: Any, theirs: Path) -> None:
    edit(theirs, "update codings set transcript_id = 555")
    assert "transcript id 555" in str(refused(ours, theirs, "SL4452"))


def test_a_cycle_of_code_parents_is_refused_at_once(ours: Any, theirs: Path) -> None:
    edit(theirs, "update codes set parent_id = (select id from codes where name = 'Fear') where name = 'Barriers'")
    start = time.monotonic()
    err = refused(ours, theirs, "SL4453")
    assert time.monotonic() - start < 30 and "Barriers" in str(err) and "Fear" in str(err)


def test_a_self_parented_code_is_a_cycle(ours: Any, theirs: Path) -> None:
    edit(theirs, "update codes set parent_id = id where name = 'Barriers'")
    refused(ours, theirs, "SL4453")


def test_codes_nested_past_the_cap_are_refused(ours: Any, theirs: Path) -> None:
    other = open_project(theirs, embedder=HashingEmbedder(), user="Ben")
    parent = None
    for i in range(CODE_DEPTH + 2):
        parent = other.codebook.add_code(f"Level {i}", parent=parent).id
    other.close()
    err = refused(ours, theirs, "SL4454")
    assert str(CODE_DEPTH) in str(err)


# -- class 2: names in a merged copy ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Prog\nError: forged", "A\u202eB", "Red\x1b[31m", "x" * 1000])
@pytest.mark.parametrize("column", ["code", "coder"])
def test_names_in_a_merged_copy_are_checked(name: str, column: str, ours: Any, theirs: Path) -> None:
    sql = ("update codes set name = ? where name = 'Fear'" if column == "code" else "update codings set coder = ?")
    with sqlite3.connect(theirs / "project.db") as conn:
        conn.execute(sql, (name,))
    err = refused(ours, theirs, "SL2161", ImportFormatError)
    assert "\n" not in str(err) and "\x1b" not in str(err) and "\u202e" not in str(err)


# -- class 5: a copy another process keeps locked ---------------------------------------------------------
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("update codes set name = name")
print("locked", flush=True)
time.sleep(60)
"""


def test_a_locked_copy_waits_the_busy_timeout_then_names_the_holder(ours: Any, theirs: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    edit(theirs)
    monkeypatch.setenv("STORYLOOM_BUSY_TIMEOUT_MS", "500")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(theirs / "project.db")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        err = refused(ours, theirs, "SL4455")
        assert time.monotonic() - start < 20
        assert f"process {holder.pid}" in str(err) and "0.5 seconds" in str(err)
    finally:
        holder.kill()
        holder.wait()
    assert ours.merge.from_project(theirs).codings.added == 1  # once released, the merge goes through
