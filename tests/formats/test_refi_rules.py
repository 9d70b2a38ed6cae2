"""REFI-QDA position rules that cannot be told apart are not guessed (issue 25, class 9).

One program writes one rule, so the evidence of all sources of one export is pooled, the program named in
the file (``origin``) is a prior where that evidence is weak, and a source whose own evidence is weak is
reported "ambiguous, placed by the project's rule" with a warning (SL5301). A source whose own evidence
decides against the others is placed by its own rule with a warning (SL5302); evidence that decides against
the program named in the file wins, with a warning (SL5303). The real NVivo exports (in
``test_refi.py::test_real_exports_say_what_placed_them``) are placed as before, by their own evidence."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.project import Project
from analysis.refi.positions import (ALIKE, AMBIGUOUS, OWN, RULES, Rule, evidence, export_rule, prior_of,
                                     utf16_offsets, verdict)

CODE = "11111111-1111-1111-1111-111111111111"
UTF16 = Rule("utf16", "stored")
CODEPOINTS = RULES[0]
#: Words after emoji: a selection written in UTF-16 units on whole words lands inside words under code points.
STRONG = "😀 Leader: 🎉 hard work 😬 made the credential nobody wanted 👍 in the end.\n"
#: The weak case: one unnamed selection starting at the space before a word, so that its start is a word
#: boundary under both rules (UTF-16: the space; code points: the word's first letter).
WEAK = "😀 Digo: le doy la vuelta y ya.\n"


def _selection(i: int, start: int, end: int, name: str = "") -> str:
    named = f' name="{name}"' if name else ""
    return (f'<PlainTextSelection guid="{i:08d}-3333-3333-3333-333333333333"{named} startPosition="{start}" '
            f'endPosition="{end}"><Coding guid="{i:08d}-4444-4444-4444-444444444444"><CodeRef '
            f'targetGUID="{CODE}"/></Coding></PlainTextSelection>')


def _spans(text: str, words: list[str], rule: Rule, *, lead: str = "") -> list[tuple[int, int]]:
    """Positions of ``lead + word`` (the last occurrence of each) in ``text`` under ``rule``."""
    units = utf16_offsets(text) if rule == UTF16 else list(range(len(text) + 1))
    out = []
    for w in words:
        at = text.rindex(lead + w)
        out.append((units[at], units[at + len(lead + w)]))
    return out


def export(path: Path, sources: list[tuple[str, str, list[tuple[int, int, str]]]], *, origin: str = "") -> Path:
    """A ``.qdpx`` whose sources are ``(name, text, [(start, end, quote-or-"")])``, texts as members."""
    xml = [f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x" '
           f'origin="{origin}"><CodeBook><Codes><Code guid="{CODE}" name="Delay" isCodable="true"/></Codes>'
           f'</CodeBook><Sources>']
    members: dict[str, bytes] = {}
    n = 0
    for k, (name, text, sels) in enumerate(sources):
        guid = f"{k + 1:08d}-2222-2222-2222-222222222222"
        xml.append(f'<TextSource guid="{guid}" name="{name}" plainTextPath="internal://{guid}.txt">')
        for start, end, quote in sels:
            n += 1
            xml.append(_selection(n, start, end, quote))
        xml.append("</TextSource>")
        members[f"sources/{guid}.txt"] = text.encode("utf-8")
    xml.append("</Sources></Project>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", "".join(xml))
        for member, data in members.items():
            z.writestr(member, data)
    path.write_bytes(buf.getvalue())
    return path


def _imported(project: Project, path: Path) -> dict[str, Any]:
    """The dry run's report equals the import's in placement; returns the import's."""
    dry = project.interchange.import_project(path, dry_run=True)
    report = project.interchange.import_project(path)
    assert dry["sources"] == report["sources"] and dry["warnings"] == report["warnings"]
    assert dry["position_rule"] == report["position_rule"]
    return report


def _quotes(project: Project, name: str) -> list[str]:
    return [c.text for c in project.codings.codings_in(name)]


def _rows(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["name"], s["rule"], s["evidence"]) for s in report["sources"]]


def _codes(report: dict[str, Any]) -> list[str]:
    return [w[1:7] for w in report["warnings"]]


def _strong_utf16() -> tuple[str, str, list[tuple[int, int, str]]]:
    return ("strong", STRONG, [(a, b, "") for a, b in _spans(STRONG, ["hard", "made", "credential", "nobody",
                                                                        "wanted", "end"], UTF16)])


def _weak(text: str = WEAK) -> tuple[str, str, list[tuple[int, int, str]]]:
    ((a, b),) = _spans(text, ["doy"], UTF16, lead=" ")
    return ("weak", text, [(a, b, "")])


# -- the pure rules ----------------------------------------------------------------------------------------------
def test_the_weak_case_is_weak_under_both_rules() -> None:
    """The issue's case: one unnamed selection whose start is a word boundary under both rules: before this,
    the tie went to code points and the source was reported "placed", one character off."""
    name, text, sels = _weak()
    found, _ = evidence(text, sels)
    assert found.margin == 0 and not found.decisive
    assert found.score(UTF16).boundaries == found.score(CODEPOINTS).boundaries == 1
    assert verdict(found, export_rule([found], ""))[1] == AMBIGUOUS


def test_an_ascii_source_cannot_tell_the_rules_apart_and_needs_not() -> None:
    found, _ = evidence("plain words only\n", [(6, 11, "words")])
    assert found.margin is None and found.reps[UTF16] == CODEPOINTS
    assert verdict(found, export_rule([found], "NVivo 12"))[0] == UTF16  # the export's rule: the same map
    assert verdict(found, export_rule([found], "NVivo 12"))[1] == ALIKE


def test_priors_name_only_what_was_checked() -> None:
    assert prior_of("NVivo for Windows 12.6") == prior_of("NVivo for Mac 12.7.0") == UTF16
    assert prior_of("MAXQDA 24 (Release 24.7.0)") is None and prior_of("ATLAS.ti") is None and prior_of("") is None


# -- crafted exports ---------------------------------------------------------------------------------------------
def test_a_weak_source_is_placed_by_the_rule_the_exports_other_sources_show(make_project: Callable[..., Project],
                                                                            tmp_path: Path) -> None:
    report = _imported(project := make_project(), export(tmp_path / "pooled.qdpx", [_strong_utf16(), _weak()]))
    assert _rows(report) == [("strong", "utf16", OWN), ("weak", "utf16", AMBIGUOUS)]
    assert report["position_rule"]["rule"] == "utf16" and report["position_rule"]["basis"] == "selections"
    assert _quotes(project, "weak") == [" doy"]  # by code points (the old tie) it was "doy ", one character off
    assert _quotes(project, "strong") == ["hard", "made", "credential", "nobody", "wanted", "end"]
    (warning,) = report["warnings"]
    assert warning.startswith("[SL5301] pooled.qdpx, line ") and "'weak'" in warning and "ambiguous" in warning
    assert "placed by the project's rule, utf16" in warning and "other sources" in warning


def test_a_weak_source_alone_takes_the_rule_of_the_program_named_in_the_file(make_project: Callable[..., Project],
                                                                            tmp_path: Path) -> None:
    report = _imported(project := make_project(), export(tmp_path / "nv.qdpx", [_weak()], origin="NVivo 14"))
    assert _rows(report) == [("weak", "utf16", AMBIGUOUS)] and report["position_rule"]["basis"] == "program"
    assert _quotes(project, "weak") == [" doy"]
    assert _codes(report) == ["SL5301"] and "the rule NVivo 14 writes" in report["warnings"][0]


def test_a_weak_source_alone_from_an_unknown_program_takes_the_standard(make_project: Callable[..., Project],
                                                                       tmp_path: Path) -> None:
    report = _imported(project := make_project(), export(tmp_path / "q.qdpx", [_weak()], origin="SomeQDA 2"))
    assert _rows(report) == [("weak", "codepoints", AMBIGUOUS)] and report["position_rule"]["basis"] == "standard"
    assert _quotes(project, "weak") == ["doy "]  # what the standard's positions say; reported, not hidden
    assert _codes(report) == ["SL5301"] and "REFI-QDA standard" in report["warnings"][0]


def test_evidence_against_the_program_named_in_the_file_wins_with_a_warning(make_project: Callable[..., Project],
                                                                           tmp_path: Path) -> None:
    words = ["hard", "made", "credential", "nobody"]
    sels = [(a, b, w) for (a, b), w in zip(_spans(STRONG, words, CODEPOINTS), words)]  # code points, quoted
    report = _imported(project := make_project(), export(tmp_path / "odd.qdpx", [("s", STRONG, sels)],
                                                         origin="NVivo for Windows 12.6"))
    assert _rows(report) == [("s", "codepoints", OWN)] and report["position_rule"]["rule"] == "codepoints"
    assert _quotes(project, "s") == words
    assert _codes(report) == ["SL5303"]
    assert "names NVivo for Windows 12.6, which writes positions as utf16" in report["warnings"][0]
    assert "4 quotes matched" in report["warnings"][0]


def test_sources_that_disagree_are_each_placed_by_their_own_evidence(make_project: Callable[..., Project],
                                                                    tmp_path: Path) -> None:
    words = ["hard", "made", "credential", "nobody"]
    other = "😀 Leader: 🎉 hard work 😬 made the credential nobody wanted 👍 in the end, again.\n"
    quoted = [(a, b, w) for (a, b), w in zip(_spans(other, words, CODEPOINTS), words)]
    report = _imported(project := make_project(), export(tmp_path / "mixed.qdpx",
                                                         [_strong_utf16(), ("other", other, quoted)]))
    assert report["position_rule"]["rule"] == "codepoints"  # four quotes outweigh six boundary starts
    assert _rows(report) == [("strong", "utf16", OWN), ("other", "codepoints", OWN)]
    assert _quotes(project, "strong") == ["hard", "made", "credential", "nobody", "wanted", "end"]
    assert _quotes(project, "other") == words
    (warning,) = report["warnings"]
    assert warning.startswith("[SL5302]") and "'strong'" in warning and "fit utf16" in warning


def test_crlf_counted_one_way_by_every_source_is_pooled_too(make_project: Callable[..., Project],
                                                           tmp_path: Path) -> None:
    """The other axis of the rule: CRLF as one unit. A source with one selection after a few CRLFs cannot tell
    (its start is a boundary both ways); the export's other source can."""
    strong = "".join(f"Leader {i}: we built it\r\n" for i in range(8)) + "hard work made it\r\n"
    flat = strong.replace("\r\n", "\n")
    sels = [(flat.rindex(w), flat.rindex(w) + len(w), "") for w in ("hard", "work", "made")]
    weak = "a\r\nb\r\n c d e\r\n"
    at = weak.replace("\r\n", "\n").index(" c")
    report = _imported(project := make_project(), export(tmp_path / "crlf.qdpx", [
        ("strong", strong, sels), ("weak", weak, [(at, at + 2, "")])]))
    assert _rows(report) == [("strong", "codepoints+crlf1", OWN), ("weak", "codepoints+crlf1", AMBIGUOUS)]
    assert _quotes(project, "strong") == ["hard", "work", "made"] and _quotes(project, "weak") == [" c"]
    assert _codes(report) == ["SL5301"]


def test_a_source_in_plain_ascii_is_placed_alike_without_a_warning(make_project: Callable[..., Project],
                                                                  tmp_path: Path) -> None:
    text = "Leader: it was hard work.\n"
    report = _imported(project := make_project(), export(tmp_path / "a.qdpx", [
        ("a", text, [(text.index("hard"), text.index("hard") + 4, "")])], origin="NVivo 12"))
    assert _rows(report) == [("a", "utf16", ALIKE)] and report["warnings"] == []
    assert _quotes(project, "a") == ["hard"]


@pytest.mark.parametrize("origin", ["", "NVivo 12"])
def test_the_cli_shows_each_sources_evidence(origin: str, make_project: Callable[..., Project],
                                             tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from analysis.cli import app

    project = make_project()
    path = export(tmp_path / "cli.qdpx", [_strong_utf16(), _weak()], origin=origin)
    result = CliRunner().invoke(app, ["refi", "import", str(path), "--dry-run", "--project", str(project.ctx.path)])
    assert result.exit_code == 0, result.output
    assert "ambiguous, placed by the project's rule" in result.output and "[SL5301]" in result.output
