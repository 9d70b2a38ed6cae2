"""Narrative inquiry: events in story time, and the findings chapter (issue 16).

* ``periods``: named periods of the story ("pre-pandemic", "early 2020") in the researcher's order
  (``position``), optionally anchored to a date, month or year; unique ``name_key``;
* ``events``: an event with a GUID, a unique ``name_key``, a description and a "when" in story time
  (``when_kind``/``when_value``, or a period, or before/after another event; ``sort_key`` for dated ones);
* ``event_evidence``: coded passages linked to an event, each optionally with the participant's own placement;
* ``chapters`` and ``chapter_sections``: the findings chapter, its ordered headed sections (vignette items).

New tables only, so nothing to backfill; dialect-neutral (plain CREATE TABLE / CREATE INDEX).

Revision ID: 0004_events
Revises: 0003_cases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_events"
down_revision: str | None = "0003_cases"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "periods", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_key", sa.String, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("anchor", sa.String, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("uq_periods_name_key", "periods", ["name_key"], unique=True)
    op.create_table(
        "events", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_key", sa.String, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("when_kind", sa.String, nullable=False, server_default="unknown"),
        sa.Column("when_value", sa.String, nullable=False, server_default=""),
        sa.Column("period_id", sa.Integer, sa.ForeignKey("periods.id")),
        sa.Column("relative_to", sa.Integer, sa.ForeignKey("events.id")),
        sa.Column("sort_key", sa.String, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("uq_events_name_key", "events", ["name_key"], unique=True)
    op.create_table(
        "event_evidence", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("when_kind", sa.String, nullable=False, server_default=""),
        sa.Column("when_value", sa.String, nullable=False, server_default=""),
        sa.Column("period_id", sa.Integer, sa.ForeignKey("periods.id")),
        sa.Column("relative_to", sa.Integer, sa.ForeignKey("events.id")),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("linked_by", sa.String, nullable=False),
        sa.Column("linked_at", sa.String, nullable=False),
        sa.UniqueConstraint("event_id", "coding_id"),
    )
    op.create_table(
        "chapters", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("introduction", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )
    op.create_table(
        "chapter_sections", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("chapter_id", sa.Integer, sa.ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("heading", sa.Text, nullable=False),
        sa.Column("items", sa.Text, nullable=False, server_default="[]"),
        sa.Column("vignette_id", sa.Integer, sa.ForeignKey("vignettes.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.String, nullable=False),
        sa.Column("updated_at", sa.String, nullable=False),
    )


def downgrade() -> None:
    for table in ("chapter_sections", "chapters", "event_evidence", "events", "periods"):
        op.drop_table(table)
