"""The disclosure check: real spaCy NER over what would be exported, the allow-list, k-anonymity."""

from __future__ import annotations

import pytest

from analysis.domain.disclosure import UNIQUE_ATTRIBUTES, is_allowed, normalise_term
from analysis.errors import ExportError, NotFoundError

PARTICIPANTS = ("pseudonym,transcript,speaker,interviewer,stakeholder_group,unit\n"
                "Leader A,leader_a.txt,Leader A,Interviewer,leader,Executive\n"
                "Leader B,leader_b.txt,Leader B,Interviewer,leader,Executive\n"
                "Manager A,manager_a.txt,Manager A,Interviewer,manager,Trades\n")
LEADER_A = ("Interviewer: Who helped?\n\nLeader A: I talked it through with Tania Whitcombe, our programme lead, "
            "and then with Hemi Walker from Acme Polytechnic in Palmerston North. Kia ora to them both.\n")
LEADER_B = "Interviewer: And you?\n\nLeader B: The approval took fourteen months.\n"
MANAGER_A = "Interviewer: And you?\n\nManager A: We ran it twice and then it stopped.\n"
QUOTE = "I talked it through with Tania Whitcombe, our programme lead"


@pytest.fixture
def project(make_project):
    p = make_project(transcripts={"leader_a.txt": LEADER_A, "leader_b.txt": LEADER_B, "manager_a.txt": MANAGER_A,
                                  "participants.csv": PARTICIPANTS})
    p.codebook.add_code("Helpers", kind="theme")
    return p


def quote_vignette(p, phrase: str = QUOTE, transcript: str = "leader_a.txt", title: str = "Leader A") -> int:
    text = p.transcripts.get(transcript).text
    start = text.index(phrase)
    v = p.vignettes.create(title, participant="Leader A", theme="Helpers")
    v = p.vignettes.add_narrative(v.id, "Leader A leaned on colleagues in the Helpers theme.")
    return p.vignettes.add_quote(v.id, transcript=transcript, start=start, end=start + len(phrase)).id


def texts(flags) -> set[tuple[str, str]]:
    return {(f.text, f.label) for f in flags}


def test_planted_name_is_flagged_and_pseudonyms_and_code_names_are_not(project):
    vid = quote_vignette(project)
    flags = project.disclosure.check(vid)
    assert texts(flags) == {("Tania Whitcombe", "PERSON")}
    [flag] = flags
    assert flag.quote == '"I talked it through with …"' and flag.item == 1 and flag.detail == ""


def test_every_kind_of_entity_and_the_allow_list(project):
    phrase = ("I talked it through with Tania Whitcombe, our programme lead, and then with Hemi Walker from Acme "
              "Polytechnic in Palmerston North. Kia ora to them both.")
    vid = quote_vignette(project, phrase)
    found = texts(project.disclosure.check(vid))
    assert {("Tania Whitcombe", "PERSON"), ("Hemi Walker", "PERSON"), ("Acme Polytechnic", "ORG"),
            ("Palmerston North", "GPE")} <= found
    project.disclosure.accept_term("palmerston north", label="GPE", note="the region is named in the paper")
    if ("Kia", "ORG") in found:  # te reo Māori the small model reads as a name
        project.disclosure.accept_term("Kia ora", label="ORG")
    found = texts(project.disclosure.check(vid))
    assert ("Palmerston North", "GPE") not in found and ("Kia", "ORG") not in found
    assert ("Tania Whitcombe", "PERSON") in found
    event = project.audit_trail(action="disclosure.accept")[0]
    assert event.summary == "Accepted 'palmerston north' (GPE) as not identifying"
    assert event.note == "the region is named in the paper"
    assert [t.term for t in project.disclosure.allow_list()][-1] in {"palmerston north", "Kia ora"}
    # Accepting again (any case) records nothing new; undo takes the acceptance back.
    n = len(project.audit_trail())
    project.disclosure.accept_term("Palmerston  NORTH")
    assert len(project.audit_trail()) == n
    project.disclosure.remove_term("PALMERSTON NORTH")
    assert ("Palmerston North", "GPE") in texts(project.disclosure.check(vid))
    with pytest.raises(NotFoundError, match="not on the allow-list"):
        project.disclosure.remove_term("Nowhere")
    project.undo()
    assert ("Palmerston North", "GPE") not in texts(project.disclosure.check(vid))
    while project.disclosure.allow_list():
        project.undo()
    assert ("Palmerston North", "GPE") in texts(project.disclosure.check(vid))


def test_a_bracketed_substitution_resolves_a_flag_and_export_waits_for_it(project):
    vid = quote_vignette(project)
    with pytest.raises(ExportError, match=r"may identify someone: 'Tania Whitcombe' \(a person's name, in \"I talked"):
        project.exports.render_vignette(vid, format="md")
    assert project.exports.render_vignette(vid, format="md", disclosure=False)  # the researcher's explicit override
    project.vignettes.edit_item(vid, 1, "I talked it through with [a colleague], our programme lead")
    assert project.disclosure.check(vid) == []
    assert "[a colleague]" in project.exports.render_vignette(vid, format="md").decode()


def test_unique_attribute_combinations_are_flagged_when_printed(project):
    vid = quote_vignette(project)
    project.vignettes.edit_item(vid, 1, "I talked it through with [a colleague], our programme lead")
    text = project.transcripts.get("manager_a.txt").text
    start = text.index("We ran it twice")
    project.vignettes.add_quote(vid, transcript="manager_a.txt", start=start, end=start + len("We ran it twice"))
    assert project.disclosure.check(vid) == []
    # Leader A shares 'leader, Executive' with Leader B; Manager A alone is 'manager, Trades'.
    flags = project.disclosure.check(vid, attributes=("stakeholder_group", "unit"))
    assert [(f.text, f.label) for f in flags] == [("manager, Trades", UNIQUE_ATTRIBUTES)]
    assert "only Manager A has manager, Trades" in flags[0].detail
    with pytest.raises(ExportError, match="attributes only one participant has"):
        project.exports.render_vignette(vid, format="md", attributes=("stakeholder_group", "unit"))
    project.disclosure.accept_term("manager, Trades", label=UNIQUE_ATTRIBUTES)
    out = project.exports.render_vignette(vid, format="md", attributes=("stakeholder_group", "unit")).decode()
    assert "(Manager A, manager, Trades)" in out and "(Leader A, leader, Executive)" in out


def test_placeholders_and_lowercase_words_are_not_flagged(project):
    vid = quote_vignette(project)
    project.vignettes.edit_item(vid, 1, "I talked it through with [a colleague], our programme lead")
    project.vignettes.add_narrative(vid, "[Narrative: what do these quotes show about 'Helpers' for Leader A? Draft.]")
    project.vignettes.add_narrative(vid, "the ako and the whanaungatanga mattered")
    assert project.disclosure.check(vid) == []


def test_term_matching_is_case_and_possessive_insensitive():
    allowed = {normalise_term(t) for t in ("Leader A", "Business and Applied Management", "Kia ora")}
    assert is_allowed("LEADER A's", allowed) and is_allowed("the Business and Applied Management", allowed)
    assert is_allowed("Kia", allowed) and is_allowed("Applied Management", allowed)
    assert not is_allowed("Tania Whitcombe", allowed) and not is_allowed("Leader AB", allowed)


@pytest.mark.slow
def test_the_sample_study_planted_colleague_is_flagged(sample_project):
    text = sample_project.transcripts.get("leader_a.docx").text
    start = text.index("We've got a fast-track template")
    end = text.index("bless her.", start) + len("bless her.")
    v = sample_project.vignettes.create("Leader A", participant="Leader A")
    v = sample_project.vignettes.add_quote(v.id, transcript="leader_a.docx", start=start, end=end)
    assert ("Tania Whitcombe", "PERSON") in texts(sample_project.disclosure.check(v.id))
