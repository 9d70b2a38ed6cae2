"""Issue 15, what a researcher's first week trips over: transcripts from the services researchers use
(Otter.ai, Word/Teams Transcribe, Zoom, Rev, Trint, Descript; .txt and .docx), participants.csv
heading synonyms, Markdown shown without markup (offsets unchanged), `storyloom import` keeping a
copy in transcripts/ so that `sync` agrees, and `storyloom speaker map`.

Synthetic fixtures are written here for the styles the external data lacks; the real Zoom
recording in /work/shared/extdata is re-rendered in memory in each service's layout (never copied).
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.errors import ParticipantsFileError
from analysis.ingest import read_transcript
from analysis.ingest.markdown import markup_spans, plain
from analysis.ingest.subtitles import parse_cues
from analysis.ingest.text import match_label
from analysis.domain.model import ParsedTranscript
from analysis.files.participants_csv import parse_participants
from tests.conftest import EXTDATA, REPO, needs_extdata
from analysis.workbench.components.coder import TurnSpan, html_text, transcript_html

runner = CliRunner()


def parse(source: str, name: str = "t.txt") -> ParsedTranscript:
    parsed = read_transcript(name, source.encode("utf-8"))
    check(parsed)
    return parsed


def check(parsed: ParsedTranscript) -> None:
    """The reader contract: NFC, no CR, turns in order, each a stripped span, lines from 1."""
    text = parsed.text
    assert "\r" not in text and unicodedata.normalize("NFC", text) == text
    for turn in parsed.turns:
        assert 0 <= turn.start < turn.end <= len(text)
        assert text[turn.start:turn.end] == text[turn.start:turn.end].strip()
        assert turn.line is not None and turn.line >= 1
    for a, b in zip(parsed.turns, parsed.turns[1:]):
        assert a.end <= b.start


def turns(parsed: ParsedTranscript) -> list[tuple[str, float | None, str]]:
    return [(t.speaker, t.t_start, parsed.text[t.start:t.end]) for t in parsed.turns]


# -- timestamped block formats ------------------------------------------------------------------------------
OTTER = """Ana Smith  0:02
Thanks for joining me today.

Ben Jones  0:05
Happy to be here.
It has been a long year.

Ben Jones  0:41
Where was I. The funding.

Ana Smith  1:02:03
Tell me more.

Transcribed by https://otter.ai
"""


def test_otter_blocks_of_one_speaker_are_one_turn_with_the_first_timestamp() -> None:
    parsed = parse(OTTER)
    assert turns(parsed) == [
        ("Ana Smith", 2.0, "Thanks for joining me today."),
        ("Ben Jones", 5.0, "Happy to be here.\nIt has been a long year.\n\nWhere was I. The funding."),
        ("Ana Smith", 3723.0, "Tell me more."),
    ]
    assert [t.line for t in parsed.turns] == [1, 4, 11]  # the source file's lines
    assert parsed.turns[1].t_end == 3723.0
    assert "Ben Jones  0:41" not in parsed.text and "Transcribed by" in parsed.text  # kept, outside every turn
    assert parsed.warnings == ()


@pytest.mark.parametrize(("source", "expected"), [
    # Microsoft Word / Teams Transcribe (.txt): name then time, or time then name
    ("Speaker 1  00:00:05\nHello there.\n\nSpeaker 2  00:00:09\nHi.\n\nSpeaker 2  00:00:12\nAgain.\n",
     [("Speaker 1", 5.0, "Hello there."), ("Speaker 2", 9.0, "Hi.\n\nAgain.")]),
    ("00:00:05 Speaker 1\nHello there.\n00:00:09 Speaker 2\nHi.\n00:00:12 Speaker 2\nAgain.\n",
     [("Speaker 1", 5.0, "Hello there."), ("Speaker 2", 9.0, "Hi.\nAgain.")]),
    # Zoom's saved transcript
    ("[Dora Demszky] 10:02:03\nHello.\n[Ashlee Kupor] 10:02:09\nHi there.\n[Ashlee Kupor] 10:02:15\nMore.\n",
     [("Dora Demszky", 36123.0, "Hello."), ("Ashlee Kupor", 36129.0, "Hi there.\nMore.")]),
    # Rev
    ("Speaker 1 (00:00):\nRev style.\n\nSpeaker 1 (00:07):\nSame speaker.\n\nSpeaker 2 (01:12):\nOther.\n",
     [("Speaker 1", 0.0, "Rev style.\n\nSame speaker."), ("Speaker 2", 72.0, "Other.")]),
    # Trint
    ("[00:00:01] Mere Tane\nFirst.\n\n[00:00:06] Sam Roe\nSecond.\n\n[00:00:09] Sam Roe\nThird.\n",
     [("Mere Tane", 1.0, "First."), ("Sam Roe", 6.0, "Second.\n\nThird.")]),
    # Descript (label and words on one line)
    ("[00:00:00] Kelly: Descript one.\n\n[00:00:04] Kelly: Descript two.\n\n[00:00:09] Sam: Reply.\n",
     [("Kelly", 0.0, "Descript one.\n\nDescript two."), ("Sam", 9.0, "Reply.")]),
], ids=["teams-name-time", "word-time-name", "zoom", "rev", "trint", "descript"])
def test_service_styles_in_txt(source: str, expected: list[tuple[str, float, str]]) -> None:
    assert turns(parse(source)) == expected


def test_untimed_repeats_and_lone_name_time_lines_are_not_blocks() -> None:
    # a repeated untimed label still starts a new turn (tests/formats/test_ingest.py), and one stray
    # "Name 10:30" line in prose is no block header (a block format has at least two)
    parsed = parse("Ana: One.\n\nAna: Two.\n\nBob: The bus left at\nMonday 10:30\nsharp.\n")
    assert turns(parsed) == [("Ana", None, "One."), ("Ana", None, "Two."),
                             ("Bob", None, "The bus left at\nMonday 10:30\nsharp.")]


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        paragraph = document.add_paragraph()
        for k, part in enumerate(text.split("\n")):
            run = paragraph.add_run(part)
            if k < text.count("\n"):
                run.add_break()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_teams_and_word_transcribe_docx() -> None:
    teams = read_transcript("teams.docx", docx_bytes([
        "Meeting transcript", "Dora Demszky   0:03", "Okay, we are recording.", "Ashlee Kupor   0:09",
        "Great, thanks.", "Ashlee Kupor   0:15", "One more thing.", "Dora Demszky   1:02", "Sure."]))
    check(teams)
    assert turns(teams) == [("Dora Demszky", 3.0, "Okay, we are recording."),
                            ("Ashlee Kupor", 9.0, "Great, thanks.\n\nOne more thing."),
                            ("Dora Demszky", 62.0, "Sure.")]
    assert [t.line for t in teams.turns] == [2, 4, 8]  # paragraph numbers of the first block
    word = read_transcript("word.docx", docx_bytes([
        "00:00:00 Speaker 1\nSo tell me.", "00:00:04 Speaker 2\nWell.", "00:00:07 Speaker 2\nIt began in 2019."]))
    check(word)
    assert turns(word) == [("Speaker 1", 0.0, "So tell me."), ("Speaker 2", 4.0, "Well.\n\nIt began in 2019.")]


def _zoom_cues() -> list[tuple[str, float, str]]:
    """The real Zoom recording's cues as (speaker, start, words); unlabelled cues continue a speaker."""
    vtt = (EXTDATA / "transcripts" / "vtt" / "cip_zoom_transcript.vtt").read_text(encoding="utf-8")
    out, speaker = [], "Speaker"
    for cue in parse_cues("zoom.vtt", vtt, "vtt"):
        label = match_label(cue.text)
        words = cue.text[label.content:] if label else cue.text
        speaker = label.speaker if label else speaker
        if words.strip():
            out.append((speaker, cue.start, words.strip()))
    return out


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@needs_extdata
@pytest.mark.parametrize("style", ["otter", "zoom", "word", "teams-docx"])
def test_a_real_recording_in_each_service_layout_gives_the_subtitle_readers_turns(style: str) -> None:
    """The Zoom recording's cues rendered as Otter / Zoom-saved / Word blocks (one block per cue):
    the same turns as the VTT reader, which merges consecutive cues of one speaker."""
    cues = _zoom_cues()
    vtt = read_transcript("zoom.vtt", (EXTDATA / "transcripts" / "vtt" / "cip_zoom_transcript.vtt").read_bytes())
    header = {"otter": lambda who, t: f"{who}  {int(t) // 60}:{int(t) % 60:02d}",
              "zoom": lambda who, t: f"[{who}] {_clock(t)}",
              "word": lambda who, t: f"{_clock(t)} {who}",
              "teams-docx": lambda who, t: f"{who}   {int(t) // 60}:{int(t) % 60:02d}"}[style]
    if style == "teams-docx":
        parsed = read_transcript("zoom.docx", docx_bytes([p for who, t, words in cues for p in (header(who, t), words)]))
    else:
        parsed = read_transcript("zoom.txt", "\n\n".join(f"{header(who, t)}\n{words}" for who, t, words in cues).encode())
    check(parsed)
    assert len(parsed.turns) == len(vtt.turns) > 50
    assert [t.speaker for t in parsed.turns] == [t.speaker for t in vtt.turns]
    assert [int(t.t_start or 0) for t in parsed.turns] == [int(t.t_start or 0) for t in vtt.turns]
    for mine, theirs in zip(parsed.turns, vtt.turns):
        assert parsed.text[mine.start:mine.end].split() == vtt.text[theirs.start:theirs.end].split()


# -- participants.csv ----------------------------------------------------------------------------------------------
def test_participants_csv_heading_synonyms() -> None:
    [row] = parse_participants("participants.csv", b"Name,File,Speaker Label,unit\nAna,a.txt,Speaker 2,Ops\n")
    assert (row.pseudonym, row.transcripts, row.speakers, row.attributes) == ("Ana", ("a.txt",), ("Speaker 2",),
                                                                              {"unit": "Ops"})
    [row] = parse_participants("p.csv", b"participant,document,speaker\nAna,a.docx,Ana\n")
    assert row.transcripts == ("a.docx",)
    [row] = parse_participants("p.csv", b"pseudonym,name,filename,speaker\nAna,Someone,a.txt,Ana\n")
    assert row.pseudonym == "Ana" and row.attributes == {"name": "Someone"}  # the usual name wins


@pytest.mark.parametrize(("header", "message"), [
    ("who,file,speaker", "line 1: the header has no column for the pseudonym. Name it 'pseudonym', 'name' or "
                         "'participant' (the header row has: who, file, speaker)."),
    ("name,path,speaker", "no column for the transcript file. Name it 'transcript', 'file', 'filename', "
                          "'file name' or 'document'"),
    ("name,file,filename,speaker", "two columns for the transcript file: 'file', 'filename'."),
])
def test_participants_csv_without_a_known_heading_is_refused_clearly(header: str, message: str) -> None:
    with pytest.raises(ParticipantsFileError, match=re.escape(message)):
        parse_participants("participants.csv", f"{header}\nAna,a.txt,Ana,x\n".encode())


def test_a_synonym_participants_csv_maps_the_speakers(make_project: Any) -> None:
    p = make_project(transcripts={"otter.txt": OTTER, "participants.csv": "name,file,speaker\nBen,otter.txt,Ben Jones\n"})
    [row] = p.transcripts.list()
    assert row.participants == ("Ben",)


# -- Markdown: hidden at display, offsets unchanged ------------------------------------------------------------------
def _visible(html: str) -> str:
    return html_text(re.sub(r'<span class="mk" hidden>[^<]*</span>', "", html))


def test_markdown_markup_is_hidden_in_read_and_code_with_offsets_unchanged() -> None:
    source = (REPO / "transcripts" / "leader_b.md").read_bytes()
    parsed = read_transcript("leader_b.md", source)
    assert parsed.text == source.decode("utf-8")  # stored as written: every offset is into the file's text
    spans = [TurnSpan(t.start, t.end, t.speaker, None, t.speaker == "Interviewer") for t in parsed.turns]
    html = transcript_html(parsed.text, spans, [], markup=markup_spans(parsed.text))
    assert html_text(html) == parsed.text  # the DOM text (what a selection is measured in) is unchanged
    shown = _visible(html)
    assert "**" not in shown and not re.search(r"(?m)^#", shown)
    assert shown.startswith("Interview with Leader B") and "Leader B: [00:00:12] Yep" in shown
    assert shown == plain(parsed.text)


@pytest.mark.parametrize(("md", "seen"), [
    ("# Title\n\n**Ana:** I *really* mean it.", "Title\n\nAna: I really mean it."),
    ("## Part two ##\n> quoted\n---\nsnake_case and 2*3*4", "Part two\nquoted\n\nsnake_case and 2*3*4"),
    ("See [the report](http://x.org) and `code`, \\*not emphasis\\*.", "See the report and code, *not emphasis*."),
])
def test_plain_markdown(md: str, seen: str) -> None:
    assert plain(md) == seen


# -- import keeps a copy; sync agrees; speaker map in the CLI ----------------------------------------------------------
def test_import_copies_the_file_into_transcripts_so_sync_agrees(make_project: Any, tmp_path: Path) -> None:
    p = make_project()
    elsewhere = tmp_path / "downloads" / "otter.txt"
    elsewhere.parent.mkdir()
    elsewhere.write_text(OTTER, encoding="utf-8")
    report = p.transcripts.import_files([elsewhere])
    assert report["added"] == ["otter.txt"] and report["copied"] == ["otter.txt"]
    assert (p.transcripts_dir / "otter.txt").read_bytes() == elsewhere.read_bytes()
    again = p.sync()
    assert again["missing"] == [] and again["unchanged"] == ["otter.txt"]
    # importing the file already in transcripts/ copies nothing
    assert p.transcripts.import_files([p.transcripts_dir / "otter.txt"])["copied"] == []
    # a new version from elsewhere replaces the copy; the previous file is kept beside it
    elsewhere.write_text(OTTER.replace("Tell me more.", "Tell me more, please."), encoding="utf-8")
    report = p.transcripts.import_files([elsewhere])
    assert report["updated"] == ["otter.txt"] and report["replaced"] == ["otter.txt"]
    assert (p.transcripts_dir / "otter.txt.bak").read_text(encoding="utf-8") == OTTER
    assert p.sync()["unchanged"] == ["otter.txt"]


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    return result


def test_cli_import_then_speaker_map(make_project: Any, tmp_path: Path) -> None:
    p = make_project()
    where = ["--project", str(p.path)]
    source = tmp_path / "teams.txt"
    source.write_text("Speaker 1  00:00:05\nSo how did it start?\n\nSpeaker 2  00:00:09\nSlowly.\n", encoding="utf-8")
    result = cli("import", str(source), *where)
    assert result.exit_code == 0, result.output
    assert "Copied into transcripts/: teams.txt" in result.output
    assert json.loads(cli("sync", "--json", *where).output)["missing"] == []
    missing = cli("speaker", "map", "teams.txt", "Speaker 2", "Aroha", *where)
    assert missing.exit_code == 1 and "[SL8005]" in missing.output and "--new" in missing.output
    assert cli("speaker", "map", "teams.txt", "Speaker 2", *where).exit_code == 1  # nobody named
    ok = cli("speaker", "map", "teams.txt", "Speaker 2", "Aroha", "--new", "--json", *where)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["participant"] == "Aroha"
    assert p.audit_trail()[-1].action == "speaker.map" and p.audit_trail()[-2].action != "participant.add"  # one step
    assert cli("speaker", "map", "teams.txt", "Speaker 1", "--interviewer", *where).exit_code == 0
    speakers = {s.label: s for s in p.transcripts.list()[0].speakers}
    assert speakers["Speaker 2"].participant == "Aroha" and speakers["Speaker 1"].interviewer
    wrong = cli("speaker", "map", "teams.txt", "Speaker 9", "Aroha", *where)
    assert wrong.exit_code == 1 and "no speaker labelled 'Speaker 9'" in wrong.output


def test_read_and_code_quotes_a_markdown_selection_without_markup(make_project: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    md = "# Interview 3\n\n**Interviewer:** How did it start?\n\n**Aroha:** It was *really* hard at first.\n"
    project = make_project("md", transcripts={"aroha.md": md})
    monkeypatch.setenv("STORYLOOM_PROJECT", str(project.path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("analysis/workbench/pages/read_code.py").run()
    start = md.index("It was")
    at.session_state["rc_transcript"] = "aroha.md"
    at.session_state["rc_selection"] = {"transcript": "aroha.md", "start": start, "end": md.index(" at first")}
    at.run()
    assert not at.exception, at.exception
    assert any("It was really hard" in m.value for m in at.markdown), [m.value for m in at.markdown]


def test_a_copy_that_cannot_be_written_is_a_warning_not_a_failed_import(make_project: Any, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from analysis.services import transcripts as service

    def full(*_args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    p = make_project()
    source = tmp_path / "a.txt"
    source.write_text(OTTER, encoding="utf-8")
    monkeypatch.setattr(service.os, "replace", full)
    report = p.transcripts.import_files([source])
    assert report["added"] == ["a.txt"] and report["copied"] == []
    [warning] = report["copy_warnings"]
    assert "could not keep a copy in transcripts/ (No space left on device)" in warning
    assert [f.name for f in p.transcripts_dir.iterdir()] == []  # no half-written file left behind


def test_two_stray_name_time_lines_among_labels_are_not_speakers() -> None:
    parsed = parse("Interviewer: What happened then?\n\nAna: We stopped.\nLunch  12:00\nBreak  12:30\n"
                   "Then we went on.\n\nInterviewer: And after?\n\nAna: More work.\n")
    assert [t.speaker for t in parsed.turns] == ["Interviewer", "Ana", "Interviewer", "Ana"]
