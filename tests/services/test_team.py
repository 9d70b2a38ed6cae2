"""Team projects (issue 14): PostgreSQL as a project store, concurrent researchers on both dialects,
per-researcher undo, optimistic concurrency of edits, and inter-coder agreement.

The PostgreSQL server is the session's own (``postgres_server`` in conftest: initdb + pg_ctl on a Unix
socket in a temporary folder, stopped at the end); these tests skip only when no server binaries exist.
The whole service-level suite runs on PostgreSQL too with ``pytest --database postgresql``
(``make test-postgresql``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis import open_project
from analysis.domain.agreement import coded_units, statistics
from analysis.cli import app
from analysis.embedding.minilm import HashingEmbedder
from analysis.errors import ConflictError, NothingToUndoError, ProjectError, StorageError, ValidationError
from analysis.offline import OFFLINE_ENV
from analysis.services.results import Reconciliation
from tests.conftest import PostgresServer

runner = CliRunner()
ENV = {**os.environ, **OFFLINE_ENV, "STORYLOOM_USER": "Team Tester"}
# Exactly 1,000 characters: the worked example's units.
THOUSAND = "Leader A: " + "word " * 197 + "end.\n"
assert len(THOUSAND) == 1000


@pytest.fixture(params=["sqlite", "postgresql"])
def team_project(request: pytest.FixtureRequest) -> Any:
    """A project factory on each dialect (``make_project`` or ``make_pg_project``)."""
    return request.getfixturevalue("make_pg_project" if request.param == "postgresql" else "make_project")


def second_seat(project: Any, who: str) -> Any:
    """Another researcher's own session on the same project (another process or machine would open it so)."""
    return open_project(project.path, embedder=HashingEmbedder(), user=who, create=False)


# -- PostgreSQL as a project store ---------------------------------------------------------------------------
def test_init_database_writes_project_toml_without_a_password(postgres_server: PostgresServer, tmp_path: Path) -> None:
    url = postgres_server.url(postgres_server.new_database(migrated=False))
    folder = tmp_path / "team"
    result = runner.invoke(app, ["init", "--database", url, str(folder), "--json"])
    assert result.exit_code == 0, result.output
    text = (folder / "project.toml").read_text(encoding="utf-8")
    assert "[database]" in text and "postgresql://postgres@/" in text and not (folder / "project.db").exists()
    assert (folder / "transcripts").is_dir() and (folder / "codebooks").is_dir()
    # any command follows project.toml (a CLI process is one more researcher)
    assert runner.invoke(app, ["code", "add", "Waiting", "--project", str(folder)]).exit_code == 0
    with open_project(folder, create=False) as p:
        assert p.store.dialect == "postgresql" and [c.name for c in p.codebook.codes()] == ["Waiting"]
    # init again with the same URL is harmless; another URL is refused
    assert runner.invoke(app, ["init", "--database", url, str(folder)]).exit_code == 0
    other = runner.invoke(app, ["init", "--database", postgres_server.url("elsewhere"), str(folder)])
    assert other.exit_code == 1 and "SL4206" in other.output


def test_a_password_or_a_foreign_url_is_refused_and_nothing_written(tmp_path: Path) -> None:
    secret = runner.invoke(app, ["init", "--database", "postgresql://coder:hunter2@db.example.org/study", str(tmp_path / "a")])
    assert secret.exit_code == 1 and "SL4202" in secret.output and "hunter2" not in secret.output
    assert not (tmp_path / "a" / "project.toml").exists()
    mysql = runner.invoke(app, ["init", "--database", "mysql://coder@db/study", str(tmp_path / "b")])
    assert mysql.exit_code == 1 and "SL4201" in mysql.output
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "project.toml").write_text("[database\nurl=", encoding="utf-8")
    with pytest.raises(ProjectError, match="SL4203"):
        open_project(tmp_path / "c", create=False)


def test_sqlite_folder_is_not_turned_into_a_team_project(make_project: Any, postgres_server: PostgresServer) -> None:
    p = make_project()
    if p.store.dialect != "sqlite":
        pytest.skip("needs a SQLite project")
    with pytest.raises(ProjectError, match="SL4206"):
        open_project(p.path, database=postgres_server.url("x"))


def test_an_unreachable_server_is_one_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "project.toml").write_text(
        f'[database]\nurl = "postgresql://postgres@/nothing?host={tmp_path / "no-socket"}&port=1"\n', encoding="utf-8")
    result = runner.invoke(app, ["status", "--project", str(folder)])
    assert result.exit_code == 1 and "SL4204" in result.output and "Traceback" not in result.output


def test_the_migrations_give_the_declared_schema_on_postgresql(postgres_server: PostgresServer) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from analysis.store import Store, alembic_config, schema

    store = Store(postgres_server.url(postgres_server.new_database(migrated=False)))
    try:
        assert store.revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
        with store.read() as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            assert compare_metadata(context, schema.metadata) == []
    finally:
        store.close()
    again = Store(store.url)  # at head: opening changes nothing
    again.close()


def test_vectors_are_bytes_and_search_works_on_both(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    hits = p.assist.search("approval took months", k=3)
    assert hits and p.status()["embedded"] == p.status()["segments"] > 0


# -- concurrent researchers --------------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder
    folder, me, go, n = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    p = open_project(folder, embedder=HashingEmbedder(), user=me, create=False)
    while time.time() < go:
        time.sleep(0.005)
    offset = 0 if me == "A" else 5
    for i in range(n):
        start = 10 + i * 10 + offset
        p.codings.add_coding(transcript="a.txt", start=start, end=start + 4, code="Waiting")
    print(n)
""")


def test_two_processes_coding_200_each_lose_nothing(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": "Leader A: " + "We waited for the approval for months. " * 60 + "\n"})
    p.codebook.add_code("Waiting")
    go = time.time() + 2.5
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(p.path), who, str(go), "200"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("A", "B")]
    outs = [proc.communicate(timeout=240) for proc in procs]
    for proc, (_out, err) in zip(procs, outs):
        assert proc.returncode == 0 and "locked" not in err, err
    codings = p.codings.codings_in("a.txt")
    assert len(codings) == 400
    assert sum(c.coder == "A" for c in codings) == sum(c.coder == "B" for c in codings) == 200
    assert len({e.id for e in p.audit_trail(action="coding.add")}) == 400


def test_undo_is_per_researcher(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    p.codebook.add_code("Delay")
    a, b = second_seat(p, "Ana"), second_seat(p, "Ben")
    try:
        mine = a.codings.add_coding(transcript="a.txt", start=0, end=11, code="Delay")
        yours = b.codings.add_coding(transcript="a.txt", start=20, end=31, code="Delay")
        assert a.undo().action == "coding.add"  # Ana's, although Ben acted last
        left = {c.id for c in p.codings.codings_in("a.txt")}
        assert yours.id in left and mine.id not in left
        with pytest.raises(NothingToUndoError):
            a.undo()
        assert b.can_undo() is not None and b.can_undo().who == "Ben"  # type: ignore[union-attr]
        # Ben's new action leaves Ana's redo waiting; she redoes her own coding
        b.codebook.add_code("Fear")
        assert a.redo().action == "coding.add" and len(p.codings.codings_in("a.txt")) == 2
        # a change of transcript text stops everyone's undo of what came before
        (p.path / "transcripts" / "a.txt").write_text(interview_text.replace("hard", "very hard"), encoding="utf-8")
        p.sync()
        with pytest.raises(NothingToUndoError):
            b.undo()
    finally:
        a.close()
        b.close()


def test_two_edits_of_one_code_one_wins_the_other_is_told(team_project: Any) -> None:
    p = team_project()
    p.codebook.add_code("Delay", definition="Waiting for approvals.")
    a, b = second_seat(p, "Ana"), second_seat(p, "Ben")
    try:
        seen_a, seen_b = a.codebook.get_code("Delay"), b.codebook.get_code("Delay")
        a.codebook.edit_code("Delay", definition="Waiting, and what it costs.",
                             expected={"definition": seen_a.definition})
        with pytest.raises(ConflictError, match="SL2701") as err:
            b.codebook.edit_code("Delay", definition="Slow approvals.", expected={"definition": seen_b.definition})
        assert "Ana" in str(err.value) and "definition" in str(err.value) and "what it costs" in str(err.value)
        assert p.codebook.get_code("Delay").definition == "Waiting, and what it costs."
        with pytest.raises(ValidationError, match="SL2702"):
            b.codebook.edit_code("Delay", definition="x", expected={"colour_name": "red"})
        # without `expected` an edit is as before (last writer wins: the single-researcher behaviour)
        b.codebook.edit_code("Delay", definition="Slow approvals.")
    finally:
        a.close()
        b.close()


def test_two_edits_of_one_vignette_one_wins(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": interview_text})
    v = p.vignettes.create("Leader A's year")
    a, b = second_seat(p, "Ana"), second_seat(p, "Ben")
    try:
        a.vignettes.update(v.id, title="A hard year", expected={"updated_at": v.updated_at})
        with pytest.raises(ConflictError, match="SL2701") as err:
            b.vignettes.update(v.id, title="Fourteen months", expected={"updated_at": v.updated_at})
        assert "Ana" in str(err.value) and p.vignettes.get(v.id).title == "A hard year"
    finally:
        a.close()
        b.close()


def test_a_writer_held_too_long_on_postgresql_is_the_locked_message(make_pg_project: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    p = make_pg_project()
    other = second_seat(p, "Ben")
    monkeypatch.setenv("STORYLOOM_BUSY_TIMEOUT_MS", "300")
    try:
        with p.store.write():  # this session holds the writer lock...
            with pytest.raises(StorageError, match="SL4001"):
                other.codebook.add_code("Delay")  # ...so the other waits 0.3 s, then is told
        other.codebook.add_code("Delay")
        assert [c.name for c in p.codebook.codes()] == ["Delay"]
    finally:
        other.close()


# -- inter-coder agreement --------------------------------------------------------------------------------
def test_the_worked_example_kappa_0_318() -> None:
    a, b = np.zeros(1000), np.zeros(1000)
    a[:50] = b[:50] = 1  # both coded the same 50
    a[50:100] = 1  # only A another 50
    b[100:200] = 1  # only B another 100
    s = statistics(np.vstack([a, b]))
    assert s.units == 1000 and s.percent_agreement == 0.85
    assert s.cohen_kappa == pytest.approx(0.318, abs=5e-4)  # (0.85 - 0.78) / (1 - 0.78)
    # QualCoder's formula multiplies the two chance terms where it should add them: a different number
    wrong_pe = (0.1 * 0.15) * (0.9 * 0.85)
    assert abs((0.85 - wrong_pe) / (1 - wrong_pe) - 0.318) > 0.5
    # nominal alpha by hand: 1 - (n - 1) * disagreeing pairs / (n_0 * n_1 * 2), n = 2,000 values
    assert s.krippendorff_alpha == pytest.approx(1 - 1999 * 300 / (2 * 1750 * 250), abs=1e-6)


def test_alpha_against_krippendorffs_published_example() -> None:
    """Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units, missing
    values; nominal alpha = 0.743."""
    n = np.nan
    data = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
                     [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]])
    s = statistics(data)
    assert s.krippendorff_alpha == pytest.approx(0.743, abs=5e-4) and s.cohen_kappa is None and s.units == 11


def test_statistics_match_the_formulas_on_random_data() -> None:
    rng = np.random.default_rng(14)
    for _ in range(20):
        n = int(rng.integers(20, 400))
        a = (rng.random(n) < rng.random()).astype(float)
        b = np.where(rng.random(n) < 0.7, a, 1 - a)
        s = statistics(np.vstack([a, b]))
        po = float(np.mean(a == b))
        pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
        assert s.percent_agreement == pytest.approx(po, abs=1e-6)
        if pe < 1:
            assert s.cohen_kappa == pytest.approx((po - pe) / (1 - pe), abs=1e-5)
        n1 = a.sum() + b.sum()
        n0 = 2 * n - n1
        if n0 and n1:
            assert s.krippendorff_alpha == pytest.approx(1 - (2 * n - 1) * 2 * np.sum(a != b) / (2 * n0 * n1), abs=1e-5)


def test_units_and_undefined_statistics() -> None:
    assert coded_units([(2, 5)], 8).tolist() == [0, 0, 1, 1, 1, 0, 0, 0]
    assert coded_units([(2, 5)], 8, [(0, 2), (2, 3), (5, 8)]).tolist() == [0, 1, 0]
    same = statistics(np.zeros((2, 10)))  # nobody coded anything: agreement 1, kappa and alpha undefined
    assert same.percent_agreement == 1.0 and same.cohen_kappa is None and same.krippendorff_alpha is None


def _coded_by_two(p: Any) -> None:
    """The worked example on a 1,000-character transcript: Delay by A on [100, 200), by B on [150, 300)
    (both 50, only A 50, only B 100); Fear by both on exactly the same span [400, 450) (codings are
    unique per coder: revision 0005_researchers)."""
    p.codebook.add_code("Delay")
    p.codebook.add_code("Fear")
    add = p.codings.add_coding
    add(transcript="a.txt", start=100, end=200, code="Delay", coder="A")
    add(transcript="a.txt", start=150, end=300, code="Delay", coder="B")
    add(transcript="a.txt", start=400, end=450, code="Fear", coder="A")
    add(transcript="a.txt", start=400, end=450, code="Fear", coder="B")


def test_the_service_on_the_worked_example(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND})
    _coded_by_two(p)
    r = p.agreement.compare(["A", "B"], codes=["Delay"])
    assert r.unit == "character" and r.coders == ("A", "B") and r.transcripts == ("a.txt",)
    [delay] = r.codes
    # the units are what was said: the 1,000 characters less the label "Leader A: " (10) and the line break
    # (the worked example's 800 neither-coded characters become 789)
    assert delay.code == "Delay" and delay.units == 989
    po, pe = (50 + 789) / 989, (100 / 989) * (150 / 989) + (889 / 989) * (839 / 989)
    assert delay.percent_agreement == pytest.approx(po, abs=1e-6)
    assert delay.cohen_kappa == pytest.approx((po - pe) / (1 - pe), abs=1e-5)
    assert "characters of what was said" in r.methods and "reflexive" in r.note
    assert f"Cohen's kappa {(po - pe) / (1 - pe):.3f}" in r.methods
    both = p.agreement.compare(["A", "B"], unit="sentence")
    assert [c.code for c in both.codes] == ["Delay", "Fear"] and both.codes[1].percent_agreement == 1.0
    assert both.overall.units == 2 * both.codes[0].units
    assert p.audit_trail(action="agreement.compare")[-1].after["unit"] == "sentence"


def test_three_coders_missing_data_and_refusals(team_project: Any, interview_text: str) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND, "b.txt": interview_text})
    _coded_by_two(p)
    p.codings.add_coding(transcript="b.txt", start=0, end=20, code="Fear", coder="C")
    p.codings.add_coding(transcript="b.txt", start=0, end=21, code="Fear", coder="A")
    r = p.agreement.compare(["A", "B", "C"], unit="turn")
    assert r.overall.cohen_kappa is None and r.overall.krippendorff_alpha is not None
    with pytest.raises(ValidationError, match="SL2711"):
        p.agreement.compare(["A"])
    with pytest.raises(ValidationError, match="SL2712"):
        p.agreement.compare(["A", "B"], unit="word")
    with pytest.raises(Exception, match="SL2713"):
        p.agreement.compare(["A", "Zoe"])


def test_agreement_cli_json_shape(make_project: Any) -> None:
    p = make_project(transcripts={"a.txt": THOUSAND})
    _coded_by_two(p)
    result = runner.invoke(app, ["agreement", "--coders", "A,B", "--code", "Delay", "--project", str(p.path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"unit", "coders", "codes", "overall"}
    assert set(data["codes"][0]) == {"code", "units", "units_all_coders", "percent_agreement", "cohen_kappa",
                                     "krippendorff_alpha"}
    assert set(data["overall"]) == {"units", "units_all_coders", "percent_agreement", "cohen_kappa",
                                    "krippendorff_alpha"}
    human = runner.invoke(app, ["agreement", "--coders", "A,B", "--project", str(p.path)])
    assert human.exit_code == 0 and "(overall)" in human.stdout and "codebook-style" in human.stdout


# -- the comparison view: disagreements, discussing, reconciling -----------------------------------------
def test_disagreements_and_reconcile(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND})
    _coded_by_two(p)
    found = p.agreement.disagreements(["A", "B"])
    # one passage, side by side: A coded [100, 200), B [150, 300) (Fear: they agree, not listed)
    assert [(d.code, d.start, d.end, d.coded_by, d.not_coded_by) for d in found] == [
        ("Delay", 100, 300, ("A", "B"), ())]
    first = found[0]
    assert [c.start for c in first.codings["A"]] == [100] and [c.start for c in first.codings["B"]] == [150]
    assert first.text == THOUSAND[100:300]
    extra = p.codings.add_coding(transcript="a.txt", start=600, end=640, code="Fear", coder="A")  # B did not code it
    [fear] = [d for d in p.agreement.disagreements(["A", "B"]) if d.code == "Fear"]
    assert (fear.start, fear.end, fear.coded_by, fear.not_coded_by, fear.codings["B"]) == (
        600, 640, ("A",), ("B",), ())
    p.codings.remove_coding(extra.id)
    # discuss: a memo on one of the codings
    memo = p.memos.add("Does waiting include the wait for funding?", kind="coding", target=first.codings["A"][0].id)
    assert memo.kind == "coding"
    # reconcile: accept A's coding of the passage for B
    r = p.agreement.reconcile(code="Delay", transcript="a.txt", start=100, end=300, accept="A", coders=["A", "B"])
    assert r == Reconciliation(removed=1, added=1, accepted="A", into=("B",))
    assert p.agreement.disagreements(["A", "B"]) == []  # B's [150, 300) was replaced by A's [100, 200)
    assert p.agreement.compare(["A", "B"], codes=["Delay"]).codes[0].percent_agreement == 1.0
    assert p.undo().action == "coding.reconcile"
    assert len(p.agreement.disagreements(["A", "B"])) == 1
    with pytest.raises(ConflictError, match="SL4315"):
        p.agreement.reconcile(code="Delay", transcript="a.txt", start=100, end=150, accept="A", coders=["A"])


def test_blind_view_shows_only_my_codings(team_project: Any) -> None:
    p = team_project(transcripts={"a.txt": THOUSAND})
    _coded_by_two(p)
    assert {c.coder for c in p.codings.codings_in("a.txt", coder="B")} == {"B"}
    assert len(p.codings.codings_in("a.txt")) == 4


# -- done when: two researchers at once on one server, each undoes their own, the lead reports agreement ---
def test_two_researchers_on_one_server_then_the_lead_reports_agreement(make_pg_project: Any) -> None:
    p = make_pg_project(transcripts={"a.txt": "Leader A: " + "We waited for the approval for months. " * 60 + "\n"})
    p.researchers.add(p.user, role="lead")
    p.researchers.add("A", role="coder")
    p.researchers.add("B", role="coder")
    p.codebook.add_code("Waiting")
    go = time.time() + 2.5
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(p.path), who, str(go), "200"], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for who in ("A", "B")]
    for proc in procs:
        _out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and "locked" not in err, err
    assert len(p.codings.codings_in("a.txt")) == 400
    a = second_seat(p, "A")
    try:
        assert a.undo().action == "coding.add"  # A's own last coding, not B's
    finally:
        a.close()
    left = p.codings.codings_in("a.txt")
    assert (sum(c.coder == "A" for c in left), sum(c.coder == "B" for c in left)) == (199, 200)
    result = p.agreement.compare(["A", "B"], unit="sentence")
    paragraph = p.exports.methods_report().paragraph
    kappa = f"Cohen's kappa {result.overall.cohen_kappa:.3f}" if result.overall.cohen_kappa is not None \
        else "Cohen's kappa undefined"
    assert "sentences as the unit" in paragraph and kappa in paragraph
    assert "(A (1 transcript), B (1 transcript))" in paragraph
