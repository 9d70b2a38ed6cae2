"""Names as the database compares them: one rule for codes, cases, conditions, events and researchers."""

from __future__ import annotations

import unicodedata

__all__ = ["name_key"]


def name_key(name: str) -> str:
    """The form in which names are compared for uniqueness: NFC, stripped, case-folded (as the
    schema's insert defaults compute it)."""
    return unicodedata.normalize("NFC", name).strip().casefold()
