"""Vignettes: quote integrity (marked edits only), composing with audit and undo, drafting."""

from __future__ import annotations

import re

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import ExportError, NotFoundError, QuoteIntegrityError, ValidationError
from analysis.domain.quotes import ELISION, check_quote, clean_source, mark_hesitations, parse_quote

APP = Path(__file__).resolve().parents[2] / "app.py"
PARTICIPANTS_CSV = ("pseudonym,transcript,speaker,interviewer,stakeholder_group,unit\n"
                    "Leader A,leader_a.txt,Leader A,Interviewer,leader,Executive\n")
SOURCE = ("So I'm, ah, one of the two deputy chief executives here, and I hold the academic portfolio [laughs], "
          "and council loved it. They took fourteen months. It's... it's been slower than I'd hoped.")


def check(edited: str) -> None:
    check_quote(edited, SOURCE, where="Vignette 'Test', quote 1")


# -- quote integrity -------------------------------------------------------------------------------
@pytest.mark.parametrize("edited", [
    "one of the two deputy chief executives here",                  # trimmed at both ends
    "So I'm [...] one of the two deputy chief executives",          # a hesitation removed, marked
    "So I'm […] one of the two",                                    # the typographic elision
    "[The regulator] took fourteen months.",                        # a substitution at the start
    "They took fourteen months [to approve it].",                   # an insertion at the end
    "I hold the academic portfolio [...] [t]hey took fourteen months",  # elision and a case change
    "the academic portfolio, and council loved it",                 # a transcriber's [laughs] dropped
    "the academic portfolio [laughs], and council loved it.",       # ... or kept
    "council  loved\nit",                                           # whitespace differs
    "It's... it's been slower than I'd hoped",                      # the speaker's own '...' kept
    "they took fourteen months",                                    # first letter's case
    "It’s... it’s been slower",                                     # typographic apostrophes
])
def test_marked_edits_are_accepted(edited):
    alignment = check_quote(edited, SOURCE)
    for q0, q1, s0, s1 in alignment.fragments:
        assert 0 <= s0 < s1 <= len(SOURCE) and 0 <= q0 < q1 <= len(edited)


@pytest.mark.parametrize("edited, expected", [
    ("So I'm one of the two deputy", ["the quote has \"So I'm\" but the source has \"So I'm, ah,\"", "Hesitations"]),
    ("one of the two deputy chief executives here and I hold", ['punctuation or capitals differ: the quote has "executives here and I" but the source has "executives here, and I"']),
    ("They took fifteen months.", ['the quote has "fifteen months"', 'the source has "fourteen months. It\'s... …"']),
    ("I hold the academic portfolio ... they took fourteen months", ["write [...]"]),
    ("ief executives here", ["middle of a word"]),
    ("They took fourteen months. So I'm", ["comes earlier in the source"]),
    ("So I'm [the deputy] council loved it", ["stands in for", "at most 5"]),
    ("They took [fourteen months", ["unbalanced '['"]),
    ("[...]", ["no words of the participant"]),
    ("The board took fourteen months", ['before "took fourteen months" the quote has "The board" but the source has "… loved it. They"']),
    ("Nothing like this was said", ['"Nothing like this was said" is not in the source']),
])
def test_unmarked_changes_are_caught_and_explained(edited, expected):
    with pytest.raises(QuoteIntegrityError) as err:
        check(edited)
    message = str(err.value)
    assert re.match(r"\[SL30\d\d\] Vignette 'Test', quote 1: ", message)
    for part in expected:
        assert part in message, message


def test_parse_quote_marks_and_fragments():
    parts = parse_quote("So I'm [...] one of [the] two")
    assert [type(p).__name__ for p in parts] == ["Fragment", "Mark", "Fragment", "Mark", "Fragment"]
    assert [getattr(p, "kind", None) for p in parts] == [None, "elision", None, "insertion", None]


def test_mark_hesitations_makes_a_quote_that_passes():
    tidy = mark_hesitations(clean_source(SOURCE))
    assert tidy.startswith("So I'm [...] one of the two") and ", ah," not in tidy
    check(tidy)
    assert mark_hesitations("Um, it was hard, er") == "It was hard"


WORDS = st.lists(st.text("abcdefghāēīōū", min_size=2, max_size=7), min_size=6, max_size=30, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=WORDS, data=st.data())
def test_property_kept_runs_with_elisions_pass_and_any_unmarked_change_fails(words, data):
    source = " ".join(words)
    n = len(words)
    cuts = sorted(data.draw(st.sets(st.integers(0, n), min_size=2, max_size=6)))
    runs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
    runs = [r for i, r in enumerate(runs) if i == 0 or r[0] > runs[i - 1][1]]  # a gap between runs
    if not runs:
        return
    kept = [" ".join(words[a:b]) for a, b in runs]
    edited = f" {ELISION} ".join(kept)
    check_quote(edited, source)
    # One kept word changed, unmarked: caught. The same change in brackets: accepted.
    run = data.draw(st.sampled_from(runs))
    k = data.draw(st.integers(run[0], run[1] - 1))
    changed = [("zzzz" if i == k else w) for i, w in enumerate(words)]
    bracketed = [("[zzzz]" if i == k else w) for i, w in enumerate(words)]
    with pytest.raises(QuoteIntegrityError):
        check_quote(f" {ELISION} ".join(" ".join(changed[a:b]) for a, b in runs), source)
    if sum(b - a for a, b in runs) > 1:  # (a quote of a single bracketed word has none of the participant's)
        check_quote(f" {ELISION} ".join(" ".join(bracketed[a:b]) for a, b in runs), source)


# -- composing -------------------------------------------------------------------------------------
@pytest.fixture
def project(make_project, interview_text):
    p = make_project(transcripts={"leader_a.txt": interview_text, "participants.csv": PARTICIPANTS_CSV})
    p.codebook.add_code("Barriers", kind="theme")
    p.codebook.add_code("Approval burden", parent="Barriers")
    p.codebook.add_code("Learner fear", parent="Barriers")
    for phrase, code in [("The approval took fourteen months", "Approval burden"),
                         ("By then the employer had trained staff in-house.", "Approval burden"),
                         ("The ākonga were afraid of failing 😬 again after years away.", "Learner fear"),
                         ("Um, it was... it was hard.", "Learner fear")]:
        start, end = span_of(p, phrase)
        p.codings.add_coding(transcript="leader_a.txt", start=start, end=end, code=code)
    return p


def span_of(project, phrase: str, name: str = "leader_a.txt") -> tuple[int, int]:
    text = project.transcripts.get(name).text
    start = text.index(phrase)
    return start, start + len(phrase)


def coding_id(project, phrase: str) -> int:
    df = project.explore.codings_frame()
    return int(df[df["text"] == phrase]["coding_id"].iloc[0])


def test_compose_reorder_edit_remove_each_one_audited_and_undoable(project):
    v = project.vignettes.create("Leader A", participant="Leader A", note="first story")
    assert (v.status, v.participant, v.items) == ("edited", "Leader A", ())
    v = project.vignettes.add_quote(v.id, coding=coding_id(project, "The approval took fourteen months"))
    v = project.vignettes.add_narrative(v.id, "Leader A described approval as slow.", position=0)
    start, end = span_of(project, "By then the employer had trained staff in-house.")
    v = project.vignettes.add_quote(v.id, transcript="leader_a.txt", start=start, end=end)
    assert [i.kind for i in v.items] == ["narrative", "quote", "quote"]
    quote = v.items[1]
    assert (quote.participant, quote.turn, quote.code) == ("Leader A", 3, "Barriers > Approval burden")
    assert quote.text == quote.source == "The approval took fourteen months" and quote.line == 8
    v = project.vignettes.move_item(v.id, 2, to=1)
    assert v.items[1].text.startswith("By then")
    v = project.vignettes.edit_item(v.id, 1, "By then [...] the employer had trained staff")
    v = project.vignettes.remove_item(v.id, 2)
    v = project.vignettes.update(v.id, title="Leader A: approvals")
    assert v.title == "Leader A: approvals" and len(v.items) == 2
    actions = [e.action for e in project.audit_trail(action="vignette.*")]
    assert actions == ["vignette.create", "vignette.quote.add", "vignette.narrative.add", "vignette.quote.add",
                       "vignette.reorder", "vignette.item.edit", "vignette.item.remove", "vignette.edit"]
    assert project.audit_trail(action="vignette.create")[0].note == "first story"
    project.undo()
    project.undo()
    assert project.vignettes.get(v.id).title == "Leader A" and len(project.vignettes.get(v.id).items) == 3
    project.vignettes.delete(v.id)
    assert project.vignettes.list() == []
    project.undo()
    assert project.vignettes.get(v.id).items[1].text == "By then [...] the employer had trained staff"


def test_saving_an_unmarked_change_is_refused_and_changes_nothing(project):
    v = project.vignettes.create("Leader A", participant="Leader A")
    v = project.vignettes.add_quote(v.id, coding=coding_id(project, "The approval took fourteen months"))
    version = project.version()
    with pytest.raises(QuoteIntegrityError, match=r"Vignette 'Leader A', quote 1 .*fifteen"):
        project.vignettes.edit_item(v.id, 0, "The approval took fifteen months")
    with pytest.raises(QuoteIntegrityError):
        project.vignettes.update(v.id, items=[{"transcript": "leader_a.txt", "start": v.items[0].start,
                                              "end": v.items[0].end, "text": "The approval took ages"}])
    with pytest.raises(NotFoundError):
        project.vignettes.move_item(v.id, 5, to=0)
    with pytest.raises(ValidationError):
        project.vignettes.update(v.id, title="  ")
    assert project.version() == version and project.vignettes.get(v.id).items[0].text == "The approval took fourteen months"


def test_quote_follows_a_corrected_transcript(project, interview_text):
    v = project.vignettes.create("Leader A", participant="Leader A")
    v = project.vignettes.add_quote(v.id, coding=coding_id(project, "The approval took fourteen months"))
    (project.transcripts_dir / "leader_a.txt").write_text("Interviewer: Hello.\n\n" + interview_text, encoding="utf-8")
    project.sync()
    quote = project.vignettes.get(v.id).items[0]
    assert quote.source == "The approval took fourteen months"
    assert project.transcripts.get("leader_a.txt").text[quote.start:quote.end] == quote.source
    v = project.vignettes.add_narrative(v.id, "Edits after the correction keep the quote where it now is.")
    assert v.items[0].start == quote.start and v.items[0].source == quote.source


# -- drafting --------------------------------------------------------------------------------------
def test_draft_per_code_in_codebook_order_with_placeholders(project):
    v = project.vignettes.draft(participant="Leader A", theme="Barriers", per_code=1)
    assert v.status == "draft" and v.title == "Leader A: Barriers" and v.theme == "Barriers"
    kinds = [i.kind for i in v.items]
    assert kinds == ["narrative", "quote", "narrative", "quote"]
    assert v.items[0].text.startswith("[Narrative:") and "'Approval burden'" in v.items[0].text
    assert v.items[1].code == "Barriers > Approval burden" and v.items[3].code == "Barriers > Learner fear"
    whole = project.vignettes.draft(participant="Leader A")  # one level below the top: the theme Barriers
    assert [i.kind for i in whole.items] == ["narrative", "quote", "quote"]
    assert project.audit_trail(action="vignette.draft")[-1].summary.startswith("Drafted vignette 'Leader A'")
    with pytest.raises(ExportError, match="never edited.*--allow-draft"):
        project.exports.render_vignette(v.id, format="md", disclosure=False)
    assert project.exports.render_vignette(v.id, format="md", allow_draft=True, disclosure=False).startswith(b"# DRAFT: ")
    v = project.vignettes.edit_item(v.id, 0, "Approvals were slow.")
    with pytest.raises(ExportError, match=r"placeholder paragraphs \(items 3\)"):
        project.exports.render_vignette(v.id, format="md", disclosure=False)
    v = project.vignettes.remove_item(v.id, 2)
    assert v.status == "edited"
    assert project.exports.render_vignette(v.id, format="md", disclosure=False).startswith(b"# Leader A: Barriers")


def test_draft_puts_the_most_central_quote_first(make_project):
    transcript = ("Interviewer: Tell me about approval.\n\nLeader A: Approval forms took months and months. "
                  "Approval forms took months of board meetings. The weather was lovely that spring.\n")
    p = make_project(transcripts={"leader_a.txt": transcript, "participants.csv": PARTICIPANTS_CSV})
    p.codebook.add_code("Approval burden")
    for phrase in ("The weather was lovely that spring.", "Approval forms took months and months.",
                   "Approval forms took months of board meetings."):
        start, end = span_of(p, phrase)
        p.codings.add_coding(transcript="leader_a.txt", start=start, end=end, code="Approval burden")
    v = p.vignettes.draft(theme="Approval burden", per_code=2)
    assert [q.text for q in v.quotes] and all("weather" not in q.text for q in v.quotes)


def test_draft_needs_a_subject_and_codings(project):
    with pytest.raises(ValidationError, match="--participant NAME, --theme NAME"):
        project.vignettes.draft()
    with pytest.raises(NotFoundError, match="No participant 'Nobody'"):
        project.vignettes.draft(participant="Nobody")
    project.codebook.add_code("Unused", kind="theme")
    with pytest.raises(NotFoundError, match="no codings of Leader A and theme 'Unused'"):
        project.vignettes.draft(participant="Leader A", theme="Unused")


# -- the page (AppTest on the sample study) ----------------------------------------------------------
@pytest.mark.slow
def test_vignettes_page_drafts_edits_checks_and_offers_downloads(sample_project, monkeypatch):
    from streamlit.testing.v1 import AppTest

    if not sample_project.status()["codings"]:
        book, codings = sample_project.codebooks_dir / "codebook.yaml", sample_project.codebooks_dir / "codings.yaml"
        if book.exists() and codings.exists():
            sample_project.codebook_files.import_codebook(book)
            sample_project.codebook_files.import_codings(codings)
        else:
            sample_project.codebook.add_code("Experiences", kind="theme")
            turn = next(t for t in sample_project.transcripts.turns("leader_a.docx") if not t.interviewer)
            sample_project.codings.add_coding(transcript="leader_a.docx", start=turn.start, end=turn.end, code="Experiences")
    monkeypatch.setenv("STORYLOOM_PROJECT", str(sample_project.path))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("analysis/workbench/pages/vignettes.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Vignettes" and any("No vignettes yet" in i.value for i in at.info)
    at.selectbox(key="vg_draft_who").set_value("Leader A")
    next(b for b in at.button if b.label == "Draft").click()
    at.run()
    [v] = sample_project.vignettes.list()
    assert v.status == "draft" and not at.exception
    # An unmarked change to a quote: a visible error naming the problem, nothing saved.
    version = sample_project.version()
    quote_box = next(t for t in at.text_area if t.label == "Quote as printed")
    quote_box.input("These words were never spoken by anyone")
    index = [t.label for t in at.text_area].index("Quote as printed")
    [b for b in at.button if b.label == "Save"][index].click()
    at.run()
    # in the researcher's words: no "[SL...]" prefix; the code on the details line
    assert any(re.search(r"Details: SL30\d\d", e.value) and "[SL" not in e.value and "not in the source" in e.value
               for e in at.error), [e.value for e in at.error]
    assert sample_project.version() == version
    # Write the first paragraph, move it down: each one action, and the vignette is the researcher's now.
    next(t for t in at.text_area if t.label == "Narrative").input("Leader A championed the idea.")
    [b for b in at.button if b.label == "Save"][0].click()
    at.run()
    next(b for b in at.button if b.label == "↓").click()
    at.run()
    v = sample_project.vignettes.get(v.id)
    assert v.status == "edited" and v.items[1].text == "Leader A championed the idea."
    next(b for b in at.button if b.label == "Run the disclosure check").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.checkbox(key=f"vg_draft_ok_{v.id}").check()
    at.run()
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Markdown", "Word (.docx)", "LaTeX", "HTML"] or any(
        "may identify someone" in e.value for e in at.error), (labels, [e.value for e in at.error])
