"""The ``storyloom`` command line (Typer).

Each command is a thin call of one ``Project`` method: parse, call, print. Every command takes
``--project PATH`` (default: the current folder) and ``--json`` (one JSON object on stdout).
Errors are printed on stderr as one clear message, with exit status 1; never a traceback.
"""

from __future__ import annotations

from analysis.offline import set_offline_env

set_offline_env()

from analysis.cli._common import app  # noqa: E402
from analysis.cli import (  # noqa: E402,F401
    assist, cases, codebook, core, interchange, media, narrative, program, team, transcription, vignettes,
)

__all__ = ["app"]
