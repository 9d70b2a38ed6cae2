"""Bytes that are not UTF-8 from the command line (issue 25, class 3): in an argument (a memo, a code name,
a vignette's narrative) or on standard input (``-``). Each is one catalogue line naming what was wrong and
where (never "Something went wrong that Storyloom did not expect"), and the project is unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.offline import OFFLINE_ENV
from tests.conftest import table_dump

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, **OFFLINE_ENV, "STORYLOOM_USER": "Byte Tester", "PYTHONPATH": str(REPO), "LC_ALL": "C.UTF-8"}


def storyloom(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    argv = [os.fsencode(a) for a in (sys.executable, "-m", "analysis.cli", *args)]
    return subprocess.run(argv, input=stdin, capture_output=True, env=ENV, timeout=120)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bytes") / "study"
    assert storyloom("init", str(folder)).returncode == 0
    assert storyloom("code", "add", "Delay", "--project", str(folder)).returncode == 0
    return folder


def one_line(result: subprocess.CompletedProcess[bytes], what: str) -> str:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, err
    assert err.count("\n") == 1 and err.startswith("Error: [SL1801]"), err
    assert what in err and "did not expect" not in err and "0xFF" in err
    return err


@pytest.mark.parametrize("args,what", [
    ((b"memo", b"add", b"caf\xff notes"), "command argument 3"),
    ((b"code", b"add", b"Del\xffay"), "command argument 3"),
    ((b"memo", b"add", b"ok", b"--title", b"\xff"), "command argument 5"),
])
def test_an_argument_that_is_not_utf8_is_one_clear_line(project: Path, args: tuple[bytes, ...], what: str) -> None:
    before = table_dump(project)
    one_line(storyloom(*args, "--project", str(project)), what)
    assert table_dump(project) == before


def test_a_memo_on_standard_input_that_is_not_utf8(project: Path) -> None:
    before = table_dump(project)
    err = one_line(storyloom("memo", "add", "-", "--project", str(project), stdin=b"Reflexive \xff note\n"),
                   "standard input")
    assert "offset 10" in err
    assert table_dump(project) == before
    ok = storyloom("memo", "add", "-", "--project", str(project), stdin="Reflexive ā note\n".encode())
    assert ok.returncode == 0, ok.stderr


def test_narrative_text_on_standard_input_that_is_not_utf8(project: Path) -> None:
    from analysis import open_project
    from analysis.embedding.minilm import HashingEmbedder

    p = open_project(project, embedder=HashingEmbedder(), create=False)
    vignette = p.vignettes.create("Delays", items=[{"kind": "narrative", "text": "It began."}])
    p.close()
    before = table_dump(project)
    one_line(storyloom("vignette", "add-narrative", str(vignette.id), "-", "--project", str(project), stdin=b"\xff\xfe bad"),
             "standard input")
    assert table_dump(project) == before
