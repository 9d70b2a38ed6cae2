"""Reading REFI-QDA files safely: ``.qdpx`` archives, ``project.qde`` and ``.qdc`` XML (pure functions).

Safety by construction:

* XML is parsed by lxml with entity resolution, DTD loading and network access off; a document that
  declares a DTD at all is refused (REFI-QDA never needs one), so no XXE and no "billion laughs";
* an archive is checked from its zip directory before anything is expanded: member names (no
  ``..``, no absolute or drive paths, no backslashes, no links), the number of members, each
  member's and the total declared size, and the compression ratio of big members; each member is
  then expanded through a bounded reader that stops one byte past its cap whatever the directory says;
* every failure is an :class:`~analysis.errors.ImportFormatError` naming the file and the member,
  element or line.

Parsing is namespace-agnostic: ``urn:QDA-XML:project:1.0``, ``urn:QDA-XML:codebook:1.0`` and the
``codebook:0:4`` seen in ATLAS.ti exports are all read by their elements' local names.
"""

from __future__ import annotations

import io
import re
import stat
import uuid
import zipfile
import zlib
from datetime import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from analysis.errors import Errors, ImportFormatError
from analysis.limits import MiB, human_size

__all__ = [
    "Archive", "RefiCase", "RefiCode", "RefiCodebook", "RefiCoding", "RefiNote", "RefiProject", "RefiSelection",
    "RefiSet", "RefiSource", "RefiUser", "RefiVariable", "local", "norm_guid", "open_archive", "parse_codebook",
    "parse_project", "parse_xml",
    "MEDIA_KINDS", "RefiSyncPoint",
]

#: Caps on a .qdpx archive (a real project with audio or video can be large; only text members are read).
QDPX_MEMBERS = 100_000
QDPX_TOTAL_BYTES = 8 * 1024 * MiB  # declared, all members (video included; it is never expanded)
QDPX_READ_BYTES = 200 * MiB  # any one member that is read (the .qde or a source's text)
QDPX_MAX_RATIO = 200  # a member over QDPX_RATIO_FROM_BYTES compressed more than this is refused
QDPX_RATIO_FROM_BYTES = 1 * MiB
XML_BYTES = 200 * MiB

_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_NS_REFI = uuid.UUID("6f1c3d2e-5a4b-4c8d-9e0f-1a2b3c4d5e6f")  # for ids that are not GUIDs


def norm_guid(value: str, *, scope: str = "") -> str:
    """A REFI-QDA GUID as Storyloom keeps it: braces dropped, lower case (GUIDs compare case-insensitively).

    An id that is not a GUID (``c001`` in a hand-written codebook) becomes a stable name-based UUID of
    ``scope`` and the id, so re-importing the same file matches the same rows."""
    m = _GUID.match(value.strip())
    if m:
        return m.group(1).lower()
    return str(uuid.uuid5(_NS_REFI, f"{scope}:{value.strip()}"))


def local(el: Any) -> str:
    """An element's local name (no namespace)."""
    tag = el.tag
    return str(etree.QName(tag).localname) if isinstance(tag, str) else ""


# -- the model of what was read ------------------------------------------------------------------
@dataclass
class RefiUser:
    guid: str
    name: str


@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool
    color: str
    description: str
    line: int
    children: list[RefiCode] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)


@dataclass
class RefiCoding:
    guid: str
    code_guid: str
    user: str | None
    created: str | None
    line: int
    note_refs: list[str] = field(default_factory=list)


@dataclass
class RefiSelection:
    guid: str
    start: int
    end: int
    name: str
    description: str
    user: str | None
    created: str | None
    line: int
    codings: list[RefiCoding] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)


@dataclass
class RefiSyncPoint:
    """A ``<SyncPoint>`` of a media source's transcript: ``time_ms`` into the recording at character
    ``position`` of the transcript's text (either may be absent)."""

    guid: str
    time_ms: int | None
    position: int | None
    line: int


#: The sources that are recordings with transcripts (read: the first transcript's text, sync points, selections).
MEDIA_KINDS = ("AudioSource", "VideoSource")


@dataclass
class RefiSource:
    guid: str
    name: str
    kind: str  # TextSource, PDFSource, AudioSource ...
    plain_path: str | None
    rich_path: str | None
    content: str | None  # <PlainTextContent>
    description: str
    line: int
    selections: list[RefiSelection] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)
    variable_values: dict[str, str] = field(default_factory=dict)
    # Audio and video sources (MEDIA_KINDS): plain_path/content/selections are the first transcript's.
    media_path: str | None = None  # the recording: internal://<guid>.m4a (in the archive) or a path
    sync_points: list[RefiSyncPoint] = field(default_factory=list)
    transcript_guid: str | None = None
    transcripts: int = 0  # how many <Transcript> elements (only the first is read)
    media_selections: int = 0  # <AudioSelection>/<VideoSelection> (time ranges of the recording: not read)


@dataclass
class RefiVariable:
    guid: str
    name: str
    type: str
    description: str


@dataclass
class RefiCase:
    guid: str
    name: str
    description: str
    line: int
    values: dict[str, str] = field(default_factory=dict)  # variable guid -> value as text
    source_refs: list[str] = field(default_factory=list)


@dataclass
class RefiNote:
    guid: str
    name: str
    content: str | None
    plain_path: str | None
    user: str | None
    created: str | None
    line: int


@dataclass
class RefiSet:
    guid: str
    name: str
    description: str
    members: list[tuple[str, str]] = field(default_factory=list)  # (Code | Source | Note, guid)


@dataclass
class RefiCodebook:
    origin: str
    codes: list[RefiCode]
    sets: list[RefiSet]

    def walk(self) -> Iterator[tuple[RefiCode, RefiCode | None]]:
        """Every code with its parent, depth first (parents before children)."""
        def rec(nodes: list[RefiCode], parent: RefiCode | None) -> Iterator[tuple[RefiCode, RefiCode | None]]:
            for node in nodes:
                yield node, parent
                yield from rec(node.children, node)
        return rec(self.codes, None)


@dataclass
class RefiProject(RefiCodebook):
    name: str = ""
    base_path: str = ""
    users: list[RefiUser] = field(default_factory=list)
    variables: list[RefiVariable] = field(default_factory=list)
    cases: list[RefiCase] = field(default_factory=list)
    sources: list[RefiSource] = field(default_factory=list)
    notes: list[RefiNote] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)  # notes about the project as a whole
    links: int = 0
    graphs: int = 0


# -- XML ------------------------------------------------------------------------------------------
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>)?(?:\s|<!--.*?-->)*", re.S)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(file: str, data: bytes) -> Any:
    """The root element of XML ``data`` (from ``file``), parsed safely (see the module docstring)."""
    if len(data) > XML_BYTES:
        from analysis.limits import too_big

        raise too_big(file, "the XML", XML_BYTES, size=len(data), error=ImportFormatError)
    prolog = _PROLOG.match(data)
    if prolog is not None and data[prolog.end():prolog.end() + 9] == b"<!DOCTYPE":
        raise ImportFormatError(file, Errors.E5103, line=data[:prolog.end()].count(b"\n") + 1)
    try:
        tree = etree.parse(io.BytesIO(data), _parser())
    except etree.XMLSyntaxError as err:
        line = getattr(err, "lineno", None)
        detail = str(getattr(err, "msg", "") or err).split(" (line")[0]
        raise ImportFormatError(file, Errors.E5102, line=line or None, detail=detail) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ImportFormatError(file, Errors.E5103)
    return tree.getroot()


class _Reader:
    """Walks one parsed document; knows the file name for errors."""

    def __init__(self, file: str, scope: str) -> None:
        self.file = file
        self.scope = scope
        self.seen: dict[tuple[str, str], int] = {}

    def req(self, el: Any, attribute: str) -> str:
        value = el.get(attribute)
        if value is None or (attribute in ("guid", "targetGUID") and not value.strip()):
            raise ImportFormatError(self.file, Errors.E5105, line=el.sourceline, element=local(el), attribute=attribute)
        return str(value)

    def guid(self, el: Any, attribute: str = "guid", *, unique: str | None = None) -> str:
        value = norm_guid(self.req(el, attribute), scope=self.scope)
        if unique is not None:
            key = (unique, value)
            if key in self.seen:
                raise ImportFormatError(self.file, Errors.E5113, line=el.sourceline, guid=value, element=local(el),
                                        first=self.seen[key], second=el.sourceline)
            self.seen[key] = int(el.sourceline or 0)
        return value

    def opt_guid(self, el: Any, attribute: str) -> str | None:
        value = el.get(attribute)
        return norm_guid(value, scope=self.scope) if value and value.strip() else None

    def integer(self, el: Any, attribute: str) -> int:
        raw = self.req(el, attribute)
        try:
            return int(raw.strip())
        except ValueError:
            raise ImportFormatError(self.file, Errors.E5106, line=el.sourceline, element=local(el),
                                    attribute=attribute, value=raw[:40], expected="a whole number") from None

    def date(self, el: Any, attribute: str = "creationDateTime") -> str | None:
        """An optional xsd:dateTime attribute, as written; one that is not a date and time is refused (it would
        be stored as a coding's or memo's date and sorted as one)."""
        raw = el.get(attribute)
        if raw is None or not raw.strip():
            return None
        try:
            datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ImportFormatError(self.file, Errors.E5106, line=el.sourceline, element=local(el), attribute=attribute,
                                    value=raw[:40], expected="a date and time (e.g. 2024-05-01T10:00:00Z)") from None
        return str(raw).strip()

    def boolean(self, el: Any, attribute: str, default: bool) -> bool:
        raw = el.get(attribute)
        if raw is None:
            return default
        if raw.strip().lower() in ("true", "1"):
            return True
        if raw.strip().lower() in ("false", "0"):
            return False
        raise ImportFormatError(self.file, Errors.E5106, line=el.sourceline, element=local(el), attribute=attribute,
                                value=raw[:40], expected="true or false")


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if local(c) == name]


def _child(el: Any, name: str) -> Any | None:
    for c in el:
        if local(c) == name:
            return c
    return None


def _text(el: Any, name: str) -> str:
    c = _child(el, name)
    return "" if c is None or c.text is None else str(c.text)


def _refs(r: _Reader, el: Any, name: str = "NoteRef") -> list[str]:
    return [r.guid(c, "targetGUID") for c in _children(el, name)]


def _codes(r: _Reader, parent: Any) -> list[RefiCode]:
    out = []
    for el in _children(parent, "Code"):
        code = RefiCode(r.guid(el, unique="Code"), r.req(el, "name"), r.boolean(el, "isCodable", True),
                        (el.get("color") or "").strip(), _text(el, "Description"), int(el.sourceline or 0))
        code.note_refs = _refs(r, el)
        code.children = _codes(r, el)
        out.append(code)
    return out


def _sets(r: _Reader, root: Any) -> list[RefiSet]:
    sets_el = _child(root, "Sets")
    out = []
    for el in _children(sets_el, "Set") if sets_el is not None else []:
        members = []
        for m in el:
            if local(m).startswith("Member"):
                target = m.get("targetGUID") or m.get("guid")  # the two XSDs disagree (MemberCode guid/targetGUID)
                if target:
                    members.append((local(m)[len("Member"):], norm_guid(target, scope=r.scope)))
        out.append(RefiSet(r.guid(el), el.get("name") or "", _text(el, "Description"), members))
    return out


def _check_root(file: str, root: Any, expected: str, what: str) -> None:
    if local(root) != expected:
        raise ImportFormatError(file, Errors.E5104, line=root.sourceline, found=local(root), expected=expected,
                                what=what)


def parse_codebook(file: str, data: bytes) -> RefiCodebook:
    """A ``.qdc`` codebook (root ``<CodeBook>``, any of the codebook namespaces)."""
    root = parse_xml(file, data)
    _check_root(file, root, "CodeBook", "codebook (.qdc)")
    r = _Reader(file, root.get("origin") or "")
    codes_el = _child(root, "Codes")
    if codes_el is None:
        raise ImportFormatError(file, Errors.E5105, line=root.sourceline, element="CodeBook", attribute="Codes")
    return RefiCodebook(root.get("origin") or "", _codes(r, codes_el), _sets(r, root))


def _selections(r: _Reader, source_el: Any) -> list[RefiSelection]:
    out = []
    for el in _children(source_el, "PlainTextSelection"):
        sel = RefiSelection(r.guid(el, unique="PlainTextSelection"), r.integer(el, "startPosition"),
                            r.integer(el, "endPosition"), el.get("name") or "", _text(el, "Description"),
                            r.opt_guid(el, "creatingUser"), r.date(el), int(el.sourceline or 0))
        _coded(r, el, sel)
        out.append(sel)
    return out


def _coded(r: _Reader, el: Any, sel: RefiSelection) -> None:
    """The ``<Coding>`` children and ``<NoteRef>``s of selection element ``el`` into ``sel``."""
    for c in _children(el, "Coding"):
        ref = _child(c, "CodeRef")
        if ref is None:
            raise ImportFormatError(r.file, Errors.E5105, line=c.sourceline, element="Coding", attribute="CodeRef")
        sel.codings.append(RefiCoding(r.guid(c, unique="Coding"), r.guid(ref, "targetGUID"),
                                      r.opt_guid(c, "creatingUser"), r.date(c),
                                      int(c.sourceline or 0), _refs(r, c)))
    sel.note_refs = _refs(r, el)


def _opt_integer(r: _Reader, el: Any, attribute: str) -> int | None:
    return None if el.get(attribute) is None or not str(el.get(attribute)).strip() else r.integer(el, attribute)


def _media_source(r: _Reader, el: Any, src: RefiSource) -> None:
    """An ``<AudioSource>``/``<VideoSource>``: its recording's path and its first ``<Transcript>``: text (as a
    text source's: ``PlainTextContent`` or ``plainTextPath``), sync points, and each ``<TranscriptSelection>``
    as a selection from its ``fromSyncPoint``'s position to its ``toSyncPoint``'s (-1 where a bound has none)."""
    src.media_path = el.get("path")
    src.rich_path = None
    src.media_selections = sum(1 for c in el if local(c) in ("AudioSelection", "VideoSelection", "Coding"))
    transcripts = _children(el, "Transcript")
    src.transcripts = len(transcripts)
    if not transcripts:
        return
    tr = transcripts[0]
    src.transcript_guid = r.guid(tr)
    src.plain_path, src.rich_path = tr.get("plainTextPath"), tr.get("richTextPath")
    content = _child(tr, "PlainTextContent")
    src.content = None if content is None else str(content.text or "")
    points: dict[str, RefiSyncPoint] = {}
    for sp in _children(tr, "SyncPoint"):
        point = RefiSyncPoint(r.guid(sp, unique="SyncPoint"), _opt_integer(r, sp, "timeStamp"),
                              _opt_integer(r, sp, "position"), int(sp.sourceline or 0))
        points[point.guid] = point
        src.sync_points.append(point)

    def bound(sel_el: Any, attribute: str) -> int:
        guid = r.opt_guid(sel_el, attribute)
        if guid is None:
            return -1
        if guid not in points:
            raise ImportFormatError(r.file, Errors.E5112, line=sel_el.sourceline, element="TranscriptSelection",
                                    what="sync point", guid=guid)
        position = points[guid].position
        return -1 if position is None else position

    for s_el in _children(tr, "TranscriptSelection"):
        sel = RefiSelection(r.guid(s_el, unique="TranscriptSelection"), bound(s_el, "fromSyncPoint"),
                            bound(s_el, "toSyncPoint"), s_el.get("name") or "", _text(s_el, "Description"),
                            r.opt_guid(s_el, "creatingUser"), r.date(s_el),
                            int(s_el.sourceline or 0))
        _coded(r, s_el, sel)
        src.selections.append(sel)
    src.note_refs.extend(_refs(r, tr))


def _values(r: _Reader, el: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for vv in _children(el, "VariableValue"):
        ref = _child(vv, "VariableRef")
        if ref is None:
            raise ImportFormatError(r.file, Errors.E5105, line=vv.sourceline, element="VariableValue",
                                    attribute="VariableRef")
        value = next((c.text or "" for c in vv if local(c).endswith("Value")), "")
        out[r.guid(ref, "targetGUID")] = str(value)
    return out


def parse_project(file: str, data: bytes) -> RefiProject:
    """A ``project.qde`` (root ``<Project>``)."""
    root = parse_xml(file, data)
    _check_root(file, root, "Project", "project (.qde inside a .qdpx)")
    r = _Reader(file, root.get("origin") or "")
    book = _child(root, "CodeBook")
    codes_el = _child(book, "Codes") if book is not None else None
    project = RefiProject(root.get("origin") or "", _codes(r, codes_el) if codes_el is not None else [],
                          _sets(r, root), name=root.get("name") or "", base_path=root.get("basePath") or "")
    users = _child(root, "Users")
    for el in _children(users, "User") if users is not None else []:
        project.users.append(RefiUser(r.guid(el, unique="User"), el.get("name") or el.get("id") or ""))
    variables = _child(root, "Variables")
    for el in _children(variables, "Variable") if variables is not None else []:
        project.variables.append(RefiVariable(r.guid(el, unique="Variable"), r.req(el, "name"),
                                              el.get("typeOfVariable") or "Text", _text(el, "Description")))
    cases = _child(root, "Cases")
    for el in _children(cases, "Case") if cases is not None else []:
        project.cases.append(RefiCase(r.guid(el, unique="Case"), el.get("name") or "", _text(el, "Description"),
                                      int(el.sourceline or 0), _values(r, el), _refs(r, el, "SourceRef")))
    sources = _child(root, "Sources")
    for el in list(sources) if sources is not None else []:
        kind = local(el)
        if not kind.endswith("Source"):
            continue
        src = RefiSource(r.guid(el, unique="Source"), el.get("name") or "", kind, el.get("plainTextPath"),
                         el.get("richTextPath") or el.get("path"), None, _text(el, "Description"),
                         int(el.sourceline or 0))
        content = _child(el, "PlainTextContent")
        if content is not None:
            src.content = str(content.text or "")
        if kind == "TextSource":
            src.selections = _selections(r, el)
        src.note_refs = _refs(r, el)
        if kind in MEDIA_KINDS:
            _media_source(r, el, src)
        src.variable_values = _values(r, el)
        project.sources.append(src)
    notes = _child(root, "Notes")
    for el in _children(notes, "Note") if notes is not None else []:
        content = _child(el, "PlainTextContent")
        project.notes.append(RefiNote(r.guid(el, unique="Note"), el.get("name") or "",
                                      None if content is None else str(content.text or ""), el.get("plainTextPath"),
                                      r.opt_guid(el, "creatingUser"), r.date(el),
                                      int(el.sourceline or 0)))
    links = _child(root, "Links")
    project.links = len(_children(links, "Link")) if links is not None else 0
    graphs = _child(root, "Graphs")
    project.graphs = len(_children(graphs, "Graph")) if graphs is not None else 0
    project.note_refs = _refs(r, root)
    _check_refs(file, root, project)
    return project


def _check_refs(file: str, root: Any, project: RefiProject) -> None:
    """Every CodeRef names a code of the codebook (a dangling one would lose a coding silently)."""
    codes = {c.guid for c, _ in project.walk()}
    for src in project.sources:
        for sel in src.selections:
            for coding in sel.codings:
                if coding.code_guid not in codes:
                    raise ImportFormatError(file, Errors.E5112, line=coding.line, element="CodeRef", what="code",
                                            guid=coding.code_guid)


# -- archives -------------------------------------------------------------------------------------
#: What expanding a damaged member raises: a bad CRC, a truncated or corrupt stream, an encrypted member or an
#: unknown compression method. Reading into memory adds OSError (the archive's bytes are in memory, so it is
#: theirs); extracting does not (there an OSError is the disk's, and the caller says so).
_DAMAGED_STREAM = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)
_DAMAGED = (*_DAMAGED_STREAM, OSError)


class Archive:
    """A checked ``.qdpx`` zip: its members' names and a bounded reader for each."""

    def __init__(self, file: str, data: bytes) -> None:
        self.file = file
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError) as err:
            raise ImportFormatError(file, Errors.E5101, why=str(err) or type(err).__name__) from None
        if len(infos) > QDPX_MEMBERS:
            raise ImportFormatError(file, Errors.E5101, why=f"it has {len(infos):,} members, over the limit of "
                                                            f"{QDPX_MEMBERS:,}")
        total = 0
        self.names: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            self._check_name(info)
            total += info.file_size
            if info.file_size > QDPX_RATIO_FROM_BYTES and info.compress_size and \
                    info.file_size / info.compress_size > QDPX_MAX_RATIO:
                raise ImportFormatError(file, Errors.E5114, member=info.filename,
                                        ratio=info.file_size / info.compress_size, size=human_size(info.file_size))
            if not info.is_dir():
                self.names[info.filename] = info
        if total > QDPX_TOTAL_BYTES:
            raise ImportFormatError(file, Errors.E5101, why=f"it would expand to {human_size(total)}, over the "
                                                            f"limit of {human_size(QDPX_TOTAL_BYTES)}")
        self.folded = {name.casefold(): name for name in self.names}

    def _check_name(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        why = None
        if "\\" in name:
            why = "uses a backslash in its name"
        elif name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            why = "has an absolute name"
        elif any(part == ".." for part in PurePosixPath(name).parts):
            why = "leads out of the archive ('..')"
        elif stat.S_ISLNK(info.external_attr >> 16):
            why = "is a symbolic link"
        elif "\x00" in name:
            why = "has a NUL character in its name"
        if why:
            raise ImportFormatError(self.file, Errors.E5107, member=name, why=why)

    def find(self, member: str) -> str | None:
        """The archive's name for ``member``, matched exactly, else ignoring case (NVivo's ``Sources/`` vs
        ``sources/``)."""
        member = member.lstrip("/")
        if member in self.names:
            return member
        return self.folded.get(member.casefold())

    def read(self, member: str, *, cap: int = QDPX_READ_BYTES) -> bytes:
        """The bytes of ``member``, expanded at most ``cap`` bytes (one more and it is refused)."""
        info = self.names[member]
        if info.file_size > cap:
            from analysis.limits import too_big

            raise too_big(f"{self.file} ({member})", "the member", cap, size=info.file_size, error=ImportFormatError)
        out = io.BytesIO()
        try:
            with self.zip.open(info) as fh:
                while True:
                    chunk = fh.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    if out.tell() > cap:
                        from analysis.limits import too_big

                        raise too_big(f"{self.file} ({member})", "the member", cap, error=ImportFormatError)
        except _DAMAGED as err:  # a bad CRC, a truncated or corrupt stream, an encrypted or unknown method
            raise self._damaged(member, err, " Nothing was imported.") from None
        return out.getvalue()

    def check(self, member: str, *, cap: int = QDPX_READ_BYTES) -> int:
        """Expand ``member`` through to its end, keeping nothing (a dry run that needs only to know it is whole:
        its CRC is checked at the end); returns its size. Bounded as :meth:`read` is, in memory by one chunk."""
        info = self.names[member]
        if info.file_size > cap:
            from analysis.limits import too_big

            raise too_big(f"{self.file} ({member})", "the member", cap, size=info.file_size, error=ImportFormatError)
        size = 0
        try:
            with self.zip.open(info) as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    size += len(chunk)
        except _DAMAGED as err:
            raise self._damaged(member, err, " Nothing was imported.") from None
        return size

    def _damaged(self, member: str, err: BaseException, outcome: str) -> ImportFormatError:
        """The one message for a damaged member, read (the import refused: ``outcome`` says nothing was
        imported) or extracted after the import (a recording: the caller's warning says what stayed)."""
        return ImportFormatError(self.file, Errors.E5203, member=member, why=str(err) or type(err).__name__,
                                 outcome=outcome)

    def extract(self, member: str, target: Path, *, cap: int) -> None:
        """Write ``member`` to the file ``target``, expanded at most ``cap`` bytes (one more and it is refused,
        ``target`` removed); a damaged member (bad CRC, cut short) is an :class:`ImportFormatError` too."""
        from analysis.limits import too_big

        info = self.names[member]
        where = f"{self.file} ({member})"
        if info.file_size > cap:
            raise too_big(where, "the member", cap, size=info.file_size, error=ImportFormatError)
        written = 0
        try:
            with self.zip.open(info) as fh, target.open("wb") as out:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    written += len(chunk)
                    if written > cap:
                        raise too_big(where, "the member", cap, error=ImportFormatError)
                    out.write(chunk)
        except _DAMAGED_STREAM as err:
            target.unlink(missing_ok=True)
            raise self._damaged(member, err, "") from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    def qde(self) -> str:
        """The name of the archive's one ``.qde`` file (``project.qde``, or ATLAS.ti's ``<project name>.qde``)."""
        found = [n for n in self.names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if not found:
            found = [n for n in self.names if n.lower().endswith(".qde")]
        if not found:
            raise ImportFormatError(self.file, Errors.E5108)
        if len(found) > 1:
            raise ImportFormatError(self.file, Errors.E5109, n=len(found), names=", ".join(sorted(found)[:5]))
        return found[0]


def open_archive(file: str, data: bytes) -> Archive:
    """A checked :class:`Archive` of ``.qdpx`` bytes."""
    return Archive(file, data)
