"""Narrative inquiry (issue 16): story time and its order, events with evidence (audit, undo), disagreement
between participants, restorying with gaps, the findings chapter and its export, the CLI and the Story page."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import ConflictError, ExportError, NotFoundError, QuoteIntegrityError, ValidationError
from analysis.domain.narrative import Period, When, parse_when, story_order
from analysis.services.results import SectionWords

APP = Path(__file__).resolve().parents[2] / "app.py"
PARTICIPANTS_CSV = ("pseudonym,transcript,speaker,interviewer,role\n"
                    "Leader A,leader_a.txt,Leader A,Interviewer,leader\n"
                    "Manager B,manager_b.txt,Manager B,Interviewer,manager\n")
LEADER = """Interviewer: How did it start?

Leader A: We launched the programme with real hope. Everyone came to the launch.

Interviewer: And then?

Leader A: The products found no learners at all. So we pivoted to short courses for employers.
"""
MANAGER = """Interviewer: What do you remember?

Manager B: The launch was a big day for the team. Then the regulator sat on our application for over a year.

Interviewer: Anything else?

Manager B: The pandemic changed everything for us.
"""


# -- story time, pure ---------------------------------------------------------------------------------
def test_parse_when_forms() -> None:
    assert parse_when("2019-03-14") == When("date", "2019-03-14")
    assert parse_when("March 2019") == When("month", "2019-03") == parse_when("2019-3")
    assert parse_when("2019") == When("year", "2019")
    assert parse_when("14 March 2019") == When("date", "2019-03-14")
    assert parse_when("before Launch") == When("before", "Launch")
    assert parse_when("") == When() == parse_when("unknown")
    assert parse_when("pre-pandemic") == When("period", "pre-pandemic")
    with pytest.raises(ValidationError, match="not a time in the story"):
        parse_when("2019-02-30")
    with pytest.raises(ValidationError, match="SL7004|not a time"):
        parse_when("12/13")


def test_order_of_mixed_dates_years_and_periods() -> None:
    whens = {
        "Pandemic": When("period", "pandemic"),
        "Launch": When("month", "2018-02"),
        "Restructure": When("year", "2019"),
        "Pivot": When("date", "2019-03-14"),
        "No learners": When("after", "Launch"),
        "Idea": When("period", "pre-launch"),
        "Regulator's delay": When("year", "2019"),
        "Lost memory": When(),
        "Decision": When("before", "Pivot"),
    }
    periods = [Period("pre-launch"), Period("early 2020", "2020"), Period("pandemic")]
    placed = story_order(whens, periods)
    ranked = sorted(whens, key=lambda n: (placed[n].order, n))
    assert ranked == ["Idea", "Launch", "No learners", "Regulator's delay", "Restructure", "Decision", "Pivot",
                      "Pandemic", "Lost memory"]
    # ties share an order and say so; overlapping intervals are reported, not hidden
    assert placed["Restructure"].order == placed["Regulator's delay"].order
    assert placed["Restructure"].tied == ("Regulator's delay",)
    assert "Pivot" in placed["Restructure"].uncertain
    # a period without dates is placed by the researcher's order only, and flagged
    assert placed["Idea"].approximate and placed["Pandemic"].approximate and not placed["Launch"].approximate
    assert placed["Lost memory"].unknown and placed["Lost memory"].order == max(p.order for p in placed.values())
    # a circular "before/after" is unknown, never an endless loop
    loop = story_order({"A": When("after", "B"), "B": When("after", "A")}, [])
    assert loop["A"].unknown and loop["B"].unknown


# -- events, links, undo ------------------------------------------------------------------------------
@pytest.fixture
def project(make_project):
    p = make_project(transcripts={"leader_a.txt": LEADER, "manager_b.txt": MANAGER, "participants.csv": PARTICIPANTS_CSV})
    p.codebook.add_code("Trajectory", kind="theme")
    p.codebook.add_code("Setbacks", parent="Trajectory")
    ids = {}
    for key, name, phrase, code in [
        ("launched", "leader_a.txt", "We launched the programme with real hope.", "Trajectory"),
        ("products", "leader_a.txt", "The products found no learners at all.", "Setbacks"),
        ("we", "leader_a.txt", "So we pivoted to short courses for employers.", "Trajectory"),
        ("launch", "manager_b.txt", "The launch was a big day for the team.", "Trajectory"),
        ("regulator", "manager_b.txt", "Then the regulator sat on our application for over a year.", "Setbacks"),
        ("pandemic", "manager_b.txt", "The pandemic changed everything for us.", "Setbacks"),
    ]:
        text = p.transcripts.get(name).text
        start = text.index(phrase)
        ids[key] = p.codings.add_coding(transcript=name, start=start, end=start + len(phrase), code=code).id
    p.test_ids = ids  # type: ignore[attr-defined]
    return p


def _story(p) -> dict[str, int]:
    ids = p.test_ids
    story = p.story
    story.add_period("pre-pandemic", dates="2019")
    story.add_event("Launch", when="2018", description="The programme is launched")
    story.add_event("No learners", when="after Launch")
    story.add_event("Pivot", when="November 2018")
    story.add_event("Regulator's delay", when="pre-pandemic")
    story.add_event("Pandemic", when="2020-03")
    story.link("Launch", ids["launched"])
    story.link("Launch", ids["launch"], when="2017")  # Manager B remembers it a year earlier
    story.link("No learners", ids["products"])
    story.link("Pivot", ids["we"])
    story.link("Regulator's delay", ids["regulator"])
    story.link("Pandemic", ids["pandemic"])
    return ids


def test_undo_of_a_coding_removal_restores_its_event_links(project) -> None:
    ids = _story(project)
    story = project.story
    assert story.event("Launch").codings == (ids["launched"], ids["launch"])
    project.codings.remove_coding(ids["launch"])  # the link (with Manager B's own "2017") goes with it
    assert story.event("Launch").codings == (ids["launched"],)
    project.undo()
    assert story.event("Launch").codings == (ids["launched"], ids["launch"])
    launch = next(e for e in story.timeline() if e.name == "Launch")
    assert launch.told.get("Manager B") == When("year", "2017")  # the participant's own placement is back too


def test_events_links_audit_and_undo(project) -> None:
    story = project.story
    event = story.add_event("Launch", when="2018-02", description="The launch")
    assert event.guid and event.when == When("month", "2018-02") and event.order == 1
    with pytest.raises(ConflictError, match="already exists"):
        story.add_event("launch")
    with pytest.raises(ValidationError, match="needs a name"):
        story.add_event("  ")
    story.link("Launch", project.test_ids["launched"])
    assert story.event("Launch").codings == (project.test_ids["launched"],)
    assert story.event("Launch").participants == ("Leader A",)
    with pytest.raises(ConflictError, match="already linked"):
        story.link("Launch", project.test_ids["launched"])
    with pytest.raises(NotFoundError, match="No coding"):
        story.link("Launch", 9999)
    with pytest.raises(NotFoundError, match="No event named 'Nope'"):
        story.link("Nope", project.test_ids["launched"])
    trail = project.audit_trail(action="event.*")
    assert [e.action for e in trail] == ["event.add", "event.link"]
    project.undo()
    assert story.event("Launch").codings == ()
    project.redo()
    # an unknown period named in a when is added at the end of the order, and the action says so
    story.add_event("Restructure", when="post-pivot")
    assert [p.name for p in story.periods()] == ["post-pivot"]
    assert "added period 'post-pivot'" in project.audit_trail(action="event.add")[-1].summary
    story.edit_event("Restructure", new_name="Restructure of the unit", when="before Launch")
    assert story.event("Restructure of the unit").order < story.event("Launch").order
    with pytest.raises(ValidationError, match="relative to itself"):
        story.edit_event("Launch", when="after Restructure of the unit")
    with pytest.raises(ConflictError, match="cannot be removed"):
        story.remove_event("Launch")
    story.remove_period("post-pivot")  # nothing is placed in it any more
    story.remove_event("Restructure of the unit")
    story.remove_event("Launch")
    assert story.timeline() == []
    project.undo()  # the event comes back with its link
    assert story.event("Launch").codings == (project.test_ids["launched"],)


def test_timeline_reports_disagreement_and_restorying_shows_gaps(project) -> None:
    ids = _story(project)
    story = project.story
    timeline = story.timeline()
    assert [t.name for t in timeline] == ["Launch", "No learners", "Pivot", "Regulator's delay", "Pandemic"]
    launch = timeline[0]
    assert launch.participants == ("Leader A", "Manager B")
    assert launch.told["Manager B"] == When("year", "2017")
    assert "different times" in launch.disagreement and "Manager B places it in 2017" in launch.disagreement
    assert "Leader A places it in 2018" in launch.disagreement
    assert not timeline[1].disagreement
    # filters keep the global order numbers
    only_b = story.timeline(participant="Manager B")
    assert [t.name for t in only_b] == ["Launch", "Regulator's delay", "Pandemic"]
    assert only_b[1].order == timeline[3].order
    assert [t.name for t in story.timeline(theme="Setbacks")] == ["No learners", "Regulator's delay", "Pandemic"]
    frame = story.timeline_frame()
    assert len(frame) == 6 and set(frame.columns) >= {"event", "order", "participant", "coding_id", "text", "told"}
    # restorying: Manager B's passages in their story order, with the events others tell as gaps
    told = story.restory("Manager B")
    assert [p.event for p in told.passages] == ["Launch", "Regulator's delay", "Pandemic"]
    assert [g.name for g in told.gaps] == ["No learners", "Pivot"]
    assert told.passages[0].when == When("year", "2017")
    draft = story.restory_vignette("Manager B")
    kinds = [i.kind for i in draft.items]
    assert kinds == ["narrative", "quote", "narrative", "quote", "narrative", "quote", "narrative"]
    assert [i.coding_id for i in draft.quotes] == [ids["launch"], ids["regulator"], ids["pandemic"]]
    assert "No learners" in draft.items[-1].text and draft.participant == "Manager B"
    with pytest.raises(ExportError, match="placeholder"):
        project.exports.render_vignette(draft.id, disclosure=False)


# -- the findings chapter -------------------------------------------------------------------------------
def _chapter(p):
    ids = _story(p)
    chapters = p.chapters
    v = p.vignettes.create("A launch full of hope", items=[
        {"kind": "narrative", "text": "Leader A explained how the programme began:"},
        {"kind": "quote", **_span(p, "leader_a.txt", "We launched the programme with real hope."), "coding_id": ids["launched"]},
    ])
    ch = chapters.create("Findings", introduction="This chapter follows the programme through time.")
    chapters.add_section("Findings", vignette=v.id)
    long_quote = "Then the regulator sat on our application for over a year."
    chapters.add_section(ch.id, heading="Waiting for the regulator", items=[
        {"kind": "narrative", "text": "The delay was felt across the team. Manager B recalled:"},
        {"kind": "quote", **_span(p, "manager_b.txt", long_quote), "text": "[T]he regulator sat on our application [...]"},
    ])
    chapters.add_section(ch.id, heading="No learners", position=1, items=[
        {"kind": "narrative", "text": "Products were built without learners in view."},
        {"kind": "quote", **_span(p, "leader_a.txt", "The products found no learners at all.")},
    ])
    chapters.add_section(ch.id, heading="The pandemic", items=[
        {"kind": "narrative", "text": "Then came the pandemic."},
        {"kind": "quote", **_span(p, "manager_b.txt", "The pandemic changed everything for us.")},
    ])
    return chapters.get(ch.id)


def _span(p, name: str, phrase: str) -> dict[str, object]:
    text = p.transcripts.get(name).text
    start = text.index(phrase)
    return {"transcript": name, "start": start, "end": start + len(phrase)}


def test_chapter_sections_checked_edited_and_undone(project) -> None:
    ch = _chapter(project)
    chapters = project.chapters
    assert [s.heading for s in ch.sections] == ["A launch full of hope", "No learners", "Waiting for the regulator",
                                               "The pandemic"]
    assert ch.sections[0].vignette_id is not None
    with pytest.raises(QuoteIntegrityError):
        chapters.add_section(ch.id, heading="Bad", items=[{"kind": "quote", **_span(project, "leader_a.txt", "The products found no learners at all."),
                                                    "text": "The products found many learners"}])
    with pytest.raises(ValidationError, match="heading"):
        chapters.add_section(ch.id, heading=" ")
    with pytest.raises(NotFoundError, match="no section 9"):
        chapters.edit_section(ch.id, 8, heading="x")
    chapters.move_section(ch.id, 3, to=0)
    assert chapters.get(ch.id).sections[0].heading == "The pandemic"
    project.undo()
    assert chapters.get("findings").sections[0].heading == "A launch full of hope"
    chapters.edit_section(ch.id, 1, heading="Products without learners")
    chapters.remove_section(ch.id, 3)
    assert [s.heading for s in chapters.get(ch.id).sections][-1] == "Waiting for the regulator"
    project.undo()
    chapters.delete(ch.id)
    assert chapters.list() == []
    project.undo()
    assert len(chapters.get(ch.id).sections) == 4
    counts = chapters.word_counts(ch.id)
    assert [c.heading for c in counts.sections] == [s.heading for s in chapters.get(ch.id).sections]
    assert counts.sections[1] == SectionWords("Products without learners", 14)
    assert counts.total == sum(c.words for c in counts.sections) + 7


def test_chapter_export_every_format_sections_quotes_one_appendix(project, tmp_path) -> None:
    ch = _chapter(project)
    chapters = project.chapters
    md = chapters.export(ch.id, tmp_path / "findings.md", disclosure=False).read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings == ["A launch full of hope", "No learners", "Waiting for the regulator", "The pandemic",
                        "Sources of quotes"]
    assert md.startswith("# Findings") and "This chapter follows the programme through time." in md
    assert "“We launched the programme with real hope” (Leader A)." in md
    assert "“\\[T\\]he regulator sat on our application \\[...\\]” (Manager B)." in md or \
           "“[T]he regulator sat on our application [...]” (Manager B)." in md
    assert md.count("Sources of quotes") == 1 and re.findall(r"^\| (\d+) \|", md, flags=re.M) == ["1", "2", "3", "4"]
    for section in chapters.get(ch.id).sections:  # every quote, as the researcher rendered it, with attribution
        for q in (i for i in section.items if i.kind == "quote"):
            assert q.participant and f"{q.text.rstrip('.')}” ({q.participant})" in md.replace("\\", "")
    html = chapters.render(ch.id, format="html", disclosure=False).decode()
    assert html.count("<h2>") == 5 and "<h1>Findings</h1>" in html
    tex = chapters.render(ch.id, format="tex", disclosure=False).decode()
    assert r"\begin{document}" in tex and tex.count(r"\section{") == 4
    fragment = chapters.render(ch.id, format="tex", standalone=False, disclosure=False).decode()
    assert r"\begin{document}" not in fragment and fragment.count(r"\subsection{") == 4
    from docx import Document as Docx
    doc = Docx(io.BytesIO(chapters.render(ch.id, format="docx", disclosure=False)))
    heads = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert heads == ["A launch full of hope", "No learners", "Waiting for the regulator", "The pandemic",
                     "Sources of quotes"]
    assert len(doc.tables) == 1
    # recorded in the audit trail; a record that cannot be written is a warning, not a failure
    assert project.audit_trail(action="chapter.export")[-1].after["format"] == "md"
    project.ctx.log = lambda *a, **k: "the audit record is missing"  # type: ignore[method-assign]
    out = chapters.export(ch.id, tmp_path / "findings.html", disclosure=False)
    assert out.is_file() and chapters.last_warnings == ["the audit record is missing"]


def test_chapter_export_refuses_drafts_and_changed_sources(project, tmp_path) -> None:
    ch = _chapter(project)
    story, chapters = project.story, project.chapters
    draft = story.restory_vignette("Leader A")
    chapters.add_section(ch.id, vignette=draft.id)
    with pytest.raises(ExportError, match="placeholder"):
        chapters.render(ch.id, disclosure=False)
    assert chapters.render(ch.id, disclosure=False, allow_draft=True).decode().startswith("# DRAFT: Findings")
    chapters.remove_section(ch.id, 4)
    empty = chapters.create("Empty")
    with pytest.raises(ExportError, match="is empty"):
        chapters.render(empty.id, disclosure=False)
    with pytest.raises(ExportError, match="md, docx, tex, html"):
        chapters.export(ch.id, tmp_path / "x.csv", disclosure=False)
    with pytest.raises(ExportError, match=".svg"):
        story.export_timeline(tmp_path / "t.pdf")
    svg = story.export_timeline(tmp_path / "t.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Manager B" in svg and "Launch" in svg
    spec = json.loads(story.export_timeline(tmp_path / "t.json").read_text(encoding="utf-8"))
    assert spec["encoding"]["x"]["sort"][0] == "1. Launch"


# -- the CLI --------------------------------------------------------------------------------------------
def test_cli_events_timeline_and_chapter(project, tmp_path) -> None:
    runner = CliRunner()
    where = ["--project", str(project.path)]
    ids = project.test_ids

    def ok(*args: str) -> str:
        result = runner.invoke(app, [*args, *where])
        assert result.exit_code == 0, result.output
        return result.stdout

    ok("period", "add", "pre-pandemic", "--dates", "2019")
    ok("event", "add", "Launch", "--when", "2018", "--description", "The programme is launched")
    ok("event", "add", "Pandemic", "--when", "March 2020")
    ok("event", "link", "Launch", "--coding", str(ids["launched"]))
    ok("event", "link", "Launch", "--coding", str(ids["launch"]), "--when", "2017")
    ok("event", "link", "Pandemic", "--coding", str(ids["pandemic"]))
    listed = json.loads(ok("event", "list", "--json"))
    assert [e["name"] for e in listed["events"]] == ["Launch", "Pandemic"]
    line = json.loads(ok("timeline", "--json"))
    first = line["events"][0]
    assert {"name", "when", "order", "participants", "codings"} <= set(first)
    assert first["participants"] == ["Leader A", "Manager B"] and first["disagreement"]
    assert [e["name"] for e in json.loads(ok("timeline", "--participant", "Leader A", "--json"))["events"]] == ["Launch"]
    by_role = json.loads(ok("timeline", "--attribute", "role=manager", "--json"))["events"]
    assert [(e["name"], e["participants"]) for e in by_role] == [("Launch", ["Manager B"]), ("Pandemic", ["Manager B"])]
    bad_filter = runner.invoke(app, ["timeline", "--attribute", "role", *where])
    assert bad_filter.exit_code == 1 and "SL6204" in bad_filter.output
    ok("timeline", "--output", str(tmp_path / "t.svg"))
    assert (tmp_path / "t.svg").is_file()
    ok("timeline", "--output", str(tmp_path / "t.png"))
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    story = json.loads(ok("restory", "Manager B", "--json"))
    assert [p["event"] for p in story["passages"]] == ["Launch", "Pandemic"]
    v = project.vignettes.create("Hope", items=[{"kind": "narrative", "text": "It began with hope."},
                                                {"kind": "quote", **_span(project, "leader_a.txt", "We launched the programme with real hope.")}])
    ok("chapter", "create", "Findings")
    ok("chapter", "add", "Findings", "--vignette", str(v.id), "--heading", "A hopeful start")
    chapters = json.loads(ok("chapter", "list", "--json"))["chapters"]
    assert chapters[0]["sections"][0]["heading"] == "A hopeful start"
    ok("chapter", "export", "Findings", "--format", "md", "--output", str(tmp_path / "f.md"), "--skip-disclosure-check",
       "--figure", "timeline")
    assert "## A hopeful start" in (tmp_path / "f.md").read_text(encoding="utf-8")
    assert "**Figure 1. The story in time**" in (tmp_path / "f.md").read_text(encoding="utf-8")
    bad = runner.invoke(app, ["event", "link", "Nope", "--coding", "1", *where])
    assert bad.exit_code == 1 and "No event named 'Nope'" in bad.output and "Traceback" not in bad.output


# -- the Story page -------------------------------------------------------------------------------------
def test_story_page_timeline_restorying_and_chapter(project, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    _chapter(project)
    monkeypatch.setenv("STORYLOOM_PROJECT", str(project.path))
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.switch_page("analysis/workbench/pages/story.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("different times" in (w.value or "") for w in [*at.warning, *at.markdown, *at.caption])
    assert any("vega" in k.lower() for k in _walk(at.main)), "the timeline chart renders"
    # only the open tab runs (lazy tabs): the chapter's downloads are not made while the timeline is read
    assert not any(d.proto.label == "Markdown" for d in at.get("download_button"))
    assert not any(b.label == "Draft a vignette in story order" for b in at.button)
    at.session_state["st_tab"] = "Restorying"
    at.run()
    # restorying Leader A: in story order, Manager B's events shown as gaps in their place
    assert any("a gap: told by Manager B, not by Leader A" in m.value for m in at.markdown)
    assert any(b.label == "Draft a vignette in story order" for b in at.button)
    at.session_state["st_tab"] = "Chapter"
    at.run()
    assert {"Markdown", "Word (.docx)", "LaTeX", "HTML"} <= {d.proto.label for d in at.get("download_button")}
    at.session_state["st_tab"] = "Timeline"
    at.run()
    next(t for t in at.text_input if t.label == "Event name").input("Restructure")
    next(t for t in at.text_input if t.label == "When").input("2021")
    next(b for b in at.button if b.label == "Mark the event").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert project.story.event("Restructure").when == When("year", "2021")
    next(t for t in at.text_input if t.label == "Event name").input("")
    next(b for b in at.button if b.label == "Mark the event").click()
    at.run()
    assert at.error and "needs a name" in at.error[0].value


def _walk(node) -> list[str]:
    """Every element type under ``node`` (AppTest's tree), for elements AppTest has no accessor for."""
    found = [getattr(node, "type", "")]
    for child in getattr(node, "children", {}).values():
        found += _walk(child)
    return found


def test_disclosure_check_reads_the_whole_chapter(project) -> None:
    ch = _chapter(project)
    chapters = project.chapters
    chapters.edit(ch.id, introduction="Fieldwork took place at Wellington Polytechnic with Sarah Johnson.")
    flags = chapters.disclosure_flags(ch.id)
    assert {"the introduction"} == {f.quote for f in flags} and any("Sarah Johnson" in f.text for f in flags)
    with pytest.raises(ExportError, match="may identify someone"):
        chapters.render(ch.id)
    for f in flags:
        project.disclosure.accept_term(f.text)
    assert chapters.render(ch.id).decode().count("## ") == 5


def test_a_chapter_refusal_reads_like_a_vignette_refusal(project) -> None:
    """One publishing check (analysis.domain.disclosure.check_publishable): a chapter's refusal names what a
    flag is in words, as a vignette's does, never spaCy's ORG or GPE."""
    words = "Fieldwork took place at Wellington Polytechnic with Sarah Johnson."
    ch = _chapter(project)
    project.chapters.edit(ch.id, introduction=words)
    v = project.vignettes.create("Fieldwork", items=[{"kind": "narrative", "text": words}])
    refusals = []
    for export in (lambda: project.chapters.render(ch.id), lambda: project.exports.render_vignette(v.id)):
        with pytest.raises(ExportError, match="may identify someone") as refused:
            export()
        refusals.append(str(refused.value))
    listed = [re.findall(r"'[^']+' \(([^,]+), in ", r) for r in refusals]
    assert listed[0] and listed[0] == listed[1], refusals
    assert "a person's name" in listed[0] and not {"ORG", "GPE", "PERSON"} & set(listed[0])


def test_refi_export_carries_events_as_codes_of_an_events_group(project, make_project, tmp_path) -> None:
    import zipfile

    from analysis.refi.read import parse_project
    from analysis.refi.schema import validate
    from tests.formats.test_refi import REFI, XSDS

    ids = _story(project)
    out = project.interchange.export_project(tmp_path / "story.qdpx")
    with zipfile.ZipFile(out) as z:
        qde = z.read("project.qde")
    if REFI.is_dir():
        for xsd in XSDS:
            assert validate(qde, xsd) == [], xsd.name
    parsed = parse_project("story.qdpx", qde)
    (group,) = [c for c in parsed.codes if c.name == "Events"]
    assert not group.codable
    timeline = project.story.timeline()
    assert [c.name for c in group.children] == [e.name for e in timeline]  # in story order
    assert [c.guid for c in group.children] == [e.guid for e in timeline]
    launch = group.children[0]
    assert launch.description == "When in the story: 2018 (number 1 in story order).\n\nThe programme is launched"
    # each link is a coding of the linked passage with the event's code
    linked = {(s.name, sel.start, sel.end) for s in parsed.sources for sel in s.selections
              if any(c.code_guid == launch.guid for c in sel.codings)}
    frame = project.explore.codings_frame().set_index("coding_id")
    assert linked == {(str(frame.loc[i, "transcript"]), int(frame.loc[i, "start"]), int(frame.loc[i, "end"]))
                      for i in (ids["launched"], ids["launch"])}
    # a fresh project imports it without breaking: the events arrive as codes of an "Events" theme
    fresh = make_project("dst")
    fresh.interchange.import_project(out)
    paths = fresh.codebook.code_paths()
    assert {f"Events > {e.name}" for e in timeline} <= set(paths.values())
    events_codings = [c for t in fresh.transcripts.list() for c in fresh.codings.codings_in(t.name)
                      if paths[c.code_id] == "Events > Launch"]
    assert len(events_codings) == 2
    assert fresh.interchange.import_project(out)["added"] == 0  # the re-import merges


def test_chapter_figures_timeline_case_matrix_and_themes_in_every_format(project, tmp_path) -> None:
    ch = _chapter(project)
    story, chapters = project.story, project.chapters
    with pytest.raises(ValidationError, match="SL6202"):  # no cases yet: said, not an empty table
        chapters.render(ch.id, format="md", disclosure=False, figures=["cases"])
    with pytest.raises(ValidationError, match="SL6201"):
        chapters.render(ch.id, format="md", disclosure=False, figures=["map"])
    project.cases.add("Short courses", kind="programme")
    project.cases.add_condition("Employer asked")
    project.cases.set_cell("Short courses", "Employer asked", 1)
    figures = ["timeline", "cases", "themes"]
    md = chapters.render(ch.id, format="md", disclosure=False, figures=figures).decode()
    assert md.index("**Figure 1. The story in time**") < md.index("**Table 1. Cases compared**") \
        < md.index("**Table 2. Themes across participants**") < md.index("## Sources of quotes")
    assert "| 1 | Launch | 2018 | Leader A, Manager B |" in md  # story order, who tells it
    assert "Manager B places it in 2017" in md  # the disagreement is said in the caption and the table
    assert "| Short courses | ✓ |" in md and "| Trajectory | 3 | 3 |" in md  # its code's passages too
    html = chapters.render(ch.id, format="html", disclosure=False, figures=figures).decode()
    assert html.count("<figure") == 3 and "<svg" in html and "<figcaption><strong>Table 2." in html
    tex = chapters.render(ch.id, format="tex", disclosure=False, figures=figures).decode()
    assert tex.count(r"\begin{table}") == 3 and "Short courses & 1" in tex and "✓" not in tex
    from docx import Document as Docx
    doc = Docx(io.BytesIO(chapters.render(ch.id, format="docx", disclosure=False, figures=figures)))
    assert len(doc.inline_shapes) == 1  # the timeline as a picture
    assert len(doc.tables) == 3  # the matrix, the themes, the sources
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert [c.split(".")[0] for c in captions] == ["Figure 1", "Table 1", "Table 2"]
    # the timeline on its own, as a picture for a paper
    png = story.export_timeline(tmp_path / "timeline.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ExportError, match="SL7020"):
        story.export_timeline(tmp_path / "timeline.gif")
