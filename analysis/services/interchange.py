"""REFI-QDA interchange (``project.interchange``): import NVivo, MAXQDA, ATLAS.ti and QualCoder projects
(``.qdpx``) and codebooks (``.qdc``); export the project and its codebook for them.

Import. Everything is read and checked before anything is written (the archive, the XML, every source's
text, every selection's place); then the whole import is ONE transaction and ONE audit event
(``refi.import``): all or nothing. Positions are mapped to Storyloom's NFC, ``\\n``, code-point offsets by a
counting rule (code points or UTF-16 units, CRLF as two or one: :mod:`analysis.refi.positions`). One program
writes one rule, so the evidence of every source of the file (quotes matched, starts on word boundaries) is
pooled into the export's rule, with the program named in the file (``origin``) as a prior where the pooled
evidence is weak (NVivo writes UTF-16); evidence that decides against that program is a warning. A source
whose own evidence decides is placed by its own rule (a warning where that is not the export's); one whose
evidence is weak is "ambiguous, placed by the project's rule" (a warning). The report says, per source, the
rule and its ``evidence``, and ``position_rule`` for the file; and how many selections were placed exactly,
placed by widening to the nearest character boundary (ambiguous) or kept as orphans with their quote (out of
range or empty: never dropped).

Into a project that already has data the import is a merge, never a duplicate, and deletes nothing:

* codes: matched by GUID, else by path (same parent, same name ignoring case); a matched code takes the
  file's colour and description where they differ ("changed"); a new one keeps the file's GUID;
* sources: matched by GUID, else by name; the same text is "unchanged" (its codings are merged), a
  different text is refused (:data:`Errors.E5116`): an import never replaces a transcript's text;
* codings: matched by GUID, else by (code, span); matches are left alone;
* users, cases (participants), variables, notes (memos): matched by GUID (users and participants also by
  name); matches are left alone;
* GUIDs are kept lower case without braces; a GUID that names another kind of row is no clash (each table
  has its own), an id that is not a GUID gets a stable name-based UUID.

The import is not undoable and is an undo barrier (it adds transcripts, which are not undoable either).
Sets, links, graphs and PDF and picture sources are counted in the report, not stored.

Audio and video sources (``<AudioSource>``/``<VideoSource>``): the first ``<Transcript>`` is imported as a
text source is (its text, its ``<TranscriptSelection>``s placed at their sync points' positions by the same
position rules), its ``<SyncPoint>``s become the transcript's anchors (milliseconds to seconds; a point with
the time of the one before it only marks a selection's bound), and the recording, when the archive holds it
(``internal://``), is written to ``media/`` (at most :data:`analysis.limits.MEDIA_BYTES`) and attached after the
import's transaction (``media.attach``, its own action). What cannot come in is a warning in the report
(``warnings``), never a failed import: a recording missing, outside the archive or refused by the decoder (the
transcript stays), a source with no transcript, further transcripts, time-range codings of the recording
(``<AudioSelection>``/``<VideoSelection>``). ``media`` lists every media source (also in a dry run).

Export. ``.qdpx``: the codebook (colours; definition and criteria in the description), sources as UTF-8
text members ``sources/<guid>.txt`` with code-point positions (``positions="utf16"`` for tools that read
NVivo-style ones), codings with their coder and date, participants as Cases with their attribute values,
memos as Notes with author and date, users; events in story time as codes of an "Events" group (the when and
the story order in each description) whose codings are the passages linked to them (importing such a file
brings them in as codes of an "Events" theme). A transcript with a recording is an ``<AudioSource>`` (a
``<VideoSource>`` for a video) whose recording is the member ``sources/<guid><suffix>`` (``internal://``) and
whose one ``<Transcript>`` holds the text, a ``<SyncPoint>`` per anchor and one at each coding's start and end
(with the time of the anchor at or before it, so a re-import adds no time), and a ``<TranscriptSelection>``
per coded passage; an anchor's end (a cue's) has no place in REFI-QDA and is not written. ``.qdc``: the
codebook. GUIDs are the stored ones, paths are relative; orphaned codings (no place in the text) are left out
and counted.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from analysis.domain.coding import context_of
from analysis.domain.names import check_name
from analysis.export.destination import write_atomic
from analysis import limits
from analysis.domain.model import Anchor, ParsedTurn
from analysis.domain.timing import anchors_of, normalise, span_time, time_at
from analysis.errors import (ConflictError, Errors, ImportFormatError, StorageError, StoryloomError,
                             ValidationError)
from analysis.ingest.decode import check_text
from analysis.ingest.docx import read_docx
from analysis.ingest.text import parse_text
from analysis.limits import MiB, read_regular_file
from analysis.refi import description as desc
from analysis.refi.positions import (AMBIGUOUS, OWN, RULES, Evidence, ExportRule, PositionMap, Rule, canonical,
                                     evidence, export_rule, position_map, utf16_offsets, verdict, weight)
from analysis.refi.read import (MEDIA_KINDS, Archive, RefiCase, RefiCode, RefiCodebook, RefiCoding, RefiNote,
                         RefiProject, RefiSelection, RefiSource, RefiSyncPoint, RefiUser, RefiVariable, open_archive,
                         parse_codebook, parse_project)
from analysis.refi.write import write_codebook, write_project, write_qdpx
from analysis.domain.progress import Progress, Step, no_progress
from analysis.domain.segment import sentences
from analysis.store import codes as code_store
from analysis.domain.narrative import Period, refi_description, story_order, when_of_row
from analysis.store import events as event_store, media as media_store
from analysis.store import interchange as store, participants as participant_store, transcripts as transcript_store
from analysis.services.codings import CodingBatch
from analysis.services.context import Action, Context, new_guid
from analysis.services.media import MediaService, _sha256 as file_sha256
from analysis.services.results import RefiCodebookImport

if TYPE_CHECKING:
    from analysis.store import Connection
    from analysis.services.codebook import CodebookService
    from analysis.services.transcripts import TranscriptService

__all__ = ["InterchangeService"]

QDPX_FILE_BYTES = 2048 * MiB  # a .qdpx read into memory (its video members are never expanded)
QDC_FILE_BYTES = 64 * MiB
QDPX_SOURCE_BYTES = 200 * MiB  # one source's text read from outside the archive (only with sources_from)
POSITIONS = ("codepoints", "utf16")
_NS = uuid.UUID("0b7e2f4c-8d1a-4c3e-9f5b-6a7d8e9f0a1b")  # stable GUIDs for exported selections and users
_UNKNOWN_CODER = "unknown coder (REFI-QDA)"
EVENTS_GROUP = "Events"
EVENTS_GROUP_DESCRIPTION = ("Events in story time (Storyloom): each code is an event, its description says when it "
                            "falls in the story and its number in story order; its codings are the passages told of it.")


@dataclass
class _Placed:
    sel: RefiSelection
    start: int
    end: int
    quote: str
    status: str  # exact | ambiguous | orphan


@dataclass
class _Source:
    refi: RefiSource
    name: str
    text: str
    rule: str
    placed: list[_Placed] = field(default_factory=list)
    sentences: list[Any] = field(default_factory=list)
    turns: Any = None
    synced: tuple[Anchor, ...] = ()  # a media source's sync points, as anchors into the stored text
    anchors: tuple[Anchor, ...] = ()  # what is stored (sync_points): ``synced``, else the text's own times
    media: str | None = None  # a media source's recording: its member in the archive
    evidence: str = ""  # how its position rule was chosen (positions.OWN, ALIKE or AMBIGUOUS; "" without selections)


@dataclass
class _Pending:
    """A source read, not yet placed: placing waits for the export's rule (all sources' evidence pooled)."""

    src: RefiSource
    name: str
    pmap: PositionMap  # the map of its own best rule
    found: Evidence | None  # None: no selections
    raw: str | None  # kept only where its own evidence is weak (it may be placed by the export's rule)
    media: int | None  # its row in the media rows (a media source's transcript)
    why: str  # why its recording cannot come in ("" when it can)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_names(file: str, book: RefiCodebook) -> None:
    """Every name the file would store (codes; a project's sources, cases, users and variables) passes
    :func:`~analysis.domain.names.check_name`, before anything is read further or written."""
    for code, _ in book.walk():
        check_name(code.name, what="REFI-QDA code", file=file, line=code.line)
    if isinstance(book, RefiProject):
        for src in book.sources:
            check_name(src.name, what="REFI-QDA source", file=file, line=src.line)
        for case in book.cases:
            check_name(case.name, what="REFI-QDA case", file=file, line=case.line)
        for user in book.users:
            check_name(user.name, what="REFI-QDA user", file=file)
        for var in book.variables:
            check_name(var.name, what="REFI-QDA variable", file=file)


def _source_name(src: RefiSource) -> str:
    return unicodedata.normalize("NFC", src.name.strip()) or src.guid


def _code_name(name: str) -> str:
    """A code name Storyloom accepts: NFC, stripped, ``>`` (the path separator) as ``›``."""
    return unicodedata.normalize("NFC", name).strip().replace(">", "›") or "(unnamed code)"


def _colour(value: str) -> str:
    v = value.strip()
    if len(v) == 4 and v.startswith("#"):
        v = "#" + "".join(c * 2 for c in v[1:])
    return v.lower() if len(v) == 7 and v.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in v[1:]) else ""


class InterchangeService:
    """``project.interchange``: REFI-QDA import and export (see the module docstring)."""

    def __init__(self, ctx: Context, codebook: CodebookService, transcripts: TranscriptService) -> None:
        self.ctx = ctx
        self.codebook = codebook
        self.transcripts = transcripts  # the one path that stores and embeds text (store_text, embed_or_queue)

    # ============================================================================ import ==========
    def import_project(self, path: str | Path, *, dry_run: bool = False,
                       sources_from: str | Path | None = None, progress: Progress | None = None,
                       wait: bool = True) -> dict[str, Any]:
        """Import a ``.qdpx`` project (or, by its suffix, a ``.qdc`` codebook). Returns the report; ``progress``
        hears the stages (segment, embed) as an import of transcripts does; the sources' sentences are
        embedded after the import's transaction (``wait``), or left in the embedding queue.

        Sources are read from the archive. A source whose ``plainTextPath`` or ``richTextPath`` points
        outside it (an absolute path, ``file://``, or ``relative://`` from the project's ``basePath``) is
        read only from the folder ``sources_from`` names, never through a link that leads out of it; without
        ``sources_from`` it is refused. Every file read from outside is listed in the report
        (``outside_files``), the dry run's too."""
        path = Path(path)
        if path.suffix.lower() == ".qdc":
            return asdict(self.import_codebook(path, dry_run=dry_run))  # the report as a dict, as a project's is
        file = path.name
        data = read_regular_file(path, cap=QDPX_FILE_BYTES, name=str(path))
        archive = open_archive(file, data)
        qde = archive.qde()
        project = parse_project(f"{file} ({qde})", archive.read(qde))
        _check_names(f"{file} ({qde})", project)
        outside: list[str] = []
        folder = Path(sources_from).expanduser() if sources_from is not None else None
        sources, skipped, media, warnings, rule = self._read_sources(file, path, archive, project, folder, outside)
        notes = {n.guid: self._note_text(file, archive, n, dry_run=dry_run) for n in project.notes}
        report = self._report(project, sources, skipped, rule)
        warnings.extend(f"{file}, line {s.refi.line}: a second source is named '{s.refi.name.strip()}'; it is "
                        f"imported as '{s.name}'" for s in sources if s.name != _source_name(s.refi))
        report.update(media=media, warnings=warnings, outside_files=outside)
        if dry_run:
            return report
        tell = progress or no_progress
        tell(Step("segment", 0, len(sources), "sources"))
        for i, s in enumerate(sources, start=1):  # segmenting is slow: before the transaction
            parsed = parse_text(s.text, fmt="txt")
            if s.synced:  # a media source's transcript: its times are the sync points, not stamps in its text
                parsed = replace(parsed, anchors=s.synced, turns=_timed(parsed.turns, normalise(s.synced, len(s.text))))
            s.turns, s.anchors = parsed.turns, anchors_of(parsed)
            s.sentences = sentences(s.text, [(t.start, t.end) for t in s.turns])
            tell(Step("segment", i, len(sources), "sources", s.name))
        with self.ctx.action("refi.import", undoable=False) as act:
            act.barrier = True
            counts: Counter[str] = Counter()
            users = self._merge_users(act, project.users)
            code_ids = self._merge_codes(act, project, counts)
            tids = self._merge_sources(act, file, sources, counts)
            coding_ids = self._merge_codings(act, sources, tids, code_ids, users, counts)
            self._merge_cases(act, project, tids, counts)
            self._merge_notes(act, project, notes, code_ids, tids, coding_ids, users, counts)
            report.update(added=counts["added"], changed=counts["changed"], unchanged=counts["unchanged"])
            act.target = f"refi:{file}"
            act.summary = (f"Imported REFI-QDA project {file} ({project.origin or 'unknown origin'}): "
                           f"{len(sources)} sources, {report['codes']} codes, {report['codings']} codings; "
                           f"{counts['added']} added, {counts['changed']} changed, {counts['unchanged']} unchanged")
            act.after = {"file": file, "origin": project.origin, "sources": report["sources"],
                         "added": counts["added"], "changed": counts["changed"], "unchanged": counts["unchanged"]}
        attached, failed = self._attach_media(file, archive, sources, tids)
        for row in media:
            row["attached"] = attached.get(row["guid"])
        warnings.extend(failed)
        report.update(asdict(self.transcripts.embed_or_queue(wait, tell)))
        return report

    def imported_transcripts(self) -> set[str]:
        """Names of the transcripts a REFI-QDA import brought in: their text came from the archive, so no file
        in ``transcripts/`` stands for them and a sync does not report them missing."""
        with self.ctx.store.read() as conn:
            return store.imported_transcript_names(conn)

    def import_codebook(self, path: str | Path, *, dry_run: bool = False) -> RefiCodebookImport:
        """Import a ``.qdc`` codebook: codes with hierarchy, colour and description (as the definition).
        Returns the codes and sets it holds, and the codes added, changed and unchanged (a dry run: none)."""
        path = Path(path)
        data = read_regular_file(path, cap=QDC_FILE_BYTES, name=str(path))
        book = parse_codebook(path.name, data)
        _check_names(path.name, book)
        report = RefiCodebookImport(file=path.name, origin=book.origin, codes=sum(1 for _ in book.walk()),
                                    sets=len(book.sets))
        if dry_run:
            return report
        with self.ctx.action("refi.import", undoable=False) as act:
            counts: Counter[str] = Counter()
            self._merge_codes(act, book, counts)
            report = replace(report, added=counts["added"], changed=counts["changed"], unchanged=counts["unchanged"])
            act.target = f"refi:{path.name}"
            act.summary = (f"Imported REFI-QDA codebook {path.name}: {report.codes} codes; {counts['added']} "
                           f"added, {counts['changed']} changed, {counts['unchanged']} unchanged")
            act.after = {"file": path.name, "origin": book.origin, "added": counts["added"],
                         "changed": counts["changed"], "unchanged": counts["unchanged"]}
        return report

    # -- reading (pure: raises before anything is written) ---------------------------------------
    def _member_bytes(self, file: str, archive: Archive, project: RefiProject, src: RefiSource,
                      ref: str, folder: Path | None, outside: list[str]) -> bytes:
        def missing(why: str) -> ImportFormatError:
            return ImportFormatError(file, Errors.E5110, line=src.line, name=src.name, element=src.kind,
                                     path=ref, why=why)
        if ref.startswith("internal://"):
            member = _internal(archive, ref)
            if member is not None:
                return archive.read(member)
            raise missing("not in the archive")
        if ref.startswith("relative://"):
            rel = ref[len("relative://"):]
            if any(p == ".." for p in PurePosixPath(rel).parts):
                raise missing("outside the project's base path")
            base = Path(project.base_path) if project.base_path else (folder or Path("."))
            target = base / rel
        else:
            target = Path(ref.removeprefix("file://"))
        if folder is None:
            raise ImportFormatError(file, Errors.E5201, line=src.line, name=src.name, element=src.kind, target=target)
        if not target.is_absolute():
            target = folder / target
        root = folder.resolve()
        resolved = target.resolve()
        if not resolved.is_relative_to(root) or not target.absolute().is_relative_to(folder.absolute()):
            via = " (through a symbolic link)" if target.absolute().is_relative_to(folder.absolute()) else ""
            raise ImportFormatError(file, Errors.E5202, line=src.line, name=src.name, element=src.kind,
                                    target=resolved if via else target, folder=folder, via=via)
        if not target.is_file():
            raise missing("not a file on this computer")
        outside.append(str(resolved))
        return read_regular_file(target, cap=QDPX_SOURCE_BYTES, root=root, name=str(target))

    def _read_sources(self, file: str, path: Path, archive: Archive, project: RefiProject, folder: Path | None,
                      outside: list[str]) -> tuple[list[_Source], list[str], list[dict[str, Any]], list[str], ExportRule]:
        """The text sources and the media sources' transcripts (read and placed), the sources left out, a row
        per media source (its recording, its transcript), warnings, and the export's position rule (every
        source's evidence pooled: :func:`~analysis.refi.positions.export_rule`)."""
        out: list[_Source] = []
        pending: list[_Pending] = []
        skipped: list[str] = []
        media: list[dict[str, Any]] = []
        warnings: list[str] = []
        names: Counter[str] = Counter()
        for src in project.sources:
            is_media = src.kind in MEDIA_KINDS
            if src.kind != "TextSource" and not is_media:
                skipped.append(f"{src.name or src.guid} ({src.kind})")
                continue
            if is_media:
                member, why = _media_member(archive, src)
                media.append({"name": src.name or src.guid, "guid": src.guid, "kind": src.kind,
                              "path": src.media_path or "", "recording": member, "transcripts": src.transcripts,
                              "selections": len(src.selections), "media_selections": src.media_selections,
                              "transcript": None, "attached": None})
                if src.content is None and not src.plain_path and not src.rich_path:  # nothing to code: left out
                    warnings.extend(_media_warnings(file, src, why, None))
                    skipped.append(f"{src.name or src.guid} ({src.kind})")
                    continue
            if src.content is not None:
                raw = src.content
            elif src.plain_path:
                data = self._member_bytes(file, archive, project, src, src.plain_path, folder, outside)
                try:
                    raw = data.decode("utf-8")
                except UnicodeDecodeError as err:
                    raise ImportFormatError(file, Errors.E5111, line=src.line, name=src.name, path=src.plain_path,
                                            detail=f"byte 0x{data[err.start]:02X} at offset {err.start}") from None
            elif src.rich_path and src.rich_path.lower().endswith(".docx"):
                data = self._member_bytes(file, archive, project, src, src.rich_path, folder, outside)
                raw = read_docx(f"{file} ({src.rich_path})", data).text
            else:
                raise ImportFormatError(file, Errors.E5115, line=src.line, name=src.name)
            check_text(f"{file} (source '{src.name}')", raw)  # NUL, mostly control characters: as a .txt import
            if len(raw) > limits.TRANSCRIPT_CHARS:
                raise ImportFormatError(file, Errors.E1551, line=src.line, what=f"source '{src.name}' ({len(raw):,} "
                                        f"characters)", cap=f"{limits.TRANSCRIPT_CHARS:,} characters", got="")
            sels = [(s.start, s.end, s.name) for s in src.selections]
            found, pmap = evidence(raw, sels) if sels else (None, position_map(raw, RULES[0]))
            base = _source_name(src)
            names[base] += 1
            name = base if names[base] == 1 else f"{base} ({names[base]})"
            weak = found is not None and not found.decisive and found.margin is not None  # may take the export's rule
            pending.append(_Pending(src, name, pmap, found, raw if weak else None, len(media) - 1 if is_media else None,
                                    why if is_media else ""))
        # one program writes one rule: every source's evidence pooled, the program named in the file as a prior
        export = export_rule([p.found for p in pending if p.found is not None], project.origin)
        for p in pending:
            pmap, rule, basis = p.pmap, "none (no selections)", ""
            if p.found is not None:
                chosen, basis = verdict(p.found, export)
                if p.found.differs(chosen, pmap.rule):
                    assert p.raw is not None
                    pmap = position_map(p.raw, chosen)
                rule = chosen.name
            out.append(_Source(p.src, p.name, pmap.text, rule, [self._place(pmap, s) for s in p.src.selections],
                               evidence=basis))
            if p.media is not None:
                out[-1].synced = _synced(pmap, p.src.sync_points)
                out[-1].media = media[p.media]["recording"]
                media[p.media]["transcript"] = p.name
                warnings.extend(_media_warnings(file, p.src, p.why, p.name))
        warnings.extend(_rule_warnings(file, project.origin, export, pending))
        return out, skipped, media, warnings, export

    @staticmethod
    def _place(pmap: PositionMap, sel: RefiSelection) -> _Placed:
        text = pmap.text
        s, e = pmap.to_stored(sel.start), pmap.to_stored(sel.end)
        if s is not None and e is not None and s < e:
            return _Placed(sel, s, e, text[s:e], "exact")
        s2, e2 = pmap.snap(sel.start, forward=False), pmap.snap(sel.end, forward=True)
        if s2 is not None and e2 is not None and s2 < e2:
            return _Placed(sel, s2, e2, text[s2:e2], "ambiguous")
        start = max(0, min(sel.start, len(text)))
        return _Placed(sel, start, start, canonical(sel.name), "orphan")

    def _note_text(self, file: str, archive: Archive, note: RefiNote, *, dry_run: bool = False) -> str:
        """A note's text; a dry run only counts notes, so it checks a note's member whole without keeping it."""
        if note.content is not None:
            return canonical(note.content)
        if note.plain_path and note.plain_path.startswith("internal://"):
            member = _internal(archive, note.plain_path)
            if member is not None and dry_run:
                archive.check(member)
            elif member is not None:
                return canonical(archive.read(member).decode("utf-8", errors="replace"))
        return ""

    @staticmethod
    def _report(project: RefiProject, sources: list[_Source], skipped: list[str], rule: ExportRule) -> dict[str, Any]:
        rows = []
        for s in sources:
            status = Counter(p.status for p in s.placed)
            rows.append({"name": s.name, "guid": s.refi.guid, "rule": s.rule, "evidence": s.evidence,
                         "selections": len(s.placed), "placed": status["exact"], "ambiguous": status["ambiguous"],
                         "orphaned": status["orphan"]})
        return {"origin": project.origin, "sources": rows, "skipped_sources": skipped,
                "position_rule": {"rule": rule.rule.name, "basis": rule.basis, "margin": rule.margin}
                if any(s.evidence for s in sources) else None,
                "codes": sum(1 for _ in project.walk()),
                "codings": sum(len(p.sel.codings) for s in sources for p in s.placed),
                "cases": len(project.cases), "variables": len(project.variables), "notes": len(project.notes),
                "users": len(project.users), "sets": len(project.sets), "links": project.links,
                "added": 0, "changed": 0, "unchanged": 0}

    # -- merging (inside the one transaction) -----------------------------------------------------
    def _merge_users(self, act: Action, users: list[RefiUser]) -> dict[str, str]:
        """GUID -> name of every user of the file (each recorded as a Storyloom user)."""
        out: dict[str, str] = {}
        for u in users:
            row = store.by_guid(act.conn, "users", u.guid)
            name = str(row.name) if row is not None else (u.name.strip() or u.guid)
            if row is None:
                store.insert_user(act.conn, guid=u.guid, name=name)
            out[u.guid] = name
        return out

    def _merge_codes(self, act: Action, book: RefiCodebook, counts: Counter[str]) -> dict[str, int]:
        ours = book.origin.startswith("Storyloom")
        ids: dict[str, int] = {}
        used: dict[int | None, set[int]] = defaultdict(set)
        for code, parent in book.walk():
            parent_id = ids[parent.guid] if parent is not None else None
            fields = desc.parse(code.description) if ours else {"definition": code.description}
            if "kind" not in fields:
                fields["kind"] = "code" if code.codable else "theme"
            colour = _colour(code.color)
            if colour:
                fields["colour"] = colour
            name = _code_name(code.name)
            row = store.by_guid(act.conn, "codes", code.guid) or code_store.sibling(act.conn, name, parent_id)
            if row is not None and int(row.id) not in used[parent_id]:
                changes = {k: v for k, v in fields.items() if getattr(row, k) != v}
                if changes:
                    act.rec.update("codes", int(row.id), **changes)
                    counts["changed"] += 1
                else:
                    counts["unchanged"] += 1
                ids[code.guid] = int(row.id)
                used[parent_id].add(int(row.id))
                continue
            base, n = name, 1
            while code_store.sibling(act.conn, name, parent_id) is not None:  # two siblings of one name in the file
                n += 1
                name = f"{base} ({n})"
            guid = code.guid if store.by_guid(act.conn, "codes", code.guid) is None else new_guid()
            self.codebook.validate_fields({**fields, "name": name})
            cid = act.rec.insert("codes", guid=guid, parent_id=parent_id, name=name,
                                 position=code_store.next_position(act.conn, parent_id), created_at=self.ctx.now(),
                                 **fields)
            ids[code.guid] = cid
            used[parent_id].add(cid)
            act.about("code", guid)
            counts["added"] += 1
        return ids

    def _merge_sources(self, act: Action, file: str, sources: list[_Source], counts: Counter[str]) -> dict[str, int]:
        tids: dict[str, int] = {}
        conn = act.conn
        for s in sources:
            row = store.by_guid(conn, "transcripts", s.refi.guid) or transcript_store.by_name(conn, s.name)
            if row is not None:
                if row.text != s.text:
                    raise ConflictError(Errors.E5116, name=s.name, file=file, existing=row.name)
                tids[s.refi.guid] = int(row.id)
                counts["unchanged"] += 1
                continue
            now = self.ctx.now()
            guid = s.refi.guid
            tid = transcript_store.insert_transcript(
                conn, guid=guid, name=s.name, imported_at=now, format="txt", text=s.text,
                source_sha256=_sha(s.text), warnings="[]", updated_at=now)
            speaker_ids: dict[str, int] = {}
            for turn in s.turns:
                if turn.speaker not in speaker_ids:
                    speaker_ids[turn.speaker] = transcript_store.insert_speaker(conn, tid, turn.speaker, None, False)
            self.transcripts.store_text(conn, tid, s.text, s.turns, s.sentences, speaker_ids, s.anchors)
            tids[s.refi.guid] = tid
            act.about("transcript", guid)
            counts["added"] += 1
        return tids

    def _merge_codings(self, act: Action, sources: list[_Source], tids: dict[str, int], code_ids: dict[str, int],
                       users: dict[str, str], counts: Counter[str]) -> dict[str, int]:
        """Selection GUID and coding GUID -> coding id (for notes attached to either), written as one
        :class:`CodingBatch`."""
        batch = CodingBatch(act, transcripts=tids.values(),
                            guids=[c.guid for s in sources for p in s.placed for c in p.sel.codings])
        tickets: dict[str, int] = {}
        for s in sources:
            tid = tids[s.refi.guid]
            for p in s.placed:
                for c in p.sel.codings:
                    code_id = code_ids[c.code_guid]
                    who = c.user or p.sel.user
                    coder = users.get(who, _UNKNOWN_CODER) if who else _UNKNOWN_CODER
                    found = batch.match(guid=c.guid, code_id=code_id, transcript_id=tid, start=p.start, end=p.end,
                                        coder=coder)
                    if found is not None:
                        tickets[c.guid] = found
                        tickets.setdefault(p.sel.guid, found)
                        counts["unchanged"] += 1
                        continue
                    before, after = ("", "") if p.status == "orphan" else context_of(s.text, p.start, p.end)
                    ticket = batch.add(
                        guid=c.guid, code_id=code_id, transcript_id=tid, start=p.start, end=p.end,
                        quote=p.quote, context_before=before, context_after=after, coder=coder,
                        memo=canonical(p.sel.description), origin="refi-qda", orphaned=p.status == "orphan",
                        created_at=c.created or p.sel.created or self.ctx.now())
                    tickets[c.guid] = ticket
                    tickets.setdefault(p.sel.guid, ticket)
                    counts["added"] += 1
        batch.flush()
        return {guid: batch.id(t) for guid, t in tickets.items()}

    def _merge_cases(self, act: Action, project: RefiProject, tids: dict[str, int], counts: Counter[str]) -> None:
        conn = act.conn
        var_ids: dict[str, int] = {}
        for v in project.variables:
            row = store.by_guid(conn, "variables", v.guid)
            vid = int(row.id) if row is not None else participant_store.variable_id(conn, v.name)
            if vid is None:
                vid = act.rec.insert("variables", guid=v.guid, name=v.name)
                counts["added"] += 1
            var_ids[v.guid] = vid
        for case in project.cases:
            name = unicodedata.normalize("NFC", case.name.strip()) or case.guid
            row = store.by_guid(conn, "participants", case.guid)
            pid = int(row.id) if row is not None else participant_store.find_participant_by_key(conn, name)
            if pid is None:
                pid = act.rec.insert("participants", guid=case.guid, pseudonym=name, created_at=self.ctx.now())
                counts["added"] += 1
            else:
                counts["unchanged"] += 1
            for vguid, value in case.values.items():
                vid = var_ids.get(vguid)
                if vid is None:
                    raise ImportFormatError(project.name or "project.qde", Errors.E5112, line=case.line,
                                            element="VariableRef", what="variable", guid=vguid)
                if participant_store.attribute_id(conn, pid, vid) is None:
                    act.rec.insert("participant_attributes", participant_id=pid, variable_id=vid, value=value)
            for sguid in case.source_refs:
                tid = tids.get(sguid)
                if tid is None:
                    continue
                for sp in transcript_store.speakers_of(conn, tid):
                    if sp.participant_id is None and not sp.interviewer:
                        transcript_store.update_speaker(conn, int(sp.id), participant_id=pid, interviewer=False)

    def _merge_notes(self, act: Action, project: RefiProject, texts: dict[str, str], code_ids: dict[str, int],
                     tids: dict[str, int], coding_ids: dict[str, int], users: dict[str, str],
                     counts: Counter[str]) -> None:
        target: dict[str, tuple[str, int | None]] = {}
        for code, _ in project.walk():
            for ref in code.note_refs:
                target.setdefault(ref, ("code", code_ids[code.guid]))
        for src in project.sources:
            for ref in src.note_refs:
                if src.guid in tids:
                    target.setdefault(ref, ("familiarisation", tids[src.guid]))
            for sel in src.selections:
                for ref in sel.note_refs:
                    if sel.guid in coding_ids:
                        target.setdefault(ref, ("coding", coding_ids[sel.guid]))
                for c in sel.codings:
                    for ref in c.note_refs:
                        target.setdefault(ref, ("coding", coding_ids[c.guid]))
        for note in project.notes:
            if store.by_guid(act.conn, "memos", note.guid) is not None:
                counts["unchanged"] += 1
                continue
            body = texts.get(note.guid, "")
            if not body.strip():
                continue
            kind, target_id = target.get(note.guid, ("journal", None))
            author = users.get(note.user or "", self.ctx.actor)
            when = note.created or self.ctx.now()
            act.rec.insert("memos", guid=note.guid, kind=kind, target_id=target_id, author=author, phase="coding",
                           title=note.name.strip(), body=body, created_at=when, updated_at=when)
            counts["added"] += 1

    # -- recordings (after the import's transaction: attaching is its own action) -----------------
    def _attach_media(self, file: str, archive: Archive, sources: list[_Source],
                      tids: dict[str, int]) -> tuple[dict[str, str], list[str]]:
        """Each media source's recording from the archive into media/, attached to its transcript (one that
        has a recording already keeps it). A recording that cannot be attached is a warning; the transcript
        and its codings stay. Returns source GUID -> the file attached, and the warnings."""
        todo = [s for s in sources if s.media is not None]
        if not todo:
            return {}, []
        media = MediaService(self.ctx)
        with self.ctx.store.read() as conn:
            names = {int(r.id): str(r.name) for r in transcript_store.transcript_rows(conn)}
        done: dict[str, str] = {}
        warnings: list[str] = []
        for s in todo:
            name = names[tids[s.refi.guid]]
            if media.of(name) is not None:
                continue
            try:
                target, made = self._extract_media(archive, s)
                try:
                    media.attach(name, target, note=f"from REFI-QDA {file}")
                except BaseException:
                    if made:
                        target.unlink(missing_ok=True)
                    raise
            except (ImportFormatError, StorageError, OSError) as err:  # refused by the probe, damaged, disk full
                detail = err.message if isinstance(err, StoryloomError) else (err.strerror or type(err).__name__)
                warnings.append(str(ImportFormatError(file, Errors.E1653, line=s.refi.line, name=s.refi.name,
                                                      transcript=name, err=detail)))
                continue
            done[s.refi.guid] = target.name
        return done, warnings

    def _extract_media(self, archive: Archive, s: _Source) -> tuple[Path, bool]:
        """The recording of ``s`` written to media/ (bounded by :data:`analysis.limits.MEDIA_BYTES`) as
        ``<transcript stem><suffix>``; the same bytes already there are used as they are. True when written."""
        assert s.media is not None
        folder = self.ctx.media_dir
        try:
            folder.mkdir(exist_ok=True)
        except OSError as err:
            raise StorageError(Errors.E2502, file=s.media, err=err.strerror or type(err).__name__) from err
        suffix = PurePosixPath(s.media).suffix.lower()
        stem = re.sub(r"[^\w .()+-]", "_", PurePosixPath(s.name.replace("\\", "/")).stem).strip(" ._")[:120]
        tmp = folder / f".{s.refi.guid}{suffix}.extracting"
        archive.extract(s.media, tmp, cap=limits.MEDIA_BYTES)
        try:
            sha = file_sha256(tmp)
            for candidate in (f"{stem or s.refi.guid}{suffix}", f"{stem} ({s.refi.guid[:8]}){suffix}"):
                target = folder / candidate
                if not target.exists():
                    os.replace(tmp, target)
                    return target, True
                if target.is_file() and file_sha256(target) == sha:
                    return target, False
            raise StorageError(Errors.E2503, file=f"{stem}{suffix}")
        finally:
            tmp.unlink(missing_ok=True)

    # ============================================================================ export ==========
    def export_project(self, path: str | Path, *, positions: str = "codepoints") -> Path:
        """Write the project as a ``.qdpx`` (or, by suffix, the codebook as a ``.qdc``)."""
        path = Path(path)
        if positions not in POSITIONS:
            raise ValidationError(Errors.E5118, positions=positions)
        if path.suffix.lower() == ".qdc":
            return self.export_codebook(path)
        if path.suffix.lower() != ".qdpx":
            raise ValidationError(Errors.E5117, path=path)
        project, members, skipped, missing = self._build(positions)
        qde = write_project(project)
        _write_atomic(path, lambda fh: write_qdpx(fh, qde, members))
        n_codings = sum(len(sel.codings) for s in project.sources for sel in s.selections)
        n_media = sum(1 for s in project.sources if s.kind in MEDIA_KINDS)
        self.ctx.log("refi.export", summary=f"Exported the project as REFI-QDA {path.name} ({len(project.sources)} "
                                            f"sources, {n_media} with their recordings, {n_codings} codings, "
                                            f"positions in {positions})",
                     after={"path": str(path), "format": "qdpx", "positions": positions, "codings": n_codings,
                            "orphans_left_out": skipped, "recordings": n_media, "recordings_missing": missing},
                     target=f"refi:{path.name}")
        return path

    def export_codebook(self, path: str | Path) -> Path:
        """Write the codebook as a REFI-QDA ``.qdc``."""
        path = Path(path)
        if path.suffix.lower() != ".qdc":
            raise ValidationError(Errors.E5117, path=path)
        with self.ctx.store.read() as conn:
            codes = self._codes(conn, set())
        book = RefiCodebook(self._origin(), codes, [])
        _write_atomic(path, write_codebook(book))
        n = sum(1 for _ in book.walk())
        self.ctx.log("refi.export", summary=f"Exported the codebook as REFI-QDA {path.name} ({n} codes)",
                     after={"path": str(path), "format": "qdc", "codes": n}, target=f"refi:{path.name}")
        return path

    @staticmethod
    def _origin() -> str:
        return "Storyloom"

    def _codes(self, conn: Connection, coded: set[int], notes: dict[int, list[str]] | None = None) -> list[RefiCode]:
        rows = code_store.code_rows(conn)
        nodes: dict[int, RefiCode] = {}
        roots: list[RefiCode] = []
        for r in rows:
            fields = {k: str(getattr(r, k) or "") for k in ("definition", *desc.LABELS)}
            codable = r.kind != "theme" or int(r.id) in coded
            nodes[int(r.id)] = RefiCode(str(r.guid), str(r.name), codable, str(r.colour or ""), desc.compose(fields),
                                        0, note_refs=(notes or {}).get(int(r.id), []))
        for r in rows:
            (roots if r.parent_id is None else nodes[int(r.parent_id)].children).append(nodes[int(r.id)])
        return roots

    @staticmethod
    def _events(conn: Connection, guid_of: Callable[[str], str]) -> tuple[RefiCode | None, dict[int, list[RefiCoding]]]:
        """The events as codes of an "Events" group (their when and story order in the description), and each
        link of a coded passage to an event as a coding of that passage with the event's code, by coding id."""
        periods, events, links = event_store.period_rows(conn), event_store.event_rows(conn), event_store.evidence_rows(conn)
        if not events:
            return None, {}
        pnames = {p.id: p.name for p in periods}
        enames = {e.id: e.name for e in events}
        whens = {e.name: when_of_row(e, pnames, enames) for e in events}
        placed = story_order(whens, [Period(p.name, p.anchor) for p in periods])
        children = [RefiCode(e.guid, e.name, True, "", refi_description(whens[e.name], placed[e.name].order, e.description), 0)
                    for e in sorted(events, key=lambda e: (placed[e.name].order, e.name.casefold()))]
        group = RefiCode(str(uuid.uuid5(_NS, "storyloom:events")), EVENTS_GROUP, False, "", EVENTS_GROUP_DESCRIPTION, 0,
                         children=children)
        guid = {e.id: e.guid for e in events}
        out: dict[int, list[RefiCoding]] = defaultdict(list)
        for link in links:
            out[link.coding_id].append(RefiCoding(str(uuid.uuid5(_NS, f"event-link:{guid[link.event_id]}:{link.coding_id}")),
                                                  guid[link.event_id], guid_of(link.linked_by), link.linked_at, 0))
        return group, out

    def _build(self, positions: str) -> tuple[RefiProject, dict[str, bytes | Path], int, list[str]]:
        with self.ctx.store.read() as conn:
            recordings = {str(r.transcript): r for r in media_store.media_rows(conn)}
            anchors_of_tid = transcript_store.sync_points_of(conn)
            users = store.all_users(conn)
            codings = store.all_codings(conn)
            transcripts = transcript_store.transcripts_by_name(conn)
            memos = store.all_memos(conn)
            people = store.participant_rows(conn)
            variables = store.variable_rows(conn)
            attributes = store.attribute_rows(conn)
            sources_of = store.participant_sources(conn)
            coded = {int(c.code_id) for c in codings}
            user_guid = {str(u.name): str(u.guid) for u in users}

            def guid_of(name: str) -> str:
                if name not in user_guid:
                    user_guid[name] = str(uuid.uuid5(_NS, f"user:{name}"))
                return user_guid[name]

            code_notes: dict[int, list[str]] = defaultdict(list)
            coding_notes: dict[int, list[str]] = defaultdict(list)
            source_notes: dict[int, list[str]] = defaultdict(list)
            project_notes: list[str] = []
            notes = []
            for m in memos:
                guid = str(m.guid)
                if m.kind == "code" and m.target_id is not None:
                    code_notes[int(m.target_id)].append(guid)
                elif m.kind == "coding" and m.target_id is not None:
                    coding_notes[int(m.target_id)].append(guid)
                elif m.kind == "familiarisation" and m.target_id is not None:
                    source_notes[int(m.target_id)].append(guid)
                elif m.kind == "journal":
                    project_notes.append(guid)
                notes.append(RefiNote(guid, str(m.title or ""), str(m.body), None, guid_of(str(m.author)),
                                      str(m.created_at), 0))
            codes = self._codes(conn, coded, code_notes)
            code_guids = {int(r.id): str(r.guid) for r in code_store.code_rows(conn)}
            events_group, event_links = self._events(conn, guid_of)
            if events_group is not None:
                codes.append(events_group)
        by_tid: dict[int, list[Any]] = defaultdict(list)
        skipped = 0
        for c in codings:
            if c.orphaned:
                skipped += 1
            else:
                by_tid[int(c.transcript_id)].append(c)
        members: dict[str, bytes | Path] = {}
        sources = []
        missing: list[str] = []
        for t in transcripts:
            text = str(t.text)
            units = utf16_offsets(text) if positions == "utf16" else None
            spans: dict[tuple[int, int], list[Any]] = defaultdict(list)
            for c in by_tid.get(int(t.id), []):
                spans[(int(c.start), int(c.end))].append(c)
            selections = []
            for (start, end), group in sorted(spans.items()):
                memo = "\n\n".join(str(c.memo) for c in group if c.memo)
                sel = RefiSelection(str(uuid.uuid5(_NS, f"sel:{t.guid}:{start}:{end}")),
                                    units[start] if units else start, units[end] if units else end,
                                    text[start:end], memo, guid_of(str(group[0].coder)), str(group[0].created_at), 0)
                sel.codings = [RefiCoding(str(c.guid), code_guids[int(c.code_id)], guid_of(str(c.coder)),
                                          str(c.created_at), 0, coding_notes.get(int(c.id), [])) for c in group]
                sel.codings += [link for c in group for link in event_links.get(int(c.id), [])]
                selections.append(sel)
            member = f"sources/{t.guid}.txt"
            members[member] = text.encode("utf-8")
            source = RefiSource(str(t.guid), str(t.name), "TextSource", f"internal://{t.guid}.txt", None, None,
                                "", 0, selections, source_notes.get(int(t.id), []))
            recording = recordings.get(str(t.name))
            if recording is not None:
                file = self.ctx.media_dir / str(recording.file)
                if file.is_file():
                    suffix = file.suffix.lower()
                    members[f"sources/{t.guid}{suffix}"] = file
                    source.kind = "VideoSource" if recording.kind == "video" else "AudioSource"
                    source.media_path = f"internal://{t.guid}{suffix}"
                    source.sync_points = _sync_points(str(t.guid), anchors_of_tid.get(int(t.id), []), spans, units)
                else:
                    missing.append(f"{recording.file} ({t.name})")
            sources.append(source)
        var_guid = {int(v.id): str(v.guid) for v in variables}
        values: dict[int, dict[str, str]] = defaultdict(dict)
        for a in attributes:
            values[int(a[0])][var_guid[int(a[1])]] = str(a[2])
        tguid = {int(t.id): str(t.guid) for t in transcripts}
        srcs: dict[int, list[str]] = defaultdict(list)
        for pid, tid in sources_of:
            srcs[pid].append(tguid[tid])
        cases = [RefiCase(str(p.guid), str(p.pseudonym), "", 0, values.get(int(p.id), {}), srcs.get(int(p.id), []))
                 for p in people]
        project = RefiProject(
            self._origin(), codes, [], name=self.ctx.path.name or "Storyloom project",
            users=[RefiUser(g, n) for n, g in user_guid.items()],
            variables=[RefiVariable(str(v.guid), str(v.name), "Text", "") for v in variables], cases=cases,
            sources=sources, notes=notes, note_refs=project_notes)
        return project, members, skipped, missing


def _internal(archive: Archive, ref: str) -> str | None:
    """The archive member an ``internal://`` path names (in ``sources/``, else at the top), or None."""
    rel = ref[len("internal://"):]
    return archive.find(f"sources/{rel}") or archive.find(rel)


def _media_member(archive: Archive, src: RefiSource) -> tuple[str | None, str]:
    """The archive member holding a media source's recording, or None and why not."""
    ref = src.media_path or ""
    if not ref.startswith("internal://"):
        return None, ("outside the archive (only recordings inside the .qdpx are imported)" if ref else
                      "not named (the source has no path)")
    member = _internal(archive, ref)
    if member is None:
        return None, "not in the archive"
    size = archive.names[member].file_size
    if size > limits.MEDIA_BYTES:
        return None, (f"{limits.human_size(size)}, over the limit of {limits.human_size(limits.MEDIA_BYTES)} for "
                      "one recording")
    return member, ""


def _rule_warnings(file: str, origin: str, export: ExportRule, pending: Sequence[_Pending]) -> list[str]:
    """What the report says of the position rule (issue 25, class 9): the program named in the file
    contradicted by the evidence, a source whose evidence is too weak to tell the rules apart (placed by the
    export's rule), a source whose own evidence decides against the export's rule (placed by its own)."""
    out: list[str] = []
    rule = export.rule.name
    if export.against_prior and export.prior is not None:
        every = [p.found for p in pending if p.found is not None]
        out.append(str(ImportFormatError(file, Errors.E5303, origin=origin, prior=export.prior.name, rule=rule,
                                         detail=_scores(every, export.rule, export.prior))))
    for p in pending:
        found = p.found
        if found is None:
            continue
        _chosen, basis_of = verdict(found, export)
        if basis_of == AMBIGUOUS:
            basis = {"selections": "what the file's other sources' selections show",
                     "program": f"the rule {origin} writes",
                     "standard": ("the REFI-QDA standard's, as nothing in the file tells the rules apart"
                                  if export.rule == RULES[0] else "the best guess from all the file's selections")}
            runner = max((r for r in found.scores if r != found.best), key=lambda r: weight(found.scores[r]))
            out.append(str(ImportFormatError(file, Errors.E5301, line=p.src.line, name=p.name, n=found.selections,
                                             rule=rule, basis=basis[export.basis],
                                             detail=_scores([found], found.best, runner))))
        elif basis_of == OWN and found.differs(found.best, export.rule):
            out.append(str(ImportFormatError(file, Errors.E5302, line=p.src.line, name=p.name, own=found.best.name,
                                             rule=rule, detail=_scores([found], found.best, export.rule))))
    return out


def _scores(found: Sequence[Evidence], a: Rule, b: Rule) -> str:
    """``a`` and ``b`` side by side over the selections of ``found``: starts on a word boundary, quotes matched."""
    n = sum(e.selections for e in found)
    parts = []
    for r in (a, b):
        boundaries = sum(e.score(r).boundaries for e in found)
        quotes = sum(e.score(r).quotes for e in found)
        parts.append(f"{r.name}: {boundaries} of {n} starts on a word boundary" +
                     (f", {quotes} quotes matched" if quotes else ""))
    return "; ".join(parts)


def _media_warnings(file: str, src: RefiSource, why: str, transcript: str | None) -> list[str]:
    """What a media source's import leaves out: its transcript (none: ``transcript`` None), its recording,
    further transcripts, codings of time ranges of the recording."""
    name = src.name or src.guid
    out = []
    if transcript is None:
        out.append(str(ImportFormatError(file, Errors.E1651, line=src.line, name=name, element=src.kind)))
    elif why:
        out.append(str(ImportFormatError(file, Errors.E1652, line=src.line, name=name, path=src.media_path or "",
                                         why=why, transcript=transcript)))
    if src.transcripts > 1:
        out.append(str(ImportFormatError(file, Errors.E1655, line=src.line, name=name, n=src.transcripts)))
    if src.media_selections:
        element = "AudioSelection" if src.kind == "AudioSource" else "VideoSelection"
        out.append(str(ImportFormatError(file, Errors.E1654, line=src.line, name=name, n=src.media_selections,
                                         element=element)))
    return out


def _synced(pmap: PositionMap, points: Sequence[RefiSyncPoint]) -> tuple[Anchor, ...]:
    """A transcript's sync points as anchors (milliseconds to seconds, positions under the source's rule to
    stored offsets, a position inside a character to the one before it), by position. A point with the time
    of the one before it only marks a selection's bound and is no anchor; a point without time or position
    is none either."""
    timed = sorted(((p.position, p.time_ms) for p in points if p.position is not None and p.time_ms is not None),
                   key=lambda pt: pt[0])
    out: list[Anchor] = []
    previous: int | None = None
    for position, ms in timed:
        if ms == previous:
            continue
        previous = ms
        offset = pmap.to_stored(position)
        if offset is None:
            offset = pmap.snap(position, forward=False)
        if offset is not None:
            out.append(Anchor(offset, ms / 1000))
    return tuple(out)


def _timed(turns: Sequence[ParsedTurn], anchors: Sequence[Anchor]) -> tuple[ParsedTurn, ...]:
    """Turns timed by the anchors (the time of their start and end), not by stamps written in the text."""
    out = []
    for t in turns:
        timing = span_time(anchors, t.start, t.end)
        out.append(replace(t, t_start=None if timing is None else timing.start,
                           t_end=None if timing is None else timing.end))
    return tuple(out)


def _sync_points(guid: str, anchors: Sequence[Anchor], spans: Any, units: list[int] | None) -> list[RefiSyncPoint]:
    """A transcript's SyncPoints for export: one per anchor (its time in milliseconds), and one at each
    coding's start and end where no anchor is, with the time of the anchor at or before it (none before the
    first), so that importing them again adds no time. Positions under the export's rule (``units``)."""
    def point(offset: int, seconds: float | None) -> RefiSyncPoint:
        return RefiSyncPoint(str(uuid.uuid5(_NS, f"sync:{guid}:{offset}")),
                             None if seconds is None else round(seconds * 1000), units[offset] if units else offset, 0)

    out = {a.offset: point(a.offset, a.t_start) for a in anchors}
    for start, end in spans:
        for offset in (start, end):
            if offset not in out:
                out[offset] = point(offset, time_at(anchors, offset))
    return [out[k] for k in sorted(out)]


def _write_atomic(path: Path, data: bytes | Callable[[IO[bytes]], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if callable(data):
        stream = data

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                stream(fh)
        write_atomic(path, write)
    else:
        write_atomic(path, data)
