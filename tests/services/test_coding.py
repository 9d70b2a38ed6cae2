"""Codings on spans, bad input, snapping, and re-anchoring after a transcript is corrected."""

from __future__ import annotations

import pytest

from analysis.domain.coding import locate
from analysis.errors import ConflictError, InvalidSpanError, NotFoundError


@pytest.fixture
def project(make_project, interview_text):
    p = make_project(transcripts={"leader_a.txt": interview_text})
    p.codebook.add_code("Fear of failure")
    p.codebook.add_code("Approval burden")
    return p


def span(project, phrase):
    text = project.transcripts.get("leader_a.txt").text
    i = text.index(phrase)
    return i, i + len(phrase)


def test_any_span_overlaps_and_nesting_allowed(project):
    outer = span(project, "The ākonga were afraid of failing 😬 again")
    inner = span(project, "afraid of failing 😬")
    c1 = project.codings.add_coding(transcript="leader_a.txt", start=outer[0], end=outer[1], code="Fear of failure")
    c2 = project.codings.add_coding(transcript="leader_a.txt", start=inner[0], end=inner[1], code="Approval burden",
                            coder="Second Coder", memo="double-coded on purpose")
    assert c1.text == "The ākonga were afraid of failing 😬 again"
    assert c2.coder == "Second Coder" and c2.memo == "double-coded on purpose"
    assert len(project.codings.codings_in("leader_a.txt")) == 2


@pytest.mark.parametrize("start,end", [(-1, 5), (5, 5), (9, 3), (0, 10**6)])
def test_bad_spans_are_refused_and_change_nothing(project, start, end):
    before = project.version()
    with pytest.raises(InvalidSpanError, match="leader_a.txt"):
        project.codings.add_coding(transcript="leader_a.txt", start=start, end=end, code="Fear of failure")
    assert project.version() == before and project.status()["codings"] == 0


def test_unknown_code_transcript_and_duplicates(project):
    s, e = span(project, "nobody wanted it")
    with pytest.raises(NotFoundError, match="No code named 'Nope'"):
        project.codings.add_coding(transcript="leader_a.txt", start=s, end=e, code="Nope")
    with pytest.raises(NotFoundError, match="No transcript named"):
        project.codings.add_coding(transcript="missing.txt", start=s, end=e, code="Fear of failure")
    project.codings.add_coding(transcript="leader_a.txt", start=s, end=e, code="Fear of failure")
    with pytest.raises(ConflictError, match="already applied"):
        project.codings.add_coding(transcript="leader_a.txt", start=s, end=e, code="Fear of failure")
    assert project.status()["codings"] == 1


def test_uncode_and_undo(project):
    s, e = span(project, "nobody wanted it")
    c = project.codings.add_coding(transcript="leader_a.txt", start=s, end=e, code="Fear of failure")
    project.codings.remove_coding(c.id)
    assert project.status()["codings"] == 0
    project.undo()
    assert project.codings.get(c.id).text == "nobody wanted it"


def test_snap_to_words_and_sentences(project):
    s, e = span(project, "obody wanted i")
    assert project.codings.snap_span("leader_a.txt", s, e) == span(project, "nobody wanted it")
    text = project.transcripts.get("leader_a.txt").text
    a, b = project.codings.snap_span("leader_a.txt", s, e, to="sentence")
    assert text[a:b] == "We built an assessment-only credential and nobody wanted it."


def test_reanchoring_typo_insertion_and_orphan(make_project, interview_text, tmp_path):
    p = make_project("re", transcripts={"leader_a.txt": interview_text})
    p.codebook.add_code("Fear")
    for phrase in ("afraid of failing", "trained staff in-house", "fourteen months"):
        s, e = span(p, phrase)
        p.codings.add_coding(transcript="leader_a.txt", start=s, end=e, code="Fear")
    corrected = ("Interviewer: Welcome. A new opening paragraph was added here.\n\n" + interview_text)
    corrected = corrected.replace("trained staff in-house", "trained staf in-house")  # a typo introduced
    corrected = corrected.replace("The approval took fourteen months. ", "")  # the coded text deleted
    (tmp_path / "re" / "transcripts" / "leader_a.txt").write_text(corrected, encoding="utf-8")
    report = p.sync()
    assert report["updated"] == ["leader_a.txt"]
    assert report["orphaned"] == 1 and report["reanchored"] == 2
    text = p.transcripts.get("leader_a.txt").text
    placed = {c.text for c in p.codings.codings_in("leader_a.txt") if not c.orphaned}
    assert placed == {"afraid of failing", "trained staf in-house"}
    for c in p.codings.codings_in("leader_a.txt"):
        if not c.orphaned:
            assert text[c.start:c.end] == c.text
    orphans = p.codings.orphans()
    assert [o.text for o in orphans] == ["fourteen months"]  # kept, never dropped
    assert p.status()["codings"] == 3


def test_locate_prefers_the_occurrence_with_matching_context():
    text = "we said yes. Later we said yes again, loudly."
    first = locate("we said yes", "", ". Later", text, 0)
    assert first == (0, 11)
    second = locate("we said yes", "Later ", " again", text, 0)
    assert second == (19, 30)


def test_new_code_and_coding_in_one_action(project):
    s, e = span(project, "nobody wanted it")
    coding = project.codings.add_coding_with_new_code(transcript="leader_a.txt", start=s, end=e, name="Unwanted offer",
                                              definition="Nobody asked for it")
    assert project.codebook.get_code(coding.code_id).definition == "Nobody asked for it"
    event = project.audit_trail()[-1]
    assert event.action == "coding.add" and "new code 'Unwanted offer'" in event.summary
    assert [e.id for e in project.codebook.history("Unwanted offer")] == [event.id]  # its creation is its history
    project.undo()  # one step removes both
    assert project.status()["codings"] == 0 and "Unwanted offer" not in [c.name for c in project.codebook.codes()]
    with pytest.raises(InvalidSpanError):
        project.codings.add_coding_with_new_code(transcript="leader_a.txt", start=e, end=s, name="Never made")
    assert "Never made" not in [c.name for c in project.codebook.codes()]
