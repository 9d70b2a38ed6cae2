"""REFI-QDA interchange (pure): read and write .qdpx/.qdc, map positions, validate against an XSD."""
