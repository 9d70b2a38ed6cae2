"""The v1 release's schema, exactly (a copy of its ``_m0001_initial``).

Every project written by the first release has these tables (and ``meta.schema_version = '1'``);
:meth:`analysis.store.Store._migrate` stamps such a database with this revision, then upgrades it.
Declared here, not imported from ``analysis.store.schema``: this revision must never change. The one
difference in spelling: foreign-key columns name their type (``sa.Integer``), which ``create_all``
took from the referenced column but ``op.create_table`` cannot see; the DDL is the same.

Revision ID: 0001_base
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_base"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _guid() -> sa.Column[str]:
    return sa.Column("guid", sa.String(36), nullable=False, unique=True)


def upgrade() -> None:
    op.create_table("meta", sa.Column("key", sa.String, primary_key=True), sa.Column("value", sa.Text))
    op.create_table(
        "users", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "participants", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("pseudonym", sa.String, nullable=False, unique=True),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_table(
        "variables", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "participant_attributes", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("variable_id", sa.Integer, sa.ForeignKey("variables.id", ondelete="CASCADE"), nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("participant_id", "variable_id"),
    )
    op.create_table(
        "transcripts", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("format", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("imported_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    op.create_table(
        "speakers", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="SET NULL")),
        sa.Column("interviewer", sa.Boolean, nullable=False, server_default="0"),
        sa.UniqueConstraint("transcript_id", "label"),
    )
    op.create_table(
        "turns", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("speaker_id", sa.Integer, sa.ForeignKey("speakers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("t_start", sa.Float), sa.Column("t_end", sa.Float), sa.Column("line", sa.Integer),
    )
    op.create_table(
        "segments", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("turn_id", sa.Integer, sa.ForeignKey("turns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False, index=True),
    )
    op.create_table(
        "embeddings",
        sa.Column("model_id", sa.String, primary_key=True),
        sa.Column("text_sha256", sa.String(64), primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "codes", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("codes.id"), index=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False, server_default="code"),
        *(sa.Column(c, sa.Text, nullable=False, server_default="") for c in (
            "definition", "inclusion", "exclusion", "example", "colour", "central_concept")),
        sa.Column("status", sa.String, nullable=False, server_default="initial code"),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_table(
        "codings", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id"), nullable=False, index=True),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id"), nullable=False, index=True),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("quote", sa.Text, nullable=False),
        sa.Column("context_before", sa.Text, nullable=False, server_default=""),
        sa.Column("context_after", sa.Text, nullable=False, server_default=""),
        sa.Column("coder", sa.String, nullable=False),
        sa.Column("memo", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", sa.String, nullable=False, server_default="direct"),
        sa.Column("orphaned", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String, nullable=False),
        sa.UniqueConstraint("code_id", "transcript_id", "start", "end"),
    )
    op.create_table(
        "memos", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("target_id", sa.Integer),
        sa.Column("author", sa.String, nullable=False),
        sa.Column("phase", sa.String, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    op.create_table(
        "audit", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.String, nullable=False),
        sa.Column("who", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False, index=True),
        sa.Column("target", sa.String, nullable=False, server_default=""),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("before", sa.Text), sa.Column("after", sa.Text),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("changes", sa.Text, nullable=False, server_default="[]"),
        sa.Column("undoable", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("barrier", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("state", sa.String, nullable=False, server_default="final"),
        sa.Column("undone_at", sa.String),
    )
    op.create_table(
        "snapshots", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("label", sa.String, nullable=False, unique=True),
        sa.Column("phase", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("codebook", sa.Text, nullable=False),
    )
    op.create_table(
        "vignettes", sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="SET NULL")),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id", ondelete="SET NULL")),
        sa.Column("status", sa.String, nullable=False, server_default="draft"),
        sa.Column("items", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    op.create_table(
        "suggestion_decisions", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("decision", sa.String, nullable=False),
        sa.Column("who", sa.String, nullable=False),
        sa.Column("at", sa.String, nullable=False),
    )
    op.create_table(
        "allow_list", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("term", sa.String, nullable=False, unique=True),
        sa.Column("label", sa.String, nullable=False, server_default=""),
        sa.Column("accepted_by", sa.String, nullable=False),
        sa.Column("at", sa.String, nullable=False),
    )


_TABLES = ("meta", "users", "participants", "variables", "participant_attributes", "transcripts", "speakers", "turns", "segments", "embeddings", "codes", "codings", "memos", "audit", "snapshots", "vignettes", "suggestion_decisions", "allow_list")


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name)
