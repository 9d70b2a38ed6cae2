"""Local semantic assist: search, suggestions, uncoded patterns (see issue 6)."""

from __future__ import annotations


class AssistMixin:
    """Project methods for the machine assist (suggestions only)."""
