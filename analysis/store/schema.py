"""The schema, declared once: every table Storyloom stores, in one file a reader can look at.

The Alembic migrations in ``analysis/store/alembic/`` take a database from any earlier release to
this schema; a test checks that a freshly migrated database matches these declarations.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


def _key_of(column: str) -> Any:
    """An insert default: the named column's value, NFC, stripped and case-folded (a uniqueness key)."""
    def default(context: Any) -> str:
        value = context.get_current_parameters().get(column) or ""
        return unicodedata.normalize("NFC", str(value)).strip().casefold()
    return default


def _guid() -> sa.Column[str]:
    return sa.Column("guid", sa.String(36), nullable=False, unique=True)


meta = sa.Table("meta", metadata, sa.Column("key", sa.String, primary_key=True), sa.Column("value", sa.Text))
users = sa.Table(
    "users", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False, unique=True),
)
participants = sa.Table(
    "participants", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("pseudonym", sa.String, nullable=False, unique=True),
    sa.Column("pseudonym_key", sa.String, nullable=False, default=_key_of("pseudonym")),  # unique, see below
    sa.Column("created_at", sa.String, nullable=False),
)
variables = sa.Table(
    "variables", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False, unique=True),
)
participant_attributes = sa.Table(
    "participant_attributes", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("variable_id", sa.ForeignKey("variables.id", ondelete="CASCADE"), nullable=False),
    sa.Column("value", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("participant_id", "variable_id"),
)
transcripts = sa.Table(
    "transcripts", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("format", sa.String, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("warnings", sa.Text, nullable=False, server_default="[]"),
    sa.Column("imported_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
    # Corrections made in the app (revision 0007): their count, and the source file's hash when the first
    # was made; a sync then keeps the corrected text unless the file changed too (a conflict, reported).
    sa.Column("corrections", sa.Integer, nullable=False, server_default="0"),
    sa.Column("edited_from_sha256", sa.String(64)),
)
speakers = sa.Table(
    "speakers", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.String, nullable=False),
    sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="SET NULL")),
    sa.Column("interviewer", sa.Boolean, nullable=False, server_default="0"),
    sa.UniqueConstraint("transcript_id", "label"),
)
turns = sa.Table(
    "turns", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("speaker_id", sa.ForeignKey("speakers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
    sa.Column("t_start", sa.Float), sa.Column("t_end", sa.Float), sa.Column("line", sa.Integer),
)
segments = sa.Table(
    "segments", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
    # indexed: deleting a transcript's turns cascades here, and SQLite scans the whole table per turn
    # without it (a re-sync of 10 transcripts in a 1M-word project: 27 s; revision 0006_segment_turn_index)
    sa.Column("turn_id", sa.ForeignKey("turns.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
    sa.Column("text_sha256", sa.String(64), nullable=False, index=True),
)
# Time beside text (revision 0007_media_anchors): every time the source gave, as REFI-QDA keeps SyncPoints.
# A line, segment, coding or quote takes its time from the nearest anchor at or before its start.
sync_points = sa.Table(
    "sync_points", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),  # code point offset into transcripts.text
    sa.Column("t_start", sa.Float, nullable=False),  # seconds from the recording's start
    sa.Column("t_end", sa.Float),  # the cue's end where the source says it
)
# A recording attached to a transcript: the file lives in the project's media/ folder.
media = sa.Table(
    "media", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False, unique=True),
    sa.Column("file", sa.String, nullable=False),  # its name inside media/
    sa.Column("format", sa.String, nullable=False),  # analysis.media.formats MEDIA_FORMATS name
    sa.Column("kind", sa.String, nullable=False),  # audio | video
    sa.Column("duration", sa.Float),
    sa.Column("codec", sa.String, nullable=False, server_default=""),
    sa.Column("channels", sa.Integer),
    sa.Column("sample_rate", sa.Integer),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("attached_at", sa.String, nullable=False),
)
embeddings = sa.Table(
    "embeddings", metadata,
    sa.Column("model_id", sa.String, primary_key=True),
    sa.Column("text_sha256", sa.String(64), primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)
codes = sa.Table(
    "codes", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("parent_id", sa.ForeignKey("codes.id"), index=True),
    sa.Column("name", sa.String, nullable=False),
    # The name case-folded (NFC): sibling names are unique on (parent, name_key), see the index below.
    sa.Column("name_key", sa.String, nullable=False, default=_key_of("name")),
    sa.Column("kind", sa.String, nullable=False, server_default="code"),
    *(sa.Column(c, sa.Text, nullable=False, server_default="") for c in (
        "definition", "inclusion", "exclusion", "example", "colour", "central_concept")),
    sa.Column("status", sa.String, nullable=False, server_default="initial code"),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.String, nullable=False),
)
codings = sa.Table(
    "codings", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
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
    # One coder applies a code to a span once; a second coder may apply it too (issue 14: agreement).
    sa.UniqueConstraint("code_id", "transcript_id", "start", "end", "coder", name="uq_codings_span_coder"),
)
memos = sa.Table(
    "memos", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("target_id", sa.Integer),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("phase", sa.String, nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
)
audit = sa.Table(
    "audit", metadata, sa.Column("id", sa.Integer, primary_key=True),
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
    # Version of the JSON in ``changes`` (1: the first release's row images; 2: images plus the
    # barrier/redo rules of the typed audit trail). Readers upgrade older formats on the fly.
    sa.Column("format", sa.Integer, nullable=False, server_default="1"),
)
snapshots = sa.Table(
    "snapshots", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("label", sa.String, nullable=False, unique=True),
    sa.Column("phase", sa.String, nullable=False, server_default=""),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("codebook", sa.Text, nullable=False),
)
vignettes = sa.Table(
    "vignettes", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="SET NULL")),
    sa.Column("code_id", sa.ForeignKey("codes.id", ondelete="SET NULL")),
    sa.Column("status", sa.String, nullable=False, server_default="draft"),
    sa.Column("items", sa.Text, nullable=False, server_default="[]"),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
)
suggestion_decisions = sa.Table(
    "suggestion_decisions", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code_id", sa.ForeignKey("codes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("transcript_id", sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
    sa.Column("decision", sa.String, nullable=False),
    sa.Column("who", sa.String, nullable=False),
    sa.Column("at", sa.String, nullable=False),
)
allow_list = sa.Table(
    "allow_list", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("term", sa.String, nullable=False, unique=True),
    sa.Column("label", sa.String, nullable=False, server_default=""),
    sa.Column("accepted_by", sa.String, nullable=False),
    sa.Column("at", sa.String, nullable=False),
)

# Sibling code names are unique in the database, not only in Python (a NULL parent counts as 0).
sa.Index("uq_codes_sibling_name", sa.func.coalesce(codes.c.parent_id, 0), codes.c.name_key, unique=True)
sa.Index("uq_participants_pseudonym_key", participants.c.pseudonym_key, unique=True)

audit_targets = sa.Table(
    "audit_targets", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("audit_id", sa.ForeignKey("audit.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("entity", sa.String, nullable=False),  # code | coding | transcript | participant | memo | vignette ...
    sa.Column("guid", sa.String, nullable=False),
    sa.Column("role", sa.String, nullable=False, server_default="subject"),  # subject | source | target
    sa.Index("ix_audit_targets_entity_guid", "entity", "guid"),
)

# -- cases and the case x condition matrix (issue 12) ---------------------------------------------------
# A case (REFI-QDA's <Case>) is what a cross-case comparison compares: a participant, a programme, an
# organisation, an event... Its descriptive attributes reuse ``variables`` (as participant attributes do,
# and as REFI-QDA's <VariableValue> does for cases and sources alike). Conditions are modelled apart from
# attributes: a condition is a set (a column of the matrix) whose cells are the researcher's judgements,
# each with evidence (codings) and a note; an attribute is a free-text description.
cases = sa.Table(
    "cases", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("name_key", sa.String, nullable=False, default=_key_of("name")),  # unique, see below
    sa.Column("kind", sa.String, nullable=False, server_default="case"),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.String, nullable=False),
)
case_attributes = sa.Table(
    "case_attributes", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("variable_id", sa.ForeignKey("variables.id", ondelete="CASCADE"), nullable=False),
    sa.Column("value", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("case_id", "variable_id"),
)
case_participants = sa.Table(
    "case_participants", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("participant_id", sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    sa.UniqueConstraint("case_id", "participant_id"),
)
case_evidence = sa.Table(  # coded passages linked to a case (REFI-QDA: the case's coded selections)
    "case_evidence", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("coding_id", sa.ForeignKey("codings.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("linked_by", sa.String, nullable=False),
    sa.Column("linked_at", sa.String, nullable=False),
    sa.UniqueConstraint("case_id", "coding_id"),
)
conditions = sa.Table(
    "conditions", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("name_key", sa.String, nullable=False, default=_key_of("name")),  # unique, see below
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    # Passages coded with this code and linked to a case are offered as evidence (and suggest a value).
    sa.Column("code_id", sa.ForeignKey("codes.id", ondelete="SET NULL")),
    sa.Column("is_outcome", sa.Boolean, nullable=False, server_default="0"),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.String, nullable=False),
)
case_values = sa.Table(  # one judged (or annotated) cell of the matrix; no row = not yet judged
    "case_values", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("condition_id", sa.ForeignKey("conditions.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("value", sa.Float),  # 1 present, 0 absent, (0, 1) partial (fuzzy); NULL: evidence but no judgement
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("origin", sa.String, nullable=False, server_default="researcher"),  # researcher | suggestion | import
    sa.Column("judged_by", sa.String, nullable=False),
    sa.Column("judged_at", sa.String, nullable=False),
    sa.UniqueConstraint("case_id", "condition_id"),
)
case_value_evidence = sa.Table(
    "case_value_evidence", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value_id", sa.ForeignKey("case_values.id", ondelete="CASCADE"), nullable=False),
    sa.Column("coding_id", sa.ForeignKey("codings.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.UniqueConstraint("value_id", "coding_id"),
)
sa.Index("uq_cases_name_key", cases.c.name_key, unique=True)
sa.Index("uq_conditions_name_key", conditions.c.name_key, unique=True)

# -- narrative inquiry: events in story time, and the findings chapter (issue 16) -----------------------
# An event (REFI-QDA: exported as a code of an "Events" group) has a "when" in the story's time, not the
# interview's clock: ``when_kind`` is date | month | year (``when_value`` ISO: 2019-03-14, 2019-03, 2019),
# period (``period_id``: a named period the researcher orders once), before | after (``relative_to``:
# another event), or unknown. ``sort_key`` is the ISO value of a dated event ('' otherwise): the total
# order is computed when read (analysis/domain/narrative.py), since moving a period re-places its events.
# A passage linked to an event as evidence may carry the participant's own placement (the same columns,
# ``when_kind`` '' = as the event), so a disagreement between participants is kept, not averaged.
# Chapters are modelled apart from vignettes: a chapter (title, introduction) holds ordered sections,
# each a heading and a list of vignette items (the same JSON as ``vignettes.items``), copied from a
# vignette when a section starts from one (``vignette_id`` remembers which).
periods = sa.Table(
    "periods", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("name_key", sa.String, nullable=False, default=_key_of("name")),  # unique, see below
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("anchor", sa.String, nullable=False, server_default=""),  # '' or an ISO date, month or year
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.String, nullable=False),
)
events = sa.Table(
    "events", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("name_key", sa.String, nullable=False, default=_key_of("name")),  # unique, see below
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("when_kind", sa.String, nullable=False, server_default="unknown"),
    sa.Column("when_value", sa.String, nullable=False, server_default=""),
    sa.Column("period_id", sa.ForeignKey("periods.id")),
    sa.Column("relative_to", sa.ForeignKey("events.id")),
    sa.Column("sort_key", sa.String, nullable=False, server_default=""),
    sa.Column("created_at", sa.String, nullable=False),
)
event_evidence = sa.Table(
    "event_evidence", metadata, sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("coding_id", sa.ForeignKey("codings.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("when_kind", sa.String, nullable=False, server_default=""),  # '': the participant agrees with the event's
    sa.Column("when_value", sa.String, nullable=False, server_default=""),
    sa.Column("period_id", sa.ForeignKey("periods.id")),
    sa.Column("relative_to", sa.ForeignKey("events.id")),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("linked_by", sa.String, nullable=False),
    sa.Column("linked_at", sa.String, nullable=False),
    sa.UniqueConstraint("event_id", "coding_id"),
)
chapters = sa.Table(
    "chapters", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("introduction", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
)
chapter_sections = sa.Table(
    "chapter_sections", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("chapter_id", sa.ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("heading", sa.Text, nullable=False),
    sa.Column("items", sa.Text, nullable=False, server_default="[]"),
    sa.Column("vignette_id", sa.ForeignKey("vignettes.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.String, nullable=False),
    sa.Column("updated_at", sa.String, nullable=False),
)
sa.Index("uq_periods_name_key", periods.c.name_key, unique=True)
sa.Index("uq_events_name_key", events.c.name_key, unique=True)

# -- researchers and their roles (issue 14: a team project) ---------------------------------------------
# The researchers registered as members of the project, each with a role: lead (may also merge, split and
# delete codes and delete transcripts), coder (codes, writes memos...), reader (reads, changes nothing).
# A project with no researcher registered has no roles: everyone may do everything (a single researcher).
# Accountability inside a trusted team, not security: access itself is the database server's business.
researchers = sa.Table(
    "researchers", metadata, sa.Column("id", sa.Integer, primary_key=True), _guid(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("name_key", sa.String, nullable=False, default=_key_of("name")),  # unique, see below
    sa.Column("role", sa.String, nullable=False, server_default="coder"),
    sa.Column("added_by", sa.String, nullable=False, server_default=""),
    sa.Column("created_at", sa.String, nullable=False),
)
sa.Index("uq_researchers_name_key", researchers.c.name_key, unique=True)
