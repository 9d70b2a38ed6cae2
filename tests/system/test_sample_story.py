"""The sample study's story in time (issue 16 item 6): codebooks/story.yaml gives the programme's events from
the launch to the pandemic and the merger, each linked to coded passages that tell of it, and a findings
chapter of headed sections; the story file loader (StoryService.import_file) and sync_folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pytest
import yaml

from analysis import Project
from analysis.errors import CodebookFileError
from analysis.services.results import StoryFileImport

REPO = Path(__file__).resolve().parents[2]
STORY_YAML = REPO / "codebooks" / "story.yaml"


# -- the sample study (real models) -------------------------------------------------------------------
@pytest.mark.slow
def test_sample_study_has_its_story_in_time(sample_project: Project) -> None:
    p = sample_project
    committed = yaml.safe_load(STORY_YAML.read_text(encoding="utf-8"))
    timeline = p.story.timeline()
    assert {e.name for e in timeline} == {e["name"] for e in committed["events"]}
    names = [e.name for e in timeline]
    # the trajectory in story order: launch, products without learners, the EV credential, pandemic, merger
    for earlier, later in [("Micro-credentials made permanent", "The stackable catalogue launched"),
                           ("The stackable catalogue launched", "The assessment-only credential finds no learners"),
                           ("The assessment-only credential finds no learners", "The transport company asks for an EV credential"),
                           ("Academic board sends the EV credential back", "The regulator's questions hold the EV credential"),
                           ("The first lockdown", "The EV credential approved, too late"),
                           ("Free fees for trades training", "The heat pump credential fills its cohorts"),
                           ("The heat pump credential fills its cohorts", "Waiting for the national institution")]:
        assert names.index(earlier) < names.index(later), (earlier, later)
    by_name = {e.name: e for e in timeline}
    # every participant tells part of the story; most events are told by more than one of them
    assert {who for e in timeline for who in e.participants} == {p_.pseudonym for p_ in p.participants.list()}
    assert sum(len(e.participants) > 1 for e in timeline) >= 10
    # the request's date is told differently, and the timeline says so
    request = by_name["The transport company asks for an EV credential"]
    assert "Leader A places it in 2018" in request.disagreement and "Manager A places it in February 2019" in request.disagreement
    assert by_name["A subsidiary of the national institution"].placement.tied == ("The EV credential approved, too late",)
    # every link is a coded passage whose text is in its transcript, as the file quotes it
    frame = p.explore.codings_frame().set_index("coding_id")
    for event in committed["events"]:
        quoted = set()
        for cid in by_name[event["name"]].codings:
            row = frame.loc[cid]
            quoted.add((str(row["transcript"]), p.transcripts.get(str(row["transcript"])).text[int(row["start"]):int(row["end"])]))
        for ev in event["evidence"]:
            assert (ev["transcript"], ev["quote"]) in quoted, (event["name"], ev["quote"][:50])
    # participants interviewed before the pandemic do not tell it: a gap in their restorying
    story = p.story.restory("Academic A")
    assert [s.order for s in story.passages] == sorted(s.order for s in story.passages)
    assert "The first lockdown" in {g.name for g in story.gaps}
    assert p.sync()["events_imported"] == 0  # the project has events now: not imported twice
    assert len(p.story.timeline()) == len(committed["events"])


@pytest.mark.slow
def test_sample_chapter_exports_every_section_and_verified_quote(sample_project: Project, tmp_path: Path) -> None:
    p = sample_project
    committed = yaml.safe_load(STORY_YAML.read_text(encoding="utf-8"))["chapters"][0]
    (chapter,) = p.chapters.list()
    assert chapter.title == committed["title"] and len(chapter.sections) >= 4
    assert [s.heading for s in chapter.sections] == [s["heading"] for s in committed["sections"]]
    out = p.chapters.export(chapter.id, tmp_path / "findings.docx")  # disclosure and quote checks on
    document = docx.Document(str(out))
    text = "\n".join(par.text for par in document.paragraphs)
    headings = [par.text for par in document.paragraphs if par.style.name.startswith("Heading")]
    assert headings == [s["heading"] for s in committed["sections"]] + ["Sources of quotes"]
    quotes = [i for s in committed["sections"] for i in s["items"] if "quote" in i]
    straight = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
    printed = " ".join(text.translate(straight).split())  # the export sets typographic marks; the words are verbatim
    for q in quotes:  # verbatim (a run-in quote drops its closing full stop before the attribution)
        assert " ".join(q["quote"].split()).rstrip(".") in printed, q["quote"][:60]
    (table,) = document.tables
    assert len(table.rows) == len(quotes) + 1  # one consolidated appendix: a row per quote
    words = p.chapters.word_counts(chapter.id)
    assert all(s.words > 100 for s in words.sections)


# -- the loader (fast: hashing embedder) --------------------------------------------------------------
INTERVIEW = """Interviewer: When did the course start?

Leader A: We launched it in March 2019, and the first cohort filled in a week.

Interviewer: And then?

Leader A: Then the lockdown came and everything stopped.
"""
OTHER = """Interviewer: When did the course start?

Academic A: It started the year before, in 2018, with a pilot group.
"""
LAUNCHED = "We launched it in March 2019, and the first cohort filled in a week."
STOPPED = "Then the lockdown came and everything stopped."
PILOT = "It started the year before, in 2018, with a pilot group."


@pytest.fixture
def coded(make_project: Callable[..., Project]) -> Project:
    p = make_project(transcripts={"Interview 1.txt": INTERVIEW, "Interview 2.txt": OTHER, "participants.csv":
                                  "pseudonym,transcript,speaker,interviewer\nLeader A,Interview 1.txt,Leader A,\n"
                                  "Academic A,Interview 2.txt,Academic A,\n"})
    for transcript, name, quote in (("Interview 1.txt", "Launch", LAUNCHED), ("Interview 1.txt", "Stop", STOPPED),
                                    ("Interview 2.txt", "Launch", PILOT)):
        text = p.transcripts.get(transcript).text
        code = next((c for c in p.codebook.codes() if c.name == name), None) or p.codebook.add_code(name)
        start = text.index(quote)
        p.codings.add_coding(transcript=transcript, start=start, end=start + len(quote), code=code.id)
    return p


GOOD = f"""storyloom_story: 1
periods:
- name: the pandemic
  dates: '2020'
events:
- name: Course launched
  when: March 2019
  evidence:
  - transcript: Interview 1.txt
    quote: {LAUNCHED}
  - transcript: Interview 2.txt
    quote: {PILOT}
    when: 2018
- name: Lockdown
  when: the pandemic
  evidence:
  - {{transcript: Interview 1.txt, quote: {STOPPED}}}
- name: Course paused
  when: after Lockdown
chapters:
- title: Findings
  introduction: The course in time.
  sections:
  - heading: A launch remembered twice
    items:
    - text: The participants date the launch differently.
    - transcript: Interview 1.txt
      quote: {LAUNCHED}
    - {{transcript: Interview 2.txt, quote: 'with a pilot group'}}
"""


def _file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "story.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_import_file_adds_periods_events_links_and_chapters_in_one_undoable_action(coded: Project, tmp_path: Path) -> None:
    p = coded
    done = p.story.import_file(_file(tmp_path, GOOD))
    assert done == StoryFileImport(periods=1, events=3, links=3, chapters=1, sections=1)
    timeline = p.story.timeline()
    assert [e.name for e in timeline] == ["Course launched", "Lockdown", "Course paused"]
    assert timeline[0].participants == ("Academic A", "Leader A") and "Academic A places it in 2018" in timeline[0].disagreement
    (chapter,) = p.chapters.list()
    quotes = [i for i in chapter.sections[0].items if i.kind == "quote"]
    assert [q.text for q in quotes] == [LAUNCHED, "with a pilot group"]  # a whole coding, and an exact part of one
    assert quotes[1].participant == "Academic A" and quotes[1].source == "with a pilot group"
    assert p.audit_trail(limit=1)[0].action == "event.file.import"
    p.undo()
    assert p.story.timeline() == [] and p.chapters.list() == [] and p.story.periods() == []


def test_sync_folder_imports_the_story_file_only_into_a_project_without_events(coded: Project) -> None:
    p = coded
    assert p.story.sync_folder() == 0  # no codebooks/story.yaml
    p.ctx.codebooks_dir.mkdir(parents=True, exist_ok=True)
    (p.ctx.codebooks_dir / "story.yaml").write_text(GOOD, encoding="utf-8")
    assert p.story.sync_folder() == 3
    assert p.story.sync_folder() == 0
    assert len(p.chapters.list()) == 1


@pytest.mark.parametrize(("change", "path", "words"), [
    (("when: March 2019", "when: '2019-02-30'"), "events[0].when", "not a time in the story"),
    (("when: after Lockdown", "when: after Lockdwn"), "events[2].when", "No event named 'Lockdwn'"),
    (("quote: {STOPPED}".format(STOPPED=STOPPED), "quote: Then the lockdown came."), "events[1].evidence[0].quote",
     "matches no coding of Interview 1.txt"),
    (("transcript: Interview 2.txt, quote: 'with", "transcript: Interview 9.txt, quote: 'with"),
     "chapters[0].sections[0].items[2].transcript", "not a transcript of this project"),
    (("'with a pilot group'", "'with a pilot crowd'"), "chapters[0].sections[0].items[2].quote", "an exact part of one"),
    (("  dates: '2020'", "  dates: soon"), "periods[0].dates", "not a date, a month or a year"),
    (("- name: Lockdown\n", "- name: course LAUNCHED\n"), "events[1].name", "named twice"),
    (("  introduction:", "  colour: red\n  introduction:"), "chapters[0].colour", "not a key of a chapter"),
])
def test_import_file_errors_name_the_file_and_the_yaml_path(coded: Project, tmp_path: Path, change: tuple[str, str],
                                                           path: str, words: str) -> None:
    assert change[0] in GOOD
    bad = _file(tmp_path, GOOD.replace(change[0], change[1], 1))
    with pytest.raises(CodebookFileError) as err:
        coded.story.import_file(bad)
    message = str(err.value)
    assert "story.yaml" in message and path in message and words in message, message
    assert coded.story.timeline() == [] and coded.chapters.list() == []  # nothing written


def test_import_file_refuses_invalid_yaml_naming_the_line(coded: Project, tmp_path: Path) -> None:
    with pytest.raises(CodebookFileError) as err:
        coded.story.import_file(_file(tmp_path, "events: [a\nchapters: []\n"))
    assert "story.yaml" in str(err.value) and "line" in str(err.value)
