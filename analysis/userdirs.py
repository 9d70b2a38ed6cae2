"""Where Storyloom keeps what belongs to the researcher rather than to a project.

* **Settings and the recent-projects list**: ``$STORYLOOM_HOME``, else ``$XDG_CONFIG_HOME/storyloom``,
  else ``~/.config/storyloom`` (:func:`config_dir`); the list is ``recent.json`` there.
* **Caches** (the exported embedding model): ``$STORYLOOM_CACHE``, else ``$XDG_CACHE_HOME/storyloom``,
  else ``~/.cache/storyloom`` (:func:`cache_dir`). Safe to delete: it is made again when needed.
* **Logs** (the workbench server's output, ``storyloom open``): ``$STORYLOOM_HOME/logs``, else
  ``$XDG_STATE_HOME/storyloom/logs``, else ``~/.local/state/storyloom/logs`` (:func:`log_dir`).

Projects themselves live wherever the researcher puts them (a folder with ``project.db``); nothing here
is inside a project, and removing these folders (or uninstalling Storyloom) leaves every project as it is.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

RECENT_FILE = "recent.json"
RECENT_KEEP = 10


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback) / "storyloom"


def config_dir() -> Path:
    """Per-user settings and the recent-projects list (not created here)."""
    home = os.environ.get("STORYLOOM_HOME")
    return Path(home) if home else _xdg("XDG_CONFIG_HOME", ".config")


def cache_dir() -> Path:
    """Per-user caches: the exported embedding model (``onnx/``)."""
    cache = os.environ.get("STORYLOOM_CACHE")
    return Path(cache) if cache else _xdg("XDG_CACHE_HOME", ".cache")


def log_dir() -> Path:
    """The workbench server's logs (``workbench.log``, the previous run's ``workbench.log.1``)."""
    home = os.environ.get("STORYLOOM_HOME")
    return Path(home) / "logs" if home else _xdg("XDG_STATE_HOME", ".local/state") / "logs"


def recent_projects() -> list[Path]:
    """Projects opened lately, newest first; folders that no longer hold a project are left out."""
    from analysis.project import is_project

    try:
        entries = json.loads((config_dir() / RECENT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    paths = [Path(e["path"]) for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]
    return [p for p in paths if is_project(p)]


def remember_project(path: Path | str) -> None:
    """Put ``path`` first in the recent-projects list (kept to :data:`RECENT_KEEP`). A list that cannot
    be written is left alone: remembering is a convenience, never a reason to fail."""
    folder = str(Path(path).resolve())
    entries = [{"path": str(p)} for p in recent_projects() if str(p) != folder]
    entries.insert(0, {"path": folder, "opened": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    target = config_dir() / RECENT_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, delete=False,
                                         prefix=".recent-", suffix=".json") as tmp:
            json.dump(entries[:RECENT_KEEP], tmp, indent=2)
        os.replace(tmp.name, target)
    except OSError:
        pass
