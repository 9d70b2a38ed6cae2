"""``python -m analysis.cli ...``: the same as the ``storyloom`` command."""

from analysis.cli import app

app()
