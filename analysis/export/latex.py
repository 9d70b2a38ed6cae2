r"""LaTeX: a complete ``article`` that compiles with pdflatex (utf8 inputenc + T1 fontenc, so
macrons such as ā print) or with lualatex/xelatex (fontspec); or, with ``fragment``, only the vignette
(a ``\subsection*`` heading, its paragraphs and quotes) to ``\input`` into a manuscript, which needs no
package beyond the LaTeX kernel (what pdflatex needs for unusual characters is named in a comment at the
top). Block quotes use the ``quote`` environment; every special character from transcripts and memos is
escaped. Typographic quotation marks are written as the characters; straight ones (``straight_quotes``)
as ``\textquotedbl`` and ``\textquotesingle``, which LaTeX would otherwise print curly."""

from __future__ import annotations

import re

from analysis.export.document import APPENDIX_NOTE, APPENDIX_TITLE, BlockQuote, Document, InlineQuote, Paragraph, source_table

_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "[": "{[}", "]": "{]}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}", "…": r"\ldots{}",
}
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


def _unusual(doc: Document) -> list[int]:
    texts = [doc.title, *doc.notes]
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            texts += [block.text, block.attribution]
        else:
            texts += [p if isinstance(p, str) else p.text + p.attribution for p in block.parts]
    texts += [c for row in source_table(doc.sources)[1] for c in row]
    return sorted({ord(ch) for t in texts for ch in t if ord(ch) not in _PDFTEX_SAFE and not ch.isspace()})


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
    return " ".join(out)


def render(doc: Document) -> str:
    plain = doc.straight
    if doc.fragment:
        unusual = _unusual(doc)
        lines = [f"% {escape(doc.title)}: a vignette written by Storyloom (UTF-8), to \\input into a manuscript."]
        if unusual:
            lines += ["% For pdflatex, declare these characters in the manuscript's preamble:", *[
                "%" + d for d in _declared(unusual)]]
        lines += [f"\\subsection*{{{escape(doc.title, plain)}}}", ""]
    else:
        lines = [*preamble(doc.title, _unusual(doc), doc.author, plain), "", r"\begin{document}", r"\maketitle", ""]
    for note in doc.notes:
        lines += [f"\\noindent\\emph{{{escape(note)}}}", ""]
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            lines += [r"\begin{quote}", f"{escape(block.text, plain)} {escape(block.attribution, plain)}",
                      r"\end{quote}", ""]
        else:
            lines += [_paragraph(block, plain), ""]
    if doc.sources:
        heading = "subsubsection*" if doc.fragment else "section*"
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
