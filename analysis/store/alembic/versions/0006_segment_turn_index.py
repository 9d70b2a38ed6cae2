"""An index on ``segments.turn_id`` (issue 13).

A re-import deletes the transcript's turns, and the delete cascades to their segments; without an index
on the child key SQLite scans the whole ``segments`` table once per deleted turn, so re-syncing ten
edited transcripts of a 1M-word project took 27 s (benchmarks/scale.py), ten times as long as in a
100k-word one. Dialect-neutral (plain CREATE INDEX); nothing to backfill.

Revision ID: 0006_segment_turn_index
Revises: 0005_researchers
"""

from __future__ import annotations

from alembic import op

revision = "0006_segment_turn_index"
down_revision: str | None = "0005_researchers"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_segments_turn_id", "segments", ["turn_id"])


def downgrade() -> None:
    op.drop_index("ix_segments_turn_id", table_name="segments")
