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
os.environ.setdefault("STORYLOOM_LOAD_MODEL_AT_START", "0")  # AppTest apps: no MiniLM load in the background

from analysis import Project, open_project  # noqa: E402
from analysis.embedding.minilm import HashingEmbedder  # noqa: E402

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


INTERVIEW = """Interviewer: Can you tell me about the micro-credential?

Leader A: Um, it was... it was hard. We built an assessment-only credential and nobody wanted it.
The ākonga were afraid of failing 😬 again after years away.

Interviewer: What about approvals?

Leader A: The approval took fourteen months. By then the employer had trained staff in-house.
"""


@pytest.fixture
def interview_text() -> str:
    return INTERVIEW


# -- a real PostgreSQL server for the team-project tests (issue 14) ---------------------------------------
# Started by the test session itself (initdb + pg_ctl on a Unix socket in a temporary folder, no TCP
# port), stopped by it at the end. PostgreSQL refuses to run as root: as root the server runs as the
# ``postgres`` user (runuser). Tests that need it SKIP, saying why, only when no server binaries exist
# (`make test` installs Debian's postgresql first: the Makefile's postgres-deps).
import glob  # noqa: E402
import shutil as _shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (initdb, pg_ctl), or None."""
    env = os.environ.get("STORYLOOM_PG_BIN")
    candidates = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0)
    for c in reversed(candidates):
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    found = _shutil.which("initdb")
    return Path(found).parent if found and _shutil.which("pg_ctl") else None


@dataclass
class PostgresServer:
    bin: Path
    socket_dir: Path
    port: int
    template: str = "storyloom_template"

    def url(self, database: str) -> str:
        """The project.toml URL of ``database`` (a Unix socket: no password, no TCP)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        out = subprocess.run([str(self.bin / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
                              "-d", database, "-Atqc", statement], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def new_database(self, *, migrated: bool = True) -> str:
        """A fresh database: a copy of the migrated template (fast), or empty."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {self.template}" if migrated else ""))
        return name


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session (fsync off: test data only)."""
    pg = postgres_bin()
    if pg is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: run `make postgres-deps` "
                    "(apt-get install postgresql) to run the team-project tests")
    root = Path(tempfile.mkdtemp(prefix="storyloom-pg-"))
    root.chmod(0o777)
    data, port = root / "data", 5432
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    if os.geteuid() == 0:
        _shutil.chown(root, "postgres")
    subprocess.run(_as_postgres([str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                 "--no-sync"]), check=True, capture_output=True, env=env)
    opts = (f"-k {root} -c listen_addresses='' -p {port} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300")
    subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w",
                                 "start"]), check=True, capture_output=True, env=env)
    server = PostgresServer(pg, root, port)
    try:
        server.sql(f"CREATE DATABASE {server.template}")
        from analysis.store import Store

        Store(server.url(server.template)).close()  # migrated once; each test's database is a copy
        yield server
    finally:
        subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, env=env)
        _shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def make_pg_project(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[Callable[..., Project]]:
    """Factory like ``make_project``, but each project's data is a fresh database on the session's
    PostgreSQL server (its folder holds project.toml, transcripts/ and codebooks/)."""
    made: list[Project] = []

    def factory(name: str = "p", *, transcripts: dict[str, str | bytes] | None = None, sync: bool = True,
                user: str | None = None) -> Project:
        folder = tmp_path / name
        (folder / "transcripts").mkdir(parents=True, exist_ok=True)
        for fname, content in (transcripts or {}).items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            (folder / "transcripts" / fname).write_bytes(data)
        if not (folder / "project.toml").exists():
            open_project(folder, database=postgres_server.url(postgres_server.new_database())).close()
        project = open_project(folder, embedder=HashingEmbedder(), user=user)
        made.append(project)
        if sync and transcripts:
            project.sync()
        return project

    yield factory
    for p in made:
        p.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database", choices=("sqlite", "postgresql"),
                     default=os.environ.get("STORYLOOM_TEST_DATABASE", "sqlite"),
                     help="the store behind `make_project`: sqlite (default) or postgresql (the session's "
                          "server), to run the service-level suite on either dialect")


@pytest.fixture
def make_project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Project]]:
    """Factory: a fresh project with a fast hashing embedder (unit tests only): real SQLite on disk, or,
    with ``--database postgresql``, a fresh database on the session's PostgreSQL server (the same
    tests, the other dialect)."""
    if request.config.getoption("--database") == "postgresql":
        yield request.getfixturevalue("make_pg_project")
        return
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


_SQLITE_ONLY = {"test_store_is_sqlite_wal_with_foreign_keys_and_guids",
                "test_per_user_folders_and_the_recent_list"}  # moves project.db to see the recent list forget it


@pytest.fixture(autouse=True)
def _sqlite_only_on_postgresql(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``--database postgresql``: a test that opens a project's ``project.db`` with sqlite3 (to
    tamper with it behind Storyloom's back, or to read SQLite's own tables) tests SQLite itself; it is
    skipped there, saying so, rather than failing on a file the PostgreSQL project does not have."""
    if request.config.getoption("--database") != "postgresql":
        return
    if request.node.name in _SQLITE_ONLY:
        pytest.skip("a test of the SQLite store itself (its pragmas, or its project.db file moved): SQLite only")
    import sqlite3

    real = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> Any:
        path = Path(str(database))
        if path.name == "project.db" and not path.exists() and (path.parent / "project.toml").exists():
            pytest.skip("reads project.db with sqlite3 directly: a test of the SQLite store only")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)


# -- Storyloom as a user installs it (issue 23): tests/system/test_install.py, tests/browser/test_browser_installed.py
@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment outside the checkout with Storyloom installed from a wheel built from
    the sdist. The heavy dependencies (torch, spaCy, the models) come from the test's own environment
    through a ``.pth`` line (fast and offline); Storyloom itself only from the wheel."""

    venv: Path
    wheel: Path
    sdist: Path
    home: Path  # STORYLOOM_HOME: settings, the recent-projects list, logs
    work: Path  # the cwd of every command: no checkout in sight

    @property
    def storyloom(self) -> Path:
        return self.venv / "bin" / "storyloom"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STORYLOOM_PROJECT", "VIRTUAL_ENV")}
        return {**env, "STORYLOOM_HOME": str(self.home), "PATH": f"{self.venv / 'bin'}:{env.get('PATH', '')}"}

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.storyloom), *args], cwd=self.work, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Built and installed once per session (a few seconds: no dependency is downloaded)."""
    import sys
    import sysconfig
    import tarfile

    root = tmp_path_factory.mktemp("installed")
    dist = root / "dist"
    dist.mkdir()
    # The sdist with setuptools' own PEP 517 backend, then the wheel from the unpacked sdist: what the sdist
    # lacks, the wheel lacks too.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pip must not see this checkout
    egg_info = REPO / "storyloom.egg-info"
    left = egg_info.exists()
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(dist)!r})"],
                   cwd=REPO, check=True, capture_output=True, env=clean)
    if not left:
        _shutil.rmtree(egg_info, ignore_errors=True)
    sdist = next(dist.glob("storyloom-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(root / "src", filter="data")
    source = next((root / "src").iterdir())
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(source)], check=True, capture_output=True, cwd=root, env=clean)
    wheel = next(dist.glob("storyloom-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q",
                    str(wheel)], check=True, capture_output=True, cwd=root, env=clean)
    # Only then the dependencies (after: pip would take the test environment's storyloom for installed).
    (site / "_storyloom_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    (root / "home").mkdir()
    (root / "work").mkdir()
    return Installed(venv=venv, wheel=wheel, sdist=sdist, home=root / "home", work=root / "work")


@pytest.fixture(scope="session")
def installed_demo(installed: Installed) -> Path:
    """``storyloom demo FOLDER --no-open`` run once by the installed program: the sample study set up."""
    folder = installed.work / "try"
    done = installed.run("demo", str(folder), "--no-open")
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


# -- before/after table dumps (issue 25: a refused input changes nothing) ----------------------------------
def table_dump(folder: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every table of the project in ``folder`` with all its rows, to compare a project before and after
    something that must change nothing: SQLite read through a read-only connection; a team project (its
    ``project.toml`` names a PostgreSQL database) through the store, every table of the schema in order."""
    import sqlite3

    if (folder / "project.toml").exists() and not (folder / "project.db").exists():
        import sqlalchemy as sa

        from analysis.store import Store, schema

        store = Store.for_folder(folder)
        try:
            with store.read() as conn:
                return [(t.name, [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))])
                        for t in sorted(schema.metadata.sorted_tables, key=lambda t: t.name)]
        finally:
            store.close()
    with sqlite3.connect(f"file:{folder / 'project.db'}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table' order by name")]
        return [(t, conn.execute(f'select * from "{t}" order by 1').fetchall()) for t in tables]
