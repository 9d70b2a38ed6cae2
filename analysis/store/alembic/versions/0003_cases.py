"""Cases and the case x condition matrix (issue 12).

* ``cases``: a case (REFI-QDA's ``<Case>``, with a GUID) with a name unique case-folded (``name_key``,
  unique index ``uq_cases_name_key``), a kind chosen by the researcher and a description;
* ``case_attributes``: a case's descriptive attributes, values of the shared ``variables``;
* ``case_participants`` and ``case_evidence``: a case's links to participants and to codings, one row each;
* ``conditions``: the columns of the matrix (unique ``name_key``; optionally tied to a code; one may be
  flagged the outcome);
* ``case_values`` and ``case_value_evidence``: the judged cells (1, 0 or a fuzzy value; a note) and the
  codings that justify each.

New tables only, so nothing to backfill; dialect-neutral (plain CREATE TABLE / CREATE INDEX).

Revision ID: 0003_cases
Revises: 0002_keys_targets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_cases"
down_revision: str | None = "0002_keys_targets"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cases", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_key", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False, server_default="case"),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("uq_cases_name_key", "cases", ["name_key"], unique=True)
    op.create_table(
        "case_attributes", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("variable_id", sa.Integer, sa.ForeignKey("variables.id", ondelete="CASCADE"), nullable=False),
        sa.Column("value", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("case_id", "variable_id"),
    )
    op.create_table(
        "case_participants", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("participant_id", sa.Integer, sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("case_id", "participant_id"),
    )
    op.create_table(
        "case_evidence", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("linked_by", sa.String, nullable=False),
        sa.Column("linked_at", sa.String, nullable=False),
        sa.UniqueConstraint("case_id", "coding_id"),
    )
    op.create_table(
        "conditions", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guid", sa.String(36), nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("name_key", sa.String, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("codes.id", ondelete="SET NULL")),
        sa.Column("is_outcome", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String, nullable=False),
    )
    op.create_index("uq_conditions_name_key", "conditions", ["name_key"], unique=True)
    op.create_table(
        "case_values", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("condition_id", sa.Integer, sa.ForeignKey("conditions.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("value", sa.Float),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", sa.String, nullable=False, server_default="researcher"),
        sa.Column("judged_by", sa.String, nullable=False),
        sa.Column("judged_at", sa.String, nullable=False),
        sa.UniqueConstraint("case_id", "condition_id"),
    )
    op.create_table(
        "case_value_evidence", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value_id", sa.Integer, sa.ForeignKey("case_values.id", ondelete="CASCADE"), nullable=False),
        sa.Column("coding_id", sa.Integer, sa.ForeignKey("codings.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.UniqueConstraint("value_id", "coding_id"),
    )


def downgrade() -> None:
    for table in ("case_value_evidence", "case_values", "conditions", "case_evidence", "case_participants",
                  "case_attributes", "cases"):
        op.drop_table(table)
