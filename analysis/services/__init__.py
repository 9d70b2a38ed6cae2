"""The services a Project is composed of (see analysis/project.py)."""
