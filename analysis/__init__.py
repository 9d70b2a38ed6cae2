"""Storyloom's domain library: ``open_project(path)`` returns the ``Project`` every front end uses."""

from .errors import StoryloomError
from .project import Project, open_project

__all__ = ["Project", "StoryloomError", "open_project"]
