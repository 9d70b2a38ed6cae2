"""The Alembic migrations of the project database (``analysis/store/alembic``), through :class:`Store` only.

``fixtures/v1-project.db`` was written by the v1 release (see ``fixtures/make_v1_project.py``).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import unicodedata
import warnings
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.schema import CreateIndex, CreateTable

from analysis.errors import ConflictError, ProjectError
from analysis.store import LEGACY_REVISION, SCHEMA_VERSION, Store, alembic_config, schema

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v1-project.db"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _v1_copy(tmp_path: Path, name: str = "study") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copyfile(FIXTURE, folder / "project.db")
    return folder


def _sqlite(db: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(db))


def _columns(db: Path) -> dict[str, list[str]]:
    with _sqlite(db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')] for t in tables}


def _dump(db: Path, columns: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the given tables, only the given columns, in a stable order."""
    with _sqlite(db) as conn:
        out = {}
        for table, cols in columns.items():
            names = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(conn.execute(f'SELECT {names} FROM "{table}"').fetchall(), key=repr)
        return out


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- (a) a v1 project is upgraded in place ---------------------------------------------------------
def test_v1_project_is_backed_up_and_upgraded_in_place(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    v1_columns = _columns(FIXTURE)
    before = _dump(folder / "project.db", v1_columns)
    assert before["codes"] and before["codings"] and before["audit"] and before["memos"]

    store = Store.for_folder(folder)
    try:
        assert store.revision() == HEAD
        assert store.schema_version() == SCHEMA_VERSION == 2
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on after the upgrade
            codes = conn.execute(sa.select(schema.codes.c.name, schema.codes.c.name_key)).all()
            people = conn.execute(sa.select(schema.participants.c.pseudonym, schema.participants.c.pseudonym_key)).all()
            events = conn.execute(sa.select(schema.audit.c.id, schema.audit.c.target, schema.audit.c.format,
                                            schema.audit.c.state)).all()
            targets = conn.execute(sa.select(schema.audit_targets.c.audit_id, schema.audit_targets.c.entity,
                                             schema.audit_targets.c.guid, schema.audit_targets.c.role)
                                   .order_by(schema.audit_targets.c.id)).all()
    finally:
        store.close()

    backup = folder / "project.db.bak-v1"
    assert backup.exists() and backup.read_bytes() == FIXTURE.read_bytes()
    assert _files(folder) == ["project.db", "project.db.bak-v1"]

    # Every row of every v1 table is still there, column for column; only schema_version moved on.
    expected = {**before, "meta": sorted((k, str(SCHEMA_VERSION) if k == "schema_version" else v)
                                         for k, v in before["meta"])}
    assert ("schema_version", "1") in before["meta"]
    assert _dump(folder / "project.db", v1_columns) == expected

    # The keys are NFC + strip + casefold, computed in Python ("Ākonga" is not ASCII).
    assert codes and all(key == _key(name) for name, key in codes)
    assert ("Ākonga fear", "ākonga fear") in codes
    assert sorted(k for _, k in codes if k == "approval") == ["approval", "approval"]  # different parents: both kept
    assert people == [("Leader A", "leader a")]

    # Old events: format 1, states kept (the fixture holds an undone one), targets backfilled.
    assert {fmt for _, _, fmt, _ in events} == {1}
    assert "undone" in {state for *_, state in events}
    by_event: dict[int, list[tuple[str, str, str]]] = {}
    for audit_id, entity, ident, role in targets:
        by_event.setdefault(audit_id, []).append((entity, ident, role))
    for event_id, target, _fmt, _state in events:
        if ":" in target:
            assert by_event[event_id][0][2] == "subject", target
            assert all(role == "related" for *_, role in by_event[event_id][1:]), target
        else:
            assert event_id not in by_event, target
    coding_target = next(t for _, t, _, _ in events if t.startswith("coding:"))
    coding_event = next(i for i, t, _, _ in events if t == coding_target)
    entities = [e for e, _, _ in by_event[coding_event]]
    assert entities == ["coding", "code", "transcript"]
    assert by_event[coding_event][0][1] == coding_target.split()[0].partition(":")[2]
    participant_event = next(i for i, t, _, _ in events if t.startswith("participant:"))
    assert by_event[participant_event] == [("participant", "Leader A", "subject")]  # the space is kept


def test_duplicate_sibling_names_are_renamed_not_fatal(tmp_path: Path) -> None:
    """A v1 race could leave siblings whose names differ only in case: later ones become "Name (2)"..."""
    folder = _v1_copy(tmp_path)
    db = folder / "project.db"
    with _sqlite(db) as conn:
        parent = conn.execute("SELECT parent_id FROM codes WHERE name = 'Approval'").fetchone()[0]
        for i, name in enumerate(("APPROVAL", " approval ", "Approval (2)")):
            conn.execute("INSERT INTO codes (guid, parent_id, name, created_at) VALUES (?, ?, ?, '2025-01-01')",
                         (f"00000000-0000-0000-0000-00000000000{i}", parent, name))
        conn.execute("INSERT INTO participants (guid, pseudonym, created_at) VALUES ('p-2', 'leader a', '2025-01-01')")
        conn.commit()
        audit_rows = conn.execute("SELECT count(*) FROM audit").fetchone()[0]

    Store.for_folder(folder).close()

    with _sqlite(db) as conn:
        siblings = conn.execute("SELECT name, name_key FROM codes WHERE parent_id = ? ORDER BY id", (parent,)).fetchall()
        people = conn.execute("SELECT pseudonym, pseudonym_key FROM participants ORDER BY id").fetchall()
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == audit_rows  # nothing else recorded
    # "Approval (2)" was already taken (by a later row), so the duplicates skip it.
    assert siblings == [("Approval", "approval"), ("APPROVAL (3)", "approval (3)"), ("approval (4)", "approval (4)"),
                        ("Approval (2)", "approval (2)")]
    assert people == [("Leader A", "leader a"), ("leader a (2)", "leader a (2)")]


def test_revision_0001_base_is_exactly_the_v1_schema(tmp_path: Path) -> None:
    db = tmp_path / "base.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), LEGACY_REVISION)
    finally:
        engine.dispose()
    query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name != 'alembic_version' ORDER BY name"
    with _sqlite(db) as made, _sqlite(FIXTURE) as v1:
        assert made.execute(query).fetchall() == v1.execute(query).fetchall()


def test_older_revision_is_backed_up_under_its_name_then_upgraded(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    with _sqlite(folder / "project.db") as conn:  # as if a release had stamped it 0001_base
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES (?)", (LEGACY_REVISION,))
        conn.commit()
    stamped = _sha(folder / "project.db")
    store = Store.for_folder(folder)
    assert store.revision() == HEAD
    store.close()
    assert _files(folder) == ["project.db", f"project.db.bak-{LEGACY_REVISION}"]
    assert _sha(folder / f"project.db.bak-{LEGACY_REVISION}") == stamped


def test_a_failed_upgrade_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stamp, schema changes, backfills and meta are one transaction: a failure at the end undoes all."""
    import analysis.store as store_mod

    folder = _v1_copy(tmp_path)

    def fail(*_args: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_mod.meta, "set", fail)  # the last step of the upgrade
    with pytest.raises(RuntimeError, match="disk on fire"):
        Store.for_folder(folder)
    assert (folder / "project.db").read_bytes() == FIXTURE.read_bytes()
    assert _columns(folder / "project.db") == _columns(FIXTURE)


# -- (b) a fresh database is exactly schema.metadata --------------------------------------------
def _render_default(conn: sa.Connection, table: sa.Table, column: str) -> str | None:
    """The DEFAULT clause this dialect writes for the metadata's column."""
    return conn.dialect.ddl_compiler(conn.dialect, CreateTable(table)).get_column_default_string(table.c[column])


def test_fresh_database_matches_schema_metadata(tmp_path: Path) -> None:
    store = Store.for_folder(tmp_path)
    try:
        assert store.revision() == HEAD and store.schema_version() == SCHEMA_VERSION
        with store.read() as conn, warnings.catch_warnings():
            # SQLite cannot reflect expression indexes (uq_codes_sibling_name): checked by hand below.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diffs = compare_metadata(context, schema.metadata)
            inspector = sa.inspect(conn)
            reflected = {t: {c["name"]: c for c in inspector.get_columns(t)} for t in schema.metadata.tables}
            remaining = []
            for diff in diffs:
                # server_default="" (16 columns): alembic's SQLite comparison strips the quotes of a
                # reflected default with a regex that needs one character inside them, so the
                # reflected '' is compared unstripped with the metadata's empty string and reported,
                # although the DDL is the same (DEFAULT ''). Ignored only where the DEFAULT clause
                # this dialect renders for the metadata's column is, character for character, what
                # the database reports. (On PostgreSQL the same comparison reports nothing at all.)
                if isinstance(diff, list) and len(diff) == 1 and diff[0][0] == "modify_default":
                    _op, _schema, table, col, _info, _db_default, _md_default = diff[0]
                    db_text = reflected[table][col]["default"]
                    if db_text is not None and db_text == _render_default(conn, schema.metadata.tables[table], col):
                        continue
                remaining.append(diff)
            assert remaining == []

            # The expression index autogenerate skips: the database holds exactly the metadata's DDL.
            index = next(i for i in schema.codes.indexes if i.name == "uq_codes_sibling_name")
            expected = str(CreateIndex(index).compile(dialect=conn.dialect)).strip()
            stored = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type='index' AND name='uq_codes_sibling_name'").scalar()
            assert stored == expected
            assert "coalesce(parent_id, 0)" in stored
    finally:
        store.close()


def test_sibling_uniqueness_is_enforced_by_the_database(tmp_path: Path) -> None:
    store = Store.for_folder(tmp_path)
    try:
        with store.write() as conn:
            conn.execute(schema.codes.insert().values(guid="g1", name="Ākonga", created_at="now"))
        with pytest.raises(ConflictError, match="already exists under the same parent"), store.write() as conn:
            conn.execute(schema.codes.insert().values(guid="g2", name=" ākonga", created_at="now"))
        with store.write() as conn:  # a NULL parent counts as 0, but a real parent is another group
            conn.execute(schema.codes.insert().values(guid="g3", name="ākonga", parent_id=1, created_at="now"))
    finally:
        store.close()


# -- (c) a database from a newer release is refused, untouched ----------------------------------
def test_unknown_revision_is_refused_and_not_modified(tmp_path: Path) -> None:
    Store.for_folder(tmp_path).close()
    db = tmp_path / "project.db"
    with _sqlite(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        conn.commit()
    digest, files = _sha(db), _files(tmp_path)
    with pytest.raises(ProjectError, match="newer Storyloom") as err:
        Store.for_folder(tmp_path)
    assert "9999_from_the_future" in str(err.value) and "Upgrade Storyloom" in str(err.value)
    assert _sha(db) == digest and _files(tmp_path) == files == ["project.db"]


def test_schema_version_without_alembic_revision_is_refused(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    with _sqlite(folder / "project.db") as conn:
        conn.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
        conn.commit()
    digest = _sha(folder / "project.db")
    with pytest.raises(ProjectError, match="newer"):
        Store.for_folder(folder)
    assert _sha(folder / "project.db") == digest and _files(folder) == ["project.db"]


# -- (d) opening a migrated database again does nothing -------------------------------------------
def test_reopening_a_migrated_database_makes_no_backup(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    Store.for_folder(folder).close()
    files, digest = _files(folder), _sha(folder / "project.db")
    store = Store.for_folder(folder)
    assert store.revision() == HEAD
    store.close()
    assert _files(folder) == files == ["project.db", "project.db.bak-v1"]
    assert _sha(folder / "project.db") == digest

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    Store.for_folder(fresh).close()
    Store.for_folder(fresh).close()
    assert _files(fresh) == ["project.db"]


def test_v1_actions_can_still_be_undone_after_the_upgrade(tmp_path: Path) -> None:
    import json

    from analysis.store.recorder import Recorder, upgrade_changes

    store = Store.for_folder(_v1_copy(tmp_path))
    try:
        with store.write() as conn:
            event = conn.execute(sa.select(schema.audit.c.changes, schema.audit.c.format)
                                 .where(schema.audit.c.action == "participant.add")).one()
            assert event.format == 1
            Recorder(conn).apply(upgrade_changes(json.loads(event.changes), event.format), inverse=True,
                                 what="undo 'Added participant Leader A'")
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.participants)).scalar_one() == 0
    finally:
        store.close()


R6 = Path(__file__).resolve().parents[1] / "fixtures" / "r6-project.db"


def test_a_project_of_the_release_before_media_is_upgraded_with_its_times(tmp_path: Path) -> None:
    """Revision 0007 on a project written by the previous release (``fixtures/make_r6_project.py``): backed
    up under its revision, every old row kept, one sync point per timed turn, no media, no corrections."""
    folder = tmp_path / "r6"
    folder.mkdir()
    shutil.copyfile(R6, folder / "project.db")
    old_columns = _columns(R6)
    assert "sync_points" not in old_columns and "media" not in old_columns
    before = _dump(folder / "project.db", old_columns)
    store = Store.for_folder(folder)
    try:
        assert store.revision() == HEAD
        with store.read() as conn:
            turns = conn.execute(sa.select(schema.turns.c.transcript_id, schema.turns.c.start, schema.turns.c.t_start,
                                           schema.turns.c.t_end).where(schema.turns.c.t_start.is_not(None))).all()
            points = conn.execute(sa.select(schema.sync_points.c.transcript_id, schema.sync_points.c.position,
                                            schema.sync_points.c.t_start, schema.sync_points.c.t_end)).all()
            corrections = conn.execute(sa.select(schema.transcripts.c.corrections,
                                                 schema.transcripts.c.edited_from_sha256)).all()
            media = conn.execute(sa.select(schema.media)).all()
    finally:
        store.close()
    assert _files(folder) == ["project.db", "project.db.bak-0006_segment_turn_index"]
    assert len(turns) == 2 and sorted(points) == sorted(turns)  # the interviewer's and the merged turn
    assert corrections == [(0, None), (0, None)] and media == []
    after = _dump(folder / "project.db", {t: c for t, c in old_columns.items() if t != "alembic_version"})
    assert after == {t: rows for t, rows in before.items() if t != "alembic_version"}
