"""Codebook files (YAML), codings files, snapshots and their diff.

``codebooks/codebook.yaml`` is the human-readable, diffable codebook a researcher commits to git;
``codebooks/codings.yaml`` holds codings by transcript, offsets and quoted text (so they re-anchor if
a transcript changes). A snapshot freezes the codebook with its counts; ``diff_snapshots`` says
what was added, renamed, moved, merged, split and redefined between two of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
import yaml

from .codebook import EDITABLE, PATH_SEP
from .coding import locate
from .errors import CodebookFileError, ConflictError, NotFoundError

CODE_KEYS = set(EDITABLE) | {"guid", "children"}
DEFINITION_KEYS = ("definition", "inclusion", "exclusion", "central_concept", "example")


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _validate_tree(name: str, entries: Any, where: str = "") -> None:
    """Check a codebook tree before anything is written; errors name the entry."""
    if not isinstance(entries, list):
        raise CodebookFileError(name, f"{where or 'codes'}: expected a list of codes, found {type(entries).__name__}.")
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        label = f"{where}{PATH_SEP if where else ''}#{i + 1}"
        if not isinstance(entry, dict):
            raise CodebookFileError(name, f"entry {label}: expected a mapping with at least 'name', found {entry!r}.")
        code_name = str(entry.get("name") or "").strip()
        if not code_name:
            raise CodebookFileError(name, f"entry {label}: has no name.")
        path = f"{where}{PATH_SEP if where else ''}{code_name}"
        unknown = set(entry) - CODE_KEYS
        if unknown:
            raise CodebookFileError(name, f"entry '{path}': unknown field(s) {', '.join(sorted(unknown))}.",
                                    hint=f"Known fields: {', '.join(sorted(CODE_KEYS))}.")
        if code_name.lower() in seen:
            raise CodebookFileError(name, f"entry '{path}': duplicate name among its siblings.")
        seen.add(code_name.lower())
        if "children" in entry and entry["children"] is not None:
            _validate_tree(name, entry["children"], path)


class CodebookFilesMixin:
    """Project methods for codebook files and snapshots."""

    # -- codebook tree ----------------------------------------------------------------------------
    def codebook_tree(self: Any, *, with_counts: bool = False) -> list[dict[str, Any]]:
        """The codebook as nested dicts (what the YAML file holds), optionally with counts."""
        codes = self.codes()
        counts: dict[int, tuple[int, int]] = self._code_counts() if with_counts else {}
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

    def _code_counts(self: Any) -> dict[int, tuple[int, int]]:
        """``{code id: (codings, participants)}`` (direct codings only)."""
        t = self.t
        q = (sa.select(t.codings.c.code_id, sa.func.count(sa.distinct(t.codings.c.id)),
                       sa.func.count(sa.distinct(t.speakers.c.participant_id)))
             .select_from(t.codings)
             .outerjoin(t.turns, sa.and_(t.turns.c.transcript_id == t.codings.c.transcript_id,
                                         t.turns.c.start < t.codings.c.end, t.turns.c.end > t.codings.c.start))
             .outerjoin(t.speakers, t.speakers.c.id == t.turns.c.speaker_id)
             .group_by(t.codings.c.code_id))
        with self.store.read() as conn:
            return {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(q)}

    def export_codebook(self: Any, path: str | Path) -> Path:
        """Write the codebook as YAML (human-readable, diffable)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml({"storyloom_codebook": 1, "codes": self.codebook_tree()}), encoding="utf-8")
        return path

    def import_codebook(self: Any, path: str | Path, *, note: str = "") -> dict[str, int]:
        """Import a YAML codebook: codes matched by path are updated, new ones created. All or nothing."""
        path = Path(path)
        name = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            line = getattr(getattr(err, "problem_mark", None), "line", None)
            raise CodebookFileError(name, f"is not valid YAML ({getattr(err, 'problem', err)}).",
                                    line=None if line is None else line + 1) from None
        if not isinstance(data, dict) or "codes" not in data:
            raise CodebookFileError(name, "has no 'codes:' list at the top level.")
        unknown_top = set(data) - {"storyloom_codebook", "codes"}
        if unknown_top:
            raise CodebookFileError(name, f"unknown top-level field(s): {', '.join(sorted(unknown_top))}.")
        _validate_tree(name, data["codes"])
        created = updated = 0
        c = self.t.codes
        with self._action("codebook.import", note=note) as act:
            def walk(entries: list[dict[str, Any]], parent_id: int | None) -> None:
                nonlocal created, updated
                for entry in entries:
                    fields = {k: ("" if entry.get(k) is None else str(entry[k])) for k in EDITABLE if k in entry}
                    fields["name"] = str(entry["name"]).strip()
                    try:
                        self._validate(fields)
                    except ConflictError as err:
                        raise CodebookFileError(name, f"entry '{fields['name']}': {err.message}") from None
                    existing = act.conn.execute(sa.select(c).where(
                        c.c.name == fields["name"],
                        c.c.parent_id.is_(None) if parent_id is None else c.c.parent_id == parent_id)).first()
                    if existing:
                        act.rec.update("codes", existing.id, **fields)
                        code_id = existing.id
                        updated += 1
                    else:
                        code_id = act.rec.insert(
                            "codes", guid=str(entry.get("guid") or uuid4()), parent_id=parent_id,
                            position=self._next_position(act.conn, parent_id), created_at=self._now(), **fields)
                        created += 1
                    walk(entry.get("children") or [], code_id)

            walk(data["codes"], None)
            act.target = "codebook"
            act.after = {"file": path.name, "created": created, "updated": updated}
            act.summary = f"Imported codebook {path.name}: {created} codes created, {updated} updated"
        return {"created": created, "updated": updated}

    # -- codings file -----------------------------------------------------------------------------
    def export_codings(self: Any, path: str | Path) -> Path:
        """Write every coding as YAML: transcript, code path, offsets, quoted text, coder, memo."""
        paths = self.code_paths()
        t = self.t
        with self.store.read() as conn:
            rows = conn.execute(sa.select(t.codings, t.transcripts.c.name.label("transcript"))
                                .join(t.transcripts, t.transcripts.c.id == t.codings.c.transcript_id)
                                .order_by(t.transcripts.c.name, t.codings.c.start, t.codings.c.id)).all()
        items = []
        for r in rows:
            item: dict[str, Any] = {"transcript": r.transcript, "code": paths[r.code_id], "start": r.start,
                                    "end": r.end, "quote": r.quote, "coder": r.coder}
            if r.memo:
                item["memo"] = r.memo
            items.append(item)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml({"storyloom_codings": 1, "codings": items}), encoding="utf-8")
        return path

    def import_codings(self: Any, path: str | Path, *, coder: str | None = None, note: str = "") -> dict[str, int]:
        """Import codings from YAML; each is placed by offsets if its quote still matches, else
        re-anchored by its quote; unplaceable ones are kept as orphans. All or nothing."""
        path = Path(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items = data.get("codings") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CodebookFileError(str(path), "has no 'codings:' list at the top level.")
        placed = orphaned = skipped = 0
        cd = self.t.codings
        with self._action("codings.import", note=note) as act:
            texts: dict[str, tuple[int, str]] = {}
            for i, item in enumerate(items, start=1):
                where = f"coding #{i}"
                if not isinstance(item, dict) or not {"transcript", "code", "quote"} <= set(item):
                    raise CodebookFileError(str(path), f"{where}: needs transcript, code and quote.")
                tr = str(item["transcript"])
                if tr not in texts:
                    try:
                        tid = self._transcript_id(act.conn, tr)
                    except NotFoundError as err:
                        raise CodebookFileError(str(path), f"{where}: {err.message}") from None
                    texts[tr] = (tid, act.conn.execute(sa.select(self.t.transcripts.c.text)
                                                       .where(self.t.transcripts.c.id == tid)).scalar_one())
                tid, text = texts[tr]
                try:
                    crow = self._code_row(act.conn, str(item["code"]))
                except NotFoundError as err:
                    raise CodebookFileError(str(path), f"{where} ({tr}): {err.message}") from None
                quote = str(item["quote"])
                start, end = int(item.get("start", -1)), int(item.get("end", -1))
                found = (start, end) if 0 <= start < end <= len(text) and text[start:end] == quote else \
                    locate(quote, "", "", text, max(start, 0))
                is_orphan = found is None
                start, end = found if found else (max(start, 0), max(end, 0))
                if act.conn.execute(sa.select(cd.c.id).where(cd.c.code_id == crow.id, cd.c.transcript_id == tid,
                                                              cd.c.start == start, cd.c.end == end)).first():
                    skipped += 1
                    continue
                act.rec.insert("codings", guid=str(uuid4()), code_id=crow.id, transcript_id=tid, start=start, end=end,
                               quote=quote if is_orphan else text[start:end],
                               context_before="" if is_orphan else text[max(0, start - 40):start],
                               context_after="" if is_orphan else text[end:end + 40],
                               coder=str(item.get("coder") or coder or self.actor), memo=str(item.get("memo") or ""),
                               origin="direct", orphaned=is_orphan, created_at=self._now())
                orphaned += is_orphan
                placed += not is_orphan
            act.target = "codings"
            act.after = {"file": path.name, "placed": placed, "orphaned": orphaned, "skipped": skipped}
            act.summary = f"Imported {placed} codings from {path.name} ({orphaned} orphaned, {skipped} already present)"
        return {"placed": placed, "orphaned": orphaned, "skipped": skipped}

    def _sync_codebook(self: Any) -> dict[str, Any]:
        """On sync: bring in ``codebooks/codebook.yaml`` and ``codings.yaml`` when the project has none yet."""
        out: dict[str, Any] = {"codebook_imported": 0, "codings_imported": 0}
        status = self.status()
        book, codings = self.codebooks_dir / "codebook.yaml", self.codebooks_dir / "codings.yaml"
        if status["codes"] == 0 and book.exists():
            out["codebook_imported"] = self.import_codebook(book, note="sample/codebook file found on sync")["created"]
        if status["codings"] == 0 and codings.exists() and self.status()["codes"]:
            out["codings_imported"] = self.import_codings(codings, note="codings file found on sync")["placed"]
        return out

    # -- snapshots ----------------------------------------------------------------------------------
    def snapshot(self: Any, label: str, *, phase: str = "", note: str = "") -> dict[str, Any]:
        """Freeze the codebook (with counts) under ``label``, e.g. "end of phase 3"."""
        label = label.strip()
        if not label:
            raise ConflictError("A snapshot needs a label, e.g. 'end of phase 3'.")
        s = self.t.snapshots
        tree = self.codebook_tree(with_counts=True)
        with self._action("codebook.snapshot", note=note) as act:
            if act.conn.execute(sa.select(s.c.id).where(s.c.label == label)).first():
                raise ConflictError(f"A snapshot labelled '{label}' exists already; choose another label.")
            act.rec.insert("snapshots", guid=str(uuid4()), label=label, phase=phase, created_at=self._now(),
                           codebook=json.dumps(tree, ensure_ascii=False))
            act.target, act.summary = f"snapshot:{label}", f"Snapshot '{label}' of the codebook"
            act.after = {"label": label, "phase": phase}
        return {"label": label, "phase": phase, "codes": tree}

    def snapshots(self: Any) -> list[dict[str, Any]]:
        s = self.t.snapshots
        with self.store.read() as conn:
            return [{"label": r.label, "phase": r.phase, "created_at": r.created_at,
                     "codes": json.loads(r.codebook)} for r in conn.execute(sa.select(s).order_by(s.c.id))]

    def diff_snapshots(self: Any, a: str, b: str) -> dict[str, list[dict[str, Any]]]:
        """What changed from snapshot ``a`` to ``b``: added, removed, renamed, moved, merged, split, redefined."""
        snaps = {x["label"]: x for x in self.snapshots()}
        for label in (a, b):
            if label not in snaps:
                raise NotFoundError(f"No snapshot '{label}'. Snapshots: {', '.join(snaps) or 'none yet'}.")

        def flat(tree: list[dict[str, Any]], parent: str = "") -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for node in tree:
                path = f"{parent}{PATH_SEP if parent else ''}{node['name']}"
                out[node["guid"]] = {**node, "path": path, "parent": parent}
                out.update(flat(node.get("children", []), path))
            return out

        old, new = flat(snaps[a]["codes"]), flat(snaps[b]["codes"])
        merges: dict[str, str] = {}
        splits: dict[str, str] = {}
        for ev in self.audit_trail(action="code.*"):
            if ev.state not in ("done", "final") or not (snaps[a]["created_at"] < ev.at <= snaps[b]["created_at"]):
                continue
            guids = [g.removeprefix("code:") for g in ev.target.split()]
            if ev.action == "code.merge":
                merges[guids[1]] = guids[0]
            elif ev.action == "code.split":
                splits[guids[1]] = guids[0]
        diff: dict[str, list[dict[str, Any]]] = {k: [] for k in
                                                 ("added", "removed", "renamed", "moved", "merged", "split", "redefined")}
        for guid, node in new.items():
            if guid not in old:
                if guid in splits and splits[guid] in old:
                    diff["split"].append({"from": old[splits[guid]]["path"], "new": node["path"]})
                else:
                    diff["added"].append({"code": node["path"]})
                continue
            before = old[guid]
            if before["name"] != node["name"]:
                diff["renamed"].append({"from": before["name"], "to": node["name"], "code": node["path"]})
            if before["parent"] != node["parent"]:
                diff["moved"].append({"code": node["name"], "from": before["parent"] or "(top)", "to": node["parent"] or "(top)"})
            changed = [k for k in DEFINITION_KEYS if before.get(k, "") != node.get(k, "")]
            if changed:
                diff["redefined"].append({"code": node["path"], "fields": changed})
        for guid, node in old.items():
            if guid in new:
                continue
            if guid in merges:
                into = new.get(merges[guid], old.get(merges[guid], {})).get("path", "?")
                diff["merged"].append({"code": node["path"], "into": into})
            else:
                diff["removed"].append({"code": node["path"]})
        return diff
