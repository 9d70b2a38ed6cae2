"""The message catalogue: every message a researcher can see has its own stable code.

* every entry's code is its attribute name (``E2003`` is ``SL2003``), codes and texts are unique;
* every Storyloom error raised in ``analysis/`` takes a catalogue entry (``Errors.E...``), never a
  message written at the raise site (read with ``ast``; the constructors' ``Msg`` type makes mypy
  refuse it too).
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

from analysis import errors
from analysis.errors import Errors, Msg, StoryloomError

REPO = Path(__file__).resolve().parents[2]
ERROR_CLASSES = {name for name, obj in vars(errors).items()
                 if isinstance(obj, type) and issubclass(obj, StoryloomError)}
FILE_FIRST = {name for name in ERROR_CLASSES if issubclass(getattr(errors, name), errors.ImportFormatError)}


def entries() -> dict[str, Msg]:
    return {k: v for k, v in vars(Errors).items() if isinstance(v, Msg)}


def test_codes_are_the_names_and_unique() -> None:
    found = entries()
    assert len(found) > 100
    for name, msg in found.items():
        assert msg.code == "SL" + name[1:], name
    texts = [m.text for m in found.values() if m.text not in ("{where}{detail}",)]
    assert len(texts) == len(set(texts)), "two codes for one message"


def test_templates_parse() -> None:
    for name, msg in entries().items():
        fields = [f for _, f, _, _ in string.Formatter().parse(msg.text) if f]
        assert all(f.isidentifier() for f in fields), (name, fields)


def _uncatalogued(path: Path) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERROR_CLASSES:
            i = 1 if node.func.id in FILE_FIRST else 0
            if len(node.args) <= i:
                continue
            arg = node.args[i]
            # a message written at the raise site (mypy --strict also refuses anything but a Msg there)
            if isinstance(arg, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                bad.append(f"{path.relative_to(REPO)}:{node.lineno} {node.func.id}({ast.unparse(arg)[:50]})")
    return bad


def test_every_raise_site_uses_the_catalogue() -> None:
    bad = [b for p in sorted((REPO / "analysis").rglob("*.py")) if p.name != "errors.py" for b in _uncatalogued(p)]
    assert bad == []


def test_no_code_is_defined_twice() -> None:
    """Two branches can each add an entry under one name; the class keeps the last silently (a merge of issue 25
    overrode the workbench's port message that way): every name is assigned once in the catalogue's source."""
    tree = ast.parse((REPO / "analysis" / "errors.py").read_text(encoding="utf-8"))
    [catalogue] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Errors"]
    names = [t.id for n in catalogue.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    assert sorted({n for n in names if names.count(n) > 1}) == []
