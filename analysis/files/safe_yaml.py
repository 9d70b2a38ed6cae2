"""The one way Storyloom reads YAML (``codebooks/codebook.yaml``, ``codings.yaml``): bounded and exact.

:func:`load_yaml` is ``yaml.safe_load`` with these differences:

* **Bounded.** The file may hold at most :data:`analysis.limits.YAML_BYTES` bytes. While the
  document is composed (before any Python object is built) a loader counts its nodes, counting
  each alias as the whole subtree it stands for, its aliases and its nesting depth, and stops at
  :data:`~analysis.limits.YAML_NODES`, :data:`~analysis.limits.YAML_ALIASES` and
  :data:`~analysis.limits.YAML_DEPTH`: a "billion laughs" document (aliases of aliases expanding
  to billions of nodes) fails at once, and a recursive alias (``&a [*a]``) is refused rather than
  built into a list that contains itself.
* **No YAML 1.1 surprises for words.** ``yes``/``no``/``on``/``off`` (any case) stay strings:
  a code named ``No`` or an answer ``on`` is text, not a boolean; ``true``/``false`` are booleans.
  Likewise ``012`` (an ID, not octal 10) and ``1:20`` (not base-60 80) stay strings.
* **Duplicate keys are an error** (``name:`` twice in one entry would silently keep the last).
* **UTF-8 only** (a byte-order mark is fine). Other bytes (a file saved as Windows-1252) give an
  error naming the byte offset and line and asking to save the file as UTF-8.

Every failure is a :class:`~analysis.errors.CodebookFileError` naming the file and, where there
is one, the line. Callers that find a bad value after loading name its place with
:func:`yaml_path_error` (``codes[3].name``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, ScalarNode
from yaml.resolver import Resolver

from analysis import limits
from analysis.errors import CodebookFileError, Errors, Msg

__all__ = ["load_yaml", "yaml_path", "yaml_path_error"]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_HINT_UTF8 = "Open the file in a text editor and save it with the encoding UTF-8, then try again."


class _StringWordsResolver(Resolver):
    """SafeLoader's implicit types, except YAML 1.1's surprises for values that read as words or IDs.

    Only true/false (not yes/no/on/off) are booleans; ``012`` is not octal and ``1:20`` is not a
    base-60 number (both stay strings, as in YAML 1.2).
    """


_REPLACED = {_BOOL_TAG, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_StringWordsResolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StringWordsResolver.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StringWordsResolver.add_implicit_resolver(  # SafeLoader's, less base 60
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)
_StringWordsResolver.add_implicit_resolver(  # SafeLoader's, less base 60 and leading-zero octal
    "tag:yaml.org,2002:int",
    re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+)$""", re.X),
    list("-+0123456789"),
)


class _Refused(Exception):
    """Raised inside the composer; turned into a CodebookFileError by :func:`load_yaml`."""

    def __init__(self, message: Msg, line: int | None, hint: str = "", **params: Any) -> None:
        super().__init__(message.code)
        self.message, self.line, self.hint, self.params = message, line, hint, params


def _line(event_or_node: Any) -> int | None:
    mark = getattr(event_or_node, "start_mark", None)
    return None if mark is None else int(mark.line) + 1


class _BoundedComposer(Composer):
    """A composer that counts nodes (aliases as their whole subtree), aliases and depth as it goes."""

    def _reset_bounds(self) -> None:
        self._nodes = 0
        self._aliases = 0
        self._depth = 0
        self._open_anchors: set[str] = set()
        self._sizes: dict[str, int] = {}

    def _add_nodes(self, count: int, event: Any) -> None:
        self._nodes += count
        if self._nodes > limits.YAML_NODES:
            raise _Refused(
                Errors.E1419, _line(event),
                "A codebook or codings file never needs this; check where the file came from.",
                YAML_NODES=limits.YAML_NODES,
            )

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]  # from the parser mixed in
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > limits.YAML_ALIASES:
                raise _Refused(Errors.E1420, _line(event), "Write the values out instead of repeating them with aliases.",
                               YAML_ALIASES=limits.YAML_ALIASES)
            if event.anchor in self._open_anchors:
                raise _Refused(Errors.E1421, _line(event), f"Remove *{event.anchor} or write the value out.",
                               anchor=event.anchor)
            self._add_nodes(self._sizes.get(str(event.anchor), 1), event)
            return super().compose_node(parent, index)
        collection = isinstance(event, CollectionStartEvent)
        if collection:
            self._depth += 1
            if self._depth > limits.YAML_DEPTH:
                raise _Refused(Errors.E1422, _line(event), "Check the file's indentation.", YAML_DEPTH=limits.YAML_DEPTH)
        anchor = event.anchor
        if anchor is not None:
            self._open_anchors.add(anchor)
        before = self._nodes
        self._add_nodes(1, event)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self._open_anchors.discard(anchor)
            self._sizes[anchor] = self._nodes - before
        if collection:
            self._depth -= 1
        return node

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, int | None] = {}
        for key, _value in node.value:
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                ident = (key.tag, key.value)
                if ident in seen:
                    first = seen[ident]
                    also = f" (first on line {first})" if first is not None else ""
                    raise _Refused(Errors.E1423, _line(key), "Keep one of them; YAML would silently drop the first.",
                                   value=key.value, also=also)
                seen[ident] = _line(key)
        return node


class _PyLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _BoundedComposer,
                SafeConstructor, _StringWordsResolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        _StringWordsResolver.__init__(self)
        self._reset_bounds()


_Loader: type = _PyLoader
try:  # libyaml's parser (C, ~10x faster) feeding the Python composer above, when available
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _CLoader(_BoundedComposer, CParser, SafeConstructor, _StringWordsResolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            _StringWordsResolver.__init__(self)
            self._reset_bounds()

    _Loader = _CLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    pass


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(name: str, data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CodebookFileError(name, Errors.E1407, line=1, hint=_HINT_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CodebookFileError(
            name,
            Errors.E1408, v1=data[err.start], start=err.start,
            line=_line_of_offset(data, err.start), hint=_HINT_UTF8,
        ) from None


def _yaml_error_line(err: yaml.YAMLError, text: str) -> int | None:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(err, "position", None)  # ReaderError: a character offset
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1
    return None


def _yaml_error_text(err: yaml.YAMLError) -> str:
    if isinstance(err, yaml.reader.ReaderError):
        return f"holds the character U+{err.character:04X}, which YAML does not allow" \
            if isinstance(err.character, int) else "holds a character YAML does not allow"
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    return f"is not valid YAML ({context + ': ' if context else ''}{problem})"


def load_yaml(name: str, data: bytes) -> Any:
    """Parse the YAML document in ``data`` (the bytes of the file ``name``) into Python values.

    Raises :class:`~analysis.errors.CodebookFileError` naming ``name`` (and the line where there
    is one) for a file over the size cap, bytes that are not UTF-8, invalid YAML, more than one
    document, or a document over the node, alias or depth caps. An empty file gives ``None``.
    """
    if len(data) > limits.YAML_BYTES:
        raise limits.too_big(name, "the file", limits.YAML_BYTES, size=len(data), error=CodebookFileError)
    text = _decode(name, data)
    loader = None
    try:
        loader = _Loader(text)  # the pure-Python reader checks every character here
        return loader.get_single_data()
    except _Refused as err:
        raise CodebookFileError(name, err.message, line=err.line, hint=err.hint, **err.params) from None
    except yaml.YAMLError as err:
        hint = ("Remove that character (a control character pasted in by mistake) and save the file again."
                if isinstance(err, yaml.reader.ReaderError) else "Check the indentation and quoting near that line.")
        raise CodebookFileError(name, Errors.E1451, problem=_yaml_error_text(err), line=_yaml_error_line(err, text),
                                hint=hint) from None
    except RecursionError:
        raise CodebookFileError(name, Errors.E1409,
                                hint="Check the file's indentation.") from None
    except (ValueError, TypeError, OverflowError) as err:  # e.g. a date such as 2024-13-45
        raise CodebookFileError(name, Errors.E1410, err=err,
                                hint="Quote the value to keep it as text.") from None
    finally:
        if loader is not None:
            loader.dispose()


def yaml_path(path: Sequence[str | int]) -> str:
    """``["codes", 3, "name"]`` -> ``"codes[3].name"`` (list indices as written, from 0)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def yaml_path_error(name: str, path: Sequence[str | int], message: str, *, line: int | None = None,
                    hint: str = "") -> CodebookFileError:
    """A CodebookFileError naming the place in the file: ``codebook.yaml: codes[3].name: <message>``.

    List indices count from 0, as in ``codes[0]`` for the first code.
    """
    return CodebookFileError(name, Errors.E1406, path=yaml_path(path), message_text=message, line=line, hint=hint)


# -- checking a parsed document entry by entry (errors name the file and the YAML path) -----------------------
Where = Sequence[str | int]


def kind_of(value: Any) -> str:
    """What a YAML value is, in words for an error ("a list", "the number 3", "'maybe'")."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"'{value}'"


def yaml_mapping(name: str, where: Where, value: Any, allowed: set[str], what: str) -> dict[str, Any]:
    """``value`` checked to be a mapping whose keys are all in ``allowed`` (``what`` says what it is: "a case:
    name, kind, ..."); else the error names file ``name`` and the YAML path ``where``."""
    if not isinstance(value, dict):
        raise yaml_path_error(name, where, f"is {kind_of(value)}, not a mapping ({what})")
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            raise yaml_path_error(name, [*where, str(key)], f"is not a key of {what.split(':')[0]}; "
                                  f"use {', '.join(sorted(allowed))}")
    return value


def yaml_text(name: str, where: Where, value: Any, *, required: bool = False) -> str:
    """``value`` as stripped text ('' when absent and not ``required``); else the error names the path."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise yaml_path_error(name, where, f"is {kind_of(value)}, not text; put it in quotes")
    if required and not value.strip():
        raise yaml_path_error(name, where, "is empty")
    return value.strip()


def yaml_name(name: str, where: Where, value: Any, what: str) -> str:
    """``value`` as a required name that passes :func:`analysis.domain.names.check_name` (no control or
    invisible characters, not over-long); the error names the file and the path."""
    from analysis.domain.names import check_name

    return check_name(yaml_text(name, where, value, required=True), what=what, file=f"{name}: {yaml_path(where)}")


def yaml_list(name: str, where: Where, value: Any, what: str) -> list[Any]:
    """``value`` checked to be a list (of ``what``); else the error names the path."""
    if not isinstance(value, list):
        raise yaml_path_error(name, where, f"is {kind_of(value)}, not a list of {what}")
    return value
