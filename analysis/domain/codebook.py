"""The codebook's vocabulary: editable fields, the colour palette, the path separator, row converters.

The operations (create, edit, move, merge, split, delete, reorder, history) live in
:class:`analysis.services.codebook.CodebookService` (``project.codebook``). A code is named by its name
when that is unique, else by its path ``Theme > Subtheme > Code``.
"""

from __future__ import annotations

from typing import Any

from analysis.domain.model import Code

__all__ = ["EDITABLE", "PALETTE", "PATH_SEP", "code_fields", "code_from_row"]

PATH_SEP = " > "  # a code's path: Theme > Subtheme > Code
EDITABLE = ("name", "kind", "definition", "inclusion", "exclusion", "example", "colour", "status", "central_concept")
PALETTE = ("#f6c85f", "#6fb1e7", "#9fd38a", "#f29e8e", "#c6a7e8", "#f7b267", "#7fd6c2", "#e8a0c8", "#b8c480", "#a3b8d9")


def code_from_row(row: Any) -> Code:
    """A :class:`~analysis.domain.model.Code` from a ``codes`` row."""
    return Code(row.id, row.guid, row.name, row.parent_id, row.kind, row.definition, row.inclusion, row.exclusion,
                row.example, row.colour, row.status, row.central_concept, row.position)


def code_fields(row: Any) -> dict[str, Any]:
    """The fields of a ``codes`` row an audit event keeps (name, parent, the editable fields, position)."""
    return {k: getattr(row, k) for k in ("name", "parent_id", *EDITABLE[1:], "position")}
