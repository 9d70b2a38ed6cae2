"""Reader for Word (``.docx``) transcripts, built on python-docx.

Canonical text: the body's paragraphs in document order (NFC, ``\\n`` line ends), joined with
``"\\n\\n"``; nothing is skipped, so an empty paragraph gives an empty line. A table row counts as
one paragraph whose cells are joined with a tab. Speaker labels:

* a paragraph whose leading run(s) are bold and form a short name, with the colon inside the bold
  run, right after it, or absent (then text must follow in the same paragraph), e.g.
  **Interviewer:** text, **Ana** : text, **Ana** text;
* a table row whose first cell is a short name (``Name | text``);
* otherwise the plain-text conventions of :mod:`analysis.ingest.text`, including the timestamped
  block headers of Word/Teams Transcribe, Otter, Rev and Trint exports (a paragraph
  ``Speaker 1  00:00:05`` or ``00:00:05 Speaker 1`` before the words; consecutive blocks of one
  speaker are one turn).

Paragraphs styled ``Heading n`` or ``Title`` end a turn and are never labels. ``ParsedTurn.line``
is the 1-based paragraph number (table rows count as paragraphs), since a Word file has no lines.

Safety. A .docx is a zip archive: before python-docx decompresses anything, the archive's
directory is checked against the caps in :mod:`analysis.limits` (number of members, each member's
declared size, the total, and the compression ratio of big members), then every member is
decompressed through a bounded reader that stops one byte past the cap whatever the directory
declares; a zip bomb is refused without being expanded. The XML is parsed by python-docx without
resolving entities (no "billion laughs", no external files). An entity reference declared in the
document's own DTD (Word never writes one) is replaced by its declared text when that is plain
text, else kept as written (``&name;``), with a warning; the text after it is kept either way.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from analysis import limits
from analysis.errors import Errors, FileRefusedError, ImportFormatError, Msg
from analysis.ingest.decode import normalise
from analysis.ingest.text import Label, match_label, parse_text, strip_invisible
from analysis.domain.model import ParsedTranscript

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"
_READ_CHUNK = 1 << 20
_ENTITY_TEXT_CHARS = 1000  # a declared entity longer than this is kept as written, not expanded
_BOMB_HINT = "It may be a damaged or deliberately crafted file; open it in Word and save it again."


def _bomb(name: str, message: Msg, **params: Any) -> FileRefusedError:
    return FileRefusedError(name, message, hint=_BOMB_HINT, **params)


def check_zip(name: str, data: bytes) -> None:
    """Refuse a .docx whose members would decompress past the caps (a zip bomb).

    First from the zip directory alone (nothing decompressed): the number of members, each
    member's declared size, the declared total and the ratio of big members. Then each member is
    decompressed in chunks, counting, and given up one byte past its cap: declared sizes are not
    trusted. A file that is not a zip at all is left to :func:`_open` to report.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    with archive:
        members = archive.infolist()
        if len(members) > limits.DOCX_MEMBERS:
            raise _bomb(name, Errors.E1501, n_members=len(members), DOCX_MEMBERS=limits.DOCX_MEMBERS)
        total = 0
        for info in members:
            if info.file_size > limits.DOCX_MEMBER_BYTES:
                raise _bomb(name, Errors.E1503, filename=info.filename, file_size=limits.human_size(info.file_size), DOCX_MEMBER_BYTES=limits.human_size(limits.DOCX_MEMBER_BYTES))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.DOCX_RATIO_FROM_BYTES and ratio > limits.DOCX_MAX_RATIO:
                raise _bomb(name, Errors.E1504, filename=info.filename, ratio=ratio, file_size=limits.human_size(info.file_size), DOCX_MAX_RATIO=limits.DOCX_MAX_RATIO)
            total += info.file_size
        if total > limits.DOCX_TOTAL_BYTES:
            raise _bomb(name, Errors.E1502, total=limits.human_size(total), DOCX_TOTAL_BYTES=limits.human_size(limits.DOCX_TOTAL_BYTES))
        total = 0
        for info in members:
            cap = min(limits.DOCX_MEMBER_BYTES, limits.DOCX_TOTAL_BYTES - total)
            size = 0
            try:
                with archive.open(info) as member:
                    while chunk := member.read(min(_READ_CHUNK, cap + 1 - size)):
                        size += len(chunk)
                        if size > cap:
                            raise _bomb(name, Errors.E1505, filename=info.filename, cap=limits.human_size(cap))
            except FileRefusedError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
                    ValueError) as err:
                raise ImportFormatError(
                    name, Errors.E1110, filename=info.filename, name=type(err).__name__, hint="Open it in Word and save it again as .docx.",
                ) from None
            total += size


def _inline_entities(root: Any) -> list[str]:
    """Replace entity references left in the XML (python-docx does not resolve entities) by their
    declared text when plain, else by ``&name;``, keeping the text after them; warnings."""
    from lxml import etree

    found = list(root.iter(etree.Entity))
    if not found:
        return []
    dtd = root.getroottree().docinfo.internalDTD
    declared = {e.name: e.content for e in dtd.iterentities()} if dtd is not None else {}
    expanded: list[str] = []
    literal: list[str] = []
    for entity in found:
        value = declared.get(entity.name)
        plain = value is not None and "&" not in value and "<" not in value and len(value) <= _ENTITY_TEXT_CHARS
        text = value if plain and value is not None else f"&{entity.name};"
        (expanded if plain else literal).append(f"&{entity.name};")
        parent, previous = entity.getparent(), entity.getprevious()
        added = text + (entity.tail or "")
        if previous is not None:
            previous.tail = (previous.tail or "") + added
        elif parent is not None:
            parent.text = (parent.text or "") + added
        if parent is not None:
            parent.remove(entity)
    warnings = []
    if expanded:
        warnings.append(f"the document uses XML entity reference(s) {', '.join(dict.fromkeys(expanded))} "
                        "(Word never writes these); they were replaced by the text the document declares")
    if literal:
        warnings.append(f"the document uses XML entity reference(s) {', '.join(dict.fromkeys(literal))} "
                        "that Storyloom does not expand (external, nested or undeclared); they are kept as written")
    return warnings


def _open(name: str, data: bytes) -> Any:
    """Open the document or raise ImportFormatError naming the file."""
    if data.startswith(_OLE_SIGNATURE):
        raise ImportFormatError(
            name,
            Errors.E1106,
            hint="Open it in Word or LibreOffice and save it as .docx.",
        )
    check_zip(name, data)
    try:
        import docx  # python-docx; imported here so the other readers work without it

        return docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises zipfile, KeyError, lxml and its own errors
        raise ImportFormatError(
            name,
            Errors.E1108, name=type(err).__name__,
            hint="Check that the file opens in Word and re-save it as .docx.",
        ) from err


def _is_bold(run: Any) -> bool:
    """Bold directly on the run, or through its character style."""
    if run.bold is not None:
        return bool(run.bold)
    style = getattr(run, "style", None)
    return bool(style is not None and style.font.bold)


def _bold_prefix(paragraph: Paragraph) -> str:
    """Text of the leading bold runs (whitespace-only runs in between are neutral)."""
    prefix = ""
    for item in paragraph.iter_inner_content():
        runs = getattr(item, "runs", [item])  # a Hyperlink holds runs
        for run in runs:
            text = run.text
            if not text.strip():
                prefix += text
                continue
            if not _is_bold(run):
                return prefix
            prefix += text
    return prefix


def _name_label(name: str, line: str, after_name: int) -> Label | None:
    """A label for ``name`` (known from formatting) whose content starts after ``after_name``.

    The name is judged by the text rules (:func:`match_label`), so one place decides what a
    speaker name is; a following colon and timestamp are consumed.
    """
    name = name.strip()
    if name.endswith((":", "：")):
        name = name[:-1].rstrip()
    rest = line[after_name:]
    if rest[:1].isalnum() and not line[:after_name].endswith((":", "：", " ", "\t")):
        return None  # the bold part ends inside a word
    stripped = rest.lstrip(" \t")
    has_colon = stripped.startswith((":", "："))
    if has_colon:
        stripped = stripped[1:].lstrip(" \t")
    lab = match_label(f"{name}: {stripped}")
    if lab is None or lab.speaker != " ".join(strip_invisible(name).split()) or not lab.name_like:
        return None
    if not has_colon and not line[:after_name].rstrip().endswith((":", "：")) and not stripped:
        return None  # a bold line with no colon and no text is a heading, not a label
    skipped = len(rest) - len(stripped)
    return Label(lab.speaker, after_name + skipped + lab.content - len(name) - 2, lab.t_start)


def _blocks(document: Any) -> Iterator[tuple[str, Label | None, bool]]:
    """(paragraph text, bold/table label, is heading) for each body paragraph and table row."""
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            for row in block.rows:
                seen: list[Any] = []
                for cell in row.cells:
                    if not any(cell._tc is s._tc for s in seen):  # merged cells repeat
                        seen.append(cell)
                cells = [normalise(c.text) for c in seen]
                text = "\t".join(cells)
                label = _name_label(cells[0], text, len(cells[0])) if len(cells) > 1 else None
                yield text, label, False
            continue
        text = normalise(block.text)
        style = (block.style.name if block.style is not None else "") or ""
        heading = style.startswith("Heading") or style == "Title"
        prefix = normalise(_bold_prefix(block))
        label = None
        if prefix.strip() and text.startswith(prefix) and not heading:
            label = _name_label(prefix, text, len(prefix))
        yield text, label, heading


def read_docx(name: str, data: bytes) -> ParsedTranscript:
    """Read a ``.docx`` transcript from its bytes."""
    document = _open(name, data)
    try:
        warnings = _inline_entities(document.element)
        blocks = list(_blocks(document))
    except Exception as err:  # malformed XML parts surface only while reading
        raise ImportFormatError(
            name, Errors.E1109, name=type(err).__name__, hint="Re-save it as .docx."
        ) from err
    parts: list[str] = []
    labels: dict[int, Label] = {}
    headings: set[int] = set()
    line_of: list[int] = []
    for number, (text, label, heading) in enumerate(blocks, start=1):
        first = len(line_of)
        n_lines = text.count("\n") + 1
        line_of.extend([number] * (n_lines + 1))  # the paragraph's lines and the blank after it
        if label is not None:
            labels[first] = label
        if heading:
            headings.update(range(first, first + n_lines))
        parts.append(text)
    text = "\n\n".join(parts)
    if not text.strip():
        raise ImportFormatError(
            name, Errors.E1107, hint="Check that the transcript is in the document body."
        )
    return parse_text(text, fmt="docx", warnings=warnings, known_labels=labels, headings=headings,
                      line_of=line_of)
