"""Faults of the machine, with real ``storyloom`` processes: kill -9 in the middle of a sync, two
writers at once, a database locked by another process, a read-only project, a full disk.

Each ends in one clear line on stderr (never a traceback) and a project that is exactly as it was, or
exactly as after a complete action.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analysis.offline import OFFLINE_ENV

REPO = Path(__file__).resolve().parents[2]
STORYLOOM = str(Path(sys.executable).with_name("storyloom"))
ENV = {**os.environ, **OFFLINE_ENV, "STORYLOOM_USER": "Fault Tester"}


def run(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STORYLOOM, *args], capture_output=True, text=True, env=env or ENV, timeout=120, **kw)


def dump(db: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table' order by name")]
        return [(t, conn.execute(f'select * from "{t}" order by 1').fetchall()) for t in tables]


def one_clear_line(result: subprocess.CompletedProcess[str], code: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"Error: [{code}]"), result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "study"
    assert run("init", str(folder)).returncode == 0
    assert run("code", "add", "Delay", "--project", str(folder)).returncode == 0
    return folder


# -- kill -9 during a real sync ---------------------------------------------------------------------
def _consistent(db: Path, *, embedded: bool = False) -> int:
    """integrity_check passes and every stored transcript is whole (and, with ``embedded``, every segment has
    its vector: a kill during the embedding leaves the rest in the queue, a later run finishes it); returns
    how many are stored."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        n = conn.execute("select count(*) from transcripts").fetchone()[0]
        assert conn.execute("select count(*) from transcripts t where not exists "
                            "(select 1 from turns where transcript_id = t.id)").fetchone()[0] == 0
        assert conn.execute("select count(*) from segments s join turns u on u.id = s.turn_id "
                            "where u.transcript_id != s.transcript_id").fetchone()[0] == 0
        assert not embedded or conn.execute("select count(*) from segments s where not exists (select 1 from "
                                            "embeddings e where e.text_sha256 = s.text_sha256)").fetchone()[0] == 0
        return int(n)


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1) as conn:
            return int(conn.execute("select count(*) from transcripts").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_at_any_moment_of_a_sync_leaves_a_whole_project(tmp_path: Path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copytree(REPO / "transcripts", folder / "transcripts")
    assert run("init", str(folder)).returncode == 0
    db = folder / "project.db"
    moments = [("loading the models", lambda t: t > 2.0),
               ("embedding", lambda t: t > 7.0),
               ("storing transcripts", lambda t: _stored(db) >= 2)]
    for _label, when in moments:
        proc = subprocess.Popen([STORYLOOM, "sync", "--project", str(folder), "--json"], env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start = time.monotonic()
        while proc.poll() is None and not when(time.monotonic() - start):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        _consistent(db)
    result = run("sync", "--project", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    assert _consistent(db, embedded=True) == 7
    status = json.loads(run("status", "--project", str(folder), "--json").stdout)
    assert status["transcripts"] == 7 and status["embedded"] == status["segments"] > 1500
    again = json.loads(run("sync", "--project", str(folder), "--json").stdout)
    assert again["segments_embedded"] == 0 and not again["added"] and not again["updated"]


# -- two writers at once --------------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    from analysis.errors import ConflictError
    folder, me, go = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    p = open_project(folder, embedder=HashingEmbedder(), user=me, create=False)
    text = p.transcripts.get("a.txt").text
    while time.time() < go:
        time.sleep(0.005)
    made = taken = coded = 0
    for i in range(25):
        try:
            p.codebook.add_code(f"Code {i}")
            made += 1
        except ConflictError:
            taken += 1
        start = (i * 7 + (0 if me == "A" else 3)) % (len(text) - 20)
        if text[start:start + 12].strip():
            p.codings.add_coding(transcript="a.txt", start=start, end=start + 12, code=f"Code {i}", coder=me)
            coded += 1
    print(made, taken, coded)
""")


def test_two_processes_creating_codes_and_codings_lose_nothing(make_project: Any) -> None:
    p = make_project(transcripts={"a.txt": "Leader A: " + "We waited for the approval for months. " * 30 + "\n"})
    go = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(p.path), who, str(go)], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("A", "B")]
    outs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
    (made_a, taken_a, coded_a), (made_b, taken_b, coded_b) = [tuple(map(int, out.split())) for out, _ in outs]
    assert made_a + made_b == 25 and taken_a + taken_b == 25  # every name made once, the other refused
    names = [c.name for c in p.codebook.codes()]
    assert len(names) == len(set(n.casefold() for n in names)) == 25
    codings = p.codings.codings_in("a.txt")
    assert sum(c.coder == "A" for c in codings) == coded_a and sum(c.coder == "B" for c in codings) == coded_b


# -- another process holds the database ---------------------------------------------------------------
def test_a_locked_database_is_one_clear_line_and_no_change(project: Path) -> None:
    db = project / "project.db"
    before = dump(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run("code", "add", "Waiting", "--project", str(project),
                     env={**ENV, "STORYLOOM_BUSY_TIMEOUT_MS": "300"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    one_clear_line(result, "SL4001")
    assert "Another Storyloom process" in result.stderr and "Nothing was changed" in result.stderr
    assert dump(db) == before


# -- a read-only project ----------------------------------------------------------------------------------
#: Runs a command with ``$0`` (the project folder) bind-mounted read-only over itself in a private mount
#: namespace: writes fail with EROFS even for root, and nothing else about the machine changes.
READ_ONLY_MOUNT = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"']
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def _works(prefix: list[str], *command: str) -> bool:
    try:
        return subprocess.run([*prefix, *command], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def read_only_prefix(folder: Path) -> list[str]:
    """How to run a command for which ``folder`` is read-only, wherever the checkout lives. Not root: the
    folder's modes (the caller sets them). Root (who ignores modes): a read-only bind mount in a private
    mount namespace; else ``nobody``, if ``nobody`` can reach the venv's ``storyloom`` and this checkout
    (a root home or a ``mktemp -d`` folder is 0700: it cannot); else the test is skipped, saying why."""
    if os.geteuid() != 0:
        return []
    mount = [*READ_ONLY_MOUNT, str(folder)]
    if _works(mount, "sh", "-c", f'! touch "{folder}/.probe" 2>/dev/null'):
        return mount
    reach = f"import sys; sys.path.insert(0, {str(REPO)!r}); import analysis.cli"
    if _works(AS_NOBODY, sys.executable, "-c", reach) and _works(AS_NOBODY, "test", "-x", STORYLOOM):
        return AS_NOBODY
    pytest.skip("cannot make a folder read-only for root here: no private mount namespace (unshare --mount "
                f"needs CAP_SYS_ADMIN), and user nobody cannot reach {STORYLOOM} or {REPO}")


@pytest.fixture
def readonly_project(project: Path) -> Iterator[tuple[Path, list[str]]]:
    """A copy of the project that the user running the commands may read but not write (see
    :func:`read_only_prefix`); independent of where the checkout lives."""
    base = Path(tempfile.mkdtemp(prefix="sl-ro-"))
    os.chmod(base, 0o755)
    folder = base / "study"
    shutil.copytree(project, folder)
    (base / "out").mkdir()
    prefix = read_only_prefix(folder)
    if os.geteuid() == 0:
        os.chmod(base / "out", 0o777)
        for path in [folder, *folder.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    else:
        for path in [*folder.rglob("*"), folder]:
            os.chmod(path, 0o555 if path.is_dir() else 0o444)
    yield folder, prefix
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    shutil.rmtree(base, ignore_errors=True)


def test_a_read_only_project_is_one_clear_line_and_no_change(readonly_project: tuple[Path, list[str]]) -> None:
    folder, prefix = readonly_project
    before = dump(folder / "project.db")
    result = subprocess.run([*prefix, STORYLOOM, "code", "add", "Waiting", "--project", str(folder)],
                            capture_output=True, text=True, env=ENV, timeout=60)
    one_clear_line(result, "SL4002")
    assert "read-only" in result.stderr and "Nothing was changed" in result.stderr
    assert dump(folder / "project.db") == before


# -- a full disk ---------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(project: Path) -> Iterator[tuple[Path, Any, tuple[str, ...]]]:
    """The project on a disk that fills up: a 1 MiB tmpfs where this user may mount one (root, CI), else
    the same folder with the child's file size limited (RLIMIT_FSIZE, which SQLite sees as an I/O error)."""
    with sqlite3.connect(project / "project.db") as conn:  # fold the WAL in: the database file holds it all
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = (project / "project.db").stat().st_size
    mount = Path(tempfile.mkdtemp(prefix="sl-full-"))
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size + 256 * 1024}", "tmpfs", str(mount)],
        capture_output=True).returncode == 0
    if mounted:
        shutil.copytree(project, mount / "study")
        yield mount / "study", None, ("SL4003",)
        subprocess.run(["umount", str(mount)], check=False)
    else:
        def limit() -> None:  # in the child: files may grow a little, then writes fail (EFBIG)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size + 64 * 1024, size + 64 * 1024))
        yield project, limit, ("SL4003", "SL4010")
    shutil.rmtree(mount, ignore_errors=True)


def test_a_full_disk_is_one_clear_line_and_no_change(small_disk: tuple[Path, Any, tuple[str, ...]],
                                                     tmp_path: Path) -> None:
    folder, preexec, codes = small_disk
    db = folder / "project.db"
    before = dump(db)
    book = tmp_path / "big.yaml"
    book.write_text("codes:\n" + "".join(f"  - name: Code number {i}\n    definition: {'x' * 200}\n"
                                         for i in range(3000)), encoding="utf-8")
    result = subprocess.run([STORYLOOM, "codebook", "import", str(book), "--project", str(folder)],
                            capture_output=True, text=True, env=ENV, timeout=120, preexec_fn=preexec)
    assert any(result.stderr.startswith(f"Error: [{c}]") for c in codes), result.stderr
    one_clear_line(result, result.stderr[8:14])
    assert "full" in result.stderr and "Nothing was changed" in result.stderr
    assert dump(db) == before


def test_the_read_only_check_does_not_depend_on_where_the_checkout_lives(tmp_path: Path) -> None:
    """Root's way is a read-only bind mount (no other user involved), so a checkout in a 0700 folder (a root
    home, ``mktemp -d``) is no obstacle; ``nobody`` is only the fallback, and only where it can reach us."""
    folder = tmp_path / "study"
    folder.mkdir()
    prefix = read_only_prefix(folder)
    if os.geteuid() != 0:
        assert prefix == []
        return
    assert prefix[:2] == ["unshare", "--mount"] or prefix == AS_NOBODY
    if prefix[0] == "unshare":
        result = subprocess.run([*prefix, "sh", "-c", f'touch "{folder}/x"'], capture_output=True, text=True)
        assert result.returncode != 0 and "Read-only" in result.stderr and not (folder / "x").exists()
        (folder / "y").touch()  # outside the namespace the folder is as writable as before
