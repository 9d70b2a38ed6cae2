"""Researchers and their roles, and codings unique per coder (issue 14: a team project).

* ``researchers``: the members of a team project (GUID, name, unique ``name_key``, role lead | coder |
  reader, who added them, when). A new table: nothing to backfill (a project without researchers has no
  roles, as before).
* ``codings``: the uniqueness of a coding was (code, transcript, start, end); it becomes (code,
  transcript, start, end, coder) under the name ``uq_codings_span_coder``, so that a second coder can
  apply the same code to the same span (what inter-coder agreement compares). Every existing row stays
  unique under the wider key.

Dialect-neutral: on SQLite the first release's unnamed constraint can only go with a rebuild of the
table (batch mode, recreating it from the declaration below; the caller turns foreign keys off around
the upgrade, so the rebuild cascades nothing); on PostgreSQL it is a plain ``ALTER TABLE`` of the
constraint PostgreSQL named ``codings_code_id_transcript_id_start_end_key``.

Revision ID: 0005_researchers
Revises: 0004_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_researchers"
down_revision: str | None = "0004_events"
branch_labels: str | None = None
depends_on: str | None = None

_OLD = ("code_id", "transcript_id", "start", "end")
_NEW = (*_OLD, "coder")


def _codings(unique: tuple[str, ...], name: str | None) -> sa.Table:
    """The ``codings`` table as 0001_base declared it, with the given uniqueness (for SQLite's rebuild)."""
    return sa.Table(
        "codings", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id"), nullable=False),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("quote", sa.Text, nullable=False),
        sa.Column("context_before", sa.Text, nullable=False, server_default=""),
        sa.Column("context_after", sa.Text, nullable=False, server_default=""),
        sa.Column("coder", sa.String, nullable=False),
        sa.Column("memo", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", sa.String, nullable=False, server_default="direct"),
        sa.Column("orphaned", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String, nullable=False),
        sa.UniqueConstraint(*unique, name=name),
    )


def _rebuild_sqlite(unique: tuple[str, ...], name: str | None) -> None:
    """SQLite: rebuild ``codings`` with the given uniqueness, then its two indexes (the rebuild drops them)."""
    with op.batch_alter_table("codings", copy_from=_codings(unique, name), recreate="always"):
        pass
    present = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("codings")}
    for column in ("code_id", "transcript_id"):
        if f"ix_codings_{column}" not in present:
            op.create_index(f"ix_codings_{column}", "codings", [column])


def _pg_unique_name(columns: tuple[str, ...]) -> str | None:
    """The name of the unique constraint of ``codings`` on exactly ``columns`` (as the server reports it)."""
    for uc in sa.inspect(op.get_bind()).get_unique_constraints("codings"):
        if tuple(uc["column_names"]) == columns:
            return str(uc["name"])
    return None


def upgrade() -> None:
    op.create_table(
        "researchers", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_key", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False, server_default="coder"),
        sa.Column("added_by", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("uq_researchers_name_key", "researchers", ["name_key"], unique=True)
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_NEW, "uq_codings_span_coder")
    else:
        old = _pg_unique_name(_OLD)
        if old is not None:
            op.drop_constraint(old, "codings", type_="unique")
        op.create_unique_constraint("uq_codings_span_coder", "codings", list(_NEW))


def downgrade() -> None:
    """Back to one coding per (code, span): refused while two coders share a span (it would lose one)."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_OLD, None)
    else:
        op.drop_constraint("uq_codings_span_coder", "codings", type_="unique")
        op.create_unique_constraint(None, "codings", list(_OLD))
    op.drop_index("uq_researchers_name_key", "researchers")
    op.drop_table("researchers")
