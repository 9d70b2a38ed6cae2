"""Exploration DataFrames: codings joined with participants and attributes, matrices, co-occurrence."""

from __future__ import annotations

import pytest

TRANSCRIPTS = {
    "a.txt": "Interviewer: How was it?\n\nAna: The approval took months. Learners were afraid of failing.\n",
    "b.txt": "Q: And you?\n\nBen: Approval was slow [laughs]. Employers walked away.\n",
    "participants.csv": "pseudonym,transcript,speaker,group,period\n"
                        "Leader A,a.txt,Ana,leader,pre-pandemic\nAcademic A,b.txt,Ben,academic,during pandemic\n",
}


@pytest.fixture
def project(make_project):
    p = make_project(transcripts=TRANSCRIPTS)
    p.codebook.add_code("Systems", kind="theme")
    p.codebook.add_code("Approval burden", parent="Systems")
    p.codebook.add_code("Learners", kind="theme")
    p.codebook.add_code("Fear of failure", parent="Learners")

    def code(name, transcript, phrase):
        text = p.transcripts.get(transcript).text
        i = text.index(phrase)
        p.codings.add_coding(transcript=transcript, start=i, end=i + len(phrase), code=name)

    code("Approval burden", "a.txt", "The approval took months.")
    code("Fear of failure", "a.txt", "approval took months. Learners were afraid")  # overlaps the first
    code("Approval burden", "b.txt", "Approval was slow")
    return p


def test_codings_frame_joins_participant_attributes_and_paths(project):
    df = project.explore.codings_frame()
    assert list(df["participant"]) == ["Leader A", "Leader A", "Academic A"]
    assert set(df["code_path"]) == {"Systems > Approval burden", "Learners > Fear of failure"}
    assert list(df["group"]) == ["leader", "leader", "academic"]
    assert df.loc[df["transcript"] == "b.txt", "text"].item() == "Approval was slow"
    assert len(project.explore.codings_frame(code="Systems")) == 2  # a theme includes its descendants
    assert len(project.explore.codings_frame(participant="Academic A")) == 1
    assert len(project.explore.codings_frame(attributes={"period": "pre-pandemic"})) == 2


def test_theme_matrix_counts_and_presence(project):
    m = project.explore.theme_matrix()
    assert m.loc["Systems", "Leader A"] == 1 and m.loc["Systems", "Academic A"] == 1
    assert m.loc["Learners", "Academic A"] == 0
    p = project.explore.theme_matrix(presence=True, attributes={"group": "leader"})
    assert list(p.columns) == ["Leader A"] and p.loc["Learners", "Leader A"] == 1
    codes = project.explore.theme_matrix(level="code")
    assert "Learners > Fear of failure" in codes.index


def test_cooccurrence_overlap_and_same_turn(project):
    overlap = project.explore.cooccurrence(kind="overlap")
    assert overlap.loc["Systems > Approval burden", "Learners > Fear of failure"] == 1
    assert overlap.loc["Systems > Approval burden", "Systems > Approval burden"] == 2
    turn = project.explore.cooccurrence(kind="turn", level="theme")
    assert turn.loc["Systems", "Learners"] == 1


@pytest.mark.slow
def test_sample_study_dataframes(sample_project):
    df = sample_project.explore.codings_frame()
    if len(df) == 0:  # the sample codebook not yet shipped: code one passage to exercise the joins
        sample_project.codebook.add_code("Probe")
        text = sample_project.transcripts.get("academic_a.txt").text
        i = text.index("ākonga")
        sample_project.codings.add_coding(transcript="academic_a.txt", start=i, end=i + 6, code="Probe")
        df = sample_project.explore.codings_frame()
    assert df["participant"].notna().all()
    assert {"stakeholder_group", "unit", "period", "timestamp"} <= set(df.columns)
    matrix = sample_project.explore.theme_matrix()
    assert len(matrix.columns) == 7
