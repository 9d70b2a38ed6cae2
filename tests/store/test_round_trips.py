"""Round trips to the team server (issue 26): a coding is at most three, counted in the server's own
statement log (``log_statement = all``: one entry per query string the client sends and waits for,
``BEGIN`` and ``COMMIT`` included). A count, not a timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from analysis.project import Project
from analysis.store.schema import audit_targets
from tests.conftest import PostgresServer

TEXT = "Leader A: " + "We waited for the approval for months. " * 40 + "\n"


def _entries(log: Path, mark: int) -> list[str]:
    """The statements logged after byte ``mark`` (a multi-statement string is one entry)."""
    time.sleep(0.3)  # the server writes its log as it goes: let it catch up
    lines = log.read_bytes()[mark:].decode("utf-8", "replace").splitlines()
    return [ln for ln in lines if " LOG:  statement: " in ln or " LOG:  execute " in ln]


def _logged(server: PostgresServer, project: Project) -> Path:
    database = project.store.url.split("/")[-1].split("?")[0]
    server.sql(f"ALTER DATABASE {database} SET log_statement = 'all'")
    project.store.engine.dispose()  # new sessions read the setting
    return server.socket_dir / "log"


def test_a_coding_is_at_most_three_round_trips(postgres_server: PostgresServer,
                                               make_pg_project: Callable[..., Project]) -> None:
    p = make_pg_project(transcripts={"a.txt": TEXT}, user="coder")
    p.codebook.add_code("Waiting")
    log = _logged(postgres_server, p)
    p.codings.add_coding(transcript="a.txt", start=10, end=16, code="Waiting")  # connected, caches warm
    mark = log.stat().st_size
    made = p.codings.add_coding(transcript="a.txt", start=20, end=26, code="Waiting")
    entries = _entries(log, mark)
    assert 1 <= len(entries) <= 3, "\n".join(e[:160] for e in entries)
    assert made.text == TEXT[20:26] and made.coder == "coder"
    # what the three carried is all there: the row, its audit event and targets, the change counter
    assert [c.start for c in p.codings.codings_in("a.txt")] == [10, 20]
    event = p.audit_trail()[-1]
    assert event.action == "coding.add" and event.who == "coder"
    with p.store.read() as conn:
        targets = conn.execute(sa.select(audit_targets.c.entity, audit_targets.c.role)
                               .where(audit_targets.c.audit_id == event.id).order_by(audit_targets.c.id)).all()
    assert [tuple(t) for t in targets] == [("coding", "subject"), ("code", "related"), ("transcript", "related")]
    version = p.version()
    p.undo()  # the undo image came back with the insert
    assert [c.start for c in p.codings.codings_in("a.txt")] == [10]
    assert p.version() != version


def test_a_refused_coding_writes_nothing(postgres_server: PostgresServer,
                                         make_pg_project: Callable[..., Project]) -> None:
    p = make_pg_project(transcripts={"a.txt": TEXT}, user="coder")
    p.codebook.add_code("Waiting")
    p.codings.add_coding(transcript="a.txt", start=10, end=16, code="Waiting")
    before = (len(p.audit_trail()), p.version())
    import pytest

    from analysis.errors import ConflictError, NotFoundError

    with pytest.raises(ConflictError):
        p.codings.add_coding(transcript="a.txt", start=10, end=16, code="Waiting")
    with pytest.raises(NotFoundError):
        p.codings.add_coding(transcript="a.txt", start=10, end=16, code="Nope")
    with pytest.raises(NotFoundError):
        p.codings.add_coding(transcript="b.txt", start=10, end=16, code="Waiting")
    assert (len(p.audit_trail()), p.version()) == before
    assert len(p.codings.codings_in("a.txt")) == 1
