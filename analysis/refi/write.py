"""Writing REFI-QDA 1.5 files: ``project.qde`` inside a ``.qdpx``, and ``.qdc`` codebooks (pure functions).

The writer takes the same model the reader returns (:mod:`analysis.refi.read`), so a round trip is
``parse_project(write_project(p))``. Elements are written in the order the XSD's sequences require;
empty containers the XSD forbids (``<Users/>`` with no user, ``<Codes/>`` with no code) are left out.
Sources are written as UTF-8 text members ``sources/<guid>.txt`` named by ``internal://<guid>.txt``:
relative names only, never a local path or a user's folder. An audio or video source (``kind`` in
:data:`~analysis.refi.read.MEDIA_KINDS`) is written with its ``path`` and one ``<Transcript>`` holding the
text, the sync points and a ``<TranscriptSelection>`` per selection; :func:`write_qdpx` copies a recording
into the archive from its file.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from lxml import etree

from analysis.refi.read import (MEDIA_KINDS, RefiCode, RefiCodebook, RefiProject, RefiSelection, RefiSet, RefiSource,
                                RefiSyncPoint)

__all__ = ["CODEBOOK_NS", "PROJECT_NS", "qdpx_bytes", "write_codebook", "write_project", "write_qdpx"]

_NS = uuid.UUID("5d0c8a4e-2f61-4b7a-9c3d-8e1f0a2b4c6d")  # GUIDs of sync points the writer adds
PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"


def _set(el: Any, **attrs: str | None) -> None:
    for key, value in attrs.items():
        if value is not None and value != "":
            el.set(key, value)


def _sub(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str | None) -> Any:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    _set(el, **attrs)
    if text is not None:
        el.text = text
    return el


def _codes(parent: Any, ns: str, codes: list[RefiCode], *, notes: bool) -> None:
    for code in codes:
        el = _sub(parent, ns, "Code", guid=code.guid, name=code.name, isCodable="true" if code.codable else "false",
                  color=code.color or None)
        if code.description:
            _sub(el, ns, "Description", code.description)
        if notes:
            for ref in code.note_refs:
                _sub(el, ns, "NoteRef", targetGUID=ref)
        _codes(el, ns, code.children, notes=notes)


def _sets(parent: Any, ns: str, sets: list[RefiSet], *, member: str) -> None:
    """``<Sets>``; a codebook (``member="guid"``) holds only code members."""
    sets = [s for s in sets if member != "guid" or any(kind == "Code" for kind, _ in s.members)]
    if not sets:
        return
    sets_el = _sub(parent, ns, "Sets")
    for s in sets:
        el = _sub(sets_el, ns, "Set", guid=s.guid, name=s.name)
        if s.description:
            _sub(el, ns, "Description", s.description)
        for kind in ("Code", "Source", "Note"):
            for guid in (g for k, g in s.members if k == kind):
                if kind == "Code" or member != "guid":
                    _sub(el, ns, f"Member{kind}", **{member: guid})


def _bytes(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def write_codebook(book: RefiCodebook) -> bytes:
    """A ``.qdc`` document (namespace ``urn:QDA-XML:codebook:1.0``)."""
    ns = CODEBOOK_NS
    root = etree.Element(f"{{{ns}}}CodeBook", nsmap={None: ns})
    _set(root, origin=book.origin)
    _codes(_sub(root, ns, "Codes"), ns, book.codes, notes=False)
    _sets(root, ns, book.sets, member="guid")
    return _bytes(root)


def write_project(project: RefiProject) -> bytes:
    """A ``project.qde`` document (namespace ``urn:QDA-XML:project:1.0``)."""
    ns = PROJECT_NS
    root = etree.Element(f"{{{ns}}}Project", nsmap={None: ns})
    _set(root, name=project.name or "Storyloom project", origin=project.origin)
    if project.users:
        users = _sub(root, ns, "Users")
        for u in project.users:
            _sub(users, ns, "User", guid=u.guid, name=u.name)
    if project.codes:
        _codes(_sub(_sub(root, ns, "CodeBook"), ns, "Codes"), ns, project.codes, notes=True)
    if project.variables:
        variables = _sub(root, ns, "Variables")
        for v in project.variables:
            el = _sub(variables, ns, "Variable", guid=v.guid, name=v.name, typeOfVariable=v.type or "Text")
            if v.description:
                _sub(el, ns, "Description", v.description)
    if project.cases:
        cases = _sub(root, ns, "Cases")
        for c in project.cases:
            el = _sub(cases, ns, "Case", guid=c.guid, name=c.name)
            if c.description:
                _sub(el, ns, "Description", c.description)
            _values(el, ns, c.values)
            for ref in c.source_refs:
                _sub(el, ns, "SourceRef", targetGUID=ref)
    if project.sources:
        sources = _sub(root, ns, "Sources")
        for s in project.sources:
            if s.kind in MEDIA_KINDS:
                el = _media_source(sources, ns, s)
            else:
                el = _sub(sources, ns, "TextSource", guid=s.guid, name=s.name, plainTextPath=s.plain_path)
                if s.description:
                    _sub(el, ns, "Description", s.description)
                if s.content is not None and not s.plain_path:
                    _sub(el, ns, "PlainTextContent", s.content)
                for sel in s.selections:
                    _selection(_sub(el, ns, "PlainTextSelection", guid=sel.guid, name=sel.name,
                                    startPosition=str(sel.start), endPosition=str(sel.end), creatingUser=sel.user,
                                    creationDateTime=sel.created), ns, sel)
            for ref in s.note_refs:
                _sub(el, ns, "NoteRef", targetGUID=ref)
            _values(el, ns, s.variable_values)
    if project.notes:
        notes = _sub(root, ns, "Notes")
        for n in project.notes:
            el = _sub(notes, ns, "Note", guid=n.guid, name=n.name, creatingUser=n.user, creationDateTime=n.created)
            _sub(el, ns, "PlainTextContent", n.content or "")
    _sets(root, ns, project.sets, member="targetGUID")
    for ref in project.note_refs:
        _sub(root, ns, "NoteRef", targetGUID=ref)
    return _bytes(root)


def _selection(sel_el: Any, ns: str, sel: RefiSelection) -> None:
    """A selection element's children: its description, codings (with their notes) and notes."""
    if sel.description:
        _sub(sel_el, ns, "Description", sel.description)
    for coding in sel.codings:
        c_el = _sub(sel_el, ns, "Coding", guid=coding.guid, creatingUser=coding.user, creationDateTime=coding.created)
        _sub(c_el, ns, "CodeRef", targetGUID=coding.code_guid)
        for ref in coding.note_refs:
            _sub(c_el, ns, "NoteRef", targetGUID=ref)
    for ref in sel.note_refs:
        _sub(sel_el, ns, "NoteRef", targetGUID=ref)


def _media_source(parent: Any, ns: str, s: RefiSource) -> Any:
    """An ``<AudioSource>``/``<VideoSource>`` whose one ``<Transcript>`` holds the text (``plainTextPath`` or
    ``PlainTextContent``), the sync points and a ``<TranscriptSelection>`` per selection, from the sync point
    at its start to the one at its end (a point without a time is added where none is at that position)."""
    el = _sub(parent, ns, s.kind, guid=s.guid, name=s.name, path=s.media_path)
    if s.description:
        _sub(el, ns, "Description", s.description)
    tr = _sub(el, ns, "Transcript", guid=s.transcript_guid or str(uuid.uuid5(_NS, f"transcript:{s.guid}")),
              name=s.name, plainTextPath=s.plain_path)
    if s.content is not None and not s.plain_path:
        _sub(tr, ns, "PlainTextContent", s.content)
    points = list(s.sync_points)
    at: dict[int, str] = {}
    for p in points:
        if p.position is not None:
            at.setdefault(p.position, p.guid)
    for sel in s.selections:
        for position in (sel.start, sel.end):
            if position not in at:
                at[position] = str(uuid.uuid5(_NS, f"sync:{s.guid}:{position}"))
                points.append(RefiSyncPoint(at[position], None, position, 0))
    for p in sorted(points, key=lambda p: -1 if p.position is None else p.position):
        _sub(tr, ns, "SyncPoint", guid=p.guid, timeStamp=None if p.time_ms is None else str(p.time_ms),
             position=None if p.position is None else str(p.position))
    for sel in s.selections:
        _selection(_sub(tr, ns, "TranscriptSelection", guid=sel.guid, name=sel.name, fromSyncPoint=at[sel.start],
                        toSyncPoint=at[sel.end], creatingUser=sel.user, creationDateTime=sel.created), ns, sel)
    return el


def _values(parent: Any, ns: str, values: Mapping[str, str]) -> None:
    for guid, value in values.items():
        vv = _sub(parent, ns, "VariableValue")
        _sub(vv, ns, "VariableRef", targetGUID=guid)
        _sub(vv, ns, "TextValue", value)


def qdpx_bytes(qde: bytes, members: Mapping[str, bytes | Path]) -> bytes:
    """A ``.qdpx`` archive: ``project.qde`` and the ``members`` (relative names such as ``sources/<guid>.txt``)."""
    out = io.BytesIO()
    write_qdpx(out, qde, members)
    return out.getvalue()


def write_qdpx(fh: IO[bytes], qde: bytes, members: Mapping[str, bytes | Path]) -> None:
    """Write a ``.qdpx`` archive to ``fh``; a member given as a file (a recording) is copied from it as it is
    read, stored without compression (audio and video are compressed already)."""
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde)
        for name, data in members.items():
            if isinstance(data, Path):
                z.write(data, name, compress_type=zipfile.ZIP_STORED)
            else:
                z.writestr(name, data)
