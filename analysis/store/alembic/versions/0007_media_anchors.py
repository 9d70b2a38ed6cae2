"""Recordings beside transcripts, and time for every line (the media issue).

* ``sync_points``: every time the source gave (each subtitle cue's start and end, each timestamped
  block's start) as ``(position, t_start, t_end)`` per transcript, as REFI-QDA keeps SyncPoints;
* ``media``: the recording attached to a transcript (its file in ``media/``, format, kind, duration,
  codec, channels, sample rate, size, hash);
* ``transcripts.corrections`` and ``transcripts.edited_from_sha256``: corrections made in the app.

Backfill: each existing turn with a timestamp becomes one sync point at its start (what the project
knew before; a re-sync of a subtitle file then adds every cue). Dialect-neutral.

Revision ID: 0007_media_anchors
Revises: 0006_segment_turn_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_media_anchors"
down_revision: str | None = "0006_segment_turn_index"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sync_points", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("t_start", sa.Float, nullable=False),
        sa.Column("t_end", sa.Float),
    )
    op.create_index("ix_sync_points_transcript_id", "sync_points", ["transcript_id"])
    op.create_table(
        "media", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("transcript_id", sa.Integer, sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("file", sa.String, nullable=False),
        sa.Column("format", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("duration", sa.Float),
        sa.Column("codec", sa.String, nullable=False, server_default=""),
        sa.Column("channels", sa.Integer),
        sa.Column("sample_rate", sa.Integer),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("attached_at", sa.String, nullable=False),
    )
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("corrections", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("edited_from_sha256", sa.String(64)))
    conn = op.get_bind()
    turns = sa.table("turns", sa.column("transcript_id"), sa.column("start"), sa.column("t_start"),
                     sa.column("t_end"))
    points = sa.table("sync_points", sa.column("transcript_id"), sa.column("position"), sa.column("t_start"),
                      sa.column("t_end"))
    rows = conn.execute(sa.select(turns.c.transcript_id, turns.c.start, turns.c.t_start, turns.c.t_end)
                        .where(turns.c.t_start.is_not(None)).order_by(turns.c.transcript_id, turns.c.start)).all()
    if rows:
        conn.execute(points.insert(), [{"transcript_id": r[0], "position": r[1], "t_start": r[2], "t_end": r[3]}
                                       for r in rows])


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("edited_from_sha256")
        batch.drop_column("corrections")
    op.drop_table("media")
    op.drop_index("ix_sync_points_transcript_id", table_name="sync_points")
    op.drop_table("sync_points")
