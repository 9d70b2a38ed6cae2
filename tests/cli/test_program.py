"""The installed program's commands without a server (issue 23): the port rule, what ``storyloom open``
hands the workbench, the recent-projects list, ``doctor``'s lines."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.cli import server as server_module
from analysis.errors import ProjectError
from analysis.userdirs import cache_dir, config_dir, log_dir, recent_projects, remember_project

runner = CliRunner()


def test_a_free_port_when_8501_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        monkeypatch.setattr(server_module, "DEFAULT_PORT", taken)
        chosen = server_module.choose_port(None)
        assert chosen != taken and server_module.port_free(chosen)
        with pytest.raises(ProjectError, match=f"Port {taken} is taken"):
            server_module.choose_port(taken)


class FakeServer:
    """Records what ``storyloom open`` would start; answers at once; Ctrl-C as soon as it serves."""

    started: list[Path | None] = []

    def __init__(self, port: int, project: Path | None) -> None:
        self.started.append(project)
        self.url, self.log = f"http://localhost:{port}", Path("workbench.log")

    def wait_ready(self, timeout: float) -> None:
        pass

    def serve(self) -> int:
        raise KeyboardInterrupt

    def stop(self) -> None:
        pass


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> type[FakeServer]:
    monkeypatch.setenv("STORYLOOM_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(server_module, "Server", FakeServer)
    monkeypatch.setattr("analysis.cli.program._prepare_language_model", lambda: None)
    FakeServer.started = []
    return FakeServer


def test_open_hands_the_workbench_the_project_or_the_start_screen(fake_server: Any, make_project: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for args in (["open", str(project.path), "--no-browser"], ["open", "--no-browser"], ["open", str(empty), "--no-browser"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Storyloom is running at http://localhost:" in result.output and "Storyloom stopped." in result.output
    # a project; none named and none here (the start screen alone); a folder without one (the screen offers it)
    assert fake_server.started == [project.path, None, empty.resolve()]
    assert not (empty / "project.db").exists()  # never made a project silently
    assert recent_projects() == [project.path]  # remembered; the empty folder is not a project
    monkeypatch.chdir(project.path)
    runner.invoke(app, ["open", "--no-browser"])
    assert fake_server.started[-1] == project.path  # the project in this folder


def test_per_user_folders_and_the_recent_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_project: Any) -> None:
    monkeypatch.setenv("STORYLOOM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STORYLOOM_CACHE", str(tmp_path / "cache"))
    assert (config_dir(), cache_dir(), log_dir()) == (tmp_path / "home", tmp_path / "cache", tmp_path / "home" / "logs")
    a, b = make_project("a"), make_project("b")
    remember_project(a.path)
    remember_project(b.path)
    remember_project(a.path)
    assert recent_projects() == [a.path, b.path]  # newest first, once each
    (b.path / "project.db").rename(b.path / "moved.db")
    assert recent_projects() == [a.path]  # a folder that holds no project any more is left out
    (tmp_path / "home" / "recent.json").write_text("{not json", encoding="utf-8")
    assert recent_projects() == []  # a damaged list is no error


def test_doctor_says_where_things_live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STORYLOOM_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["doctor", "--project", str(tmp_path), "--json"])
    report = json.loads(result.stdout)
    assert report["settings"] == str(tmp_path / "home") and report["logs"] == str(tmp_path / "home" / "logs")
    assert all(c["status"] in ("ok", "warn", "problem") and c["detail"] for c in report["checks"])
    assert result.exit_code == (0 if report["ok"] else 1)
