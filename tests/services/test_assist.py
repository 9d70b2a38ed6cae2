"""The machine assist (analysis/domain/assist.py, patterns.py, consistency.py, methods_report.py and their CLI):
search (semantic, keyword, hybrid, filters), "more like this code" with accept/reject, patterns in
uncoded text, consistency checks and the transparency report. Real MiniLM on the sample study where
meaning matters; the hashing embedder where only the mechanics do."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis import Project
from analysis.domain.assist import fold, parse_terms, top_k
from analysis.domain.consistency import SUGGESTION_ORIGIN
from analysis.errors import ConflictError, NotFoundError, ValidationError
from analysis.domain.patterns import PATTERN_ORIGIN, words_in
from analysis.services.results import ThemeGap

runner = CliRunner()

STUDY = {
    "aroha.txt": """Interviewer: Tell me about the course.

Aroha: The ākonga were afraid of assessment after years away from study.
Assessment felt like failing at school again for many of them.
The approval process took fourteen months and the paperwork was endless.
Funding rules kept changing every single year.

Interviewer: And the employers?

Aroha: The employers trained their own staff in the end.
""",
    "ben.txt": """Interviewer: What happened with enrolments?

Ben: Learners were afraid of assessment, afraid of failing again.
The paperwork for approval was endless and slow.
Heat pump installers were in huge demand because of new rental rules.
The employers trained their own installers in the end.
""",
    "participants.csv": "pseudonym,transcript,speaker,group\nAroha,aroha.txt,Aroha,leader\nBen,ben.txt,Ben,academic\n",
}


def span(project: Project, transcript: str, passage: str) -> tuple[int, int]:
    start = project.transcripts.get(transcript).text.index(passage)
    return start, start + len(passage)


def code_passage(project: Project, transcript: str, passage: str, code: str) -> int:
    start, end = span(project, transcript, passage)
    return project.codings.add_coding(transcript=transcript, start=start, end=end, code=code).id


# -- pure helpers --------------------------------------------------------------------------------------
def test_fold_maps_offsets_back_through_accents_ligatures_and_combining_marks() -> None:
    text = "Kia ora ĀKONGA, Straße ﬁne cafe\u0301!"
    folded, where = fold(text)
    assert folded == "kia ora akonga, strasse fine cafe!"
    for word, original in (("akonga", "ĀKONGA"), ("strasse", "Straße"), ("fine", "ﬁne")):
        i = folded.index(word)
        assert text[where[i]:where[i + len(word) - 1] + 1] == original
    assert len(where) == len(folded) + 1 and where[-1] == len(text)


def test_parse_terms_keeps_phrases_and_drops_function_words() -> None:
    assert parse_terms('"Heat Pump" installers of the') == ["heat pump", "installers"]
    assert parse_terms("the") == ["the"]
    assert parse_terms('unbalanced "quote') == ["unbalanced", "quote"]


def test_top_k_orders_and_skips_masked_scores() -> None:
    scores = np.array([0.1, 0.9, -np.inf, 0.5, 0.7], dtype=np.float32)
    assert top_k(scores, 3).tolist() == [1, 4, 3]
    assert top_k(scores, 10).tolist() == [1, 4, 3, 0]
    assert top_k(np.full(3, -np.inf), 2).tolist() == []


# -- search ----------------------------------------------------------------------------------------------
def test_a_paraphrase_finds_the_passage(sample_project: Project) -> None:
    cases = {
        "Students were scared they would flunk the exam":
            "Some people have told me that learners were afraid of being assessed",
        "Property owners renting out homes had to meet warmer standards, so everyone wanted heating installed":
            "There's been huge demand for heat pumps because of the new standards for rental housing",
    }
    for query, passage in cases.items():
        # the first passage is the interviewer's (leader_b.md): interviewer turns are left out unless asked
        hits = sample_project.assist.search(query, k=5, interviewer=True)
        assert any(h.text.startswith(passage) for h in hits), (query, [h.text for h in hits])
        for h in hits:
            text = sample_project.transcripts.get(h.transcript).text
            assert text[h.start:h.end] == h.text
            assert h.text in h.turn_text and text[h.turn_start:h.turn_end] == h.turn_text


def test_keyword_search_ignores_accents_and_case_with_exact_offsets(sample_project: Project) -> None:
    hits = sample_project.assist.search("AKONGA", mode="keyword", k=50)
    frame = sample_project.assist.segment_index().frame
    expected = {(r.transcript, r.start) for r in frame.itertuples() if "ākonga" in r.text.casefold()}
    assert len(expected) >= 5 and {(h.transcript, h.start) for h in hits} == expected
    for h in hits:
        text = sample_project.transcripts.get(h.transcript).text
        assert "ākonga" in text[h.start:h.end]
        assert [text[s:e] for s, e in h.matches] == ["ākonga"] * len(h.matches)
    back = sample_project.assist.search("ākonga", mode="keyword", k=50)
    assert [(h.transcript, h.start) for h in back] == [(h.transcript, h.start) for h in hits]


def test_hybrid_search_fuses_both_rankings(sample_project: Project) -> None:
    hits = sample_project.assist.search("akonga afraid of assessment", mode="hybrid", k=5)
    assert hits and hits[0].score > 0
    keyword = {(h.transcript, h.start) for h in sample_project.assist.search("akonga afraid of assessment",
                                                                            mode="keyword", k=5)}
    assert keyword & {(h.transcript, h.start) for h in hits}
    with pytest.raises(ValidationError):
        sample_project.assist.search("x", mode="fuzzy")


def test_search_filters_participant_attribute_code_and_uncoded(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts=STUDY)
    p.codebook.add_code("Fear of assessment")
    code_passage(p, "ben.txt", "Learners were afraid of assessment, afraid of failing again.", "Fear of assessment")
    q = "afraid of assessment"
    assert {h.participant for h in p.assist.search(q, k=20, participant="Ben")} == {"Ben"}
    assert {h.participant for h in p.assist.search(q, k=20, attributes={"group": "leader"})} == {"Aroha"}
    [coded] = p.assist.search(q, k=20, code="Fear of assessment")
    assert coded.text.startswith("Learners were afraid")
    for hits in (p.assist.search(q, k=20, uncoded=True), p.assist.search(q, k=20, exclude_code="Fear of assessment")):
        assert hits and all(not h.text.startswith("Learners were afraid") for h in hits)
    assert p.assist.search("   ") == []
    logged = p.audit_trail(action="assist.search")
    assert len(logged) == 5 and logged[0].after["filters"] == {"participant": "Ben"}


# -- more like this code -----------------------------------------------------------------------------------
def test_suggestions_exclude_coded_text_and_explain_themselves(make_project: Callable[..., Project]) -> None:
    p = make_project(transcripts=STUDY)
    p.codebook.add_code("Fear of assessment")
    cid = code_passage(p, "aroha.txt", "The ākonga were afraid of assessment after years away from study.",
                       "Fear of assessment")
    with pytest.raises(ConflictError):
        p.codebook.add_code("Empty") and p.suggestions.suggest("Empty")
    out = p.suggestions.suggest("Fear of assessment", k=3)
    assert out[0]["text"] == "Learners were afraid of assessment, afraid of failing again."
    assert out[0]["closest_coding"]["id"] == cid and out[0]["label"] == "Machine suggestion"
    assert all(s["participant"] in {"Aroha", "Ben"} for s in out)  # interviewer questions are never suggested
    assert all("ākonga were afraid" not in s["text"] for s in out)
    assert p.audit_trail(action="assist.suggest")[-1].after["shown"] == 3
    with pytest.raises(NotFoundError):
        p.suggestions.accept("Fear of assessment", 99)


def test_accepted_suggestion_becomes_a_coding_with_origin_and_one_audit_event(sample_project: Project) -> None:
    p = sample_project
    p.codebook.add_code("Fear of assessment")
    code_passage(p, "leader_b.md", "Some people have told me that learners were afraid of being assessed",
                 "Fear of assessment")
    first = p.suggestions.suggest("Fear of assessment", k=5)[0]
    events_before = len(p.audit_trail())
    coding = p.suggestions.accept("Fear of assessment", first)
    assert coding.origin == SUGGESTION_ORIGIN and (coding.start, coding.end) == (first["start"], first["end"])
    new = p.audit_trail()[events_before:]
    assert [e.action for e in new] == ["coding.accept_suggestion"]
    assert new[0].after["origin"] == SUGGESTION_ORIGIN and new[0].after["suggestion"]["rank"] == 1
    assert [d["decision"] for d in p.suggestions.decisions(code="Fear of assessment")] == ["accepted"]
    assert (first["transcript"], first["start"]) not in {(s["transcript"], s["start"])
                                                         for s in p.suggestions.suggest("Fear of assessment", k=20)}
    p.undo()  # one undo takes back the coding and the decision together
    assert p.suggestions.decisions() == [] and len(p.explore.codings_frame(code="Fear of assessment")) == 1


def test_rejected_suggestion_never_returns(sample_project: Project) -> None:
    p = sample_project
    p.codebook.add_code("Heat pumps")
    code_passage(p, "manager_a.vtt", "Every landlord needs heat pumps put in", "Heat pumps")
    before = p.suggestions.suggest("Heat pumps", k=10)
    p.suggestions.reject("Heat pumps", 1)  # by rank, as the CLI does
    gone = (before[0]["transcript"], before[0]["start"], before[0]["end"])
    after = p.suggestions.suggest("Heat pumps", k=2000)
    assert gone not in {(s["transcript"], s["start"], s["end"]) for s in after}
    assert [s["text"] for s in after[:9]] == [s["text"] for s in before[1:]]
    assert p.audit_trail(action="suggestion.reject")[-1].after["code"] == "Heat pumps"
    assert p.explore.codings_frame(code="Heat pumps")["origin"].tolist() == ["direct"]  # suggestions never write codings


# -- patterns ---------------------------------------------------------------------------------------------
def test_pattern_words_come_from_the_clusters_own_text(sample_project: Project) -> None:
    clusters = sample_project.patterns.list(min_size=5)
    assert len(clusters) >= 5
    for c in clusters:
        assert c["size"] == len(c["segments"]) >= 5 and c["words"]
        own = set().union(*(words_in(s["text"]) for s in c["segments"]))
        assert set(c["words"]) <= own, (c["words"], own)
        cent = [s["centrality"] for s in c["segments"]]
        assert cent == sorted(cent, reverse=True)
        for s in c["segments"]:
            assert sample_project.transcripts.get(s["transcript"]).text[s["start"]:s["end"]] == s["text"]
    assert sample_project.audit_trail(action="assist.patterns")[-1].after["clusters"] == len(clusters)


def test_code_from_a_pattern_is_one_action_and_dismissal_is_remembered(sample_project: Project) -> None:
    p = sample_project
    first, second, *_ = p.patterns.list(min_size=5)
    events = len(p.audit_trail())
    code = p.patterns.make_code(first, name="Looked at again", segments=first["segments"][:3])
    assert [e.action for e in p.audit_trail()[events:]] == ["pattern.make_code"]
    df = p.explore.codings_frame(code=code.name)
    assert len(df) == 3 and set(df["origin"]) == {PATTERN_ORIGIN}
    p.undo()
    assert "Looked at again" not in {c.name for c in p.codebook.codes()}
    p.patterns.dismiss(second)
    assert second["id"] not in {c["id"] for c in p.patterns.list(min_size=5)}
    p.undo()
    assert second["id"] in {c["id"] for c in p.patterns.list(min_size=5)}


# -- consistency ----------------------------------------------------------------------------------------------
def test_check_finds_an_outlying_coding_near_duplicate_codes_and_gaps(sample_project: Project) -> None:
    p = sample_project
    on_topic = ["Every landlord needs heat pumps put in", "There's a real shortage of installers",
                "There's been huge demand for heat pumps", "putting heat pumps into older hom",
                "Heat pumps is picking up now"]
    for name in ("Heat pumps", "Heating again"):
        p.codebook.add_code(name, kind="theme")
    for passage in on_topic:
        where = next(t for t in ("manager_a.vtt", "leader_b.md", "professional_b.md")
                     if passage in p.transcripts.get(t).text)
        code_passage(p, where, passage, "Heat pumps")
        code_passage(p, where, passage, "Heating again")
    stray = code_passage(p, "academic_a.txt", "It arrived as a done deal, really.", "Heat pumps")
    result = p.consistency.check()
    assert stray in {o.coding_id for o in result.outlying_codings if o.code == "Heat pumps"}
    assert {("Heat pumps", "Heating again")} <= {(s.code_a, s.code_b) for s in result.similar_codes}
    gaps = {(g.theme, g.participant) for g in result.participants_without_theme}
    # coded for 4 of 7 participants: each of the other 3 sees 4 of 6 others (>= 60%) with it
    assert {who for theme, who in gaps if theme == "Heat pumps"} == {"Leader A", "Academic B", "Professional A"}
    assert p.audit_trail(action="assist.check")[-1].after["similar_codes"] == len(result.similar_codes)


def test_theme_gaps_name_the_participant_most_others_share_a_theme_with(make_project: Callable[..., Project]) -> None:
    files = {f"p{i}.txt": f"Interviewer: Hi.\n\nP{i}: The approval paperwork was endless number {i}.\n"
             for i in range(4)}
    files["participants.csv"] = "pseudonym,transcript,speaker\n" + "".join(
        f"P{i},p{i}.txt,P{i}\n" for i in range(4))
    p = make_project(transcripts=files)
    p.codebook.add_code("Paperwork", kind="theme")
    for i in range(3):
        code_passage(p, f"p{i}.txt", "The approval paperwork was endless", "Paperwork")
    gaps = p.consistency.check().participants_without_theme
    assert gaps == (ThemeGap(theme="Paperwork", participant="P3", others_with=3, others=3),)


# -- the transparency report ------------------------------------------------------------------------------------
def test_methods_report_counts_equal_the_audit_trail(sample_project: Project, tmp_path: Path) -> None:
    p = sample_project
    p.codebook.add_code("Heat pumps", kind="theme")
    code_passage(p, "manager_a.vtt", "Every landlord needs heat pumps put in", "Heat pumps")
    for mode in ("semantic", "keyword", "hybrid", "keyword"):
        p.assist.search("heat pumps", mode=mode)
    p.suggestions.accept("Heat pumps", 1)
    p.suggestions.reject("Heat pumps", 1)
    p.suggestions.reject("Heat pumps", 1)
    p.undo()  # an undone rejection is not counted
    p.patterns.dismiss(p.patterns.list(min_size=5)[0])
    p.codebook_files.snapshot("after the first pass", phase="coding")
    report = p.exports.methods_report()
    c = report.counts
    live = Counter(e.action for e in p.audit_trail() if e.state in ("done", "final"))
    assert (c["searches"], c["searches_keyword"], c["searches_hybrid"]) == (live["assist.search"], 2, 1)
    assert c["suggestions_accepted"] == live["coding.accept_suggestion"] == 1
    assert c["suggestions_rejected"] == live["suggestion.reject"] == 1
    assert c["suggestion_runs"] == live["assist.suggest"] and c["pattern_reviews"] == live["assist.patterns"] == 1
    assert c["patterns_dismissed"] == 1 and c["snapshots"] == 1
    origins = Counter(p.explore.codings_frame()["origin"])
    assert (c["codings"], c["codings_from_suggestions"]) == (sum(origins.values()), origins[SUGGESTION_ORIGIN])
    kinds = Counter(code.kind for code in p.codebook.codes())
    assert (c["transcripts"], c["participants"], c["themes"], c["codes"]) == (7, 7, kinds["theme"], kinds["code"])
    text = report.markdown
    assert "emerged" not in text.lower() and "constructed" in text and "never applied a code" in text
    assert "| Machine suggestions accepted | 1 |" in text and "| after the first pass | coding |" in text
    from docx import Document

    doc = Document(io.BytesIO(p.exports.render_methods_report(format="docx")))
    assert report.paragraph in [para.text for para in doc.paragraphs]
    assert p.exports.export_methods_report(tmp_path / "m.md").read_text(encoding="utf-8") == p.exports.methods_report().markdown


# -- the CLI ----------------------------------------------------------------------------------------------------
def test_cli_json_shapes(sample_project: Project, tmp_path: Path) -> None:
    from analysis.cli import app

    where = ["--project", str(sample_project.path), "--json"]

    def run(*args: str) -> dict:
        result = runner.invoke(app, [*args, *where])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    hits = run("search", "akonga", "--mode", "keyword", "--k", "3")["hits"]
    assert len(hits) == 3 and {"participant", "transcript", "start", "end", "text", "score"} <= set(hits[0])
    assert run("search", "approval took months", "--participant", "Leader B", "--uncoded")["hits"]
    sample_project.codebook.add_code("Heat pumps")
    code_passage(sample_project, "manager_a.vtt", "Every landlord needs heat pumps put in", "Heat pumps")
    out = run("suggest", "Heat pumps", "--k", "4")["suggestions"]
    assert len(out) == 4 and {"transcript", "start", "end", "text", "score", "closest_coding"} <= set(out[0])
    assert run("suggest", "Heat pumps", "--accept", "2")["coding"]["text"] == out[1]["text"]
    assert run("suggest", "Heat pumps", "--reject", "1") == {"rejected": 1}
    clusters = run("patterns", "--min-size", "6")["clusters"]
    assert clusters and {"words", "segments"} <= set(clusters[0]) and len(clusters[0]["segments"]) >= 6
    assert set(run("check")) == {"outlying_codings", "similar_codes", "participants_without_theme"}
    doc = tmp_path / "methods.docx"
    assert run("report", "methods", "--format", "docx", "--output", str(doc))["path"] == str(doc)
    assert doc.read_bytes()[:2] == b"PK"
    bad = runner.invoke(app, ["suggest", "No such code", *where])
    assert bad.exit_code == 1 and "No code named" in bad.output


# -- the Assist page (AppTest) -----------------------------------------------------------------------------------
@pytest.fixture
def assist_page(sample_project: Project, monkeypatch: pytest.MonkeyPatch) -> Callable[[], object]:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STORYLOOM_PROJECT", str(sample_project.path))

    def start() -> AppTest:
        at = AppTest.from_file(str(Path(__file__).absolute().parents[2] / "app.py"), default_timeout=90)
        at.run()
        at.switch_page("analysis/workbench/pages/assist.py").run()
        assert not at.exception, at.exception
        return at

    return start


def _button(at: object, label: str, n: int = 0) -> object:
    return [b for b in at.button if b.label == label][n]


def test_assist_page_search_code_as_and_accept_a_suggestion(assist_page: Callable[[], object],
                                                            sample_project: Project) -> None:
    p = sample_project
    p.codebook.add_code("Heat pumps")
    code_passage(p, "manager_a.vtt", "Every landlord needs heat pumps put in", "Heat pumps")
    at = assist_page()
    at.text_input(key="as_search_query").input("landlords must install heating")
    at.button(key="FormSubmitter:as_search_form-Search").click().run()
    assert not at.exception, at.exception
    assert any("Machine suggestion" in c.value for c in at.caption)
    at.selectbox(key="as_search_target").set_value(p.codebook.get_code("Heat pumps").id).run()
    hits = at.session_state["as_search"]["items"]
    _button(at, "Code as 'Heat pumps'").click().run()
    assert not at.exception, at.exception
    df = p.explore.codings_frame(code="Heat pumps")
    assert set(df["origin"]) == {"direct", "search:semantic"} and hits[0].start in set(df["start"])

    at.session_state["as_tab"] = "More like this code"  # only the open tab runs
    at.run()
    at.selectbox(key="as_suggest_for").set_value(p.codebook.get_code("Heat pumps").id).run()
    _button(at, "Suggest passages").click().run()
    first = at.session_state["as_suggest"]["items"][0]
    _button(at, "Accept").click().run()
    assert not at.exception, at.exception
    accepted = p.explore.codings_frame(code="Heat pumps")
    accepted = accepted[accepted["origin"] == SUGGESTION_ORIGIN]
    assert list(zip(accepted["transcript"], accepted["start"])) == [(first["transcript"], first["start"])]
    assert len(p.audit_trail(action="assist.search")) == 1  # reruns never search again
    for tab, press in (("Patterns in uncoded text", "Find patterns in uncoded text"),
                       ("Patterns in uncoded text", "Dismiss"), ("Consistency checks", "Run the checks")):
        at.session_state["as_tab"] = tab
        _button(at.run(), press).click().run()
        assert not at.exception, at.exception
    at.session_state["as_tab"] = "Methods report"
    assert any("constructed" in m.value for m in at.run().markdown)
    c = p.exports.methods_report().counts
    assert (c["codings_from_search"], c["suggestions_accepted"], c["patterns_dismissed"]) == (1, 1, 1)


def _panel_app() -> None:
    from analysis.workbench.assist_panel import render_assist_panel
    from analysis.workbench.state import get_project

    render_assist_panel(get_project(), "leader_b.md")


def test_assist_panel_searches_this_transcript_by_default(sample_project: Project,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STORYLOOM_PROJECT", str(sample_project.path))
    at = AppTest.from_function(_panel_app, default_timeout=90).run()
    assert not at.exception, at.exception
    at.text_input(key="ap_search_query").input("heat pumps for rental homes")
    at.button(key="FormSubmitter:ap_search_form-Search").click().run()
    hits = at.session_state["ap_search"]["items"]
    assert hits and {h.transcript for h in hits} == {"leader_b.md"}
