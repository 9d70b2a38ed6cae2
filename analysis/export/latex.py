r"""LaTeX: a complete ``article`` that compiles with pdflatex (utf8 inputenc + T1 fontenc, so
macrons such as ā print) or with lualatex/xelatex (fontspec); or, with ``fragment``, only the vignette
(a ``\subsection*`` heading, its paragraphs and quotes) or the chapter (a ``\section``, its sections as
``\subsection``) to ``\input`` into a manuscript, which needs no
package beyond the LaTeX kernel (what pdflatex needs for unusual characters is named in a comment at the
top). Block quotes use the ``quote`` environment; every special character from transcripts and memos is
escaped. Typographic quotation marks are written as the characters; straight ones (``straight_quotes``)
as ``\textquotedbl`` and ``\textquotesingle``, which LaTeX would otherwise print curly."""

from __future__ import annotations

import re

from analysis.export.document import (APPENDIX_NOTE, APPENDIX_TITLE, BlockQuote, Document, FigureBlock, Heading, InlineQuote,
                                      Paragraph, Prose, Table, source_table)

_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "[": "{[}", "]": "{]}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}", "…": r"\ldots{}",
    "✓": r"\cmark{}", "✗": r"\xmark{}",  # the case matrix's marks: pifont's dingbats (see :data:`SYMBOLS`)
}
#: What a document with ✓ or ✗ needs in its preamble.
SYMBOLS = [r"\usepackage{pifont}", r"\newcommand{\cmark}{\ding{51}}", r"\newcommand{\xmark}{\ding{55}}"]
# Characters pdflatex's utf8 + T1 set up (Latin-1, Latin Extended-A, common punctuation); others are
# declared in the preamble so pdflatex does not stop on them (emoji print as [U+1F62C]).
_PDFTEX_SAFE = set(range(0x20, 0x17F + 1)) | {0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2022}


_TEX_MARKS = {"“": "``", "”": "''", "‘": "`", "’": "'"}


def escape(text: str, straight: bool = False) -> str:
    """``text`` as LaTeX: specials escaped; typographic quotation marks as TeX writes them (`` '' ` '),
    with a thin space between two marks in a row; straight ones (``straight``) as straight glyphs."""
    if not straight:
        text = re.sub(r"(?<=[“‘])(?=[“‘])|(?<=[”’])(?=[”’])", "\x00", text)
    pieces, opening = [], True
    for ch in text:
        if ch == "\x00":
            pieces.append(r"\,")
        elif not straight and ch in _TEX_MARKS:
            pieces.append(_TEX_MARKS[ch])
        elif straight and ch in "\"'":
            pieces.append(r"\textquotedbl{}" if ch == '"' else r"\textquotesingle{}")
        elif ch == '"':
            pieces.append("``" if opening else "''")
            opening = not opening
        else:
            pieces.append(_SPECIALS.get(ch, ch))
    return re.sub(r"\{\[\}\.\.\.\{\]\}", r"{[}\\ldots{]}", "".join(pieces))


def _texts(doc: Document) -> list[str]:
    """Every text the document prints."""
    texts = [doc.title, *doc.notes]
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            texts += [block.text, block.attribution]
        elif isinstance(block, Heading):
            texts.append(block.text)
        elif isinstance(block, Prose):
            texts.append(block.text)
        elif isinstance(block, Table):
            texts += [*block.header, *(c for r in block.rows for c in r), block.legend]
        elif isinstance(block, FigureBlock):
            f = block.figure
            texts += [f.title, f.plain_caption or f.caption, *f.header, *(c for r in f.plain_rows or f.rows for c in r)]
        else:
            texts += [p if isinstance(p, str) else p.text + p.attribution for p in block.parts]
    return texts + [c for row in source_table(doc.sources)[1] for c in row]


def _unusual(doc: Document) -> list[int]:
    return sorted({ord(ch) for t in _texts(doc) for ch in t
                   if ord(ch) not in _PDFTEX_SAFE and ch not in _SPECIALS and not ch.isspace()})


def _symbols(doc: Document) -> bool:
    """Whether the document prints ✓ or ✗ (its preamble then needs :data:`SYMBOLS`)."""
    return any("✓" in t or "✗" in t for t in _texts(doc))


def _declared(unusual: list[int]) -> list[str]:
    return [f"  \\DeclareUnicodeCharacter{{{cp:04X}}}{{\\textsuperscript{{[U+{cp:04X}]}}}}" for cp in unusual]


def preamble(title: str, unusual: list[int], author: str = "", straight: bool = False) -> list[str]:
    declared = _declared(unusual)
    return [
        "% Written by Storyloom. UTF-8. Compiles with pdflatex, lualatex or xelatex.",
        r"\documentclass[11pt]{article}",
        r"\usepackage{iftex}",
        r"\ifPDFTeX",
        r"  \usepackage[utf8]{inputenc}",
        r"  \usepackage[T1]{fontenc}",
        r"  \usepackage{lmodern}",
        *declared,
        r"\else",
        r"  \usepackage{fontspec} % lualatex/xelatex: any OpenType font with the macrons you need",
        r"\fi",
        r"\usepackage[hidelinks]{hyperref}",
        f"\\title{{{escape(title, straight)}}}",
        f"\\author{{{escape(author, straight)}}}",
        r"\date{}",
    ]


def _paragraph(p: Paragraph, straight: bool = False) -> str:
    out = []
    for part in p.parts:
        if isinstance(part, InlineQuote):
            if straight:
                opening = closing = r"\textquotedbl{}"
            else:
                opening = r"``\," if part.text[:1] in "‘'" else "``"  # a thin space keeps ``‘ and ’'' apart
                closing = r"\,''" if part.text[-1:] in "’'" else "''"
            out.append(f"{opening}{escape(part.text, straight)}{closing} {escape(part.attribution, straight)}"
                       f"{escape(part.closing)}")
        else:
            out.append(escape(part, straight))
    text = " ".join(out)
    return f"\\emph{{{text}}}" if p.emphasis else text


def _table(block: Table) -> list[str]:
    """A table environment, not numbered: the first column left, the others (marks, measures) centred."""
    spec = "l" + "c" * (len(block.header) - 1)
    return [r"\begin{table}[ht]", r"\centering", r"\small", r"\begin{tabular}{" + spec + "}", r"\hline",
            " & ".join(escape(h) for h in block.header) + r" \\", r"\hline",
            *(" & ".join(escape(c) for c in row) + r" \\" for row in block.rows), r"\hline", r"\end{tabular}",
            *([r"\par\medskip\footnotesize " + escape(block.legend)] if block.legend else []), r"\end{table}", ""]


def _figure(block: FigureBlock) -> list[str]:
    """A table environment (LaTeX's ``\\caption`` numbers it); the plain cells where symbols would not print."""
    f = block.figure
    body = f.plain_rows or f.rows
    spec = "".join(r"p{0.28\linewidth}" if max((len(r[i]) for r in body), default=0) > 28 else "l"
                   for i in range(len(f.header)))
    return [r"\begin{table}[ht]", r"\centering", r"\small", r"\begin{tabular}{" + spec + "}",
            r"\hline", " & ".join(escape(h) for h in f.header) + r" \\", r"\hline",
            *(" & ".join(escape(c) for c in row) + r" \\" for row in body),
            r"\hline", r"\end{tabular}", f"\\caption{{{escape(f.title)}. {escape(f.plain_caption or f.caption)}}}",
            r"\end{table}", ""]


#: In a fragment, the command that opens the document, by what it is (its sections go one level below).
_FRAGMENT_TITLE = {"vignette": "subsection*", "chapter": "section", "section": "section*"}
_LEVELS = ("section", "subsection", "subsubsection")


def render(doc: Document) -> str:
    plain = doc.straight
    part = "section" if doc.section else doc.part
    top = _LEVELS.index(_FRAGMENT_TITLE.get(part, "subsection*").rstrip("*")) + 1 if doc.fragment or doc.section else 0
    if doc.fragment:
        unusual = _unusual(doc)
        lines = [f"% {escape(doc.title)}: a {part} written by Storyloom (UTF-8), to \\input into a manuscript."]
        if unusual:
            lines += ["% For pdflatex, declare these characters in the manuscript's preamble:", *[
                "%" + d for d in _declared(unusual)]]
        if _symbols(doc):
            lines += ["% It prints ✓ and ✗: add to the manuscript's preamble:", *("% " + s for s in SYMBOLS)]
        lines += [f"\\{_FRAGMENT_TITLE.get(part, 'subsection*')}{{{escape(doc.title, plain)}}}", ""]
    else:
        lines = [*preamble(doc.title, _unusual(doc), doc.author, plain), *(SYMBOLS if _symbols(doc) else []), "",
                 r"\begin{document}", *([f"\\section*{{{escape(doc.title, plain)}}}"] if doc.section else [r"\maketitle"]), ""]
    for note in doc.notes:
        lines += [f"\\noindent\\emph{{{escape(note)}}}", ""]
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            lines += [r"\begin{quote}", f"{escape(block.text, plain)} {escape(block.attribution, plain)}",
                      r"\end{quote}", ""]
        elif isinstance(block, Heading):
            command = _LEVELS[min(top + block.level - 1, len(_LEVELS) - 1)] + ("" if block.numbered else "*")
            lines += [f"\\{command}{{{escape(block.text, plain)}}}", ""]
        elif isinstance(block, Prose):
            for para in block.paragraphs:
                lines += [escape(para, plain), ""]
        elif isinstance(block, Table):
            lines += _table(block)
        elif isinstance(block, FigureBlock):
            lines += _figure(block)
        else:
            lines += [_paragraph(block, plain), ""]
    if doc.sources:
        heading = _LEVELS[min(top, len(_LEVELS) - 1)] + "*"
        lines += [f"\\{heading}{{{escape(APPENDIX_TITLE)}}}", escape(APPENDIX_NOTE), "", r"\begin{enumerate}"]
        headers, rows = source_table(doc.sources)
        for row in rows:
            cells = dict(zip(headers, row))
            detail = "; ".join(f"{k.lower()} {escape(v)}" for k, v in cells.items() if k not in ("#", "Quote") and v)
            lines.append(f"  \\item ``{escape(cells['Quote'])}'' --- {detail}")
        lines += [r"\end{enumerate}", ""]
    if not doc.fragment:
        lines += [r"\end{document}", ""]
    return "\n".join(lines)
