"""Vignette and export commands (see issue 5)."""

from __future__ import annotations
