"""What every sink needs from text it did not write itself (quotes, memos, codes, names): no pure
functions here do I/O, and none needs the rest of the package.

- :func:`neutralise_cell`: a CSV/XLSX cell that a spreadsheet would run as a formula (it starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return; OWASP "CSV injection") gets a leading
  apostrophe, so Excel, LibreOffice and Sheets show it as text. ``raw=True`` (CLI ``--raw``) skips it.
- :func:`xml_safe`: characters XML 1.0 cannot hold (control characters other than tab, newline and
  carriage return; U+FFFE, U+FFFF; lone surrogates) become U+FFFD, so XLSX and DOCX are written
  instead of openpyxl/lxml raising on a stray control character in a quote.
- :func:`escape_markdown_html`: ``<``, ``>`` and ``&`` that would start a character reference
  become entities, so raw HTML in a memo or quote exported to Markdown is shown, never run.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"
# Everything outside XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF]; lone surrogates (U+D800-U+DFFF in a Python str) fall outside it too.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# An ampersand that CommonMark would read as a character reference (&amp; &#38; &#x26;); a plain
# "R&D" stays as it is, readable in the Markdown source and shown the same.
_ENTITY_AMP = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")


def neutralise_cell(value: Any, *, raw: bool = False) -> Any:
    """``value`` as a spreadsheet should hold it: a string that starts with a formula prefix gets a
    leading ``'``; anything else (numbers, empty cells, other text), or ``raw=True``, is returned as is."""
    if raw or not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    return "'" + value


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _XML_ILLEGAL.sub(REPLACEMENT, text)


def encodable(text: str) -> str:
    """``text`` with lone surrogates (which UTF-8 cannot encode) replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text)


def escape_markdown_html(text: str) -> str:
    """``text`` with raw HTML escaped for Markdown: ``<script>`` becomes ``&lt;script&gt;``; an ``&``
    that would start an entity becomes ``&amp;``. Markdown markup itself (emphasis, lists) is left alone."""
    text = _ENTITY_AMP.sub("&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


#: URL schemes that run code or smuggle content when a reader, viewer or mail client turns text into a link.
_UNSAFE_SCHEME = re.compile(r"\b(javascript|vbscript|data|file)(\s*):(?=\S)", re.I)


def defang_urls(text: str, *, colon: str) -> str:
    """``text`` (already escaped for its sink) with the colon after ``javascript``, ``vbscript``, ``data``
    and ``file`` written as ``colon`` (``&#58;`` in HTML, ``\\:`` in Markdown): shown the same, but no
    renderer or linkifier reads a link of that scheme. ``http``, ``https`` and ``mailto`` are left alone."""
    return _UNSAFE_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{colon}", text)


def html_text(text: str) -> str:
    """``text`` for HTML: every ``<>&"'`` as an entity (``html.escape``) and unsafe URL schemes defanged."""
    from html import escape

    return defang_urls(escape(text), colon="&#58;")


def table_cell(value: Any, *, raw: bool = False, xml: bool = False) -> Any:
    """A cell ready for a CSV (``xml=False``) or XLSX (``xml=True``) sink: neutralised unless ``raw``,
    then made encodable (CSV) or XML-safe (XLSX). Non-strings pass through."""
    value = neutralise_cell(value, raw=raw)
    if isinstance(value, str):
        return xml_safe(value) if xml else encodable(value)
    return value
