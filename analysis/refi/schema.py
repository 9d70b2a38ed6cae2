"""Validating REFI-QDA XML against an XSD (lxml), with problems named by element and line.

Storyloom ships no copy of the REFI-QDA schemas (see the README's interchange section): the tests
validate every export against the XSDs in the shared test material, and a researcher or archive that
holds the schema can call :func:`validate` with its path.
"""

from __future__ import annotations

import io
from pathlib import Path

from lxml import etree

__all__ = ["validate"]


def validate(xml: bytes, xsd: str | Path) -> list[str]:
    """Problems of document ``xml`` under schema ``xsd``: ``"line N <Element>: message"`` each; [] when valid."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    schema = etree.XMLSchema(etree.parse(str(xsd), parser))
    doc = etree.parse(io.BytesIO(xml), parser)
    if schema.validate(doc):
        return []
    out = []
    for err in schema.error_log:
        element = err.path.rsplit("/", 1)[-1] if err.path else "?"
        out.append(f"line {err.line} <{element.split('}')[-1]}>: {err.message}")
    return out
