"""Recordings attached to transcripts (``project.media``): attach, detach, list, and match by name on sync.

A recording lives in the project's ``media/`` folder; a file given from elsewhere is copied there first
(byte for byte, atomically), so the project folder holds everything it needs. Attaching reads the file
with the decoder (:func:`analysis.media.probe`): a file that is not audio, empty, over the cap or cut short
is refused with its name, and nothing changes. A recording much shorter or longer than the transcript's
last timestamp is attached with a warning. Attaching and detaching are undoable actions; detaching never
deletes the file.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from analysis.errors import Errors, FileRefusedError, ImportFormatError, NotFoundError, StorageError
from analysis.media.formats import MEDIA_SUFFIXES, media_format_for
from analysis.media.info import Attached, MediaInfo
from analysis.media.probe import Probe, duration_warning, probe
from analysis.services.context import Context, new_guid
from analysis.services.results import MediaMatches
from analysis.store import media as media_store, transcripts as transcript_store

__all__ = ["Attached", "MediaInfo", "MediaService"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class MediaService:
    """Recordings beside transcripts (``project.media``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- reads -----------------------------------------------------------------------------------
    def _info(self, row: Any, transcript: str) -> MediaInfo:
        fmt = media_format_for(str(row.file))
        return MediaInfo(transcript, str(row.file), str(row.format), str(row.kind), fmt.mime if fmt else "",
                         None if row.duration is None else float(row.duration), str(row.codec or ""),
                         row.channels, row.sample_rate, int(row.size), str(row.sha256),
                         self.ctx.media_dir / str(row.file))

    def list(self) -> builtins.list[MediaInfo]:
        """Every attached recording, by transcript name."""
        with self.ctx.store.read() as conn:
            return [self._info(r, str(r.transcript)) for r in media_store.media_rows(conn)]

    def of(self, transcript: str) -> MediaInfo | None:
        """The recording attached to ``transcript``, or None."""
        with self.ctx.store.read() as conn:
            row = media_store.of_transcript(conn, transcript_store.transcript_id(conn, transcript))
        return None if row is None else self._info(row, transcript)

    def require(self, transcript: str) -> MediaInfo:
        """The recording attached to ``transcript``, or a clear error saying how to attach one."""
        found = self.of(transcript)
        if found is None:
            raise NotFoundError(Errors.E2501, name=transcript)
        return found

    # -- writes ----------------------------------------------------------------------------------
    def _into_media(self, file: Path) -> tuple[Path, bool]:
        """``file`` inside media/ (copied there when it is elsewhere; a different file of that name refused)."""
        folder = self.ctx.media_dir
        source = file.expanduser()
        if not source.is_file():
            raise FileRefusedError(str(file), Errors.E1506, st_mode="missing or not a regular file")
        target = folder / source.name
        try:
            if source.resolve().parent == folder.resolve():
                return target, False
        except OSError:
            pass
        if target.exists():
            if _sha256(target) == _sha256(source):
                return target, False
            raise StorageError(Errors.E2503, file=source.name)
        try:
            folder.mkdir(exist_ok=True)
            tmp = folder / f".{source.name}.copying"
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError as err:
            (folder / f".{source.name}.copying").unlink(missing_ok=True)
            raise StorageError(Errors.E2502, file=source.name, err=err.strerror or type(err).__name__) from err
        return target, True

    def attach(self, transcript: str, file: str | Path, *, note: str = "") -> Attached:
        """Attach the recording ``file`` to ``transcript`` (replacing one attached before)."""
        with self.ctx.store.read() as conn:
            tid = transcript_store.transcript_id(conn, transcript)  # an unknown transcript fails here, first
        path = Path(file)
        inside = path.parent.resolve() == self.ctx.media_dir.resolve()
        found = probe(path, name=path.name, root=self.ctx.media_dir if inside else None)  # refused before any write
        target, copied = self._into_media(path)
        try:
            return self._record(transcript, tid, target, found, copied, note)
        except BaseException:
            if copied:
                target.unlink(missing_ok=True)
            raise

    def _record(self, transcript: str, tid: int, target: Path, found: Probe, copied: bool, note: str) -> Attached:
        sha = _sha256(target)
        with self.ctx.action("media.attach", note=note) as act:
            old = media_store.of_transcript(act.conn, tid)
            if old is not None:
                act.rec.delete("media", int(old.id))
            act.rec.insert("media", guid=new_guid(), transcript_id=tid, file=target.name, format=found.format.name,
                           kind="video" if found.video else "audio", duration=found.duration, codec=found.codec,
                           channels=found.channels, sample_rate=found.sample_rate, size=found.size, sha256=sha,
                           attached_at=self.ctx.now())
            points = transcript_store.sync_points_of(act.conn, tid).get(tid, [])
            last = max((p.t_end if p.t_end is not None else p.t_start for p in points), default=None)
            act.target = f"transcript:{transcript}"
            act.summary = f"Attached {target.name} to {transcript}"
            act.after = {"file": target.name, "duration": found.duration, "codec": found.codec}
        warning = duration_warning(target.name, found.duration, last)
        info = self.of(transcript)
        assert info is not None
        return Attached(info, copied, (warning,) if warning else ())

    def detach(self, transcript: str, *, note: str = "") -> MediaInfo:
        """Detach the recording from ``transcript`` (its file stays in media/)."""
        info = self.require(transcript)
        with self.ctx.action("media.detach", note=note) as act:
            tid = transcript_store.transcript_id(act.conn, transcript)
            row = media_store.of_transcript(act.conn, tid)
            if row is not None:
                act.rec.delete("media", int(row.id))
            act.target = f"transcript:{transcript}"
            act.summary = f"Detached {info.file} from {transcript} (the file stays in media/)"
            act.after = {"file": info.file}
        return info

    def attach_matching(self) -> MediaMatches:
        """On sync: attach ``media/<stem>.<audio or video suffix>`` to each transcript ``<stem>.*`` that has
        no recording yet. A file that cannot be read is reported, not attached; sync goes on."""
        attached: builtins.list[str] = []
        warnings: builtins.list[str] = []
        folder = self.ctx.media_dir
        if not folder.is_dir():
            return MediaMatches()
        files: dict[str, builtins.list[Path]] = {}
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in MEDIA_SUFFIXES and not f.name.startswith(".") and not f.is_dir():
                files.setdefault(f.stem, []).append(f)
        if not files:
            return MediaMatches()
        with self.ctx.store.read() as conn:
            have = {str(r.transcript) for r in media_store.media_rows(conn)}
            names = [str(t.name) for t in transcript_store.transcript_rows(conn)]
        for name in names:
            stem = Path(name).stem
            if name in have or stem not in files:
                continue
            try:
                done = self.attach(name, files[stem][0], note="matched by name on sync")
            except (ImportFormatError, StorageError) as err:  # a bad recording is reported; sync goes on
                warnings.append(str(err))
                continue
            attached.append(f"{files[stem][0].name} -> {name}")
            warnings.extend(done.warnings)
        return MediaMatches(tuple(attached), tuple(warnings))
