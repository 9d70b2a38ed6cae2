"""Where an export lands (issue 25, classes 4-6): every export is written to a temporary file renamed over
its target, new files are owner-only (0600), a link at the target is refused and named, a FIFO (or any
other non-regular file) is refused at once instead of blocking, and a full disk leaves the old file whole.
HTML and Markdown defang ``javascript:`` (and ``data:``, ``file:``, ``vbscript:``) links; the methods
report's Markdown escapes what researchers wrote."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.errors import ExportError
from analysis.export import html as html_out
from analysis.export import markdown as md_out
from analysis.export import write_file
from analysis.export.destination import NEW_FILE_MODE, write_atomic
from analysis.export.document import BlockQuote, Document, Paragraph

from tests.formats.test_export_sinks import parse, rendered_html


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_new_export_is_owner_only_and_an_old_one_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    write_file(target, b"first")
    assert target.stat().st_mode & 0o777 == NEW_FILE_MODE == 0o600
    target.chmod(0o644)
    write_file(target, b"second")
    assert target.read_bytes() == b"second" and target.stat().st_mode & 0o777 == 0o644
    assert _listing(tmp_path) == ["out.md"]


def test_an_export_replaces_the_file_by_rename_never_in_place(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_bytes(b"old")
    before = target.stat().st_ino
    hard = tmp_path / "hard-link-to-old"
    os.link(target, hard)
    write_file(target, b"new")
    assert target.read_bytes() == b"new" and hard.read_bytes() == b"old" and target.stat().st_ino != before


def test_a_full_disk_leaves_the_previous_export_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_bytes(b"the previous report")

    def full(tmp: Path) -> None:
        tmp.write_bytes(b"half a rep")
        raise OSError(28, "No space left on device")

    with pytest.raises(ExportError) as err:
        write_atomic(target, full)
    assert err.value.code == "SL3203" and str(target) in str(err.value)
    assert target.read_bytes() == b"the previous report" and _listing(tmp_path) == ["report.md"]


def test_a_link_at_the_destination_is_refused_and_named(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"someone else's file")
    link = tmp_path / "out.html"
    link.symlink_to(elsewhere)
    with pytest.raises(ExportError) as err:
        write_file(link, b"<html>")
    assert err.value.code == "SL3201" and str(elsewhere) in str(err.value)
    assert elsewhere.read_bytes() == b"someone else's file" and link.is_symlink()
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere" / "x.md")
    with pytest.raises(ExportError, match="SL3201"):
        write_file(dangling, b"x")


def _within(seconds: float, call: Callable[[], object], fifo: Path) -> BaseException | None:
    """Run ``call`` in a thread; fail the test if it is still running after ``seconds`` (a FIFO hang)."""
    box: list[BaseException | None] = [None]

    def target() -> None:
        try:
            call()
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            box[0] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # let the blocked writer go
        pytest.fail("the export blocked on a FIFO")
    return box[0]


def test_a_fifo_destination_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "out.md"
    os.mkfifo(fifo)
    err = _within(5, lambda: write_file(fifo, b"x"), fifo)
    assert isinstance(err, ExportError) and err.code == "SL3202" and "FIFO" in str(err)


def test_a_folder_destination_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out.md").mkdir()
    with pytest.raises(ExportError, match="SL3202"):
        write_file(tmp_path / "out.md", b"x")


# -- the project's exports, each onto a FIFO, through a link, and owner-only ---------------------------------
def _project_exports(project: object, tmp: Path) -> dict[str, Callable[[Path], object]]:
    p: object = project
    return {
        "methods report (md)": lambda path: p.exports.export_methods_report(path),  # type: ignore[attr-defined]
        "methods report (docx)": lambda path: p.exports.export_methods_report(path, format="docx"),  # type: ignore[attr-defined]
        "codebook (yaml)": lambda path: p.codebook_files.export_codebook(path),  # type: ignore[attr-defined]
        "codings (yaml)": lambda path: p.codebook_files.export_codings(path),  # type: ignore[attr-defined]
        "codebook (qdc)": lambda path: p.interchange.export_codebook(path.with_suffix(".qdc")),  # type: ignore[attr-defined]
        "project (qdpx)": lambda path: p.interchange.export_project(path.with_suffix(".qdpx")),  # type: ignore[attr-defined]
        "memos (md)": lambda path: p.exports.export_memos(path),  # type: ignore[attr-defined]
        "quotes (csv)": lambda path: p.exports.export_quotes(path.with_suffix(".csv")),  # type: ignore[attr-defined]
    }


EXPORTS = ["methods report (md)", "methods report (docx)", "codebook (yaml)", "codings (yaml)", "codebook (qdc)",
           "project (qdpx)", "memos (md)", "quotes (csv)"]


def _target(tmp_path: Path, which: str) -> Path:
    suffix = {"(qdc)": ".qdc", "(qdpx)": ".qdpx", "(csv)": ".csv", "(docx)": ".docx", "(yaml)": ".yaml"}
    return tmp_path / ("out" + next((s for k, s in suffix.items() if which.endswith(k)), ".md"))


@pytest.mark.parametrize("which", EXPORTS)
def test_every_project_export_refuses_a_fifo_a_link_and_writes_owner_only(which: str, make_project, tmp_path: Path) -> None:
    project = make_project(transcripts={"a.txt": "Interviewer: Hello?\n\nLeader A: It was hard.\n"})
    project.codebook.add_code("Delay")
    export = _project_exports(project, tmp_path)[which]
    out = tmp_path / "exports"
    out.mkdir()
    target = _target(out, which)
    export(target)
    assert target.stat().st_mode & 0o777 == 0o600, which
    target.unlink()
    os.mkfifo(target)
    err = _within(20, lambda: export(target), target)
    assert isinstance(err, ExportError) and err.code == "SL3202", (which, err)
    target.unlink()
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")
    target.symlink_to(victim)
    with pytest.raises(ExportError, match="SL3201"):
        export(target)
    assert victim.read_bytes() == b"keep me"


# -- links in HTML and Markdown -----------------------------------------------------------------------------
SCHEMES = ["javascript:alert(1)", "JavaScript:alert(document.cookie)", "vbscript:msgbox(1)",
           "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd", "javascript :alert(1)"]


def _doc(text: str) -> Document:
    return Document(title=f"T {text}", blocks=(Paragraph((f"See {text}",)), BlockQuote(f"Go to {text}", "(A)")))


@pytest.mark.parametrize("url", SCHEMES)
def test_html_and_markdown_defang_unsafe_url_schemes(url: str) -> None:
    page = html_out.render(_doc(url))
    scheme = url.split(":")[0]
    assert f"{scheme}:" not in page and f"{scheme}&#58;" in page
    shown = "".join(parse(page).text)
    assert shown.count(url) >= 3  # the reader sees the text unchanged
    md = md_out.render(_doc(f"<{url}> [x]({url})"))
    assert f"{scheme}:" not in md
    rendered = rendered_html(md)
    assert not [t for t, _ in parse(rendered).tags if t == "a"], rendered


def test_ordinary_links_and_the_word_data_are_left_alone() -> None:
    page = html_out.render(_doc("https://example.org and the data: three interviews"))
    assert "https://example.org" in page and "data: three" in page


def test_methods_report_markdown_escapes_a_snapshot_label(make_project) -> None:
    project = make_project()
    project.codebook.add_code("Delay")
    project.codebook_files.snapshot("<script>alert(1)</script> [x](javascript:alert(1))", phase="<b>phase</b>")
    md = project.exports.methods_report().markdown
    assert "<script>" not in md and "<b>" not in md and "javascript:" not in md
    assert "&lt;script&gt;" in md
    parsed = parse(rendered_html(md))
    assert not [t for t, _ in parsed.tags if t in ("script", "a", "b")]
