"""The audit trail's vocabulary: a closed set of action kinds, each with what it is about and its payload.

Every researcher action and every recorded use of the tool has one of these kinds; the action runner
refuses any other (a typo in a new service fails its first test, not the methods report a year later).
``entity`` is what the action is mainly about (its ``audit_targets`` rows name the exact GUIDs);
``payload`` lists the fields its ``after`` carries, for readers such as the methods report.
Add a kind here when you add a new kind of action.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.errors import Errors, StoryloomError


@dataclass(frozen=True)
class Kind:
    name: str
    entity: str
    label: str
    payload: tuple[str, ...] = ()
    data: bool = True  # False: a use of the tool (search, export) that changes no research data


_KINDS: tuple[Kind, ...] = (
    # transcripts, participants, speakers
    Kind("transcript.import", "transcript", "imported a transcript", ("warnings", "unmapped")),
    Kind("transcript.update", "transcript", "re-imported a changed transcript", ("warnings", "unmapped", "reanchored", "orphaned")),
    Kind("participants.sync", "participant", "applied participants.csv", ("applied", "conflicts")),
    Kind("participant.add", "participant", "added a participant", ("pseudonym", "attributes")),
    Kind("participant.attributes", "participant", "edited a participant's attributes"),
    Kind("speaker.map", "transcript", "mapped a speaker"),
    Kind("transcript.correct", "transcript", "corrected a transcript while listening", ("line", "before", "after")),
    # recordings
    Kind("media.attach", "transcript", "attached a recording", ("file", "duration", "codec")),
    Kind("media.detach", "transcript", "detached a recording", ("file",)),
    Kind("transcript.transcribe", "transcript", "transcribed a recording locally",
         ("recording", "model", "beam", "language", "duration", "words", "unsure", "speakers"), data=False),
    Kind("transcript.unsure_review", "transcript", "accepted a word the recogniser was unsure of",
         ("decision", "text", "start"), data=False),
    # codebook
    Kind("code.create", "code", "created a code", ("name", "parent_id", "kind")),
    Kind("code.edit", "code", "edited a code"),
    Kind("code.rename", "code", "renamed a code", ("name",)),
    Kind("code.move", "code", "moved a code", ("parent",)),
    Kind("code.reorder", "code", "reordered a code"),
    Kind("code.merge", "code", "merged codes", ("target", "moved", "collapsed")),
    Kind("code.split", "code", "split a code", ("new", "from", "codings")),
    Kind("code.delete", "code", "deleted a code", ("codings_to", "discarded")),
    Kind("codebook.import", "code", "imported a codebook"),
    Kind("codebook.snapshot", "snapshot", "took a codebook snapshot"),
    Kind("codebook.export", "code", "exported the codebook", ("path",), data=False),
    # codings
    Kind("coding.add", "coding", "coded a passage", ("code", "transcript", "start", "end", "quote", "origin")),
    Kind("coding.accept_suggestion", "coding", "accepted a machine suggestion", ("code", "transcript", "start", "end")),
    Kind("coding.remove", "coding", "removed a coding"),
    Kind("coding.memo", "coding", "wrote a coding memo"),
    Kind("codings.import", "coding", "imported codings"),
    Kind("codings.export", "coding", "exported codings", ("path",), data=False),
    # memos and journal
    Kind("memo.add", "memo", "wrote a memo"),
    Kind("memo.edit", "memo", "edited a memo"),
    Kind("memo.delete", "memo", "deleted a memo"),
    # vignettes and disclosure
    Kind("vignette.create", "vignette", "created a vignette"),
    Kind("vignette.draft", "vignette", "drafted a vignette from central quotes"),
    Kind("vignette.edit", "vignette", "edited a vignette"),
    Kind("vignette.quote.add", "vignette", "added a quote to a vignette"),
    Kind("vignette.narrative.add", "vignette", "added narrative to a vignette"),
    Kind("vignette.item.edit", "vignette", "edited a vignette item"),
    Kind("vignette.item.remove", "vignette", "removed a vignette item"),
    Kind("vignette.reorder", "vignette", "reordered a vignette"),
    Kind("vignette.join", "vignette", "joined a quote to the one before it, or gave it its own paragraph"),
    Kind("vignette.delete", "vignette", "deleted a vignette"),
    Kind("disclosure.accept", "vignette", "accepted a term as safe to disclose"),
    Kind("disclosure.remove", "vignette", "removed a term from the disclosure allow-list"),
    # the machine's assistance (recorded uses; accepting is a coding action)
    Kind("suggestion.reject", "coding", "rejected a machine suggestion"),
    Kind("pattern.dismiss", "code", "dismissed an uncoded pattern"),
    Kind("pattern.make_code", "code", "made a code from an uncoded pattern"),
    Kind("assist.search", "segment", "searched the transcripts", ("mode", "query"), data=False),
    Kind("assist.suggest", "coding", "asked for suggestions", data=False),
    Kind("assist.patterns", "segment", "reviewed uncoded patterns", data=False),
    Kind("assist.check", "code", "ran the consistency checks", data=False),
    # cases and the case x condition matrix
    Kind("case.add", "case", "added a case", ("name", "kind", "attributes")),
    Kind("case.edit", "case", "edited a case", ("name", "kind", "description", "attributes")),
    Kind("case.remove", "case", "removed a case"),
    Kind("case.link", "case", "linked a case to a participant or a coded passage", ("participant", "coding")),
    Kind("case.unlink", "case", "unlinked a participant or a coded passage from a case", ("participant", "coding")),
    Kind("case.from_participants", "case", "made a case of each participant", ("cases",)),
    Kind("case.condition.add", "condition", "added a condition", ("name", "code", "outcome")),
    Kind("case.condition.edit", "condition", "edited a condition", ("name", "code", "outcome")),
    Kind("case.condition.remove", "condition", "removed a condition"),
    Kind("case.cell.set", "case", "judged a cell of the case x condition matrix", ("case", "condition", "value", "origin")),
    Kind("case.cell.evidence", "case", "attached or detached evidence of a matrix cell", ("case", "condition", "coding")),
    Kind("case.cell.clear", "case", "cleared a cell of the case x condition matrix", ("case", "condition")),
    Kind("case.matrix.import", "case", "imported a case x condition matrix", ("path", "cases", "conditions", "cells")),
    Kind("case.matrix.export", "case", "exported the case x condition matrix", ("path", "format"), data=False),
    # narrative inquiry: events in story time, periods, the findings chapter (services/story.py, services/chapters.py)
    Kind("event.add", "event", "marked an event in story time", ("name", "when", "description", "new_period")),
    Kind("event.edit", "event", "edited an event", ("name", "when", "description")),
    Kind("event.remove", "event", "removed an event", ("name", "evidence")),
    Kind("event.link", "event", "linked a coded passage to an event", ("event", "coding", "when")),
    Kind("event.unlink", "event", "unlinked a coded passage from an event", ("event", "coding")),
    Kind("event.period.add", "period", "added a period of the story", ("name", "position", "anchor")),
    Kind("event.period.edit", "period", "edited or moved a period of the story", ("name", "position", "anchor")),
    Kind("event.period.remove", "period", "removed a period of the story", ("name",)),
    Kind("chapter.create", "chapter", "created a findings chapter", ("title",)),
    Kind("chapter.edit", "chapter", "edited a findings chapter", ("title", "introduction")),
    Kind("chapter.delete", "chapter", "deleted a findings chapter", ("title", "sections")),
    Kind("chapter.section.add", "chapter", "added a section to a chapter", ("heading", "vignette", "items")),
    Kind("chapter.section.edit", "chapter", "edited a section of a chapter", ("heading", "items")),
    Kind("chapter.section.move", "chapter", "moved a section of a chapter", ("from", "to")),
    Kind("chapter.section.remove", "chapter", "removed a section from a chapter", ("heading",)),
    Kind("chapter.export", "chapter", "exported a findings chapter", ("path", "format"), data=False),
    Kind("timeline.export", "event", "exported the timeline of events", ("path", "format"), data=False),
    Kind("event.file.import", "event", "imported events, periods and chapters from a story file",
         ("path", "periods", "events", "links", "chapters", "sections")),
    Kind("case.file.import", "case", "imported cases, conditions and judged cells from a cases file",
         ("path", "cases", "conditions", "cells", "evidence")),
    # exports (uses of the tool: in the methods report, not undoable)
    Kind("vignette.export", "vignette", "exported a vignette", ("path", "format"), data=False),
    Kind("quotes.export", "coding", "exported the quote table", ("path", "format"), data=False),
    Kind("memos.export", "memo", "exported memos", ("path", "format"), data=False),
    Kind("methods.export", "project", "exported the methods report", ("path", "format"), data=False),
    # REFI-QDA interchange (services/interchange.py)
    Kind("refi.import", "project", "imported a REFI-QDA project or codebook", ("file", "origin", "sources", "added", "changed", "unchanged")),
    Kind("refi.export", "project", "exported a REFI-QDA project or codebook", ("path", "format"), data=False),
    # inter-coder agreement (issue 14: services/agreement.py): a use of the tool
    Kind("agreement.compare", "transcript", "compared coders (inter-coder agreement)", ("unit", "coders", "codes", "overall"), data=False),
    # researchers, reconciling coders, merging projects (issue 14: services/researchers.py, agreement.py, merge.py)
    Kind("researcher.add", "researcher", "added a researcher to the team", ("name", "role")),
    Kind("researcher.role", "researcher", "changed a researcher's role", ("name", "role")),
    Kind("coding.reconcile", "coding", "reconciled two coders' codings", ("code", "transcript", "accepted", "passage", "into")),
    Kind("project.merge", "project", "merged another copy of the project", ("other", "matched", "added", "conflicts")),
    # undo itself
    Kind("undo", "project", "undid an action", ("event",)),
    Kind("redo", "project", "redid an action", ("event",)),
)

KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}


class UnknownActionKind(StoryloomError):
    """A programming error: an action kind not declared in :mod:`analysis.domain.audit`."""

    code = "SL900"


def check_kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise UnknownActionKind(Errors.E9002, kind=name)
    return kind
