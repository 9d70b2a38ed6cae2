"""Turn the bytes of a text-like transcript into canonical text (NFC, ``\\n`` line ends).

Encodings tried, in order: a byte-order mark (UTF-8, UTF-32, UTF-16, little or big endian), then
UTF-8, then Windows-1252 (cp1252) with a warning. Empty files, binary files and bytes that no
encoding explains raise :class:`~analysis.errors.ImportFormatError` naming the file (and the line
of the first bad byte where there is one).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from analysis.errors import Errors, ImportFormatError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Signatures of common binary files that end up with a text extension by mistake.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "it looks like a zip archive (a .docx saved under another name?)"),
    (b"%PDF", "it looks like a PDF; export the transcript as .docx or .txt"),
    (b"\xd0\xcf\x11\xe0", "it looks like an old Word (.doc) file; save it as .docx"),
    (b"{\\rtf", "it looks like an RTF file; save it as .docx or .txt"),
)

_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
# The control characters (Unicode Cc) other than those allowed: counted in C, not per character.
_CONTROL_RE = re.compile("[" + "".join(
    re.escape(chr(c)) for c in range(0x100) if unicodedata.category(chr(c)) == "Cc" and chr(c) not in _ALLOWED_CONTROLS
) + "]")
_HIGH_BYTES = bytes(range(0x80, 0x100))
_MAX_CONTROL_SHARE = 0.05  # more control characters than this and it is not a transcript
_MAX_HIGH_BYTE_SHARE = 0.30  # cp1252 fallback: more bytes >= 0x80 than this and it is not text


def _line_of(data: bytes, byte_offset: int, encoding: str) -> int:
    """1-based line of ``byte_offset`` in ``data``, counting CRLF, CR and LF as one break each."""
    prefix = data[:byte_offset].decode(encoding, errors="replace")
    return prefix.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


def _binary_error(name: str, why: str) -> ImportFormatError:
    return ImportFormatError(
        name,
        Errors.E1101, why=why,
        hint="Export the transcript as one of the formats Storyloom reads (see `storyloom formats`) and import that file.",
    )


def _check_not_binary(name: str, text: str) -> None:
    """Reject decoded text that is mostly control characters."""
    controls = sum(1 for _ in _CONTROL_RE.finditer(text))
    if text and controls / len(text) > _MAX_CONTROL_SHARE:
        raise _binary_error(name, "it is mostly non-text bytes")


def _decode_bytes(name: str, data: bytes) -> tuple[str, list[str]]:
    """Pick the encoding and decode; raise on binary or undecodable data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as err:
                raise ImportFormatError(
                    name,
                    Errors.E1105, v1=encoding.upper().replace('-SIG', ''),
                    line=_line_of(data, err.start, encoding),
                    hint="Re-save the file as UTF-8 and import it again.",
                ) from err
            return text.lstrip("\ufeff"), []
    for signature, why in _SIGNATURES:
        if data.startswith(signature):
            raise _binary_error(name, why)
    if b"\x00" in data:
        raise _binary_error(name, "it contains NUL bytes")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    if high / len(data) > _MAX_HIGH_BYTE_SHARE:
        raise _binary_error(name, "it is mostly non-text bytes")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as err:
        raise ImportFormatError(
            name,
            Errors.E1104, v1=data[err.start],
            line=_line_of(data, err.start, "cp1252"),
            hint="Re-save the file as UTF-8 and import it again.",
        ) from err
    warning = (
        "not valid UTF-8, read as Windows-1252 (cp1252); "
        "check that accented characters look right."
    )
    return text, [warning]


def check_text(name: str, text: str) -> None:
    """Refuse decoded text as :func:`decode` refuses a file's: a NUL character, or mostly control
    characters (for text that arrives already decoded, as a REFI-QDA source's does)."""
    if "\x00" in text:
        raise _binary_error(name, "it contains NUL bytes")
    _check_not_binary(name, text)


def normalise(text: str) -> str:
    """NFC-normalise and turn CRLF and lone CR into ``\\n``."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def decode(name: str, data: bytes) -> tuple[str, list[str]]:
    """Decode transcript bytes to canonical text; return ``(text, warnings)``.

    The text is NFC-normalised with ``\\n`` line ends. Raises ``ImportFormatError`` for an empty
    file (no bytes, or only whitespace), a binary file, or bytes no supported encoding explains.
    """
    if not data:
        raise ImportFormatError(
            name, Errors.E1102, hint="Choose the file that holds the transcript."
        )
    text, warnings = _decode_bytes(name, data)
    _check_not_binary(name, text)
    text = normalise(text)
    if not text.strip():
        raise ImportFormatError(
            name, Errors.E1103, hint="Choose the file that holds the transcript."
        )
    return text, warnings
