"""Reader for Word (``.docx``) transcripts, built on python-docx.

Canonical text: the body's paragraphs in document order (NFC, ``\\n`` line ends), joined with
``"\\n\\n"``; nothing is skipped, so an empty paragraph gives an empty line. A table row counts as
one paragraph whose cells are joined with a tab. Speaker labels:

* a paragraph whose leading run(s) are bold and form a short name, with the colon inside the bold
  run, right after it, or absent (then text must follow in the same paragraph), e.g.
  **Interviewer:** text, **Ana** : text, **Ana** text;
* a table row whose first cell is a short name (``Name | text``);
* otherwise the plain-text conventions of :mod:`analysis.ingest.text`.

Paragraphs styled ``Heading n`` or ``Title`` end a turn and are never labels. ``ParsedTurn.line``
is the 1-based paragraph number (table rows count as paragraphs), since a Word file has no lines.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from analysis.errors import ImportFormatError
from analysis.ingest.decode import normalise
from analysis.ingest.text import Label, match_label, parse_text
from analysis.model import ParsedTranscript

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph

_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"


def _open(name: str, data: bytes) -> Any:
    """Open the document or raise ImportFormatError naming the file."""
    if data.startswith(_OLE_SIGNATURE):
        raise ImportFormatError(
            name,
            "is an old Word 97-2003 document (.doc), not a .docx.",
            hint="Open it in Word or LibreOffice and save it as .docx.",
        )
    try:
        import docx  # python-docx; imported here so the other readers work without it

        return docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises zipfile, KeyError, lxml and its own errors
        raise ImportFormatError(
            name,
            f"is not a readable Word document (.docx): {type(err).__name__}.",
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
    if lab is None or lab.speaker != " ".join(name.split()) or not lab.name_like:
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
        blocks = list(_blocks(document))
    except Exception as err:  # malformed XML parts surface only while reading
        raise ImportFormatError(
            name, f"is a damaged Word document: {type(err).__name__}.", hint="Re-save it as .docx."
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
            name, "has no text.", hint="Check that the transcript is in the document body."
        )
    return parse_text(text, fmt="docx", known_labels=labels, headings=headings, line_of=line_of)
