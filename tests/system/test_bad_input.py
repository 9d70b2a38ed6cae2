"""Bad input never gives a traceback or a hang: a clear error naming the file and the place
(line, cue, row, YAML path) and what to do, or a warning where the input is still usable.

The modules added for this (analysis.limits, analysis.files.safe_yaml, analysis.offline) are imported
inside the tests so that each test fails on its own where they are missing.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from analysis.errors import CodebookFileError, ImportFormatError, ParticipantsFileError
from analysis.ingest import read_transcript
from analysis.files.participants_csv import parse_participants


def _mod(name: str) -> Any:
    return importlib.import_module(f"analysis.{name}")


def _refused() -> type[Exception]:
    return _mod("errors").FileRefusedError  # type: ignore[no-any-return]


# ============================================================================ limits: files, names
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and symlinks need POSIX")


@needs_posix
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    limits = _mod("limits")
    fifo = tmp_path / "interview.txt"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(limits.read_regular_file(fifo, cap=limits.TRANSCRIPT_BYTES, root=tmp_path))
        except BaseException as err:  # noqa: BLE001 - reported below
            outcome.append(err)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():  # release the blocked reader so the test run can end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not worker.is_alive(), "reading a FIFO blocked"
    [result] = outcome
    assert isinstance(result, _refused())
    assert "interview.txt" in str(result) and "named pipe" in str(result)


@needs_posix
def test_a_symlink_leading_outside_the_folder_is_refused(tmp_path: Path) -> None:
    limits = _mod("limits")
    root, outside = tmp_path / "transcripts", tmp_path / "secret.txt"
    root.mkdir()
    outside.write_text("A: private\n", encoding="utf-8")
    (root / "inside.txt").write_text("A: fine\n", encoding="utf-8")
    (root / "link_out.txt").symlink_to(outside)
    (root / "link_in.txt").symlink_to(root / "inside.txt")
    (root / "sub").symlink_to(tmp_path)  # a linked folder leads out too
    with pytest.raises(_refused(), match=r"link_out\.txt: leads outside the folder"):
        limits.read_regular_file(root / "link_out.txt", cap=1000, root=root)
    with pytest.raises(_refused(), match="leads outside the folder"):
        limits.read_regular_file(root / "sub" / "secret.txt", cap=1000, root=root)
    assert limits.read_regular_file(root / "link_in.txt", cap=1000, root=root) == b"A: fine\n"


@pytest.mark.parametrize("case", ["folder", "device", "too big", "missing"])
def test_read_regular_file_refuses_what_is_not_a_small_regular_file(tmp_path: Path, case: str) -> None:
    limits = _mod("limits")
    target = tmp_path / "t.txt"
    if case == "folder":
        target.mkdir()
    elif case == "device":
        if not os.path.exists(os.devnull) or sys.platform == "win32":
            pytest.skip("no character device")
        target = Path(os.devnull)
    elif case == "too big":
        target.write_bytes(b"x" * 101)
    expected = ImportFormatError if case == "missing" else _refused()
    with pytest.raises(expected) as err:
        limits.read_regular_file(target, cap=100, root=None, name="t.txt")
    assert str(err.value).split("] ", 1)[1].startswith("t.txt: ")
    if case == "too big":
        assert "limit of 100 bytes" in str(err.value)


@pytest.mark.parametrize("name", [
    "", "  ", ".", "..", "../x.txt", "a/b.txt", "a\\b.txt", "two\nlines.txt", "\x1b[31mred.txt",
    "cv\u202etxt.exe", "a\u2066b\u2069.txt", "zero\u200bwidth.txt", "bom\ufeff.txt", "del\x7f.txt",
    "bad\udcff.txt", "x" * 300 + ".txt",
])
def test_unimportable_file_names_are_named_as_a_problem(name: str) -> None:
    problem = _mod("limits").is_importable_name(name)
    assert isinstance(problem, str) and problem


@pytest.mark.parametrize("name", ["interview 3...txt", "ākonga_hui.docx", "Leader A (2021).vtt", "مقابلة.txt"])
def test_ordinary_file_names_are_importable(name: str) -> None:
    assert _mod("limits").is_importable_name(name) is None


def test_transcript_over_the_byte_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = _mod("limits")
    monkeypatch.setattr(limits, "TRANSCRIPT_BYTES", 100)
    with pytest.raises(_refused(), match=r"big\.txt: the file is over Storyloom's limit of 100 bytes"):
        read_transcript("big.txt", b"A: " + b"words " * 40)
    assert read_transcript("small.txt", b"A: hi\n").turns[0].speaker == "A"


# ============================================================================ YAML
_BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(("case", "data", "message"), [
    ("billion laughs", _BILLION_LAUGHS.encode(), "expands to more than"),
    ("recursive list", b"codes: &a [*a]\n", "recursive alias"),
    ("recursive map", b"codes: &a {children: *a}\n", "recursive alias"),
    ("many aliases", b"x: &x v\nl: [" + b", ".join([b"*x"] * 101) + b"]\n", "aliases"),
    ("deep", b"codes: " + b"[" * 150 + b"]" * 150 + b"\n", "levels deep"),
    ("cp1252", "codes:\n  - name: Café\n".encode("cp1252"), "not UTF-8"),
    ("utf-16", "codes: []\n".encode("utf-16"), "UTF-16"),
    ("duplicate key", b"codes:\n  - name: A\n    name: B\n", "appears twice"),
    ("bad syntax", b"codes: [a, b\nother: c\n", "not valid YAML"),
    ("NUL", b"codes: [a\x00]\n", "U+0000"),
    ("python tag", b"codes: !!python/object/apply:os.system [echo]\n", "not valid YAML"),
    ("bad date", b"when: 2024-13-45\n", "cannot read"),
])
def test_hostile_or_broken_yaml_is_a_codebook_file_error(case: str, data: bytes, message: str) -> None:
    load_yaml = _mod("files.safe_yaml").load_yaml
    with pytest.raises(CodebookFileError) as err:
        load_yaml("codebooks/codebook.yaml", data)
    assert re.match(r"\[SL14\d\d\] codebooks/codebook\.yaml", str(err.value))
    assert message in str(err.value)


@pytest.mark.parametrize(("data", "line"), [
    ("codes:\n  - name: Café\n".encode("cp1252"), 2),
    (b"codes:\n  - name: A\n    name: B\n", 3),
    (b"codes:\n  - name: A\n  - name: [unclosed\n", 4),
])
def test_yaml_errors_name_the_line(data: bytes, line: int) -> None:
    with pytest.raises(CodebookFileError, match=rf"codebook\.yaml, line {line}: "):
        _mod("files.safe_yaml").load_yaml("codebook.yaml", data)


def test_yaml_over_the_byte_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    safe_yaml = _mod("files.safe_yaml")
    monkeypatch.setattr(_mod("limits"), "YAML_BYTES", 10)
    with pytest.raises(CodebookFileError, match="limit of 10 bytes"):
        safe_yaml.load_yaml("codebook.yaml", b"codes: [a, b, c]\n")


def test_yaml_words_stay_strings() -> None:
    data = _mod("files.safe_yaml").load_yaml(
        "codebook.yaml",
        "\ufeffcodes:\n  - {name: No, a: yes, b: on, c: OFF, d: Y, id: 012, t: 1:20}\nflag: true\noff: false\nn: 3\n"
        .encode("utf-8-sig"),
    )
    assert data == {"codes": [{"name": "No", "a": "yes", "b": "on", "c": "OFF", "d": "Y", "id": "012", "t": "1:20"}],
                    "flag": True, "off": False, "n": 3}


def test_yaml_path_error_names_the_place() -> None:
    safe_yaml = _mod("files.safe_yaml")
    err = safe_yaml.yaml_path_error("codebook.yaml", ["codes", 3, "children", 0, "name"], "is empty.")
    assert isinstance(err, CodebookFileError)
    assert str(err) == "[SL1406] codebook.yaml: codes[3].children[0].name: is empty."


# ============================================================================ subtitles: timings
_VTT_NEGATIVE = b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nAna: Hello there.\n\n00:00:06.000 --> 00:00:07.000\nBob: Hi.\n"
_VTT_BACKWARDS = (b"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nAna: Hello there.\n\n"
                  b"00:00:01.000 --> 00:00:02.000\nBob: Hi.\n")
_SRT_NEGATIVE = b"1\n00:00:01,000 --> 00:00:02,000\nAna: Hi.\n\n2\n00:00:09,000 --> 00:00:03,000\nBob: Yes.\n"


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("neg.vtt", _VTT_NEGATIVE, "cue 1 (line 3) ends (00:00:01.000) before it starts (00:00:05.000)"),
    ("back.vtt", _VTT_BACKWARDS, "cue 2 (line 6) starts (00:00:01.000) before the previous cue 1"),
    ("neg.srt", _SRT_NEGATIVE, "cue 2 (line 6) ends (00:00:03.000) before it starts (00:00:09.000)"),
])
def test_odd_cue_timings_are_warnings_naming_cue_and_line(name: str, data: bytes, expected: str) -> None:
    parsed = read_transcript(name, data)
    assert [t.speaker for t in parsed.turns] == ["Ana", "Bob"]
    assert any(w.startswith(expected) for w in parsed.warnings), parsed.warnings
    assert all(t.t_end is None or t.t_start is None or t.t_end >= t.t_start for t in parsed.turns)


def test_many_odd_timings_are_summarised() -> None:
    cues = "".join(f"00:00:{59 - i:02d}.000 --> 00:00:{58 - i:02d}.000\nAna: part {i}.\n\n" for i in range(12))
    parsed = read_transcript("many.vtt", f"WEBVTT\n\n{cues}".encode())
    timing = [w for w in parsed.warnings if w.startswith("cue ") or "more cue timing" in w]
    assert len(timing) == 6 and "more cue timing problem" in timing[-1]


# ============================================================================ invisible characters in labels
def _bold_docx(label: str, text: str) -> bytes:
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph()
    paragraph.add_run(label).bold = True
    paragraph.add_run(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data"), [
    ("t.txt", "\u202eAna\u202c: Kia ora.\nBob: Hello.\n".encode()),
    ("t.md", "A\u200bna: Kia ora.\nBob: Hello.\n".encode()),
    ("t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v \u2067Ana\u2069>Kia ora.\n\n"
              "00:00:03.000 --> 00:00:04.000\n<v Bob>Hello.\n".encode()),
    ("t.srt", "1\n00:00:01,000 --> 00:00:02,000\n\u202eAna: Kia ora.\n\n"
              "2\n00:00:03,000 --> 00:00:04,000\nBob: Hello.\n".encode()),
    ("t.docx", _bold_docx("\u202eAna:", " Kia ora.")),
])
def test_invisible_format_characters_are_stripped_from_labels_with_a_warning(name: str, data: bytes) -> None:
    parsed = read_transcript(name, data)
    assert parsed.turns[0].speaker == "Ana"
    assert parsed.text[parsed.turns[0].start:parsed.turns[0].end] == "Kia ora."
    assert any("invisible formatting" in w and "'Ana'" in w for w in parsed.warnings), parsed.warnings
    assert not any(ch in t.speaker for t in parsed.turns for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2069\u200b")


# ============================================================================ docx: entities and bombs
def _docx_with_document_xml(body: str, doctype: str = "") -> bytes:
    """A python-docx document whose word/document.xml is replaced by ``body`` (raw XML)."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype
                        + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                        + f"<w:body>{body}</w:body></w:document>").encode()
            z.writestr(info.filename, data)
    return out.getvalue()


def test_docx_text_after_an_entity_is_kept() -> None:
    data = _docx_with_document_xml(
        "<w:p><w:r><w:t>Ana: caf&#233; &amp; &lt;tea&gt; &#x263A; end.</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Bob: We &org; went home &ext; today.</w:t></w:r></w:p>",
        '<!DOCTYPE w:document [<!ENTITY org "the Company"><!ENTITY ext SYSTEM "file:///etc/passwd">]>',
    )
    parsed = read_transcript("e.docx", data)
    got = [parsed.text[t.start:t.end] for t in parsed.turns]
    assert got == ["café & <tea> ☺ end.", "We the Company went home &ext; today."]
    assert "root:" not in parsed.text
    assert any("&org;" in w for w in parsed.warnings) and any("&ext;" in w for w in parsed.warnings)


def test_docx_made_by_python_docx_keeps_ampersands_and_angle_brackets() -> None:
    """A regression guard: python-docx escapes these itself (passes before and after the fix)."""
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph()
    paragraph.add_run("Ana: Tom & Jerry ")
    paragraph.add_run("<3 & more")
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = read_transcript("amp.docx", buffer.getvalue())
    assert parsed.text == "Ana: Tom & Jerry <3 & more"


def _bomb_docx(member: str, size: int) -> bytes:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
        with z.open(member, "w") as padding:  # streamed: the test itself never holds 50 MB
            chunk = bytes(1 << 20)
            for _ in range(size // len(chunk)):
                padding.write(chunk)
    return out.getvalue()


def test_docx_zip_bomb_is_refused_before_decompression(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _bomb_docx("word/media/padding.bin", 50 * (1 << 20))
    assert len(data) < 1 << 20  # 50 MB of zeros compress to about 50 KB
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(_refused(), match=r"bomb\.docx: holds a part \(word/media/padding\.bin\)"):
        read_transcript("bomb.docx", data)
    assert opened == []  # refused from the zip directory alone


@pytest.mark.parametrize("cap", ["DOCX_MEMBER_BYTES", "DOCX_TOTAL_BYTES", "DOCX_MEMBERS"])
def test_docx_over_a_zip_cap_is_refused(monkeypatch: pytest.MonkeyPatch, cap: str) -> None:
    limits = _mod("limits")
    monkeypatch.setattr(limits, cap, 5)
    data = _docx_with_document_xml("<w:p><w:r><w:t>Ana: hi</w:t></w:r></w:p>")
    with pytest.raises(_refused(), match=r"^\[SL1\d{3}\] small\.docx: "):
        read_transcript("small.docx", data)


# ============================================================================ segmentation of huge paragraphs
def test_long_text_is_cut_into_pieces_at_sentence_ends() -> None:
    segment = _mod("domain.segment")
    sentence = "We waited for the ākonga to come back. "
    text = sentence * 20_000  # 780,000 characters
    pieces = list(segment.pieces_of(text, 0, len(text), limit=100_000))
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(0 < end - start <= 100_000 for start, end in pieces)
    assert all(text[end - 2:end] == ". " for _start, end in pieces[:-1])
    blob = "x" * 250_000  # no whitespace at all: a hard cut at the limit
    assert [e - s for s, e in segment.pieces_of(blob, 0, len(blob), limit=100_000)] == [100_000, 100_000, 50_000]


@pytest.mark.slow
def test_a_paragraph_longer_than_spacy_max_length_is_segmented_with_exact_offsets() -> None:
    from analysis.domain.segment import load_nlp, sentences

    unit = "We talked about the whānau for a long time. Then it rained [laughs] again? "
    body = (unit * (1_200_000 // len(unit) + 1)).rstrip()
    assert len(body) > load_nlp().max_length
    text = "Ana: " + body + "\n\nBob: Short one."
    [spans, short] = sentences(text, [(5, 5 + len(body)), (len(text) - 10, len(text))])
    got = [text[s.start:s.end] for s in spans]
    assert all(5 <= s.start < s.end <= 5 + len(body) for s in spans)
    assert all(g and g == g.strip() for g in got)
    assert "".join(got).replace(" ", "") == body.replace(" ", "")
    assert set(got) == {"We talked about the whānau for a long time.", "Then it rained [laughs] again?"}
    assert [text[s.start:s.end] for s in short] == ["Short one."]


# ============================================================================ participants.csv
_HEADER = "pseudonym,transcript,speaker,unit,period\n"


@pytest.mark.parametrize(("body", "line", "message"), [
    ("Ana,a.txt,Ana," + "x" * 70_000 + ",2020\n", 2, "a cell (70,000 characters) is over"),
    ("Ana,a.txt,Ana,ok,2020\nBob,b.txt,Bob," + "x" * 200_000 + ",2020\n", 3, "a cell is over"),
    ('Ana,a.txt,"Ana,Exec,2020\nBob,b.txt,Bob,Ops,2021\n', 2, "never closed"),
    ('Ana,a.txt,Ana,"Exec,2020\nBob,b.txt,Bob,Ops,2021\nCy,c.txt,Cy,"Ops,2021\n', 2, "is not closed where the 'unit'"),
    ("Ana,a.txt,Ana,Auckland, NZ,2020\n", 2, "6 cells but the header has 5"),
])
def test_participants_csv_errors_name_the_line(body: str, line: int, message: str) -> None:
    with pytest.raises(ParticipantsFileError) as err:
        parse_participants("transcripts/participants.csv", (_HEADER + body).encode())
    assert f"transcripts/participants.csv, line {line}: " in str(err.value)
    assert message in str(err.value)


def test_participants_csv_over_the_byte_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_mod("limits"), "PARTICIPANTS_BYTES", 50)
    with pytest.raises(ParticipantsFileError, match="limit of 50 bytes"):
        parse_participants("participants.csv", (_HEADER + "Ana,a.txt,Ana,Exec,2020\n").encode())


def test_a_short_row_does_not_blank_attributes() -> None:
    rows = parse_participants("participants.csv", (_HEADER + "Ana,a.txt,Ana\nBob,b.txt,Bob,,2021\n").encode())
    assert rows[0].attributes == {}  # unit and period not given
    assert rows[1].attributes == {"unit": "", "period": "2021"}  # unit given empty


@pytest.mark.parametrize(("body", "message"), [
    ("Ana,a.txt;b.txt,Ana,Exec,2020\nBob,b.txt,Ana,Ops,2021\n",
     "line 3: speaker 'Ana' of b.txt is mapped to 'Bob' here and to 'Ana' on line 2"),
    ("Ana,a.txt,Ana,Exec,2020\nana,b.txt,Boss,Exec,2020\n", "line 3: duplicate pseudonym 'ana' (first on line 2)"),
])
def test_conflicting_participant_rows_name_both_lines(body: str, message: str) -> None:
    with pytest.raises(ParticipantsFileError, match=re.escape(message)):
        parse_participants("participants.csv", (_HEADER + body).encode())


def test_a_free_text_column_may_hold_line_breaks() -> None:
    data = 'pseudonym,transcript,speaker,notes\nAna,a.txt,Ana,"met twice,\nonce online"\n'.encode()
    [row] = parse_participants("participants.csv", data)
    assert row.attributes == {"notes": "met twice,\nonce online"} and row.line == 2


# ============================================================================ offline environment
def test_set_offline_env_sets_defaults_and_respects_existing(monkeypatch: pytest.MonkeyPatch) -> None:
    offline = _mod("offline")
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "STREAMLIT_BROWSER_GATHER_USAGE_STATS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    offline.set_offline_env()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "0"
    assert os.environ["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
