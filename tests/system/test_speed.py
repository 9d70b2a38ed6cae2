"""Issue 13 (speed), the backend half: what makes the CLI start fast and the embeddings fast, held as
correctness (no timing thresholds here; the timings are in benchmarks/BENCHMARKS.md).

* commands that need no model import neither torch nor spaCy nor sentence-transformers (a fresh
  interpreter per command; ``sys.modules`` read after it ran);
* the project opens without Alembic when the database is at the newest revision, and the head read
  from the revision files is Alembic's own;
* ``storyloom search --queries FILE|-`` runs many searches in one process, one JSON object per query;
* the ONNX export agrees with the torch reference (slow: real model), and a failed verification
  falls back to torch with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.cli import app

REPO = Path(__file__).resolve().parents[2]
MODEL_LIBS = {"torch", "spacy", "sentence_transformers", "transformers", "onnxruntime"}
HEAVY = (*sorted(MODEL_LIBS), "pandas", "alembic")
runner = CliRunner()


def _modules_after(args: list[str]) -> tuple[int, set[str], str]:
    """Run ``storyloom ARGS`` in a fresh interpreter; (exit status, heavy modules it imported, output)."""
    code = (
        "import json, sys\n"
        "from analysis.cli import app\n"
        f"sys.argv = ['storyloom', *{args!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as e:\n"
        "    status = e.code or 0\n"
        "else:\n"
        "    status = 0\n"
        f"print(json.dumps([status, sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    status, heavy = json.loads(out.stdout.strip().splitlines()[-1])
    return int(status), set(heavy), out.stdout + out.stderr


def test_commands_without_a_model_import_no_model_library(make_project, interview_text) -> None:
    p = make_project(transcripts={"leader_a.txt": interview_text})
    where = ["--project", str(p.path)]
    queries = p.path / "queries.txt"
    queries.write_text("grant\nheat pump\n", encoding="utf-8")
    for args in (["status", *where], ["code", "list", *where], ["transcripts", *where], ["participants", *where],
                 ["formats"], ["--help"]):
        status, heavy, output = _modules_after(args)
        assert status == 0, (args, output)
        # pandas and Alembic too: they cost ~0.4 s and ~0.3 s; a project at the newest revision needs neither
        assert heavy == set(), (args, heavy)
    for args in (["search", "grant", "--mode", "keyword", *where],
                 ["search", "--queries", str(queries), "--mode", "keyword", "--json", *where]):
        status, heavy, output = _modules_after(args)
        assert status == 0, (args, output)
        assert not heavy & MODEL_LIBS, (args, heavy)  # (the segment index is a pandas frame)


@pytest.mark.slow
def test_the_model_libraries_do_load_when_a_command_needs_them(make_project, interview_text, tmp_path) -> None:
    """The check above can fail: a command that segments and embeds imports spaCy and a model runtime."""
    p = make_project()
    (tmp_path / "leader_b.txt").write_text(interview_text, encoding="utf-8")
    status, heavy, output = _modules_after(["import", str(tmp_path / "leader_b.txt"), "--project", str(p.path)])
    assert status == 0, output
    assert "spacy" in heavy and heavy & {"onnxruntime", "torch"}, heavy


def test_script_head_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from analysis.store import alembic_config, script_head

    assert script_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_an_older_database_is_still_upgraded(make_project, interview_text) -> None:
    """The fast path only skips Alembic at the head: an older revision still goes through the upgrade."""
    import sqlite3

    from analysis import open_project

    p = make_project(transcripts={"leader_a.txt": interview_text})
    db = p.path / "project.db"
    p.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'no_such_revision'")
    from analysis.errors import ProjectError

    with pytest.raises(ProjectError, match="no_such_revision"):
        open_project(p.path)


@pytest.fixture
def hashing_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process CLI opens projects with the hashing embedder of ``make_project`` (no model)."""
    from analysis import project
    from analysis.embedding.minilm import HashingEmbedder

    monkeypatch.setattr(project, "default_embedder", HashingEmbedder)


@pytest.mark.parametrize("mode", ["keyword", "semantic"])
def test_search_many_queries_in_one_process(make_project, interview_text, tmp_path, hashing_cli, mode) -> None:
    p = make_project(transcripts={"leader_a.txt": interview_text})
    where = ["--project", str(p.path)]
    texts = " ".join(p.assist.segment_index().frame["text"].tolist())
    words = list(dict.fromkeys(w.strip(".,?!:;\"'") for w in texts.split() if len(w) > 6 and w.isalpha()))[:3]
    qfile = tmp_path / "q.txt"
    qfile.write_text(f"{words[0]}\n\n{words[1]}\n{words[2]}\n", encoding="utf-8")
    result = runner.invoke(app, ["search", "--queries", str(qfile), "--mode", mode, "--json", *where])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["query"], r["line"]) for r in lines] == [(words[0], 1), (words[1], 3), (words[2], 4)]
    for r in lines:
        single = runner.invoke(app, ["search", r["query"], "--mode", mode, "--json", *where])
        assert json.loads(single.stdout)["hits"] == r["hits"]
        assert r["hits"], r["query"]
    # standard input
    piped = runner.invoke(app, ["search", "--queries", "-", "--mode", "keyword", "--json", *where],
                          input=f"{words[0]}\n")
    assert piped.exit_code == 0, piped.output
    assert [json.loads(x)["query"] for x in piped.stdout.splitlines()] == [words[0]]
    # human output: a heading per query
    plain = runner.invoke(app, ["search", "--queries", str(qfile), "--mode", "keyword", *where])
    assert plain.stdout.count("== ") == 3


def test_search_queries_errors_name_the_file_and_line(make_project, interview_text, tmp_path, hashing_cli) -> None:
    p = make_project(transcripts={"leader_a.txt": interview_text})
    where = ["--project", str(p.path)]
    both = runner.invoke(app, ["search", "x", "--queries", "-", *where])
    assert both.exit_code == 1 and "SL9103" in both.output
    neither = runner.invoke(app, ["search", *where])
    assert neither.exit_code == 1 and "SL9104" in neither.output
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    out = runner.invoke(app, ["search", "--queries", str(empty), *where])
    assert out.exit_code == 1 and "SL9105" in out.output and str(empty) in out.output
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9\n".encode("latin-1"))
    out = runner.invoke(app, ["search", "--queries", str(latin), *where])
    assert out.exit_code == 1 and "SL9107" in out.output and "Traceback" not in out.output
    bad = tmp_path / "bad.txt"
    bad.write_text("grant\ngrant\n", encoding="utf-8")
    out = runner.invoke(app, ["search", "--queries", str(bad), "--mode", "nonsense", *where])
    assert out.exit_code == 1 and f"{bad}, line 1" in out.output and "Traceback" not in out.output
    missing = runner.invoke(app, ["search", "--queries", str(tmp_path / "nope.txt"), *where])
    assert missing.exit_code == 1 and "nope.txt" in missing.output and "Traceback" not in missing.output


def test_a_failed_verification_falls_back_to_torch_with_a_warning(tmp_path, monkeypatch, caplog) -> None:
    """A cached verdict saying the export disagrees: no ONNX runner, one SL9102 warning (no model loaded)."""
    from analysis.embedding import onnx_backend as embed_onnx

    monkeypatch.setenv("STORYLOOM_CACHE", str(tmp_path))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    folder = tmp_path / "onnx" / embed_onnx.model_key(model)
    folder.mkdir(parents=True)
    (folder / "verified.json").write_text(json.dumps({"ok": False, "min_cosine": 0.93,
                                                      "record": embed_onnx.export_record()}), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="storyloom"):
        assert embed_onnx.prepare(model) is None
    assert "SL9102" in caplog.text and "0.93" in caplog.text
    # a changed model file is a new key: a new export would be tried
    (model / "config.json").write_text('{"x": 1}', encoding="utf-8")
    assert embed_onnx.model_key(model) != folder.name


def test_the_export_key_names_the_runtime_and_the_options(tmp_path, monkeypatch) -> None:
    """Another ONNX Runtime, other export options or another export version: another cache folder (so
    a new export, verified anew); a verdict written for another record is not trusted."""
    from analysis.embedding import onnx_backend as embed_onnx

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    key = embed_onnx.model_key(model)
    assert embed_onnx.model_key(model) == key  # stable
    assert embed_onnx.export_record()["onnxruntime"] == embed_onnx.runtime_version() != "none"
    monkeypatch.setattr(embed_onnx, "runtime_version", lambda: "0.0.1")
    assert embed_onnx.model_key(model) != key
    monkeypatch.undo()
    monkeypatch.setattr(embed_onnx, "EXPORT_OPTIONS", {**embed_onnx.EXPORT_OPTIONS, "attention": "sdpa"})
    assert embed_onnx.model_key(model) != key
    monkeypatch.undo()
    monkeypatch.setattr(embed_onnx, "EXPORT_VERSION", embed_onnx.EXPORT_VERSION + 1)
    assert embed_onnx.model_key(model) != key
    monkeypatch.undo()
    assert embed_onnx.model_key(model) == key
    # a verdict without this record (an older export's, or another runtime's) reads as "not exported yet"
    folder = tmp_path / "onnx" / key
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"")
    old = {"ok": True, "min_cosine": 0.9999999, "export_version": 1}
    (folder / "verified.json").write_text(json.dumps(old), encoding="utf-8")
    assert embed_onnx.prepared(folder) is None
    other = {**old, "record": {**embed_onnx.export_record(), "onnxruntime": "0.0.1"}}
    (folder / "verified.json").write_text(json.dumps(other), encoding="utf-8")
    assert embed_onnx.prepared(folder) is None
    mine = {**old, "record": embed_onnx.export_record()}
    (folder / "verified.json").write_text(json.dumps(mine), encoding="utf-8")
    assert embed_onnx.prepared(folder) == mine
    (folder / "model.onnx").unlink()  # a verdict without its model: export again
    assert embed_onnx.prepared(folder) is None


@pytest.mark.slow
def test_onnx_vectors_match_the_torch_reference(sample_project, tmp_path, monkeypatch) -> None:
    """The export, from the packaged model into a fresh cache, offline; then ONNX vectors of the sample
    study's sentences against sentence-transformers on torch (the reference)."""
    from analysis.embedding import minilm as embed, onnx_backend as embed_onnx

    monkeypatch.setenv("STORYLOOM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = embed_onnx.prepare(embed.model_dir())
    assert folder is not None and (folder / "model.onnx").is_file()
    verdict = json.loads((folder / "verified.json").read_text(encoding="utf-8"))
    assert verdict["ok"] and verdict["min_cosine"] >= embed_onnx.MIN_COSINE
    assert verdict["record"] == embed_onnx.export_record() and verdict["batched_vs_alone_min_cosine"] >= embed_onnx.MIN_COSINE
    assert verdict["repeat_identical"]  # one intra-op thread: the same input, the same bits
    # the eager-attention export: no SDPA NaN guards in the graph
    import onnx

    ops = {node.op_type for node in onnx.load(str(folder / "model.onnx")).graph.node}
    assert "IsNaN" not in ops and "MatMul" in ops
    assert str(tmp_path / "cache") in str(folder)
    index = sample_project.assist.segment_index()
    texts = [str(t) for t in index.frame["text"].tolist()[:400]] + list(embed_onnx.SAMPLE)
    onnx = embed_onnx.OnnxMiniLM(folder, embed.model_dir()).encode(texts, batch_size=16)
    torch = embed_onnx.torch_vectors(embed._load_minilm(), texts)
    cos = embed_onnx.cosines(onnx, torch)
    assert cos.min() >= embed_onnx.MIN_COSINE, float(cos.min())
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    # the order of the input is kept (batches are sorted by length inside)
    one_by_one = np.stack([embed_onnx.OnnxMiniLM(folder, embed.model_dir(), workers=1).encode([t])[0] for t in texts[:20]])
    assert embed_onnx.cosines(one_by_one, onnx[:20]).min() >= embed_onnx.MIN_COSINE
    # the stored vectors (computed by the sample study's sync) are the same model's
    stored = np.asarray(index.vectors[:400])
    assert embed_onnx.cosines(stored, onnx[:400]).min() >= embed_onnx.MIN_COSINE
