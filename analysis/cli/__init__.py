"""The ``storyloom`` command line (Typer).

Each command is a thin call of one ``Project`` method: parse, call, print. Every command takes
``--project PATH`` (default: the current folder) and ``--json`` (one JSON object on stdout).
Errors are printed on stderr as one clear message, with exit status 1; never a traceback.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ._common import app  # noqa: E402
from . import assist, codebook, core, vignettes  # noqa: E402,F401

__all__ = ["app"]
