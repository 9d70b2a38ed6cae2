"""HTML: one complete, self-contained document with minimal CSS; everything from transcripts,
memos and the researcher is escaped (``html.escape``)."""

from __future__ import annotations

from analysis.export.sanitize import html_text as escape

from analysis.export.document import (APPENDIX_NOTE, APPENDIX_TITLE, BlockQuote, Document, FigureBlock, Heading, InlineQuote,
                                      Paragraph, Prose, Table, source_table)

CSS = """body { font-family: Georgia, 'Times New Roman', serif; max-width: 42em; margin: 2em auto; padding: 0 1em;
  line-height: 1.6; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
blockquote { margin: 1em 0 1em 2.5em; }
.attribution { white-space: nowrap; }
.note { color: #a00; font-style: italic; }
table { border-collapse: collapse; font-size: 0.85em; } th, td { border: 1px solid #aaa; padding: 0.2em 0.4em;
  text-align: left; vertical-align: top; }"""


def _paragraph(p: Paragraph, marks: tuple[str, str] = ("“", "”")) -> str:
    out = []
    for part in p.parts:
        if isinstance(part, InlineQuote):
            out.append(f"{escape(marks[0])}{escape(part.text)}{escape(marks[1])} <span class=\"attribution\">{escape(part.attribution)}</span>"
                       f"{escape(part.closing)}")
        else:
            out.append(escape(part))
    text = " ".join(out)
    return f"<p><em>{text}</em></p>" if p.emphasis else f"<p>{text}</p>"


def page(title: str, body: list[str], author: str = "") -> str:
    """A complete HTML document around ``body`` (already escaped markup)."""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        *([f'<meta name="author" content="{escape(author)}">'] if author else []),
        f"<title>{escape(title)}</title>", f"<style>\n{CSS}\n</style>", "</head>", "<body>", *body, "</body>",
        "</html>", ""])


def _table(header: tuple[str, ...] | list[str], rows: tuple[tuple[str, ...], ...] | list[list[str]]) -> list[str]:
    return ["<table>", "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>",
            *("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows), "</table>"]


def _figure(block: FigureBlock) -> list[str]:
    f = block.figure
    return [f'<figure class="{f.kind}">', *([f.svg.split("?>", 1)[-1].strip()] if f.svg else _table(f.header, f.rows)),
            f"<figcaption><strong>{escape(block.number)}. {escape(f.title)}.</strong> {escape(f.caption)}</figcaption>",
            "</figure>"]


def render(doc: Document) -> str:
    top = 1 + doc.section
    body = [f"<h{top}>{escape(doc.title)}</h{top}>"]
    body += [f'<p class="note">{escape(n)}</p>' for n in doc.notes]
    for block in doc.blocks:
        if isinstance(block, BlockQuote):
            body.append(f"<blockquote><p>{escape(block.text)} "
                        f"<span class=\"attribution\">{escape(block.attribution)}</span></p></blockquote>")
        elif isinstance(block, Heading):
            level = min(6, block.level + top)
            body.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Prose):
            body += [f"<p>{escape(para)}</p>" for para in block.paragraphs]
        elif isinstance(block, Table):
            body += [*_table(block.header, block.rows), *([f"<p><em>{escape(block.legend)}</em></p>"] if block.legend else [])]
        elif isinstance(block, FigureBlock):
            body += _figure(block)
        else:
            body.append(_paragraph(block, doc.marks))
    if doc.sources:
        headers, rows = source_table(doc.sources)
        body += [f"<h2>{escape(APPENDIX_TITLE)}</h2>", f"<p>{escape(APPENDIX_NOTE)}</p>", *_table(headers, rows)]
    return page(doc.title, body, doc.author)
