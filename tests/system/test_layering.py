"""The layers hold (read from the import statements with ``ast``, not grep):

* ``analysis/`` outside ``analysis/cli/`` and ``analysis/workbench/`` never imports streamlit, typer or the
  workbench;
* the pure layers (``analysis/domain/``, ``analysis/files/``) import no store, services, front end or embedding;
* only ``analysis/store/`` imports sqlalchemy (and alembic);
* ``analysis/workbench/`` and ``app.py`` never import sqlalchemy, the store, the services (they reach them
  through ``Project``) or the CLI;
* ``analysis/cli/`` calls services, never the store;
* services never execute SQL (no ``.execute(`` call outside the store).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _modules(*roots: str) -> list[Path]:
    out: list[Path] = []
    for root in roots:
        p = REPO / root
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return out


def _package(path: Path) -> list[str]:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    return parts[:-1] if parts[-1] != "__init__" else parts[:-1]


def imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(path)[: len(_package(path)) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)
    return names


def _hits(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    bad = []
    for p in paths:
        for name in sorted(imports(p)):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{p.relative_to(REPO)} imports {name}")
    return bad


def test_relative_imports_resolve() -> None:
    """The checker itself: a relative import inside analysis/services resolves to analysis.store."""
    assert "analysis.store" in imports(REPO / "analysis" / "services" / "context.py")


def test_domain_never_imports_front_ends() -> None:
    paths = [p for p in _modules("analysis") if not {"cli", "workbench"} & set(p.relative_to(REPO).parts)]
    assert _hits(paths, ("streamlit", "typer", "analysis.workbench", "analysis.cli")) == []


@pytest.mark.parametrize("root", ["analysis/domain", "analysis/files"])
def test_pure_layers_import_no_store_services_or_front_end(root: str) -> None:
    banned = ("analysis.store", "analysis.services", "analysis.project", "analysis.workbench", "analysis.cli",
              "analysis.embedding", "sqlalchemy", "streamlit", "typer")
    assert _hits(_modules(root), banned) == []


def test_the_workbench_is_the_only_streamlit_code() -> None:
    """The checker on real code: the workbench does import streamlit (so the rule above has teeth)."""
    assert "streamlit" in imports(REPO / "analysis" / "workbench" / "widgets.py")


def test_only_the_store_imports_sqlalchemy() -> None:
    paths = [p for p in _modules("analysis") if p.relative_to(REPO).parts[:2] != ("analysis", "store")]
    assert _hits(paths, ("sqlalchemy", "alembic")) == []


@pytest.mark.parametrize("root", ["analysis/workbench", "app.py"])
def test_front_ends_never_touch_sql_or_the_store(root: str) -> None:
    assert _hits(_modules(root), ("sqlalchemy", "analysis.store", "analysis.services", "analysis.cli")) == []


def test_cli_calls_services_not_the_store() -> None:
    assert _hits(_modules("analysis/cli"), ("sqlalchemy", "analysis.store")) == []


def test_services_execute_no_sql() -> None:
    bad = []
    for p in _modules("analysis"):
        if p.relative_to(REPO).parts[:2] == ("analysis", "store"):
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "execute":
                bad.append(f"{p.relative_to(REPO)}:{node.lineno}")
    assert bad == []
