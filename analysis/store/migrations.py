"""Versioned schema migrations.

The migrations are the single source of truth for the schema: the rest of the store reflects the
tables from the database after migrating. Each migration is a function of a connection, applied
in order inside one transaction; ``meta.schema_version`` records the last one applied. An existing
project database is copied to ``project.db.bak-v<N>`` before it is upgraded (as Taguette does).
Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def _guid() -> sa.Column:
    return sa.Column("guid", sa.String(36), nullable=False, unique=True)


def _m0001_initial(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table("meta", md, sa.Column("key", sa.String, primary_key=True), sa.Column("value", sa.Text))
    sa.Table(
        "users", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    sa.Table(
        "participants", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("pseudonym", sa.String, nullable=False, unique=True),
        sa.Column("created_at", sa.String, nullable=False),
    )
    sa.Table(
        "variables", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    sa.Table(
        "participant_attributes", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("variable_id", sa.ForeignKey("variables.id", ondelete="CASCADE"), nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("participant_id", "variable_id"),
    )
    sa.Table(
        "transcripts", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("format", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("imported_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    sa.Table(
        "speakers", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String, nullable=False),
        sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="SET NULL")),
        sa.Column("interviewer", sa.Boolean, nullable=False, server_default="0"),
        sa.UniqueConstraint("transcript_id", "label"),
    )
    sa.Table(
        "turns", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("speaker_id", sa.ForeignKey("speakers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("t_start", sa.Float), sa.Column("t_end", sa.Float), sa.Column("line", sa.Integer),
    )
    sa.Table(
        "segments", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("turn_id", sa.ForeignKey("turns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False, index=True),
    )
    sa.Table(
        "embeddings", md,
        sa.Column("model_id", sa.String, primary_key=True),
        sa.Column("text_sha256", sa.String(64), primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )
    sa.Table(
        "codes", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("parent_id", sa.ForeignKey("codes.id"), index=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False, server_default="code"),
        *(sa.Column(c, sa.Text, nullable=False, server_default="") for c in (
            "definition", "inclusion", "exclusion", "example", "colour", "central_concept")),
        sa.Column("status", sa.String, nullable=False, server_default="initial code"),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String, nullable=False),
    )
    sa.Table(
        "codings", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("code_id", sa.ForeignKey("codes.id"), nullable=False, index=True),
        sa.Column("transcript_id", sa.ForeignKey("transcripts.id"), nullable=False, index=True),
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
    sa.Table(
        "memos", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("target_id", sa.Integer),
        sa.Column("author", sa.String, nullable=False),
        sa.Column("phase", sa.String, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    sa.Table(
        "audit", md, sa.Column("id", sa.Integer, primary_key=True),
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
    sa.Table(
        "snapshots", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("label", sa.String, nullable=False, unique=True),
        sa.Column("phase", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("codebook", sa.Text, nullable=False),
    )
    sa.Table(
        "vignettes", md, sa.Column("id", sa.Integer, primary_key=True), _guid(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="SET NULL")),
        sa.Column("code_id", sa.ForeignKey("codes.id", ondelete="SET NULL")),
        sa.Column("status", sa.String, nullable=False, server_default="draft"),
        sa.Column("items", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    sa.Table(
        "suggestion_decisions", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_id", sa.ForeignKey("codes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
        sa.Column("decision", sa.String, nullable=False),
        sa.Column("who", sa.String, nullable=False),
        sa.Column("at", sa.String, nullable=False),
    )
    sa.Table(
        "allow_list", md, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("term", sa.String, nullable=False, unique=True),
        sa.Column("label", sa.String, nullable=False, server_default=""),
        sa.Column("accepted_by", sa.String, nullable=False),
        sa.Column("at", sa.String, nullable=False),
    )
    md.create_all(conn)


MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "initial schema: REFI-QDA entities with GUIDs, transcripts, codebook, audit", _m0001_initial),
)
LATEST = MIGRATIONS[-1][0]
