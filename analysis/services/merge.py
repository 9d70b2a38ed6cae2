"""``project.merge``: merge another copy of the project, coded separately from the same transcripts.

The common offline workflow of a team without a server: each coder codes a copy of the project (a
SQLite folder), then the lead merges the copies into one. ``from_project(OTHER)``:

* **transcripts** are matched by name. Codings on a transcript whose text differs between the copies
  are placed by their quote and context (as a re-import places them), else kept as orphans to review;
  codings on a transcript this project lacks cannot be placed and are listed (sync it, then merge again).
* **codes** are matched by GUID where the copies share an origin (one was copied from the other, or
  from one codebook file), else by path (``Theme > Code``, compared case-folded); unmatched codes are
  added under their matched parent, keeping their GUID. A matched code whose definition (or inclusion,
  exclusion, example) differs keeps this project's text; the other copy's is written as a memo on the
  code, so nothing is lost, and the difference is reported as a conflict.
* **codings** keep their coder. One already here (same GUID, or same code, span and coder) is matched;
  every other is added. Two coders' codings of one span are both kept: that is what agreement compares.
* **memos** (journal, code, coding, transcript and participant memos) are added unless their GUID is
  already here, attached to the matched code, coding, transcript or participant.

Vignettes, cases, events and chapters are not merged (counted in the report as ``not_merged``). The
merge is one transaction and one action: undo takes it back whole. ``dry_run`` computes the same
report and changes nothing. The other copy is read from a private copy of its database, never changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from analysis import limits
from analysis.domain.coding import context_of, locate
from analysis.domain.names import check_name
from analysis.errors import Errors, ProjectError
from analysis.store import codes as code_store, merge as store
from analysis.store.recorder import name_key
from analysis.services.codebook import CodebookService
from analysis.services.codings import CodingBatch
from analysis.services.context import Action, Context, new_guid
from analysis.services.results import (MergeConflict, MergedCodes, MergedCodings, MergedMemos, MergedTranscripts,
                                       MergeReport)

_TEXT_FIELDS = ("definition", "inclusion", "exclusion", "example")
_CODE_FIELDS = ("kind", *_TEXT_FIELDS, "colour", "central_concept", "status", "position", "created_at")
_NOT_MERGED = ("vignettes", "cases", "conditions", "events", "periods", "chapters", "snapshots")


def _check_copy(theirs: dict[str, Any], folder: Path) -> None:
    """Refuse a copy whose rows do not hold together, before the merge walks them (a cycle of parents would
    walk forever): a code whose parent, or a coding whose code or transcript, does not exist in the copy; a
    cycle of parents; codes nested deeper than :data:`analysis.limits.CODE_DEPTH`; a code or coder name that
    fails :func:`~analysis.domain.names.check_name`. Raises ``ProjectError`` / ``ImportFormatError``."""
    file = str(folder / "project.db")
    codes = {int(r.id): r for r in theirs["codes"]}
    depth: dict[int, int] = {}
    for r in theirs["codes"]:
        check_name(str(r.name), what="code", file=file)
        chain: list[int] = []
        node: Any = r
        while int(node.id) not in depth:
            if int(node.id) in chain:
                names = [str(codes[i].name) for i in chain[chain.index(int(node.id)):]]
                raise ProjectError(Errors.E4453, path=folder, cycle=" > ".join([*names, names[0]])[:200])
            chain.append(int(node.id))
            if len(chain) > limits.CODE_DEPTH + 1:  # deeper than the cap whatever lies above: stop walking
                raise ProjectError(Errors.E4454, path=folder, name=str(r.name), cap=limits.CODE_DEPTH)
            if node.parent_id is None:
                depth[int(node.id)] = 0
                chain.pop()
                break
            parent = codes.get(int(node.parent_id))
            if parent is None:
                raise ProjectError(Errors.E4452, path=folder, what="code", row=repr(str(node.name)),
                                   target=f"parent code id {node.parent_id}")
            node = parent
        for i in reversed(chain):
            parent_id = codes[i].parent_id
            depth[i] = depth[int(parent_id)] + 1
            if depth[i] > limits.CODE_DEPTH:
                raise ProjectError(Errors.E4454, path=folder, name=str(codes[i].name), cap=limits.CODE_DEPTH)
    transcripts = {int(t.id) for t in theirs["transcripts"]}
    for c in theirs["codings"]:
        if int(c.code_id) not in codes:
            raise ProjectError(Errors.E4452, path=folder, what="coding", row=str(c.guid), target=f"code id {c.code_id}")
        if int(c.transcript_id) not in transcripts:
            raise ProjectError(Errors.E4452, path=folder, what="coding", row=str(c.guid),
                               target=f"transcript id {c.transcript_id}")
        check_name(str(c.coder), what="coder", file=file)


class _DryRun(Exception):
    """Raised inside the merge's action to roll a dry run back."""


class MergeService:
    """Merge another SQLite copy of the project into this one (``project.merge``)."""

    def __init__(self, ctx: Context, codebook: CodebookService) -> None:
        self.ctx = ctx
        self.codebook = codebook

    def from_project(self, other: str | Path, *, dry_run: bool = False) -> MergeReport:
        """Merge the project in folder ``other`` into this one; returns the report (see the module): the
        transcripts, codes, codings and memos matched and added, the conflicts, the tables not merged."""
        folder = Path(other).expanduser().resolve()
        db = folder / "project.db"
        if not db.is_file():
            raise ProjectError(Errors.E4311, path=folder)
        if folder == self.ctx.path.resolve():
            raise ProjectError(Errors.E4312, path=folder)
        report: MergeReport | None = None
        with self._other(db) as theirs:
            _check_copy(theirs, folder)
            try:
                with self.ctx.action("project.merge") as act:
                    report = self._merge(act, theirs, folder, dry_run=dry_run)
                    if dry_run:
                        raise _DryRun
            except _DryRun:
                pass
        assert report is not None  # the action either returned it or raised
        return report

    @contextmanager
    def _other(self, db: Path) -> Iterator[dict[str, Any]]:
        with store.copy_of(db) as other, other.read() as conn:
            yield {
                "transcripts": store.transcript_rows(conn), "codes": code_store.code_rows(conn),
                "codings": store.all_codings(conn), "memos": store.all_memos(conn),
                "pseudonyms": store.pseudonyms(conn), "counts": store.table_counts(conn, _NOT_MERGED),
            }

    def _merge(self, act: Action, theirs: dict[str, Any], folder: Path, *, dry_run: bool) -> MergeReport:
        conn = act.conn
        # transcripts: by name
        ours_t = {r.name: r for r in store.transcript_rows(conn)}
        t_map: dict[int, tuple[int, str, bool]] = {}  # their id -> (our id, our text, same text)
        missing: list[str] = []
        changed: list[str] = []
        for t in theirs["transcripts"]:
            mine = ours_t.get(t.name)
            if mine is None:
                missing.append(str(t.name))
                continue
            same = mine.text == t.text
            if not same:
                changed.append(str(t.name))
            t_map[int(t.id)] = (int(mine.id), str(mine.text), same)
        # codes: by GUID, else by path; parents before children
        c_map, codes = self._merge_codes(act, theirs["codes"], folder)
        # codings
        counts = {"matched": 0, "added": 0, "placed_by_quote": 0, "orphaned": 0, "unplaced": 0}
        x_map: dict[int, int] = {}  # their coding id -> ours (a CodingBatch ticket until it is flushed)
        names = {int(t.id): str(t.name) for t in theirs["transcripts"]}
        batch = CodingBatch(act, transcripts={tid for tid, _, _ in t_map.values()},
                            guids=[str(c.guid) for c in theirs["codings"]])
        for c in theirs["codings"]:
            if int(c.transcript_id) not in t_map:
                counts["unplaced"] += 1
                continue
            tid, text, same = t_map[int(c.transcript_id)]
            code_id = c_map[int(c.code_id)]
            existing = batch.with_guid(str(c.guid))
            if existing is not None:
                x_map[int(c.id)] = existing
                counts["matched"] += 1
                continue
            start, end, orphaned = int(c.start), int(c.end), bool(c.orphaned)
            if not same and not orphaned:
                found = locate(str(c.quote), str(c.context_before), str(c.context_after), text, start)
                if found is None:
                    orphaned = True
                else:
                    start, end = found
                    counts["placed_by_quote"] += 1
            dup = batch.match(code_id=code_id, transcript_id=tid, start=start, end=end, coder=str(c.coder))
            if dup is not None:
                x_map[int(c.id)] = dup
                counts["matched"] += 1
                continue
            before, after = (str(c.context_before), str(c.context_after)) if orphaned else context_of(text, start, end)
            x_map[int(c.id)] = batch.add(
                guid=str(c.guid), code_id=code_id, transcript_id=tid, start=start, end=end,
                quote=str(c.quote) if orphaned else text[start:end], context_before=before, context_after=after,
                coder=str(c.coder), memo=str(c.memo), origin=str(c.origin), orphaned=orphaned,
                created_at=str(c.created_at))
            act.about("transcript", names[int(c.transcript_id)], "related")
            counts["added"] += 1
            counts["orphaned"] += orphaned
        batch.flush()
        x_map = {theirs_id: batch.id(t) for theirs_id, t in x_map.items()}
        memos = self._merge_memos(act, theirs, t_map, c_map, x_map)
        codings = MergedCodings(**counts)
        report = MergeReport(
            other=str(folder), transcripts=MergedTranscripts(matched=len(t_map), changed=tuple(changed),
                                                             missing=tuple(missing)),
            codes=codes, codings=codings, memos=memos,
            not_merged={k: v for k, v in theirs["counts"].items() if v}, dry_run=dry_run)
        act.target = f"project:{folder.name}"
        act.after = {"other": str(folder), "matched": len(codes.matched_by_guid) + len(codes.matched_by_path)
                     + codings.matched, "added": len(codes.added) + codings.added + memos.added,
                     "conflicts": len(codes.conflicts) + codings.orphaned + codings.unplaced}
        act.summary = (f"Merged {folder.name}: {codings.added} codings and {len(codes.added)} codes added, "
                       f"{codings.matched} codings already here")
        return report

    def _merge_codes(self, act: Action, rows: list[Any], folder: Path) -> tuple[dict[int, int], MergedCodes]:
        conn = act.conn
        by_id = {int(r.id): r for r in rows}

        def path_of(r: Any) -> str:
            parts = [str(r.name)]
            while r.parent_id is not None:
                r = by_id[int(r.parent_id)]
                parts.append(str(r.name))
            return code_store.PATH_SEP.join(reversed(parts))

        ordered = sorted(rows, key=lambda r: (path_of(r).count(code_store.PATH_SEP), int(r.id)))
        out: dict[int, int] = {}
        report: dict[str, list[str]] = {"matched_by_guid": [], "matched_by_path": [], "added": []}
        conflicts: list[MergeConflict] = []
        ours = {str(r.guid).lower(): r for r in code_store.code_rows(conn)}
        for r in ordered:
            parent = out.get(int(r.parent_id)) if r.parent_id is not None else None
            mine = ours.get(str(r.guid).lower())
            how = "matched_by_guid"
            if mine is None:
                mine = code_store.sibling(conn, str(r.name), parent)
                how = "matched_by_path"
            if mine is None:
                new_id = act.rec.insert("codes", guid=str(r.guid), parent_id=parent, name=str(r.name),
                                        **{f: getattr(r, f) for f in _CODE_FIELDS if f != "position"},
                                        position=code_store.next_position(conn, parent))
                act.about("code", str(r.guid), "related")
                out[int(r.id)] = new_id
                report["added"].append(path_of(r))
                continue
            out[int(r.id)] = int(mine.id)
            report[how].append(path_of(r))
            if how == "matched_by_guid" and (name_key(str(mine.name)) != name_key(str(r.name)) or mine.parent_id != parent):
                conflicts.append(MergeConflict(code=path_of(r), field="place", ours=self._our_path(conn, int(mine.id)),
                                               theirs=path_of(r)))
            differs = [f for f in _TEXT_FIELDS if str(getattr(r, f) or "").strip() != str(getattr(mine, f) or "").strip()
                       and str(getattr(r, f) or "").strip()]
            for f in differs:
                conflicts.append(MergeConflict(code=path_of(r), field=f, ours=str(getattr(mine, f)),
                                               theirs=str(getattr(r, f))))
            if differs:
                body = "\n\n".join(f"{f.capitalize()} in {folder.name}: {getattr(r, f)}" for f in differs)
                now = self.ctx.now()
                act.rec.insert("memos", guid=new_guid(), kind="code", target_id=int(mine.id), author=self.ctx.actor,
                               phase="coding", title=f"Merged from {folder.name}: their {', '.join(differs)}",
                               body=body, created_at=now, updated_at=now)
        return out, MergedCodes(matched_by_guid=tuple(report["matched_by_guid"]),
                                matched_by_path=tuple(report["matched_by_path"]), added=tuple(report["added"]),
                                conflicts=tuple(conflicts))

    @staticmethod
    def _our_path(conn: Any, code_id: int) -> str:
        parts: list[str] = []
        node: Any = code_store.code_row(conn, code_id)
        while node is not None:
            parts.append(str(node.name))
            node = code_store.code_row(conn, int(node.parent_id)) if node.parent_id is not None else None
        return code_store.PATH_SEP.join(reversed(parts))

    def _merge_memos(self, act: Action, theirs: dict[str, Any], t_map: dict[int, tuple[int, str, bool]],
                     c_map: dict[int, int], x_map: dict[int, int]) -> MergedMemos:
        conn = act.conn
        out = {"matched": 0, "added": 0, "unplaced": 0}
        for m in theirs["memos"]:
            if store.memo_guid_exists(conn, str(m.guid)):
                out["matched"] += 1
                continue
            target: int | None = None
            if m.kind == "code":
                target = c_map.get(int(m.target_id)) if m.target_id is not None else None
            elif m.kind == "coding":
                target = x_map.get(int(m.target_id)) if m.target_id is not None else None
            elif m.kind == "familiarisation":
                placed = t_map.get(int(m.target_id)) if m.target_id is not None else None
                target = placed[0] if placed else None
            elif m.kind == "participant":
                who = theirs["pseudonyms"].get(int(m.target_id)) if m.target_id is not None else None
                target = store.participant_by_pseudonym(conn, who) if who else None
            if m.kind != "journal" and target is None:
                out["unplaced"] += 1
                continue
            act.rec.insert("memos", guid=str(m.guid), kind=str(m.kind), target_id=target, author=str(m.author),
                           phase=str(m.phase), title=str(m.title), body=str(m.body), created_at=str(m.created_at),
                           updated_at=str(m.updated_at))
            out["added"] += 1
        return MergedMemos(**out)

