"""A Storyloom code's fields in one REFI-QDA ``<Description>``, and back (pure functions).

REFI-QDA has one free-text description per code. Storyloom writes the definition first, then each
other non-empty field on a paragraph of its own that starts with a fixed label (``Inclusion: ...``).
Other programs show that as prose. On import, the labelled paragraphs are read back only from files
that Storyloom wrote (``origin`` starts with "Storyloom"); from any other program the whole
description is kept as the definition (MAXQDA's apply / do-not-apply prose included), and the
researcher can move criteria into their fields later.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LABELS", "compose", "parse"]

#: Field -> the label that starts its paragraph (in this order after the definition).
LABELS: dict[str, str] = {
    "central_concept": "Central concept", "inclusion": "Inclusion", "exclusion": "Exclusion", "example": "Example",
    "kind": "Storyloom kind", "status": "Storyloom status",
}
_DEFAULTS = {"kind": "code", "status": "initial code"}


def compose(fields: Mapping[str, str]) -> str:
    """The description of a code with these fields (definition, then labelled paragraphs)."""
    parts = [fields.get("definition", "")] if fields.get("definition") else []
    for key, label in LABELS.items():
        value = fields.get(key, "")
        if value and value != _DEFAULTS.get(key):
            parts.append(f"[{label}] {value}")
    return "\n\n".join(parts)


def parse(description: str) -> dict[str, str]:
    """The fields of a description written by :func:`compose` (a paragraph without a label is definition)."""
    out: dict[str, str] = {}
    definition: list[str] = []
    current: str | None = None
    by_label = {f"[{label}] ": key for key, label in LABELS.items()}
    for para in description.split("\n\n"):
        key = next((k for prefix, k in by_label.items() if para.startswith(prefix)), None)
        if key is not None:
            current = key
            out[key] = para[len(f"[{LABELS[key]}] "):]
        elif current is not None:
            out[current] += "\n\n" + para
        else:
            definition.append(para)
    out["definition"] = "\n\n".join(definition)
    return out
