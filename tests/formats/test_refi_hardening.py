"""REFI-QDA imports that must refuse (issue 25): sources read from outside the archive without the
researcher's say-so (absolute paths, ``file://``, ``basePath``, links out of the named folder), names with
control or bidirectional characters or over 200 characters (sources, cases, users, codes, variables), text
bodies with NUL as a ``.txt`` import refuses them, and a damaged member (bad CRC, truncated stream). Each case
is one clear catalogue error naming the file, and a before/after dump of every table shows nothing changed."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.errors import ImportFormatError
from analysis.project import Project
from tests.conftest import table_dump

SRC = "22222222-2222-2222-2222-222222222222"
CODE = "11111111-1111-1111-1111-111111111111"


def qde(*, source: str = "", base: str = "", code: str = "Delay", source_name: str = "Interview A",
        extra: str = "") -> bytes:
    source = source or f'plainTextPath="internal://{SRC}.txt"'
    base_attr = f' basePath="{base}"' if base else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"{base_attr}>'
            f'<CodeBook><Codes><Code guid="{CODE}" name="{code}" isCodable="true"/></Codes></CodeBook>{extra}'
            f'<Sources><TextSource guid="{SRC}" name="{source_name}" {source}/></Sources></Project>').encode()


def qdpx(path: Path, members: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


def refused(project: Project, path: Path, code: str, **kw: object) -> ImportFormatError:
    """Importing ``path`` (dry run and real) raises catalogue error ``code`` and changes no table."""
    before = table_dump(project.ctx.path)
    for dry_run in (True, False):
        with pytest.raises(ImportFormatError) as err:
            project.interchange.import_project(path, dry_run=dry_run, **kw)  # type: ignore[arg-type]
        assert err.value.code == code, str(err.value)
        assert path.name in str(err.value)
    assert table_dump(project.ctx.path) == before
    return err.value


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file of this computer's that no project should read without being told to."""
    folder = tmp_path / "system"
    folder.mkdir()
    path = folder / "shadow"
    path.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    return path


# -- class 1: nothing from outside the archive without the researcher saying so ----------------------------
@pytest.mark.parametrize("form", ["absolute", "file-url", "basepath", "basepath-rich"])
def test_a_source_outside_the_archive_is_refused_without_sources_from(form: str, make_project: Callable[..., Project],
                                                                      tmp_path: Path, secret: Path) -> None:
    source = {"absolute": f'plainTextPath="{secret}"', "file-url": f'plainTextPath="file://{secret}"',
              "basepath": 'plainTextPath="relative://shadow"',
              "basepath-rich": 'richTextPath="relative://shadow.docx"'}[form]
    base = str(secret.parent) if form.startswith("basepath") else ""
    path = qdpx(tmp_path / "outside.qdpx", {"project.qde": qde(source=source, base=base)})
    err = refused(make_project(), path, "SL5201")
    assert "--sources-from" in str(err) and "secret-hash" not in str(err)


def test_sources_from_reads_only_inside_the_named_folder(make_project: Callable[..., Project], tmp_path: Path,
                                                         secret: Path) -> None:
    allowed = tmp_path / "exported-sources"
    allowed.mkdir()
    (allowed / "a.txt").write_text("Leader A: It was hard.\n")
    project = make_project()
    # outside the folder, by absolute path and by '..' -free basePath elsewhere
    path = qdpx(tmp_path / "elsewhere.qdpx", {"project.qde": qde(source=f'plainTextPath="{secret}"')})
    err = refused(project, path, "SL5202", sources_from=allowed)
    assert str(allowed) in str(err)
    # a link inside the folder that leads out of it
    (allowed / "link.txt").symlink_to(secret)
    path = qdpx(tmp_path / "link.qdpx", {"project.qde": qde(source=f'plainTextPath="{allowed / "link.txt"}"')})
    err = refused(project, path, "SL5202", sources_from=allowed)
    assert "symbolic link" in str(err)
    # inside: read, and listed in the dry run's report and the import's
    path = qdpx(tmp_path / "inside.qdpx", {"project.qde": qde(source='plainTextPath="relative://a.txt"')})
    before = table_dump(project.ctx.path)
    report = project.interchange.import_project(path, dry_run=True, sources_from=allowed)
    assert report["outside_files"] == [str((allowed / "a.txt").resolve())]
    assert table_dump(project.ctx.path) == before
    report = project.interchange.import_project(path, sources_from=allowed)
    assert report["outside_files"] == [str((allowed / "a.txt").resolve())]
    assert project.transcripts.get("Interview A").text == "Leader A: It was hard.\n"


def test_the_cli_names_the_option_and_lists_outside_files(tmp_path: Path, secret: Path) -> None:
    from typer.testing import CliRunner

    from analysis.cli import app

    runner = CliRunner()
    folder = tmp_path / "study"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    path = qdpx(tmp_path / "outside.qdpx", {"project.qde": qde(source=f'plainTextPath="{secret}"')})
    result = runner.invoke(app, ["refi", "import", str(path), "--dry-run", "--project", str(folder)])
    assert result.exit_code == 1 and "SL5201" in result.output and "secret-hash" not in result.output
    result = runner.invoke(app, ["refi", "import", str(path), "--dry-run", "--project", str(folder),
                                 "--sources-from", str(secret.parent)])
    assert result.exit_code == 0, result.output
    assert f"Would read from outside the archive: {secret.resolve()}" in result.output


# -- class 2: names are clean wherever they come from ---------------------------------------------------
BAD_NAMES = {"newline": "Prog&#10;Error: forged", "bidi": "A\u202eB", "escape": "Red\x1b[31m",
             "zero-width": "Del\u200bay", "too long": "x" * 1000}


def _with_name(where: str, name: str) -> bytes:
    users = f'<Users><User guid="33333333-3333-3333-3333-333333333333" name="{name}"/></Users>'
    cases = f'<Cases><Case guid="44444444-4444-4444-4444-444444444444" name="{name}"/></Cases>'
    variables = f'<Variables><Variable guid="55555555-5555-5555-5555-555555555555" name="{name}"/></Variables>'
    return {"source": lambda: qde(source_name=name), "code": lambda: qde(code=name),
            "user": lambda: qde(extra=users), "case": lambda: qde(extra=cases),
            "variable": lambda: qde(extra=variables)}[where]()


@pytest.mark.parametrize("kind", list(BAD_NAMES))
@pytest.mark.parametrize("where", ["source", "code", "user", "case", "variable"])
def test_refi_names_with_control_characters_or_too_long_are_refused(where: str, kind: str, make_project, tmp_path):
    name = BAD_NAMES[kind]
    if kind == "escape" and where in ("source", "code", "user", "case", "variable"):
        name = name.replace("\x1b", "&#27;")  # XML 1.0 cannot hold ESC raw; lxml refuses the reference (SL5102)
    path = qdpx(tmp_path / "names.qdpx", {"project.qde": _with_name(where, name),
                                          f"sources/{SRC}.txt": b"Leader A: It was hard.\n"})
    code = "SL5102" if kind == "escape" else "SL2161"
    err = refused(make_project(), path, code)
    if code == "SL2161":
        assert where in str(err) and "\n" not in str(err) and "\u202e" not in str(err)


def test_a_qdc_code_name_is_checked_too(make_project, tmp_path):
    qdc = tmp_path / "book.qdc"
    qdc.write_text(f'<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="{CODE}" '
                   f'name="A\u202eB" isCodable="true"/></Codes></CodeBook>', encoding="utf-8")
    project = make_project()
    before = table_dump(project.ctx.path)
    with pytest.raises(ImportFormatError, match="SL2161"):
        project.interchange.import_project(qdc)
    assert table_dump(project.ctx.path) == before


@pytest.mark.parametrize("body,code", [(b"Leader A: It was\x00 hard.\n" * 20, "SL1101"),
                                       (b"\x1b[2J\x1b[31m" * 50 + b"Leader A: hi\n", "SL1101")])
def test_a_refi_source_body_gets_the_txt_treatment(body: bytes, code: str, make_project, tmp_path):
    path = qdpx(tmp_path / "body.qdpx", {"project.qde": qde(), f"sources/{SRC}.txt": body})
    refused(make_project(), path, code)


def test_a_few_escape_characters_in_a_long_body_are_kept_as_a_txt_import_keeps_them(make_project, tmp_path):
    body = b"Leader A: It was hard, really hard.\n" * 40 + b"\x1b"
    path = qdpx(tmp_path / "ok.qdpx", {"project.qde": qde(), f"sources/{SRC}.txt": body})
    assert make_project().interchange.import_project(path, dry_run=True)["sources"][0]["name"] == "Interview A"


# -- class 3: a damaged member is a clear error ------------------------------------------------------------
def _corrupt(path: Path, member: str, how: str) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    if how == "crc":  # flip the stored CRC in the central directory and the local header
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
            crc = z.getinfo(member).CRC.to_bytes(4, "little")
        data = bytearray(bytes(data).replace(crc, bytes(b ^ 0xFF for b in crc)))
    else:  # garble the compressed stream
        for i in range(start + 2, start + min(info.compress_size, 40)):
            data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("member", ["project.qde", f"sources/{SRC}.txt"])
@pytest.mark.parametrize("how", ["crc", "stream"])
def test_a_member_with_a_bad_crc_or_stream_is_refused_by_name(member: str, how: str, make_project, tmp_path):
    path = qdpx(tmp_path / "damaged.qdpx", {"project.qde": qde(),
                                            f"sources/{SRC}.txt": b"Leader A: It was hard, really hard.\n" * 30})
    _corrupt(path, member, how)
    err = refused(make_project(), path, "SL5203")
    assert member in str(err) and str(err).endswith("Nothing was imported.")


NOTE = "55555555-5555-5555-5555-555555555555"
NOTES = (f'<Notes><Note guid="{NOTE}" name="A memo" plainTextPath="internal://{NOTE}.txt"/></Notes>')


def _with_note(path: Path) -> Path:
    xml = qde().replace(b"</Project>", NOTES.encode() + b"</Project>")
    return qdpx(path, {"project.qde": xml, f"sources/{SRC}.txt": b"Leader A: It was hard.\n",
                       f"sources/{NOTE}.txt": b"A memo about the interview, a line of it.\n" * 400})


@pytest.mark.parametrize("how", ["crc", "stream"])
def test_a_damaged_note_member_is_refused_by_the_dry_run_too(how: str, make_project, tmp_path) -> None:
    """A dry run does not need a note's text (it counts notes), so it streams the member through, keeping
    nothing; a damaged one is still found there, not first by the import."""
    path = _with_note(tmp_path / "note.qdpx")
    _corrupt(path, f"sources/{NOTE}.txt", how)
    err = refused(make_project(), path, "SL5203")
    assert f"sources/{NOTE}.txt" in str(err)


def test_a_dry_run_reads_no_note_member_whole(make_project, tmp_path, monkeypatch) -> None:
    from analysis.refi.read import Archive

    path = _with_note(tmp_path / "note.qdpx")
    read: list[str] = []
    original = Archive.read
    monkeypatch.setattr(Archive, "read", lambda self, member, **kw: read.append(member) or original(self, member, **kw))
    project = make_project()
    assert project.interchange.import_project(path, dry_run=True)["notes"] == 1
    assert f"sources/{NOTE}.txt" not in read and "project.qde" in read
    read.clear()
    project.interchange.import_project(path)
    assert f"sources/{NOTE}.txt" in read and [m.body for m in project.memos.list()][0].startswith("A memo about")


# -- class 4: bounded memory for a big source ---------------------------------------------------------------
BIG_SOURCE = r'''
import io, random, resource, sys, time, zipfile
from pathlib import Path
from analysis import open_project
from analysis.embedding.minilm import HashingEmbedder
src, code = "22222222-2222-2222-2222-222222222222", "11111111-1111-1111-1111-111111111111"
random.seed(1)
words = "hard built assessment credential nobody wanted approval months employer ākonga “afraid” failing 😬".split()
text = "".join(f"Leader {random.randint(1, 9)}: " + " ".join(random.choice(words) for _ in range(12)) + ".\r\n"
               for _ in range(20 * 1024 * 1024 // 100))
sels = "".join(f'<PlainTextSelection guid="{i:08d}-0000-0000-0000-000000000000" startPosition="{i * 997}" '
               f'endPosition="{i * 997 + 8}"><Coding guid="{i:08d}-1111-0000-0000-000000000000"><CodeRef '
               f'targetGUID="{code}"/></Coding></PlainTextSelection>' for i in range(500))
qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>'
       f'<Code guid="{code}" name="c" isCodable="true"/></Codes></CodeBook><Sources><TextSource guid="{src}" '
       f'name="s" plainTextPath="internal://{src}.txt">{sels}</TextSource></Sources></Project>')
folder = Path(sys.argv[1])
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("project.qde", qde)
    z.writestr(f"sources/{src}.txt", text.encode())
(folder / "big.qdpx").write_bytes(buf.getvalue())
size = len(text.encode())
del text, buf
from analysis import limits
limits.TRANSCRIPT_CHARS = 100_000_000  # the character cap (which refuses this source) lifted: the map's own memory
p = open_project(folder / "p", embedder=HashingEmbedder())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
report = p.interchange.import_project(folder / "big.qdpx", dry_run=True)
print(size, report["sources"][0]["selections"], time.monotonic() - start,
      (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
'''


def test_a_dry_run_of_a_20_mb_source_stays_in_bounded_memory(tmp_path: Path) -> None:
    """Was 4.3 GB: the position map held a Python int per source position for each of four rules."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", BIG_SOURCE, str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    size, selections, seconds, grown = result.stdout.split()
    assert int(size) > 20_000_000 and int(selections) == 500
    assert int(grown) < 800 * 1024 * 1024, f"the dry run grew by {int(grown) >> 20} MiB"
    assert float(seconds) < 120


def test_a_source_over_the_character_cap_is_refused_before_segmenting(make_project, tmp_path, monkeypatch) -> None:
    from analysis import limits

    monkeypatch.setattr(limits, "TRANSCRIPT_CHARS", 1000)
    path = qdpx(tmp_path / "long.qdpx", {"project.qde": qde(), f"sources/{SRC}.txt": b"Leader A: " + b"word " * 400})
    err = refused(make_project(), path, "SL1551")
    assert "1,000 characters" in str(err) and "Interview A" in str(err)
