"""Secrets stay out of files (issue 25, class 7): a database URL that holds a password in any form (userinfo,
the ``?password=`` query, any case, ``sslpassword``, a ``dbname`` connection string) is refused by
``storyloom init --database``; nothing is written, and the password never appears in the message, which
says how to give it (``~/.pgpass`` or ``PGPASSWORD``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.store.team import check_url, redacted

runner = CliRunner()

SECRET_URLS = [
    "postgresql://coder:hunter2@db.example.org/study",
    "postgresql://coder@db.example.org/study?password=hunter2",
    "postgresql://coder@db.example.org/study?PASSWORD=hunter2",
    "postgres://coder@db.example.org/study?sslmode=require&password=hunter2",
    "postgresql://coder@db.example.org/study?sslpassword=hunter2",
    "postgresql://coder@db.example.org/?dbname=study%20password%3Dhunter2",
    "postgresql+psycopg://coder@db.example.org/study?password=hunter2&password=again",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_a_url_holding_a_password_in_any_form_is_refused_and_nothing_written(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "study"
    result = runner.invoke(app, ["init", "--database", url, str(folder)])
    assert result.exit_code == 1 and "SL4202" in result.output, result.output
    assert "hunter2" not in result.output and "again" not in result.output
    assert "PGPASSWORD" in result.output and ".pgpass" in result.output
    assert not (folder / "project.toml").exists() and not (folder / "project.db").exists()


@pytest.mark.parametrize("url", SECRET_URLS)
def test_redacted_never_shows_the_password(url: str) -> None:
    assert "hunter2" not in redacted(url)


def test_a_url_without_a_secret_is_kept_with_its_other_parameters() -> None:
    assert check_url("postgresql://coder@db.example.org:5433/study?sslmode=require") == \
        "postgresql://coder@db.example.org:5433/study?sslmode=require"
    assert "passfile" in check_url("postgresql://coder@db/study?passfile=/home/coder/.pgpass")
