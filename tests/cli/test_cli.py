"""The CLI: every command documented (help text + README), JSON shapes, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

from typing import Any

import typer
from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def all_commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out = []

    def walk(group: Any, prefix: str) -> None:
        for name, cmd in group.commands.items():
            full = f"{prefix} {name}".strip()
            if getattr(cmd, "commands", None):
                walk(cmd, full)
            else:
                out.append((full, cmd))

    walk(root, "")
    return out


def test_every_command_has_help_and_is_in_the_readme():
    commands = all_commands()
    assert len(commands) > 20
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"'storyloom {name}' has no help text"
        documented = any(form in README for form in (f"storyloom {name}", f"`{name} ", f"`{name}`", f"/ `{name}"))
        assert documented, f"README lacks 'storyloom {name}'"
        params = {p.name for p in cmd.params}
        if name == "formats":  # about Storyloom itself, not a project
            assert "as_json" in params
            continue
        if name in ("open", "demo"):  # the workbench: a folder argument, a server, nothing to print as JSON
            assert {"no_browser", "port"} <= params, name
            continue
        assert {"project", "as_json"} <= params or name == "init", f"'{name}' lacks --project/--json"


def run(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_shapes_and_codebook_flow(make_project, interview_text):
    p = make_project(transcripts={"leader_a.txt": interview_text})
    where = ["--project", str(p.path)]
    assert set(run("status", *where)) == {"transcripts", "participants", "turns", "segments", "embedded", "codes",
                                         "codings"}
    [row] = run("transcripts", *where)["transcripts"]
    assert set(row) == {"name", "format", "participants", "speakers", "segments", "warnings", "corrections"}
    assert {"label", "turns", "interviewer"} <= set(row["speakers"][0])
    run("code", "add", "Barriers", "--kind", "theme", *where)
    run("code", "add", "Approval burden", "--parent", "Barriers", "--definition", "Delays", *where)
    text = p.transcripts.get("leader_a.txt").text
    s = text.index("fourteen months")
    coding = run("coding", "add", "--transcript", "leader_a.txt", "--start", str(s), "--end", str(s + 15),
                 "--code", "Approval burden", "--coder", "Dr Tane", *where)
    [listed] = run("codings", *where)["codings"]
    assert {"code", "code_path", "participant", "transcript", "start", "end", "text", "coder"} <= set(listed)
    assert listed["code_path"] == "Barriers > Approval burden" and listed["text"] == "fourteen months"
    assert listed["participant"] == "Leader A"  # an unmapped speaker shows its label
    run("codebook", "snapshot", "one", *where)
    run("code", "edit", "Approval burden", "--name", "Approval delay", "--note", "clearer", *where)
    run("codebook", "snapshot", "two", *where)
    diff = run("codebook", "diff", "one", "two", *where)
    assert diff["renamed"][0]["to"] == "Approval delay"
    history = run("history", "Approval delay", *where)["history"]
    assert [h["action"] for h in history] == ["code.create", "code.rename"] and history[1]["note"] == "clearer"
    assert run("undo", *where)["undone"] == "Snapshot 'two' of the codebook"
    run("memo", "add", "A journal thought", "--phase", "coding", *where)
    assert run("memo", "list", *where)["memos"][0]["body"] == "A journal thought"
    assert coding["text"] == "fourteen months"


def test_errors_are_one_line_on_stderr_with_exit_1(make_project):
    p = make_project()
    result = runner.invoke(app, ["code", "merge", "A", "B", "--project", str(p.path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: [SL2015] No code named 'A'") and "Traceback" not in result.output


def test_commands_refuse_a_folder_that_is_not_a_project(tmp_path):
    """Every command but init fails with a clear error and creates nothing where there is no project.db."""
    empty = tmp_path / "typo"
    for args in (["status"], ["sync"], ["code", "add", "X"], ["import", str(tmp_path / "a.txt")], ["undo"]):
        result = runner.invoke(app, [*args, "--project", str(empty)])
        assert result.exit_code == 1, (args, result.output)
        assert "holds no Storyloom project" in result.stderr and "storyloom init" in result.stderr, result.stderr
        assert not empty.exists(), args
    (tmp_path / "a.txt").write_text("Leader A: hi.\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(tmp_path / "a.txt"), "--project", str(tmp_path)])
    assert result.exit_code == 1 and "run `storyloom init" in result.stderr.lower()
    assert not (tmp_path / "project.db").exists()
    assert runner.invoke(app, ["init", str(empty)]).exit_code == 0 and (empty / "project.db").exists()


def test_formats_come_from_the_registries():
    from analysis.export import EXPORT_FORMATS
    from analysis.ingest import TRANSCRIPT_FORMATS

    result = runner.invoke(app, ["formats", "--json"])
    data = json.loads(result.stdout)
    assert [f["suffixes"] for f in data["transcripts"]] == [list(f.suffixes) for f in TRANSCRIPT_FORMATS]
    assert [f["format"] for f in data["exports"]] == [f.name for f in EXPORT_FORMATS]
    for f in TRANSCRIPT_FORMATS:
        assert f.suffixes[0] in README, f"README lacks {f.suffixes[0]}"


def test_a_result_dataclass_prints_as_json_with_its_fields(capsys) -> None:
    """Services return frozen dataclasses (analysis/services/results.py); --json prints their fields, nested
    tuples as lists."""
    from analysis.cli._common import emit
    from analysis.services.results import MatrixImport

    emit({"report": MatrixImport(("A",), ("Lasted",), 1, "Lasted", ("A",), ())}, as_json=True)
    assert json.loads(capsys.readouterr().out) == {"report": {
        "cases": ["A"], "conditions": ["Lasted"], "cells": 1, "outcome": "Lasted", "new_cases": ["A"],
        "new_conditions": [], "evidence": 0}}
