"""Researchers and roles (issue 14, item 3), and codings unique per coder (revision 0005_researchers).

Roles are enforced in one place, the action runner (and undo): these tests act through services and the
CLI as different researchers, on both dialects (``team_project``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analysis import open_project
from analysis.domain.audit import KINDS
from analysis.cli import app
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import ConflictError, NotFoundError, RoleError, ValidationError
from analysis.domain.roles import LEAD_ONLY
from tests.services.test_team import second_seat, team_project  # noqa: F401 - the fixture, on both dialects

runner = CliRunner()


def test_every_lead_only_kind_is_a_declared_kind() -> None:
    assert LEAD_ONLY <= set(KINDS) and {"code.merge", "code.split", "code.delete"} <= LEAD_ONLY


def test_a_project_without_researchers_behaves_as_today(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    assert p.researchers.list() == [] and p.researchers.role_of() is None
    p.codebook.add_code("Delay")
    p.codebook.add_code("Waiting")
    p.codebook.merge_codes("Waiting", "Delay")  # anyone may do anything: one researcher, no roles
    p.codebook.delete_code("Delay")
    assert p.codebook.codes() == []


def test_roles_lead_coder_reader(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    p.codebook.add_code("Delay")
    with pytest.raises(ValidationError, match="SL4306"):
        p.researchers.add("Ana", role="coder")  # the first researcher is the lead
    with pytest.raises(ValidationError, match="SL4304"):
        p.researchers.add("Lea", role="boss")
    lead = p.researchers.add(p.user, role="lead")
    assert lead.role == "lead" and lead.guid
    p.researchers.add("Ana", role="coder")
    p.researchers.add("Rui", role="reader")
    with pytest.raises(ConflictError, match="SL4305"):
        p.researchers.add("ana")  # names compare case-folded
    assert [(r.name, r.role) for r in p.researchers.list()] == [(p.user, "lead"), ("Ana", "coder"), ("Rui", "reader")]
    ana, rui, eve = second_seat(p, "Ana"), second_seat(p, "Rui"), second_seat(p, "Eve")
    try:
        # a coder codes, writes memos, creates codes...
        c = ana.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay")
        ana.codebook.add_code("Fear")
        ana.memos.add("A thought.", kind="code", target="Fear")
        # ...but may not merge, split or delete codes, nor manage the team
        for attempt in (lambda: ana.codebook.merge_codes("Fear", "Delay"), lambda: ana.codebook.delete_code("Fear"),
                        lambda: ana.researchers.add("Max"), lambda: ana.researchers.set_role("Rui", "coder")):
            with pytest.raises(RoleError, match="SL4302") as err:
                attempt()
            assert p.user in str(err.value) and "coder" in str(err.value)
        # a reader changes nothing, but reads, searches and compares
        before = p.version()
        for attempt in (lambda: rui.codebook.add_code("Hope"), lambda: rui.codings.remove_coding(c.id),
                        lambda: rui.memos.add("x"), lambda: rui.vignettes.create("V")):
            with pytest.raises(RoleError, match="SL4301"):
                attempt()
        assert p.version() == before and [x.name for x in rui.codebook.codes()] == ["Delay", "Fear"]
        assert rui.assist.search("approval", k=2)
        # a name that is not on the team is refused, with what to do
        with pytest.raises(RoleError, match="SL4303") as err2:
            eve.codebook.add_code("Hope")
        assert "researcher add" in str(err2.value)
        # the lead does what only the lead may do
        p.codebook.merge_codes("Fear", "Delay")
        p.researchers.set_role("Rui", "coder")
        rui.codebook.add_code("Hope")
        with pytest.raises(ConflictError, match="SL4307"):
            p.researchers.set_role(p.user, "coder")  # the only lead cannot step down
        with pytest.raises(NotFoundError, match="SL4308"):
            p.researchers.set_role("Nobody", "coder")
        # roles apply to undo too: a reader cannot undo what they did as a coder
        p.researchers.set_role("Rui", "reader")
        with pytest.raises(RoleError, match="SL4301"):
            rui.undo()
        ana.codebook.add_code("Calm")
        assert ana.undo().action == "code.create"  # a coder undoes their own work
    finally:
        for seat in (ana, rui, eve):
            seat.close()


def test_researcher_cli(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    empty = runner.invoke(app, ["researcher", "list", "--project", str(folder)])
    assert empty.exit_code == 0 and "No researchers registered" in empty.output
    added = runner.invoke(app, ["researcher", "add", "Test Researcher", "--role", "lead", "--project", str(folder), "--json"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["researcher", "add", "Ana", "--role", "reader", "--project", str(folder)]).exit_code == 0
    listed = runner.invoke(app, ["researcher", "list", "--project", str(folder)])
    assert "Ana" in listed.output and "reader" in listed.output
    bad = runner.invoke(app, ["researcher", "add", "Ben", "--role", "admin", "--project", str(folder)])
    assert bad.exit_code == 1 and "SL4304" in bad.output and "Traceback" not in bad.output
    refused = runner.invoke(app, ["code", "add", "Delay", "--project", str(folder)], env={"STORYLOOM_USER": "Ana"})
    assert refused.exit_code == 1 and "SL4301" in refused.output and "Traceback" not in refused.output
    assert runner.invoke(app, ["researcher", "role", "Ana", "--role", "coder", "--project", str(folder)]).exit_code == 0
    assert runner.invoke(app, ["code", "add", "Delay", "--project", str(folder)], env={"STORYLOOM_USER": "Ana"}).exit_code == 0


def test_two_coders_may_code_one_span_with_one_code(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    p.codebook.add_code("Delay")
    p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay", coder="A")
    p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay", coder="B")
    with pytest.raises(ConflictError, match="SL2208"):
        p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay", coder="B")
    assert sorted(c.coder for c in p.codings.codings_in("a.txt")) == ["A", "B"]
    # merging codes collapses only the same coder's duplicates
    p.codebook.add_code("Waiting")
    p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Waiting", coder="A")
    p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Waiting", coder="C")
    p.codebook.merge_codes("Waiting", "Delay")
    assert sorted(c.coder for c in p.codings.codings_in("a.txt")) == ["A", "B", "C"]


def test_a_0004_project_with_codings_upgrades_and_keeps_them(tmp_path: Path, interview_text: str) -> None:
    from alembic import command

    from analysis.store import Store, alembic_config

    folder = tmp_path / "old"
    (folder / "transcripts").mkdir(parents=True)
    with open_project(folder, embedder=HashingEmbedder()) as p:
        (folder / "transcripts" / "a.txt").write_text(interview_text, encoding="utf-8")
        p.sync()
        p.codebook.add_code("Delay")
        p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay", coder="A")
    store = Store(f"sqlite:///{folder / 'project.db'}", db_path=folder / "project.db")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        command.downgrade(alembic_config(conn), "0004_events")
    store.close()
    with sqlite3.connect(folder / "project.db") as db:
        assert "researchers" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    with open_project(folder, embedder=HashingEmbedder(), create=False) as p:
        assert (folder / "project.db.bak-0004_events").exists()
        assert [c.coder for c in p.codings.codings_in("a.txt")] == ["A"]
        p.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay", coder="B")
        assert p.researchers.list() == []
