"""Codebook files (YAML), codings files, snapshots and their diff.

``codebooks/codebook.yaml`` is the human-readable, diffable codebook a researcher commits to git;
``codebooks/codings.yaml`` holds codings by transcript, offsets and quoted text (so they re-anchor if
a transcript changes). A snapshot freezes the codebook with its counts; ``diff_snapshots`` says
what was added, renamed, moved, merged, split and redefined between two of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


from analysis.domain.codebook import EDITABLE, PATH_SEP
from analysis import limits
from analysis.files.codebook_files import DEFINITION_KEYS, dump_yaml, validate_tree
from analysis.domain.names import check_name
from analysis.export.destination import write_atomic
from analysis.files.safe_yaml import load_yaml, yaml_path_error
from analysis.domain.coding import context_of, locate
from analysis.errors import CodebookFileError, ConflictError, Errors, NotFoundError, ValidationError
from analysis.store import audit as audit_store, codes as code_store, codings as coding_store, snapshots as snapshot_store
from analysis.store import transcripts as transcript_store
from analysis.services.codebook import CodebookService
from analysis.services.codings import CodingBatch
from analysis.services.results import CodeChange, CodebookImport, CodebookSync, CodingsImport, Snapshot, SnapshotDiff
from analysis.services.context import Context, new_guid

__all__ = ["CodebookFileService"]


class CodebookFileService:
    """``project.codebook_files``: the codebook and codings as YAML files, snapshots and their diffs."""

    last_warnings: list[str]  # of the last export: e.g. its audit record could not be written

    def __init__(self, ctx: Context, codebook: CodebookService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.last_warnings = []

    # -- codebook tree ----------------------------------------------------------------------------
    def codebook_tree(self, *, with_counts: bool = False) -> list[dict[str, Any]]:
        """The codebook as nested dicts (what the YAML file holds), optionally with counts."""
        codes = self.codebook.codes()
        counts: dict[int, tuple[int, int]] = {}
        if with_counts:
            with self.ctx.store.read() as conn:
                counts = coding_store.counts_by_code(conn)
        nodes: dict[int, dict[str, Any]] = {}
        roots: list[dict[str, Any]] = []
        for c in codes:
            node: dict[str, Any] = {"name": c.name, "guid": c.guid, "kind": c.kind, "status": c.status}
            for key in ("central_concept", "definition", "inclusion", "exclusion", "example", "colour"):
                if getattr(c, key):
                    node[key] = getattr(c, key)
            if with_counts:
                node["codings"], node["participants"] = counts.get(c.id, (0, 0))
            nodes[c.id] = node
            if c.parent_id is None:
                roots.append(node)
            else:
                nodes[c.parent_id].setdefault("children", []).append(node)
        return roots

    def export_codebook(self, path: str | Path) -> Path:
        """Write the codebook as YAML (human-readable, diffable); recorded in the audit trail."""
        path = Path(path)
        tree = self.codebook_tree()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, dump_yaml({"storyloom_codebook": 1, "codes": tree}).encode("utf-8"))
        n = _count_nodes(tree)
        warning = self.ctx.log("codebook.export", summary=f"Exported the codebook ({n} codes) to {path.name}",
                               after={"path": str(path), "codes": n}, target="codebook")
        self.last_warnings = [warning] if warning else []
        return path

    def import_codebook(self, path: str | Path, *, note: str = "") -> CodebookImport:
        """Import a YAML codebook: codes matched by path are updated, new ones created. All or nothing."""
        path = Path(path)
        name = str(path)
        data = _load(path)
        if not isinstance(data, dict) or "codes" not in data:
            raise CodebookFileError(name, Errors.E1411)
        unknown_top = set(data) - {"storyloom_codebook", "codes"}
        if unknown_top:
            raise CodebookFileError(name, Errors.E1412, unknown_top=', '.join(sorted(unknown_top)))
        validate_tree(name, data["codes"])
        created = updated = 0
        with self.ctx.action("codebook.import", note=note) as act:
            def walk(entries: list[dict[str, Any]], parent_id: int | None) -> None:
                nonlocal created, updated
                for entry in entries:
                    fields: dict[str, Any] = {k: ("" if entry.get(k) is None else str(entry[k]))
                                              for k in EDITABLE if k in entry}
                    fields["name"] = str(entry["name"]).strip()
                    try:
                        self.codebook.validate_fields(fields)
                    except ValidationError as err:
                        raise CodebookFileError(name, Errors.E1417, name=fields['name'], message_text=err.message) from None
                    existing = code_store.sibling(act.conn, fields["name"], parent_id)
                    if existing is not None:
                        act.rec.update("codes", existing.id, **fields)
                        code_id, guid = int(existing.id), str(existing.guid)
                        updated += 1
                    else:
                        guid = str(entry.get("guid") or new_guid())
                        code_id = act.rec.insert(
                            "codes", guid=guid, parent_id=parent_id,
                            position=code_store.next_position(act.conn, parent_id), created_at=self.ctx.now(), **fields)
                        created += 1
                    act.about("code", guid)  # the import is part of each code's history
                    walk(entry.get("children") or [], code_id)

            walk(data["codes"], None)
            act.target = "codebook"
            act.after = {"file": path.name, "created": created, "updated": updated}
            act.summary = f"Imported codebook {path.name}: {created} codes created, {updated} updated"
        return CodebookImport(created, updated)

    # -- codings file -----------------------------------------------------------------------------
    def export_codings(self, path: str | Path) -> Path:
        """Write every coding as YAML: transcript, code path, offsets, quoted text, coder, memo; recorded in
        the audit trail."""
        paths = self.codebook.code_paths()
        with self.ctx.store.read() as conn:
            rows = coding_store.export_rows(conn)
        items = []
        for r in rows:
            item: dict[str, Any] = {"transcript": r.transcript, "code": paths[r.code_id], "start": r.start,
                                    "end": r.end, "quote": r.quote, "coder": r.coder}
            if r.memo:
                item["memo"] = r.memo
            items.append(item)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, dump_yaml({"storyloom_codings": 1, "codings": items}).encode("utf-8"))
        warning = self.ctx.log("codings.export", summary=f"Exported {len(items)} codings to {path.name}",
                               after={"path": str(path), "codings": len(items)}, target="codings")
        self.last_warnings = [warning] if warning else []
        return path

    def import_codings(self, path: str | Path, *, coder: str | None = None, note: str = "") -> CodingsImport:
        """Import codings from YAML; each is placed by offsets if its quote still matches, else
        re-anchored by its quote; unplaceable ones are kept as orphans. All or nothing."""
        path = Path(path)
        data = _load(path) or {}
        items = data.get("codings") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CodebookFileError(str(path), Errors.E1413)
        for i, item in enumerate(items):
            _check_coding(str(path), i, item)
        placed = orphaned = skipped = 0
        warnings: list[str] = []
        with self.ctx.action("codings.import", note=note) as act:
            batch = CodingBatch(act)
            code_rows: dict[str, Any] = {}
            texts: dict[str, tuple[int, str]] = {}
            for i, item in enumerate(items, start=1):
                where = f"coding #{i}"
                if not isinstance(item, dict) or not {"transcript", "code", "quote"} <= set(item):
                    raise CodebookFileError(str(path), Errors.E1415, where=where)
                tr = str(item["transcript"])
                if tr not in texts:
                    try:
                        tid = transcript_store.transcript_id(act.conn, tr)
                    except NotFoundError as err:
                        raise CodebookFileError(str(path), Errors.E1418, where=where, message_text=err.message) from None
                    texts[tr] = (tid, transcript_store.transcript_text(act.conn, tid))
                tid, text = texts[tr]
                try:
                    if str(item["code"]) not in code_rows:  # one look-up per code, not per coding
                        code_rows[str(item["code"])] = code_store.code_row(act.conn, str(item["code"]))
                    crow = code_rows[str(item["code"])]
                except NotFoundError as err:
                    raise CodebookFileError(str(path), Errors.E1416, where=where, tr=tr, message_text=err.message) from None
                quote = str(item["quote"])
                start, end = int(item.get("start", -1)), int(item.get("end", -1))
                found = (start, end) if 0 <= start < end <= len(text) and text[start:end] == quote else \
                    locate(quote, "", "", text, max(start, 0))
                is_orphan = found is None
                at = f"{path.name}: codings[{i - 1}] ({tr})"
                if end > len(text):
                    warnings.append(f"{at}: offsets {start}-{end} run past the transcript's end ({len(text)}); "
                                    + ("placed by its quote" if found else "kept as an orphan to review"))
                elif is_orphan:
                    warnings.append(f"{at}: the quote is not in the transcript; kept as an orphan to review")
                start, end = found if found else (max(start, 0), max(end, 0))
                who = str(item.get("coder") or coder or self.ctx.actor)
                if batch.match(code_id=int(crow.id), transcript_id=tid, start=start, end=end, coder=who) is not None:
                    skipped += 1
                    continue
                before, after = ("", "") if is_orphan else context_of(text, start, end)
                batch.add(code_id=crow.id, transcript_id=tid, start=start, end=end,
                          quote=quote if is_orphan else text[start:end], context_before=before,
                          context_after=after, coder=who,
                          memo=str(item.get("memo") or ""), origin="direct", orphaned=is_orphan,
                          created_at=self.ctx.now())
                orphaned += is_orphan
                placed += not is_orphan
            batch.flush()
            act.target = "codings"
            act.after = {"file": path.name, "placed": placed, "orphaned": orphaned, "skipped": skipped}
            act.summary = f"Imported {placed} codings from {path.name} ({orphaned} orphaned, {skipped} already present)"
        return CodingsImport(placed, orphaned, skipped, tuple(warnings))

    def sync_folder(self) -> CodebookSync:
        """On sync: bring in ``codebooks/codebook.yaml`` and ``codings.yaml`` when the project has none yet:
        the codes created, the codings placed and the codings file's warnings."""
        created, done = 0, None
        book, codings = self.ctx.codebooks_dir / "codebook.yaml", self.ctx.codebooks_dir / "codings.yaml"
        with self.ctx.store.read() as conn:
            n_codes, n_codings = code_store.count(conn), coding_store.count(conn)
        if n_codes == 0 and book.exists():
            created = self.import_codebook(book, note="sample/codebook file found on sync").created
            with self.ctx.store.read() as conn:
                n_codes = code_store.count(conn)
        if n_codings == 0 and codings.exists() and n_codes:
            done = self.import_codings(codings, note="codings file found on sync")
        return CodebookSync(int(created), done.placed if done else 0, done.warnings if done else None)

    # -- snapshots ----------------------------------------------------------------------------------
    def snapshot(self, label: str, *, phase: str = "", note: str = "") -> Snapshot:
        """Freeze the codebook (with counts) under ``label``, e.g. "end of phase 3"."""
        label = label.strip()
        if not label:
            raise ValidationError(Errors.E2109)
        label = check_name(label, what="snapshot label")
        tree = self.codebook_tree(with_counts=True)
        with self.ctx.action("codebook.snapshot", note=note) as act:
            if snapshot_store.exists(act.conn, label):
                raise ConflictError(Errors.E2207, label=label)
            guid = new_guid()
            created_at = self.ctx.now()
            act.rec.insert("snapshots", guid=guid, label=label, phase=phase, created_at=created_at,
                           codebook=json.dumps(tree, ensure_ascii=False))
            act.target, act.summary = f"snapshot:{label}", f"Snapshot '{label}' of the codebook"
            act.after = {"label": label, "phase": phase}
        return Snapshot(label, phase, created_at, tuple(tree))

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, oldest first: ``label``, ``phase``, ``created_at`` and its ``codes`` tree."""
        with self.ctx.store.read() as conn:
            rows = snapshot_store.rows(conn)
        return [Snapshot(str(r.label), str(r.phase), str(r.created_at), tuple(json.loads(r.codebook))) for r in rows]

    def diff_snapshots(self, a: str, b: str) -> SnapshotDiff:
        """What changed from snapshot ``a`` to ``b``: added, removed, renamed, moved, merged, split, redefined."""
        snaps = {x.label: x for x in self.snapshots()}
        for label in (a, b):
            if label not in snaps:
                raise NotFoundError(Errors.E2002, label=label, v2=', '.join(snaps) or 'none yet')

        def flat(tree: Sequence[dict[str, Any]], parent: str = "") -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for node in tree:
                path = f"{parent}{PATH_SEP if parent else ''}{node['name']}"
                out[node["guid"]] = {**node, "path": path, "parent": parent}
                out.update(flat(node.get("children", []), path))
            return out

        old, new = flat(snaps[a].codes), flat(snaps[b].codes)
        merges: dict[str, str] = {}
        splits: dict[str, str] = {}
        with self.ctx.store.read() as conn:
            events = audit_store.events(conn, action="code.*")
        for ev in events:
            if ev.state not in ("done", "final") or not (snaps[a].created_at < ev.at <= snaps[b].created_at):
                continue
            guids = [g.removeprefix("code:") for g in ev.target.split()]
            if ev.action == "code.merge":
                merges[guids[1]] = guids[0]
            elif ev.action == "code.split":
                splits[guids[1]] = guids[0]
        added: list[CodeChange] = []
        removed: list[CodeChange] = []
        renamed: list[CodeChange] = []
        moved: list[CodeChange] = []
        merged: list[CodeChange] = []
        split: list[CodeChange] = []
        redefined: list[CodeChange] = []
        for guid, node in new.items():
            if guid not in old:
                if guid in splits and splits[guid] in old:
                    split.append(CodeChange(node["path"], was=old[splits[guid]]["path"]))
                else:
                    added.append(CodeChange(node["path"]))
                continue
            before = old[guid]
            if before["name"] != node["name"]:
                renamed.append(CodeChange(node["path"], was=before["name"], to=node["name"]))
            if before["parent"] != node["parent"]:
                moved.append(CodeChange(node["name"], was=before["parent"] or "(top)", to=node["parent"] or "(top)"))
            changed = tuple(k for k in DEFINITION_KEYS if before.get(k, "") != node.get(k, ""))
            if changed:
                redefined.append(CodeChange(node["path"], fields=changed))
        for guid, node in old.items():
            if guid in new:
                continue
            if guid in merges:
                into = new.get(merges[guid], old.get(merges[guid], {})).get("path", "?")
                merged.append(CodeChange(node["path"], to=into))
            else:
                removed.append(CodeChange(node["path"]))
        return SnapshotDiff(tuple(added), tuple(removed), tuple(renamed), tuple(moved), tuple(merged), tuple(split),
                            tuple(redefined))


def _count_nodes(tree: list[dict[str, Any]]) -> int:
    return sum(1 + _count_nodes(node.get("children", [])) for node in tree)


def _load(path: Path) -> Any:
    """A codebook or codings YAML file: a regular file under the size cap, parsed by the safe loader
    (aliases, depth and size capped; ``yes``/``no`` stay text; errors name the file and line)."""
    data = limits.read_regular_file(path, cap=limits.YAML_BYTES, name=str(path))
    return load_yaml(str(path), data)


def _check_coding(name: str, i: int, item: Any) -> None:
    """One entry of ``codings.yaml``, checked before anything is written (errors name its YAML path)."""
    if not isinstance(item, dict):
        raise yaml_path_error(name, ["codings", i], "is not a mapping with transcript, code, quote, start and end")
    for key in ("transcript", "code", "quote"):
        if key not in item:
            raise yaml_path_error(name, ["codings", i], f"has no '{key}'")
        if not isinstance(item[key], str):
            raise yaml_path_error(name, ["codings", i, key], f"is {_yaml_kind(item[key])}, not text; put it in quotes")
    if not item["quote"].strip():
        raise yaml_path_error(name, ["codings", i, "quote"], "is empty: a coding quotes the words it codes")
    for key in ("start", "end"):
        if key in item and (isinstance(item[key], bool) or not isinstance(item[key], int)):
            raise yaml_path_error(name, ["codings", i, key], f"is {_yaml_kind(item[key])}, not a whole number of characters")
        if key in item and item[key] < 0:
            raise yaml_path_error(name, ["codings", i, key], f"is {item[key]}: offsets count characters from 0")
    if "start" in item and "end" in item and item["end"] <= item["start"]:
        raise yaml_path_error(name, ["codings", i], f"ends ({item['end']}) before or where it starts ({item['start']})")


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return f"{value!r} ({type(value).__name__})"
