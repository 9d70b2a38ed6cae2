"""Vignettes: compose participant/theme stories from coded quotes (see issue 5)."""

from __future__ import annotations


class VignetteMixin:
    """Project methods for vignettes."""
