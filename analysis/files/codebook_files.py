"""Codebook files (YAML), codings files, snapshots and their diff.

``codebooks/codebook.yaml`` is the human-readable, diffable codebook a researcher commits to git;
``codebooks/codings.yaml`` holds codings by transcript, offsets and quoted text (so they re-anchor if
a transcript changes). A snapshot freezes the codebook with its counts; ``diff_snapshots`` says
what was added, renamed, moved, merged, split and redefined between two of them.

The operations live in :class:`analysis.services.codebook_files.CodebookFileService`
(``project.codebook_files``); this module holds the pure parts: the YAML dumper and the check of a
codebook tree.
"""

from __future__ import annotations

from typing import Any

import yaml

from analysis.domain.codebook import EDITABLE, PATH_SEP
from analysis.errors import CodebookFileError, Errors
from analysis.domain.names import name_key

__all__ = ["CODE_KEYS", "DEFINITION_KEYS", "dump_yaml", "validate_tree"]

CODE_KEYS = set(EDITABLE) | {"guid", "children"}
DEFINITION_KEYS = ("definition", "inclusion", "exclusion", "central_concept", "example")


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: Any) -> str:
    """YAML as Storyloom writes it: block strings for multi-line text, Unicode kept, keys in order."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def validate_tree(name: str, entries: Any, where: str = "") -> None:
    """Check a codebook tree before anything is written; errors name the entry."""
    if not isinstance(entries, list):
        raise CodebookFileError(name, Errors.E1401, v1=where or 'codes', name=type(entries).__name__)
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        label = f"{where}{PATH_SEP if where else ''}#{i + 1}"
        if not isinstance(entry, dict):
            raise CodebookFileError(name, Errors.E1402, label=label, entry=entry)
        raw_name = entry.get("name")
        if raw_name is not None and not isinstance(raw_name, str):  # `true`, a list, a number: not a name
            kind = "a yes/no value" if isinstance(raw_name, bool) else type(raw_name).__name__
            raise CodebookFileError(name, Errors.E1452, label=label, value=raw_name, kind=kind)
        code_name = (raw_name or "").strip()
        if not code_name:
            raise CodebookFileError(name, Errors.E1403, label=label)
        path = f"{where}{PATH_SEP if where else ''}{code_name}"
        unknown = set(entry) - CODE_KEYS
        if unknown:
            raise CodebookFileError(name, Errors.E1404, path=path, unknown=', '.join(sorted(unknown)),
                                    hint=f"Known fields: {', '.join(sorted(CODE_KEYS))}.")
        if name_key(code_name) in seen:  # compared as the database's sibling-name index compares them
            raise CodebookFileError(name, Errors.E1405, path=path)
        seen.add(name_key(code_name))
        if "children" in entry and entry["children"] is not None:
            validate_tree(name, entry["children"], path)

