"""The printable form of a document, shared by every format: paragraphs (narrative with short quotes run
in), block quotes with attributions, headings, numbered figures and tables, and an optional appendix of
sources. A vignette (:func:`build`) and a findings chapter (:func:`analysis.domain.narrative.chapter_document`)
are each one :class:`Document`; every renderer (``analysis/export/<format>.py``) renders any of them. No I/O here.

Layout rules (APA 7 style):
- a quote of ``block_words`` words or more (default 40) is a block quote: its own indented
  paragraph, no quotation marks, the attribution after its final punctuation;
- a shorter quote runs into the paragraph before it, in double quotation marks (double marks
  inside it become single), followed by the attribution and a full stop;
- a short quote that follows a quote starts a paragraph of its own, unless the researcher joined it
  to the one before (:attr:`analysis.domain.vignettes.QuoteItem.joined`); after the researcher's own
  words it runs on in their paragraph;
- attribution by pseudonym: ``(Leader A)``, optionally with printed attributes, the timestamp
  ``(Leader A, 00:12:31)`` and/or the transcript line ``(Leader A, line 45)``;
- quotation marks and apostrophes are typographic throughout (“ ” ‘ ’, straight ones in quotes and
  narrative converted), or all straight (" ') with ``straight_quotes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

BLOCK_WORDS = 40
PLACEHOLDER = "[Narrative:"


@dataclass(frozen=True)
class Options:
    """How a vignette prints (keyword options of ``Project.render_vignette``)."""

    block_words: int = BLOCK_WORDS
    timestamps: bool = False
    line_refs: bool = False
    appendix: bool = False
    attributes: tuple[str, ...] = ()
    straight_quotes: bool = False
    author: str = ""  # the document's author property (DOCX, LaTeX standalone); empty for blind review
    fragment: bool = False  # LaTeX: a fragment to \input into a manuscript instead of a whole document


@dataclass(frozen=True)
class InlineQuote:
    text: str
    attribution: str
    closing: str = "."


@dataclass(frozen=True)
class Paragraph:
    """Running text: strings (the researcher's) and inline quotes, in order."""

    parts: tuple[str | InlineQuote, ...]


@dataclass(frozen=True)
class BlockQuote:
    text: str
    attribution: str


@dataclass(frozen=True)
class Heading:
    """A section heading: ``level`` 1 is a section of the document (its title is above every level);
    ``numbered``: LaTeX numbers it (``\\section``, not ``\\section*``)."""

    text: str
    level: int = 1
    numbered: bool = True


@dataclass(frozen=True)
class Table:
    """A table in the text, not numbered (the case matrix, a comparison), with its legend under it (in
    italics). Cells may hold ✓ and ✗ (LaTeX prints them with pifont's dingbats)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    legend: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure: a table (``header``, ``rows``) with a caption; a picture also carries its image (``svg`` for
    HTML, ``png`` for DOCX); LaTeX and Markdown print the table."""

    kind: str
    title: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    svg: str = ""
    png: bytes = b""
    plain_rows: tuple[tuple[str, ...], ...] = ()  # LaTeX: the cells without symbols (1/0 for ✓/✗), if they differ
    plain_caption: str = ""  # LaTeX: the caption that goes with ``plain_rows``

    @property
    def label(self) -> str:
        return "Figure" if self.svg or self.png else "Table"


@dataclass(frozen=True)
class FigureBlock:
    """A figure in the document, with its number as printed ("Figure 1", "Table 2")."""

    number: str
    figure: Figure


Block = Paragraph | BlockQuote | Heading | Table | FigureBlock


def numbered(figures: tuple[Figure, ...] | list[Figure]) -> tuple[FigureBlock, ...]:
    """Each figure with its number in print: "Figure 1", "Table 1", "Table 2"... (pictures and tables apart)."""
    counts: dict[str, int] = {}
    out = []
    for f in figures:
        counts[f.label] = counts.get(f.label, 0) + 1
        out.append(FigureBlock(f"{f.label} {counts[f.label]}", f))
    return tuple(out)


@dataclass(frozen=True)
class Source:
    """One appendix row: where quote ``number`` comes from."""

    number: int
    opening: str
    participant: str
    transcript: str
    turn: int | None
    start: int
    end: int
    timestamp: str
    line: int | None


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple[Block, ...]
    sources: tuple[Source, ...] = ()
    draft: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    straight: bool = False  # straight quotation marks (" ') instead of typographic ones
    author: str = ""
    created: str = ""  # ISO time of the export (document properties)
    fragment: bool = False
    part: str = "vignette"  # what it is in a manuscript: a LaTeX fragment opens a vignette with \subsection*, a chapter with \section

    @property
    def marks(self) -> tuple[str, str]:
        """The double quotation marks that enclose a run-in quote."""
        return ('"', '"') if self.straight else ("“", "”")


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def word_count(text: str) -> int:
    return len(re.findall(r"[\w’']+", text))


_OPENS_AFTER = r"(^|[\s(\[{<—–/-])"
_ELISIONS = r"(?:\d\ds?|cause|cos|em|til|tis|twas|n|round|bout)\b"


def typographic(text: str) -> str:
    """Straight quotation marks and apostrophes made typographic: ``"`` becomes “ or ” (opening after a
    space, a bracket or a dash), ``'`` an apostrophe ’ (inside or at the end of a word, and in elisions
    such as 'cause, '90s) or an opening ‘."""
    text = re.sub(_OPENS_AFTER + '"', r"\1“", text).replace('"', "”")
    text = re.sub(_OPENS_AFTER + "'(?=" + _ELISIONS + ")", r"\1’", text, flags=re.IGNORECASE)
    text = re.sub(_OPENS_AFTER.replace("/-", "/“-") + "'", r"\1‘", text)
    return text.replace("'", "’")


_STRAIGHT: dict[str, str | int | None] = {"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'"}


def straight(text: str) -> str:
    """Typographic quotation marks and apostrophes made straight (" and ')."""
    return text.translate(str.maketrans(_STRAIGHT))


def marks(text: str, straight_quotes: bool) -> str:
    """``text`` with one consistent style of quotation marks and apostrophes."""
    return straight(text) if straight_quotes else typographic(text)


def single_quotes(text: str, straight_quotes: bool = False) -> str:
    """Double quotation marks inside a run-in quote become single ones (‘ ’, or ' when straight)."""
    if straight_quotes:
        return straight(text).replace('"', "'")
    return typographic(text).replace("“", "‘").replace("”", "’")


def attribution(quote: Any, options: Options, attributes: dict[str, dict[str, str]]) -> str:
    who = quote.participant or "unattributed"
    parts = [who]
    parts += [v for a in options.attributes if (v := attributes.get(who, {}).get(a, ""))]
    if options.timestamps and quote.timestamp:
        parts.append(quote.timestamp)
    if options.line_refs and quote.line:
        parts.append(f"line {quote.line}")
    return "(" + ", ".join(parts) + ")"


def _inline(text: str, attr: str, straight_quotes: bool) -> InlineQuote:
    text = single_quotes(text, straight_quotes)
    if text.endswith(".") and not text.endswith("..."):
        text = text[:-1]
    return InlineQuote(text, attr, ".")


def build(vignette: Any, *, options: Options, attributes: dict[str, dict[str, str]], created: str = "") -> Document:
    """Lay a vignette out: narrative paragraphs, run-in or block quotes, sources."""
    blocks, sources = lay_out(vignette.items, options=options, attributes=attributes)
    plain = options.straight_quotes
    draft = vignette.status == "draft" or any(
        i.kind == "narrative" and i.text.lstrip().startswith(PLACEHOLDER) for i in vignette.items)
    title = marks(f"DRAFT: {vignette.title}" if draft else vignette.title, plain)
    notes = ("Draft: machine-drafted quotes and placeholder paragraphs; not yet edited by the researcher.",) if draft else ()
    return Document(title, blocks, sources if options.appendix else (), draft, notes, straight=plain,
                    author=options.author, created=created, fragment=options.fragment)


def lay_out(
    items: Any, *, options: Options, attributes: dict[str, dict[str, str]],
) -> tuple[tuple[Paragraph | BlockQuote, ...], tuple[Source, ...]]:
    """Vignette items (a vignette's, a chapter section's) as printed blocks, and the sources of their quotes
    (numbered from 1): narrative paragraphs, run-in or block quotes by :attr:`Options.block_words`."""
    blocks: list[Paragraph | BlockQuote] = []
    sources: list[Source] = []
    plain = options.straight_quotes
    for item in items:
        if item.kind == "narrative":
            for para in re.split(r"\n\s*\n", item.text.strip()):
                if para.strip():
                    blocks.append(Paragraph((marks(one_line(para), plain),)))
            continue
        text = one_line(item.text)
        attr = attribution(item, options, attributes)
        if word_count(text) >= options.block_words:
            blocks.append(BlockQuote(marks(text, plain), attr))
        else:
            quote = _inline(text, attr, plain)
            last = blocks[-1] if blocks else None
            # run on after the researcher's words, or after a quote the researcher joined it to
            if isinstance(last, Paragraph) and (isinstance(last.parts[-1], str) or getattr(item, "joined", False)):
                blocks[-1] = Paragraph((*last.parts, quote))
            else:
                blocks.append(Paragraph((quote,)))
        words = text.split()
        sources.append(Source(len(sources) + 1, " ".join(words[:8]) + (" ..." if len(words) > 8 else ""),
                              item.participant or "", item.transcript, item.turn, item.start, item.end,
                              item.timestamp, item.line))
    return tuple(blocks), tuple(sources)


def source_fields(s: Source) -> list[str]:
    """An appendix row as text cells: number, opening words, participant, transcript, turn, offsets,
    timestamp, line."""
    return [str(s.number), s.opening, s.participant, s.transcript, "" if s.turn is None else str(s.turn + 1),
            f"{s.start}–{s.end}", s.timestamp, "" if s.line is None else str(s.line)]


SOURCE_HEADERS = ["#", "Quote", "Participant", "Transcript", "Turn", "Offsets", "Timestamp", "Line"]


def source_table(sources: tuple[Source, ...]) -> tuple[list[str], list[list[str]]]:
    """The appendix as headers and rows, leaving out columns with no value in any row (e.g. timestamps
    of a transcript that has none)."""
    rows = [source_fields(s) for s in sources]
    keep = [i for i, h in enumerate(SOURCE_HEADERS) if h in ("#", "Quote") or any(r[i] for r in rows)]
    return [SOURCE_HEADERS[i] for i in keep], [[r[i] for i in keep] for r in rows]
APPENDIX_TITLE = "Sources of quotes"
APPENDIX_NOTE = ("Offsets are [start, end) character positions (Unicode code points) in the transcript as stored "
                 "by Storyloom; turns and lines are counted from 1.")
