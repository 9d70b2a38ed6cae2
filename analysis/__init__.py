"""Storyloom's domain library: ``open_project(path)`` returns the ``Project`` every front end uses."""

from analysis.errors import StoryloomError
from analysis.project import Project, open_project

__all__ = ["Project", "StoryloomError", "open_project"]
