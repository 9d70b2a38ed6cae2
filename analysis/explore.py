"""Exploration as pandas DataFrames (the service is :class:`analysis.services.explore.ExploreService`):
codings joined with everything a researcher filters by, the theme x participant matrix and code
co-occurrence. This module keeps the column list and the timestamp format other modules share."""

from __future__ import annotations

import numpy as np

CODING_COLUMNS = ["coding_id", "code", "code_id", "code_path", "theme", "participant", "transcript", "turn",
                  "speaker", "timestamp", "start", "end", "text", "coder", "memo", "origin"]


def format_timestamp(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and np.isnan(seconds)):
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
