"""Transcript readers: formats, label conventions, offsets (invariant 1), bad input, real files."""

from __future__ import annotations

import re

import io
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import ImportFormatError, UnsupportedFormatError
from analysis.ingest import SUPPORTED_SUFFIXES, is_interviewer_label, read_transcript
from analysis.ingest.decode import decode
from analysis.ingest.subtitles import parse_cues
from analysis.ingest.text import NO_LABELS_WARNING, match_label, parse_text, read_text
from analysis.domain.model import ParsedTranscript

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
EXTDATA = Path(__file__).resolve().parents[3] / "shared" / "extdata"
TRANSCRIPTS = EXTDATA / "transcripts"


def spans(parsed: ParsedTranscript) -> list[tuple[str, str]]:
    """(speaker, text[start:end]) for every turn."""
    return [(t.speaker, parsed.text[t.start : t.end]) for t in parsed.turns]


def check_offsets(parsed: ParsedTranscript) -> None:
    """Invariant 1 and the reader contract, for any parsed transcript."""
    text = parsed.text
    assert "\r" not in text
    assert unicodedata.normalize("NFC", text) == text
    for turn in parsed.turns:
        assert 0 <= turn.start < turn.end <= len(text)
        content = text[turn.start : turn.end]
        assert content == content.strip(), turn
        assert turn.line is not None and turn.line >= 1
        if turn.t_start is not None and turn.t_end is not None:
            assert turn.t_end >= turn.t_start
    for a, b in zip(parsed.turns, parsed.turns[1:]):
        assert a.end <= b.start



def txt(source: str, name: str = "t.txt") -> ParsedTranscript:
    parsed = read_transcript(name, source.encode("utf-8"))
    check_offsets(parsed)
    return parsed


# --------------------------------------------------------------------------- dispatch, labels


def test_unknown_extension_is_refused() -> None:
    with pytest.raises(UnsupportedFormatError) as err:
        read_transcript("notes.pdf", b"%PDF-1.4")
    message = str(err.value)
    assert "notes.pdf" in message
    assert "is not a transcript format Storyloom reads (.txt, .md, .docx, .vtt, .srt, .sbv)" in message
    with pytest.raises(UnsupportedFormatError):
        read_transcript("README", b"hello")


def test_extension_is_case_insensitive_and_suffixes_exported() -> None:
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".docx", ".vtt", ".srt", ".sbv")
    parsed = read_transcript("INTERVIEW.TXT", b"Ana: hello")
    assert parsed.format == "txt"
    assert spans(parsed) == [("Ana", "hello")]


@pytest.mark.parametrize(
    "label",
    [
        "Interviewer", "interviewer", "Interviewer 1", "Interviewer2", "INTERVIEWER 3", "I", "Q",
        "q", "Interviewer (Research team)", "Moderator", "Facilitator", "**Interviewer:**",
        "Interviewer2 2",
    ],
)
def test_is_interviewer_label_true(label: str) -> None:
    assert is_interviewer_label(label)


@pytest.mark.parametrize(
    "label", ["Interviewee", "Interviewee1", "Participant 3", "Aroha", "A", "SPEAKER_00", "Ian"]
)
def test_is_interviewer_label_false(label: str) -> None:
    assert not is_interviewer_label(label)


# --------------------------------------------------------------------------- text label conventions

CONVENTIONS = [
    ("Ana: {}", "Ana"),
    ("Ana : {}", "Ana"),
    ("ANA SMITH: {}", "ANA SMITH"),
    ("[Ana] {}", "Ana"),
    ("[Ana]: {}", "Ana"),
    ("**Ana:** {}", "Ana"),
    ("**Ana**: {}", "Ana"),
    ("   Ana: {}", "Ana"),
    ("\tAna: {}", "Ana"),
    ("Interviewer 1: {}", "Interviewer 1"),
    ("Interviewer2: {}", "Interviewer2"),
    ("I: {}", "I"),
    ("Q: {}", "Q"),
    ("Interviewee: {}", "Interviewee"),
    ("Ashlee Kupor (SL): {}", "Ashlee Kupor (SL)"),
    ("Dr. Mere van der Berg: {}", "Dr. Mere van der Berg"),
    ("Pūkenga: {}", "Pūkenga"),
    ("张伟：{}", "张伟"),
]


@pytest.mark.parametrize(("template", "speaker"), CONVENTIONS)
def test_label_convention(template: str, speaker: str) -> None:
    source = template.format("So, how did it start?") + "\n\n" + "Bob: It started: slowly.\n"
    parsed = txt(source)
    assert spans(parsed) == [(speaker, "So, how did it start?"), ("Bob", "It started: slowly.")]
    assert [t.line for t in parsed.turns] == [1, 3]
    assert parsed.warnings == ()


TIMESTAMPS = [
    ("[00:01:02] Ana: {}", 62.0),
    ("(00:01:02) Ana: {}", 62.0),
    ("00:01:02 Ana: {}", 62.0),
    ("[01:02] Ana: {}", 62.0),
    ("Ana: [00:01:02] {}", 62.0),
    ("Ana: (0:01:02) {}", 62.0),
    ("Ana: 00:01:02 {}", 62.0),
    ("Ana (00:01:02): {}", 62.0),
    ("Ana [00:01:02.5]: {}", 62.5),
    ("**Ana:** [00:01:02] {}", 62.0),
]


@pytest.mark.parametrize(("template", "seconds"), TIMESTAMPS)
def test_timestamps(template: str, seconds: float) -> None:
    source = template.format("Hello there.") + "\n[00:02:00] Bob: Hi.\nAna: Bye.\n"
    parsed = txt(source)
    assert spans(parsed) == [("Ana", "Hello there."), ("Bob", "Hi."), ("Ana", "Bye.")]
    times = [(t.t_start, t.t_end) for t in parsed.turns]
    assert times == [(seconds, 120.0), (120.0, None), (None, None)]


@pytest.mark.parametrize(
    "line",
    [
        "We talked for a long time and then Note: it was late.",
        "I want to say this and more: it was fine.",
        "[laughs]",
        "[Laughter] and then we left.",
        "[inaudible 00:12:03]",
        "[crosstalk]",
        "[pause] yes",
        "Note: the recorder stopped here.",
        "See https://example.org for details.",
        "So: that was it.",
        "Yes, so: that was it.",
        "10:30: we met.",
    ],
)
def test_lines_that_are_not_labels(line: str) -> None:
    parsed = txt(f"Ana: First.\n{line}\nBob: Second.")
    assert spans(parsed) == [("Ana", f"First.\n{line}"), ("Bob", "Second.")]


def test_multi_word_lowercase_label_counts_only_when_it_recurs() -> None:
    assert match_label("project lead: hi") is not None
    assert not match_label("project lead: hi").name_like  # type: ignore[union-attr]
    parsed = txt("project lead: One.\nana: Two.\nproject lead: Three.")
    assert [s for s, _ in spans(parsed)] == ["project lead", "ana", "project lead"]
    once = txt("Ana: One.\nthe thing is: it broke.\nBob: Two.")
    assert spans(once)[0] == ("Ana", "One.\nthe thing is: it broke.")


def test_continuation_paragraphs_and_repeated_label_starts_a_new_turn() -> None:
    source = (
        "Ana: First paragraph.\n\n  Second paragraph, indented.  \n\n"
        "Ana: Third, same speaker.\n\nBob: Reply.\nmore reply\n\n\n"
    )
    parsed = txt(source)
    assert spans(parsed) == [
        ("Ana", "First paragraph.\n\n  Second paragraph, indented."),
        ("Ana", "Third, same speaker."),
        ("Bob", "Reply.\nmore reply"),
    ]
    assert [t.line for t in parsed.turns] == [1, 5, 7]


def test_label_alone_on_its_line_takes_the_next_lines() -> None:
    parsed = txt("Ana:\n  Well, it began.\nBob: Ok.\nCai:\nDee: Hi.")
    assert spans(parsed) == [("Ana", "Well, it began."), ("Bob", "Ok."), ("Dee", "Hi.")]
    assert parsed.turns[0].line == 1
    assert any("Cai" in w for w in parsed.warnings)


def test_markdown_front_matter_and_headings_fixture() -> None:
    parsed = read_transcript("interview.md", (FIXTURES / "interview.md").read_bytes())
    check_offsets(parsed)
    assert parsed.format == "md"
    assert spans(parsed) == [
        ("Interviewer", "Kia ora. Can you tell me how you started?"),
        ("Aroha", "I started as a Pūkenga in 2015.\nThen I moved to Wellington."),
        ("Aroha", "That was hard, to be honest."),
        ("Interviewer", "And now?"),
        ("Aroha", "Now I teach."),
    ]
    assert [t.line for t in parsed.turns] == [8, 10, 13, 17, 19]


def test_no_speaker_labels_is_one_turn_with_a_warning() -> None:
    parsed = txt("\n\n  Just a memo about the study.\nNothing else here.\n\n")
    assert spans(parsed) == [("Speaker", "Just a memo about the study.\nNothing else here.")]
    assert parsed.turns[0].line == 3
    assert parsed.warnings == (NO_LABELS_WARNING,)


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"])
def test_encodings_with_and_without_bom(encoding: str) -> None:
    source = "Kaiako: Kia ora e\u0301 ākonga 😀\r\nĀkonga: Mōrena\r"
    data = source.encode(encoding)
    if encoding.startswith("utf-16"):
        data = ("\ufeff" + source).encode(encoding)
    parsed = read_transcript("t.txt", data)
    check_offsets(parsed)
    assert parsed.text == "Kaiako: Kia ora \u00e9 ākonga 😀\nĀkonga: Mōrena\n"
    assert spans(parsed) == [("Kaiako", "Kia ora é ākonga 😀"), ("Ākonga", "Mōrena")]
    assert parsed.warnings == ()


def test_cp1252_fallback_warns() -> None:
    parsed = read_transcript("old.txt", "Ana: café – “quoted”\n".encode("cp1252"))
    assert spans(parsed) == [("Ana", "café – “quoted”")]
    assert len(parsed.warnings) == 1 and "cp1252" in parsed.warnings[0]


def test_undecodable_byte_names_file_and_line() -> None:
    data = "Ana: café\r\nBob: fine\r\nAna: bad \x81 byte\n".encode("latin-1")
    with pytest.raises(ImportFormatError) as err:
        read_transcript("broken.txt", data)
    assert err.value.file == "broken.txt" and err.value.line == 3
    assert "broken.txt, line 3" in str(err.value) and "0x81" in str(err.value)


@pytest.mark.parametrize(
    "data",
    [b"Ana: hi\x00\x00\x01\x02", bytes(range(256)) * 4, b"PK\x03\x04rest-of-a-zip",
     b"\x89PNG\r\n\x1a\n" + bytes(200)],
)
def test_binary_file_is_refused(data: bytes) -> None:
    with pytest.raises(ImportFormatError) as err:
        read_transcript("photo.txt", data)
    assert "photo.txt" in str(err.value) and "binary" in str(err.value)


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n", b"\xef\xbb\xbf\n"])
def test_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(ImportFormatError) as err:
        read_transcript("empty.md", data)
    assert "empty.md" in str(err.value) and "empty" in str(err.value)


def test_decode_normalises() -> None:
    text, warnings = decode("x.txt", "a\r\nb\rc\ne\u0301".encode())
    assert (text, warnings) == ("a\nb\nc\n\u00e9", [])


# --------------------------------------------------------------------------- docx


def make_docx(paragraphs: list[list[tuple[str, bool]] | str], table: list[list[str]] | None = None,
              heading: str | None = None) -> bytes:
    """A .docx whose paragraphs are either plain strings or lists of (run text, bold)."""
    import docx

    document = docx.Document()
    if heading is not None:
        document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        p = document.add_paragraph()
        for text, bold in [(paragraph, False)] if isinstance(paragraph, str) else paragraph:
            p.add_run(text).bold = bold or None
    if table:
        t = document.add_table(rows=0, cols=len(table[0]))
        for row in table:
            cells = t.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_bold_labels_and_canonical_text() -> None:
    data = make_docx(
        [
            [("Interviewer:", True), (" How did you start?", False)],
            "",
            [("Aroha", True), (": As a Pūkenga.", False)],
            "It took years.",
            [("Aroha", True), (" Then I taught ākonga.", False)],
            [("Interviewer", True), (":", True), ("  (00:01:02) Thanks.", False)],
            [("Bold", True), ("face words in a sentence.", False)],
        ],
        heading="Interview 4",
    )
    parsed = read_transcript("i.DOCX", data)
    check_offsets(parsed)
    assert parsed.format == "docx"
    assert parsed.text == (
        "Interview 4\n\nInterviewer: How did you start?\n\n\n\nAroha: As a Pūkenga.\n\n"
        "It took years.\n\nAroha Then I taught ākonga.\n\nInterviewer:  (00:01:02) Thanks.\n\n"
        "Boldface words in a sentence."
    )
    assert spans(parsed) == [
        ("Interviewer", "How did you start?"),
        ("Aroha", "As a Pūkenga.\n\nIt took years."),
        ("Aroha", "Then I taught ākonga."),
        ("Interviewer", "Thanks.\n\nBoldface words in a sentence."),
    ]
    assert [t.line for t in parsed.turns] == [2, 4, 6, 7]  # paragraph numbers
    assert parsed.turns[3].t_start == 62.0


def test_docx_plain_text_labels_and_tables() -> None:
    data = make_docx(["Ana: Hello.", "Bob: Hi."], table=[["Ana", "From the table."], ["Note", "x"]])
    parsed = read_transcript("t.docx", data)
    check_offsets(parsed)
    assert spans(parsed) == [
        ("Ana", "Hello."), ("Bob", "Hi."), ("Ana", "From the table.\n\nNote\tx")
    ]


def test_docx_without_labels_warns() -> None:
    parsed = read_transcript("memo.docx", make_docx(["Some notes.", "More notes."]))
    assert spans(parsed) == [("Speaker", "Some notes.\n\nMore notes.")]
    assert parsed.warnings == (NO_LABELS_WARNING,)


@pytest.mark.parametrize(
    "data", [b"not a zip at all", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "zip"]
)
def test_corrupt_docx_is_refused(data: bytes | str) -> None:
    if data == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("hello.txt", "not word")
        data = buffer.getvalue()
    assert isinstance(data, bytes)
    with pytest.raises(ImportFormatError) as err:
        read_transcript("broken.docx", data)
    assert re.match(r"\[SL11\d\d\] broken\.docx: ", str(err.value))


# --------------------------------------------------------------------------- subtitles


def test_vtt_fixture_zoom_prefix_voice_tags_notes_and_settings() -> None:
    parsed = read_transcript("zoom.vtt", (FIXTURES / "zoom.vtt").read_bytes())
    check_offsets(parsed)
    assert parsed.text == (
        "[00:00:01] Interviewer (Research team): Welcome, thanks for joining.\n\n"
        "[00:00:04] Mere Tane: Kia ora, happy to be here. It was a long drive.\n\n"
        "[00:01:10] Interviewer (Research team): Great, let's start.\n"
    )
    assert spans(parsed) == [
        ("Interviewer (Research team)", "Welcome, thanks for joining."),
        ("Mere Tane", "Kia ora, happy to be here. It was a long drive."),
        ("Interviewer (Research team)", "Great, let's start."),
    ]
    assert [(t.t_start, t.t_end, t.line) for t in parsed.turns] == [
        (1.0, 3.5, 12), (4.0, 8.0, 16), (70.0, 72.5, 25)]
    assert is_interviewer_label(parsed.turns[0].speaker)


def test_vtt_voice_tags_merge_and_strip_tags() -> None:
    source = (
        "WEBVTT - a title\n\n00:00.000 --> 00:02.000\n<v.loud Esme>Hi <c.yellow>there</c></v>\n\n"
        "00:02.000 --> 00:03.000\n<v Esme>&amp; more</v>\n\n"
        "00:03.000 --> 00:04.000\n<v Fred>Yo &lt;3\n"
    )
    parsed = read_transcript("v.vtt", source.encode())
    check_offsets(parsed)
    assert spans(parsed) == [("Esme", "Hi there & more"), ("Fred", "Yo <3")]


def test_srt_fixture_diarisation_labels() -> None:
    parsed = read_transcript("diarised.srt", (FIXTURES / "diarised.srt").read_bytes())
    check_offsets(parsed)
    assert parsed.format == "srt"
    assert spans(parsed) == [
        ("SPEAKER_00", "Hello there. How are you?"), ("SPEAKER_01", "Fine, thanks.")
    ]
    assert [(t.t_start, t.t_end, t.line) for t in parsed.turns] == [(0.5, 4.0, 3), (4.5, 5.0, 11)]
    assert parsed.text.startswith("[00:00:00] SPEAKER_00: Hello there.")
    # consecutive cues of one speaker merge into one turn, yet each keeps its own time
    assert [(parsed.text[a.offset:a.offset + 5], a.t_start, a.t_end) for a in parsed.anchors] == [
        ("Hello", 0.5, 2.0), ("How a", 2.1, 4.0), ("Fine,", 4.5, 5.0)]


def test_subtitles_without_labels_and_unlabelled_lead() -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\n00:00:02,000 --> 00:00:03,000\nAgain.\n"
    parsed = read_transcript("w.srt", srt.encode())
    assert spans(parsed) == [("Speaker", "Hello.\nAgain.")]  # no speaker anywhere: a line per cue
    assert parsed.warnings == (NO_LABELS_WARNING,)
    assert [(parsed.text[a.offset:a.offset + 6], a.t_start, a.t_end) for a in parsed.anchors] == [
        ("Hello.", 1.0, 2.0), ("Again.", 2.0, 3.0)]
    lead = srt + "\n3\n00:00:04,000 --> 00:00:05,000\nAna: Now me.\n"
    parsed = read_transcript("w.srt", lead.encode())
    assert spans(parsed) == [("Speaker", "Hello. Again."), ("Ana", "Now me.")]
    assert len(parsed.warnings) == 1 and "first 2 cue(s)" in parsed.warnings[0]


def test_subtitle_canonical_text_reparses_as_text() -> None:
    parsed = read_transcript("zoom.vtt", (FIXTURES / "zoom.vtt").read_bytes())
    again = parse_text(parsed.text, fmt="txt")
    assert [(t.speaker, t.start, t.end, t.t_start) for t in again.turns] == [
        (t.speaker, t.start, t.end, float(int(t.t_start or 0))) for t in parsed.turns]


@pytest.mark.parametrize(
    ("name", "source", "line", "bad"),
    [
        (
            "a.vtt",
            "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nOk\n\n2\n00:00:02.000 --> 00:0x:03.000\nNo\n",
            8,
            "00:00:02.000 --> 00:0x:03.000",
        ),
        (
            "b.vtt",
            "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nNo\n",
            3,
            "00:00:01.000 -> 00:00:02.000",
        ),
        ("c.srt", "1\n00:00:01,000 --> 00:00:02,000\nOk\n\n2\n00:00:02,000 --> 00:00:61,000\nNo\n",
         6, "00:00:02,000 --> 00:00:61,000"),
        ("d.srt", "1\r\n00:00:01 --> 00:00:02\r\nNo\r\n", 2, "00:00:01 --> 00:00:02"),
    ],
)
def test_malformed_cue_timing_names_file_and_line(
    name: str, source: str, line: int, bad: str
) -> None:
    with pytest.raises(ImportFormatError) as err:
        read_transcript(name, source.encode())
    assert err.value.file == name and err.value.line == line
    assert f"{name}, line {line}: malformed cue timing '{bad}'" in str(err.value)


def test_vtt_without_header_and_without_cues() -> None:
    with pytest.raises(ImportFormatError) as err:
        read_transcript("n.vtt", b"1\n00:00:01.000 --> 00:00:02.000\nHi\n")
    assert err.value.line == 1 and "WEBVTT" in str(err.value)
    with pytest.raises(ImportFormatError) as err:
        read_transcript("e.vtt", b"WEBVTT\n\nNOTE nothing here\n")
    assert "e.vtt: no cues found" in str(err.value)
    with pytest.raises(ImportFormatError) as err:
        read_transcript("x.srt", b"1\nhello\n")
    assert err.value.line == 2 and "x.srt" in str(err.value)


# --------------------------------------------------------------------------- invariant 1 (hypothesis)

SPECIAL_WORDS = [
    "e\u0301", "ākonga", "Pūkenga", "Ma\u0304ori", "😀", "👩🏽‍🔬", "cafe\u0301", "A\u030a", "naïve",
    "日本語", "x\u0323\u0307", "Ω", "ﬁne",
]
ASCII_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789.,?!'", min_size=1, max_size=8)
WORD = st.one_of(st.sampled_from(SPECIAL_WORDS), ASCII_WORD)
LINE = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
SPEECH = st.lists(LINE, min_size=1, max_size=3)
SPEAKERS = ["Ana", "Interviewer 1", "Pūkenga", "E\u0301lise Ngata", "Q", "SPEAKER_01"]
TEMPLATES = [
    "{s}: {t}", "[{s}] {t}", "**{s}:** {t}", "  {s} : {t}", "[00:0{i}:00] {s}: {t}",
    "{s} (0{i}:30): {t}",
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def speaker_sequence(first: int, steps: list[int]) -> list[str]:
    """Speakers with no two neighbours equal."""
    order = [first]
    for step in steps:
        order.append((order[-1] + step) % len(SPEAKERS))
    return [SPEAKERS[i] for i in order]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.integers(0, len(SPEAKERS) - 1),
    steps=st.lists(st.integers(1, len(SPEAKERS) - 1), max_size=5),
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    separator=st.sampled_from(["\r\n", "\r\n\r\n", "\n\n", "\r"]),
    suffix=st.sampled_from([".txt", ".md"]),
)
def test_text_offsets_property(first: int, steps: list[int], data: st.DataObject, encoding: str,
                               separator: str, suffix: str) -> None:
    speakers = speaker_sequence(first, steps)
    speeches = [data.draw(SPEECH) for _ in speakers]
    templates = [data.draw(st.sampled_from(TEMPLATES)) for _ in speakers]
    body = separator.join(
        tpl.format(s=s, t="\r\n".join(sp), i=i % 10)
        for i, (tpl, s, sp) in enumerate(zip(templates, speakers, speeches))
    )
    parsed = read_transcript("p" + suffix, body.encode(encoding))
    check_offsets(parsed)
    assert spans(parsed) == [(nfc(s), nfc("\n".join(sp))) for s, sp in zip(speakers, speeches)]


CUE_SPEAKER = st.one_of(
    st.none(), st.sampled_from(["Ana", "Pūkenga Rua", "[SPEAKER_00]", "<v E\u0301lise>"])
)
CUES = st.lists(st.tuples(CUE_SPEAKER, st.lists(LINE, min_size=1, max_size=2)), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(cues=CUES, fmt=st.sampled_from(["vtt", "srt"]), newline=st.sampled_from(["\n", "\r\n"]))
def test_subtitle_offsets_property(
    cues: list[tuple[str | None, list[str]]], fmt: str, newline: str
) -> None:
    blocks, expected = [], []  # expected: [speaker, [contents]]
    for k, (who, lines) in enumerate(cues):
        sep = "," if fmt == "srt" else "."
        t = f"00:00:{k:02d}{sep}000 --> 00:00:{k:02d}{sep}900"
        if who is None:
            first = lines[0]
        else:
            first = f"{who}{lines[0]}" if who.startswith("<v") else f"{who}: {lines[0]}"
        blocks.append(newline.join([str(k + 1), t, first, *lines[1:]]))
        speaker = None if who is None else nfc(who.strip("[]<>").removeprefix("v "))
        content = nfc(" ".join(" ".join(lines).split()))
        speaker = speaker or (expected[-1][0] if expected else "Speaker")
        if expected and expected[-1][0] == speaker:
            expected[-1][1].append(content)
        else:
            expected.append([speaker, [content]])
    header = f"WEBVTT{newline}{newline}" if fmt == "vtt" else ""
    source = header + (newline * 2).join(blocks) + newline
    parsed = read_transcript("p." + fmt, source.encode())
    check_offsets(parsed)
    joiner = " " if any(who is not None for who, _ in cues) else "\n"  # no labels at all: a line per cue
    assert spans(parsed) == [(s, joiner.join(c)) for s, c in expected]
    # one anchor per cue with text, at its content, with the cue's own times
    assert [a.t_start for a in parsed.anchors] == [float(k) for k, (_, lines) in enumerate(cues)
                                                   if nfc(" ".join(" ".join(lines).split()))]


@settings(max_examples=15, deadline=None)
@given(
    first=st.integers(0, len(SPEAKERS) - 1),
    steps=st.lists(st.integers(1, len(SPEAKERS) - 1), max_size=3),
    data=st.data(),
)
def test_docx_offsets_property(first: int, steps: list[int], data: st.DataObject) -> None:
    speakers = speaker_sequence(first, steps)
    speeches = [data.draw(SPEECH) for _ in speakers]
    paragraphs: list[list[tuple[str, bool]] | str] = []
    for s, sp in zip(speakers, speeches):
        paragraphs.append([(s + ":", True), (" " + sp[0], False)])
        paragraphs.extend(sp[1:])
    parsed = read_transcript("p.docx", make_docx(paragraphs))
    check_offsets(parsed)
    assert spans(parsed) == [(nfc(s), nfc("\n\n".join(sp))) for s, sp in zip(speakers, speeches)]


# --------------------------------------------------------------------------- real transcripts

real = pytest.mark.skipif(not EXTDATA.is_dir(), reason=f"the folder {EXTDATA} is absent")


def read_real(relative: str) -> ParsedTranscript:
    path = TRANSCRIPTS / relative
    parsed = read_transcript(path.name, path.read_bytes())
    check_offsets(parsed)
    if parsed.format == "txt":  # the canonical text is the file; turns begin on their line
        assert parsed.text == path.read_text(encoding="utf-8")
        for turn in parsed.turns:
            assert parsed.text.count("\n", 0, turn.start) + 1 == turn.line
            line = parsed.text.split("\n")[turn.line - 1]
            label = match_label(line)
            assert label is not None and label.speaker == turn.speaker
    return parsed


@real
def test_real_mlss_10_lowercase_labels_and_merging() -> None:
    parsed = read_real("text/mlss_interview_10.txt")
    assert {t.speaker for t in parsed.turns} == {"interviewer", "interviewee"}
    assert len(parsed.turns) == 239  # one turn per labelled paragraph: a repeated label starts a new turn
    assert spans(parsed)[0] == ("interviewee", "Thanks. This meeting is being recorded.")
    third = parsed.text[parsed.turns[2].start : parsed.turns[2].end]
    assert third.startswith("Uh, yeah, so I have")
    assert all(":" not in parsed.text[t.start : t.start + 15] or t.speaker for t in parsed.turns)
    assert not any("\ninterviewee:" in parsed.text[t.start : t.end] for t in parsed.turns)
    assert is_interviewer_label("interviewer") and not is_interviewer_label("interviewee")
    assert parsed.warnings == ()


@real
def test_real_mlss_2_space_before_colon() -> None:
    parsed = read_real("text/mlss_interview_2.txt")
    speakers = {t.speaker for t in parsed.turns}
    assert {"Interviewer1", "Interviewee1"} <= speakers
    # one "Interviewer2 :" and one stray "Interviewer2 2:", both kept as written
    assert speakers - {"Interviewer1", "Interviewee1"} == {"Interviewer2", "Interviewer2 2"}
    assert next(s for s in spans(parsed) if s[0] == "Interviewee1") == ("Interviewee1", "Oui, vous avez mon consentement.")
    assert all(is_interviewer_label(s) for s in speakers if s.startswith("Interviewer"))


@real
def test_real_mlss_6_three_interviewers() -> None:
    parsed = read_real("text/mlss_interview_6.txt")
    speakers = {t.speaker for t in parsed.turns}
    assert speakers == {"Interviewer1", "Interviewer2", "Interviewer3", "Interviewee"}
    assert {s for s in speakers if is_interviewer_label(s)} == speakers - {"Interviewee"}


@real
def test_real_mlss_7_mixed_labels_and_indented_lines() -> None:
    parsed = read_real("text/mlss_interview_7.txt")
    speakers = {t.speaker for t in parsed.turns}
    assert {"Interviewer1", "Interviewer 1", "Interviewee"} <= speakers  # labels kept as written
    assert all(is_interviewer_label(s) for s in speakers - {"Interviewee"})
    indented = next(t for t in parsed.turns if t.line == 3)
    assert (indented.speaker, parsed.text[indented.start : indented.end]) == ("Interviewee", "No.")
    long_turn = next(t for t in parsed.turns if t.line == 5)
    content = parsed.text[long_turn.start : long_turn.end]  # lines 6-9 have no label: continuation
    assert content.startswith("Um, I am data scientist at Company X.")
    assert "\nUh, machine learning was not such a big thing" in content
    assert content.endswith("This transition. Um, yeah, so , that's about it. Yeah. Perfect.")


@real
def test_real_mlss_12_numbered_interviewers() -> None:
    parsed = read_real("text/mlss_interview_12.txt")
    assert {t.speaker for t in parsed.turns} == {"Interviewer 1", "Interviewer 2", "Interviewee"}
    assert next(s for s in spans(parsed) if s[0] == "Interviewee") == (
        "Interviewee",
        "know? Okay. I'll tell you we can, because I was, Yeah, I was wondering, I told you before, "
        "uh, because I'm a project manager, right. So I don't go in really in the technical "
        "details, but Yeah. So I'll just say, uh, I don't know if, I don't know.",
    )


@real
def test_real_zoom_vtt() -> None:
    parsed = read_real("vtt/cip_zoom_transcript.vtt")
    cues = parse_cues("z.vtt", (TRANSCRIPTS / "vtt/cip_zoom_transcript.vtt").read_text(), "vtt")
    assert len(cues) == 284
    assert {t.speaker for t in parsed.turns} == {"Dora Demszky", "Ashlee Kupor (SL)"}
    assert parsed.warnings == ()
    first, second = parsed.turns[:2]
    assert (first.speaker, first.t_start, first.t_end) == ("Ashlee Kupor (SL)", 0.51, 1.55)
    assert first.line == 5
    assert second.speaker == "Dora Demszky" and (second.t_start, second.t_end) == (1.79, 24.09)
    # cue 3 has no prefix: it continues Dora's turn; cues 2-6 are merged
    assert parsed.text[second.start : second.end] == (
        "by, too. We? And then No, it's gonna. I think it's transcribing. Yeah, I think it is. "
        "It's transcribing stuff. So yeah, i'll send you what I have after this.")
    assert len(parsed.turns) == 80 and parsed.text.endswith("\n")
    small = read_real("vtt/cip_zoom_no_sl_transcript2.vtt")
    assert [s for s, _ in spans(small)] == ["Ashlee Kupor", "Dora Demszky"]


@real
def test_real_empty_vtt_is_a_clean_error() -> None:
    with pytest.raises(ImportFormatError) as err:
        read_real("vtt/cip_zoom_empty_transcript.vtt")
    assert "cip_zoom_empty_transcript.vtt: no cues found" in str(err.value)


@real
def test_real_diarised_srt() -> None:
    parsed = read_real("srt/diarized_podcast_sample.srt")
    cues = parse_cues("d.srt", (TRANSCRIPTS / "srt/diarized_podcast_sample.srt").read_text(), "srt")
    assert len(cues) == 93
    assert {t.speaker for t in parsed.turns} == {"SPEAKER_00", "SPEAKER_01"}
    assert len(parsed.turns) == 23 < len(cues)
    first = parsed.turns[0]
    assert first.speaker == "SPEAKER_00" and first.t_start is not None and first.t_start < 1
    content = parsed.text[first.start : first.end]
    assert content.endswith("Everybody was fine. And then happy you were.")
    assert "[SPEAKER_00]" not in parsed.text


@real
@pytest.mark.parametrize(
    "relative", ["text/mlss_interview_4.txt", "vtt/cip_zoom_small_transcript.vtt"]
)
def test_real_other_files_parse_cleanly(relative: str) -> None:
    parsed = read_real(relative)
    assert len({t.speaker for t in parsed.turns}) >= 2 and parsed.warnings == ()


# --------------------------------------------------------------------------- timestamped block headers (issue 15)


@pytest.mark.parametrize(("line", "speaker", "seconds"), [
    ("Speaker Name  0:02", "Speaker Name", 2.0),
    ("Unknown Speaker  1:02:03", "Unknown Speaker", 3723.0),
    ("00:00:05 Speaker 1", "Speaker 1", 5.0),
    ("[Dora Demszky] 10:02:03", "Dora Demszky", 36123.0),
    ("[00:00:05] Mere Tane", "Mere Tane", 5.0),
    ("Ashlee Kupor (SL)  0:00", "Ashlee Kupor (SL)", 0.0),
])
def test_block_headers(line: str, speaker: str, seconds: float) -> None:
    from analysis.ingest.text import match_block_header

    lab = match_label(line) or match_block_header(line)
    assert lab is not None and (lab.speaker, lab.t_start, lab.content) == (speaker, seconds, len(line))


@pytest.mark.parametrize("line", ["Note  10:30", "[laughs] 00:01", "So 0:02", "Speaker 1  99:99", "Ana  0:02 and more"])
def test_not_block_headers(line: str) -> None:
    from analysis.ingest.text import match_block_header

    assert match_block_header(line) is None


def test_sample_text_transcripts_are_stored_as_written() -> None:
    """The block rules join only timed repeats of one speaker: the sample's .txt/.md files keep their text."""
    for path in sorted((Path(__file__).resolve().parents[2] / "transcripts").glob("*.*")):
        if path.suffix in (".txt", ".md"):
            assert read_transcript(path.name, path.read_bytes()).text == decode(path.name, path.read_bytes())[0]


@pytest.mark.parametrize("fmt", ["txt", "md"])
def test_inline_timestamps_become_anchors(fmt: str) -> None:
    """[00:12:03], (12:03), ATLAS.ti's #00:12:03.5# and NVivo's bare 00:12:03 each time the words after them;
    a bare 12:03 (a time of day as often as not) does not."""
    source = ("Interviewer: [00:12:03] How did it start?\n\n"
              "Leader A: (12:10) With a pilot. #00:12:20.5# Then more schools. 00:12:31 We met at 10:30 daily.\n")
    parsed = read_text("t." + fmt, source.encode(), fmt=fmt)
    got = [(parsed.text[a.offset:a.offset + 4], a.t_start) for a in parsed.anchors]
    assert got == [("How ", 723.0), ("With", 730.0), ("Then", 740.5), ("We m", 751.0)]


def test_joined_blocks_keep_each_block_time() -> None:
    """Consecutive timestamped blocks of one speaker are one turn, and each block's time stays an anchor."""
    source = ("Speaker 1  00:00:05\nFirst block words.\n\nSpeaker 1  00:00:40\nSecond block words.\n\n"
              "Speaker 2  00:01:10\nAnswer.\n")
    parsed = read_text("otter.txt", source.encode())
    assert len(parsed.turns) == 2
    got = [(parsed.text[a.offset:a.offset + 6], a.t_start) for a in parsed.anchors]
    assert got == [("First ", 5.0), ("Second", 40.0), ("Answer", 70.0)]


def test_a_timing_line_right_after_cue_text_starts_a_new_cue() -> None:
    """The layout youtube-dl writes: no blank line before the next cue's timing; an orphan block is kept, said."""
    vtt = ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAna: First words\n00:00:02.000 --> 00:00:03.500\nAna: more words"
           "\n3\n00:00:04.000 --> 00:00:05.000\nBen: Then me.\n\nstray words with no timing\n")
    parsed = read_transcript("y.vtt", vtt.encode())
    assert spans(parsed) == [("Ana", "First words more words"), ("Ben", "Then me. stray words with no timing")]
    assert [a.t_start for a in parsed.anchors] == [1.0, 2.0, 4.0]
    assert any("line 11: text without a timing line; kept as part of cue 3" in w for w in parsed.warnings)
    assert not any("00:00:02.000" in text for _, text in spans(parsed))  # a timing is never spoken words


def test_youtube_sbv_is_read_with_its_speakers_and_times() -> None:
    sbv = ("0:00:00.599,0:00:04.160\n>> ALICE: Hi, my name is Alice\nand this is John\n\n"
           "0:00:04.160,0:00:06.770\n>> JOHN: and we own the bakery.\n\n0:00:06.770,0:00:08.000\nWelcome.\n")
    parsed = read_transcript("talk.sbv", sbv.encode())
    assert parsed.format == "sbv"
    assert spans(parsed) == [("ALICE", "Hi, my name is Alice and this is John"), ("JOHN", "and we own the bakery. Welcome.")]
    assert [a.t_start for a in parsed.anchors] == [0.599, 4.16, 6.77]


# -- issue 25, class 10: a word and a colon inside dialogue is not a speaker label ---------------------------------
REAL_SPEAKERS = {  # turns per speaker of the real transcripts, as they were read before the rule (unchanged)
    "text/mlss_interview_10.txt": {"interviewee": 173, "interviewer": 66},
    "text/mlss_interview_12.txt": {"Interviewer 1": 53, "Interviewee": 95, "Interviewer 2": 12},
    "text/mlss_interview_2.txt": {"Interviewer1": 43, "Interviewee1": 44, "Interviewer2": 1, "Interviewer2 2": 1},
    "text/mlss_interview_4.txt": {"Interviewer 1": 61, "Interviewee": 159, "Interviewer 2": 5},
    "text/mlss_interview_6.txt": {"Interviewer1": 64, "Interviewee": 123, "Interviewer3": 6, "Interviewer2": 30},
    "text/mlss_interview_7.txt": {"Interviewer1": 32, "Interviewee": 34, "Interviewer2": 1, "Interviewer 3": 1,
                                  "Interviewer 1": 4},
    "vtt/cip_zoom_transcript.vtt": {"Ashlee Kupor (SL)": 40, "Dora Demszky": 40},
    "vtt/cip_zoom_no_sl_transcript2.vtt": {"Ashlee Kupor": 1, "Dora Demszky": 1},
    "srt/diarized_podcast_sample.srt": {"SPEAKER_00": 12, "SPEAKER_01": 11},
}


@real
@pytest.mark.parametrize("path", sorted(REAL_SPEAKERS))
def test_real_transcripts_keep_their_speakers_under_the_dialogue_rule(path: str) -> None:
    """The messy real labels (one-off "Interviewer2:" between other labels' lines, "Interviewer2 2:", a space
    before the colon, lowercase labels) are still speakers: the rule only drops one-off one-word labels that
    the file does not use as labels."""
    from collections import Counter

    parsed = read_transcript(Path(path).name, (TRANSCRIPTS / path).read_bytes())
    assert dict(Counter(t.speaker for t in parsed.turns)) == REAL_SPEAKERS[path]


def test_a_word_and_a_colon_before_a_quotation_is_reported_speech() -> None:
    source = ("Entrevistadora: ¿Y qué le dijo?\n\nEntrevistada: Fui a la oficina y le hablé al jefe.\n"
              "Digo: \"Le doy la vuelta y ya\". Y se quedó callado.\n\nEntrevistadora: ¿Y después?\n\n"
              "Entrevistada: Nada más.\n")
    parsed = read_text("e.txt", source.encode())
    assert [s for s, _ in spans(parsed)] == ["Entrevistadora", "Entrevistada", "Entrevistadora", "Entrevistada"]
    assert "Digo: \"Le doy" in spans(parsed)[1][1]


def test_a_word_and_a_colon_inside_an_unlabelled_paragraph_is_dialogue() -> None:
    source = "Fui a la oficina y le dije al jefe lo que pensaba.\nDigo: le doy la vuelta y ya.\nY se quedó callado.\n"
    parsed = read_text("n.txt", source.encode())
    assert spans(parsed) == [("Speaker", source.strip())] and parsed.warnings == (NO_LABELS_WARNING,)


def test_the_same_word_used_as_a_label_stays_a_label() -> None:
    """Labels recur (the file uses it as one), or stand at the start of a block or a cue."""
    recurring = "Digo: le doy la vuelta.\nAna: ¿Y?\nDigo: y ya está.\n"
    assert [s for s, _ in spans(read_text("r.txt", recurring.encode()))] == ["Digo", "Ana", "Digo"]
    block = "Some words before.\n\nDigo: le doy la vuelta.\n"
    assert [s for s, _ in spans(read_text("b.txt", block.encode()))] == ["Digo"]
    srt = "1\n00:00:01,000 --> 00:00:02,000\nHola.\n\n2\n00:00:02,000 --> 00:00:03,000\nDigo: le doy la vuelta.\n"
    assert [s for s, _ in spans(read_transcript("c.srt", srt.encode()))] == ["Speaker", "Digo"]


def test_a_cue_that_opens_a_quotation_after_a_word_and_a_colon_is_not_a_speaker() -> None:
    srt = ("1\n00:00:01,000 --> 00:00:02,000\nAna: Y le dije.\n\n2\n00:00:02,000 --> 00:00:03,000\n"
           "Digo: «Le doy la vuelta».\n\n3\n00:00:03,000 --> 00:00:04,000\nBen: ¿Y él?\n\n"
           "4\n00:00:04,000 --> 00:00:05,000\nAna: Nada.\n\n5\n00:00:05,000 --> 00:00:06,000\nBen: Ya.\n")
    parsed = read_transcript("q.srt", srt.encode())
    assert [s for s, _ in spans(parsed)] == ["Ana", "Ben", "Ana", "Ben"]
    assert "Digo: «Le doy la vuelta»." in spans(parsed)[0][1]
