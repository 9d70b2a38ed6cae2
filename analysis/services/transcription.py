"""Transcribe recordings into the project, privately, on this machine (``project.transcription``; issue 22).

For each recording: decode it, recognise the speech with Whisper base (int8), give each recognised
segment a speaker ("Speaker 1..N", by voice clustering with the number the researcher gives), then write

* ``transcripts/<stem>.vtt``: WebVTT, one cue per segment, ``<v Speaker k>`` voices;
* ``transcripts/<stem>.unsure.json``: the words the recogniser was unsure of (probability under
  :data:`~analysis.speech.transcribe.UNSURE_BELOW`), each with its ``[start, end)`` code-point offsets in
  the imported transcript's text, its time in the recording and its probability (a sidecar, so the
  transcript file stays a plain WebVTT any tool reads; offsets are those of the text as transcribed);
* ``media/<stem><suffix>``: a byte copy of the recording (attached to the transcript of the same stem);

and import the transcript through :class:`~analysis.services.transcripts.TranscriptService` in the same
call. Nothing is written until the recording is recognised in full: a cancelled (``cancel`` set) or failed
transcription leaves the project and its folder unchanged. The files are written through temporary names
and renamed, the transcript last, so a killed process leaves at most a finished transcript that the next
``sync`` imports. The model, its compute type, the beam, the detected language and the counts are
recorded as a ``transcript.transcribe`` event, which the methods report reads.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace as dataclass_replace
from pathlib import Path
from typing import Any

from analysis import limits
from analysis.domain.progress import Progress, Step, no_progress
from analysis.errors import Errors, ImportFormatError, NotFoundError, StoryloomError, UnsupportedFormatError, ValidationError
from analysis.services.context import Context
from analysis.services.results import TranscribedRecording, Transcription, UnsureWord, WordCorrection
from analysis.services.transcripts import TranscriptService
from analysis.media.formats import RECORDING_SUFFIXES
from analysis.services.media import MediaService

MEDIA_DIR = "media"
UNSURE_SUFFIX = ".unsure.json"
MAX_SPEAKERS = 20


@dataclass(frozen=True)
class Options:
    speakers: int = 2
    language: str | None = None  # None or "auto": detect
    beam: int = 5
    compute_type: str = "int8"


#: Told each recognised passage as it comes: (recording name, speaker label, start seconds, text).
Passage = Callable[[str, str, float, str], None]


class TranscriptionService:
    """Recordings to imported, speaker-labelled transcripts (``project.transcription``)."""

    def __init__(self, ctx: Context, transcripts: TranscriptService, media: MediaService | None = None) -> None:
        self.ctx = ctx
        self.transcripts = transcripts
        self.media = media

    @property
    def media_dir(self) -> Path:
        return self.ctx.path / MEDIA_DIR

    def check(self, recordings: Sequence[str | Path], *, speakers: int = 2, language: str | None = None,
              beam: int = 5, replace: bool = False) -> list[Path]:
        """The recordings as paths, every option and name checked before any work (catalogue errors)."""
        from analysis.speech.transcribe import check_options

        if not 1 <= speakers <= MAX_SPEAKERS:
            raise ValidationError(Errors.E1703, most=MAX_SPEAKERS, n=speakers)
        check_options(language=language, beam=beam)
        paths = []
        for r in recordings:
            p = Path(r)
            if not p.exists():
                raise NotFoundError(Errors.E2010, p=p)
            if p.suffix.lower() not in RECORDING_SUFFIXES:
                raise UnsupportedFormatError(p.name, Errors.E1709, suffix=p.suffix or "(none)",
                                             suffixes=", ".join(RECORDING_SUFFIXES))
            problem = limits.is_importable_name(p.stem + ".vtt")
            if problem is not None:
                raise ValidationError(Errors.E2151, what="recording name", name=p.name, problem=problem)
            target = self.ctx.transcripts_dir / f"{p.stem}.vtt"
            if target.exists() and not replace:
                raise ValidationError(Errors.E1706, name=target.name, recording=p.name)
            paths.append(p)
        return paths

    def transcribe(
        self, recordings: Sequence[str | Path], *, speakers: int = 2, language: str | None = None, beam: int = 5,
        compute_type: str = "int8", replace: bool = False, progress: Progress | None = None,
        passage: Passage | None = None, cancel: threading.Event | None = None,
    ) -> Transcription:
        """Transcribe each recording and import its transcript; what happened, per recording (its transcript,
        language, duration, words, unsure words, speakers), every warning, and the imports' lists."""
        paths = self.check(recordings, speakers=speakers, language=language, beam=beam, replace=replace)
        tell = progress or no_progress
        done: list[TranscribedRecording] = []
        warnings: list[str] = []
        lists: dict[str, list[str]] = {}
        for path in paths:
            entry, imported = self._one(path, Options(speakers, language, beam, compute_type), tell, passage, cancel)
            done.append(entry)
            warnings.extend(entry.warnings)
            for key, value in imported.items():
                if isinstance(value, list):
                    lists.setdefault(key, []).extend(value)
        return Transcription(transcribed=tuple(done), warnings=tuple(warnings),
                             imported={key: tuple(value) for key, value in lists.items()})

    def _one(self, path: Path, opts: Options, tell: Progress, passage: Passage | None,
             cancel: threading.Event | None) -> tuple[TranscribedRecording, dict[str, Any]]:
        from analysis.speech import models, speakers as voices, transcribe as engine, webvtt

        def preparing(what: str, done: int, total: int) -> None:
            tell(Step("prepare", done // 1_000_000, max(total // 1_000_000, 1), "MB",
                      "preparing the speech model" + (" (joining)" if what == "joining" else " (checking)")))

        audio = engine.decode(path)
        total = max(int(round(len(audio) / engine.SAMPLE_RATE)), 1)
        words = [0]
        tell(Step("recognise", 0, total, "audio s", path.name))

        def heard(done: float, _all: float, seg: engine.Segment) -> None:
            words[0] += len(seg.words) or len(seg.text.split())
            tell(Step("recognise", min(int(done), total), total, "audio s", f"{words[0]:,} words"))
            if passage is not None:
                passage(path.name, "", seg.start, seg.text)

        result = engine.recognise(audio, language=opts.language, beam=opts.beam, compute_type=opts.compute_type,
                                  progress=heard, cancel=cancel, preparing=preparing, name=path.name)
        tell(Step("recognise", total, total, "audio s", f"{words[0]:,} words"))
        if not result.segments:
            raise ImportFormatError(path.name, Errors.E1702)
        warnings: list[str] = []
        if opts.speakers > 1 and len(result.segments) < opts.speakers:
            warnings.append(f"{path.name}: " + Errors.E1708.format(segments=len(result.segments), speakers=opts.speakers))
        tell(Step("speakers", 0, len(result.segments), "passages", f"{opts.speakers} speakers"))
        voices.assign(audio, result.segments, opts.speakers if len(result.segments) >= opts.speakers else 1)
        tell(Step("speakers", len(result.segments), len(result.segments), "passages", f"{opts.speakers} speakers"))
        if cancel is not None and cancel.is_set():
            raise engine.Cancelled(Errors.E1707, recording=path.name)
        model = f"{models.MODEL_NAME} ({opts.compute_type})"
        vtt = webvtt.render(result.segments, note=f"Transcribed locally with {model}, beam {opts.beam}; "
                                                  f"language {result.language} (detected with probability "
                                                  f"{result.language_probability:.2f}).")
        name = f"{path.stem}.vtt"
        unsure = unsure_words(name, vtt, result.segments)
        written = self._write(path, name, vtt, unsure, model, result.language)
        try:
            imported = self.transcripts.import_files([self.ctx.transcripts_dir / name], progress=tell)
        except BaseException:
            for p in written:
                p.unlink(missing_ok=True)
            raise
        if self.media is not None:  # the recording beside its transcript at once (sync would match it by name too)
            copy = self.media_dir / f"{path.stem}{path.suffix.lower()}"
            try:
                warnings.extend(self.media.attach(name, copy, note="transcribed from it").warnings)
            except StoryloomError as err:  # the transcript stands; the researcher can attach it again
                warnings.append(str(err))
        n_words = sum(len(s.words) or len(s.text.split()) for s in result.segments)
        entry = TranscribedRecording(
            recording=path.name, transcript=name, media=f"{MEDIA_DIR}/{path.stem}{path.suffix.lower()}",
            model=model, beam=opts.beam, language=result.language,
            language_probability=round(result.language_probability, 3), duration=round(result.duration, 2),
            segments=len(result.segments), words=n_words, unsure=len(unsure),
            speakers=len({s.speaker for s in result.segments}), warnings=tuple(warnings))
        log_warning = self.ctx.log("transcript.transcribe", target=f"transcript:{name}", after=asdict(entry),
                                   summary=f"Transcribed {path.name} locally with {model}: {result.language}, "
                                           f"{result.duration:.0f} s, {n_words} words, {len(unsure)} unsure")
        if log_warning:  # the recording's warnings (not the event's, logged before it)
            entry = dataclass_replace(entry, warnings=(*entry.warnings, log_warning))
        return entry, imported

    def _write(self, recording: Path, name: str, vtt: str, unsure: list[dict[str, Any]], model: str,
               language: str) -> list[Path]:
        """Media copy, sidecar, then the transcript (last: ``sync`` imports only a finished one)."""
        from analysis.speech.webvtt import write_atomic

        media = self.media_dir / f"{recording.stem}{recording.suffix.lower()}"
        folder = self.ctx.transcripts_dir
        written: list[Path] = []
        try:
            if media.resolve() != recording.resolve():
                media.parent.mkdir(parents=True, exist_ok=True)
                tmp = media.with_name(f".{media.name}.copying")
                shutil.copyfile(recording, tmp)
                tmp.replace(media)
                written.append(media)
            sidecar = folder / f"{Path(name).stem}{UNSURE_SUFFIX}"
            write_atomic(sidecar, json.dumps({"transcript": name, "model": model, "language": language,
                                              "words": unsure}, ensure_ascii=False, indent=1).encode())
            written.append(sidecar)
            write_atomic(folder / name, vtt.encode("utf-8"))
            written.append(folder / name)
        except BaseException:
            for p in written:
                p.unlink(missing_ok=True)
            raise
        return written

    # -- review of the words the recogniser was unsure of ------------------------------------------
    def _sidecar(self, transcript: str) -> tuple[Path, dict[str, Any]]:
        sidecar = self.ctx.transcripts_dir / f"{Path(transcript).stem}{UNSURE_SUFFIX}"
        if not sidecar.is_file():
            return sidecar, {"transcript": transcript, "words": []}
        try:
            data = json.loads(limits.read_regular_file(sidecar, cap=limits.TRANSCRIPT_BYTES,
                                                       root=self.ctx.transcripts_dir, name=sidecar.name))
        except ValueError:
            return sidecar, {"transcript": transcript, "words": []}
        return sidecar, data if isinstance(data, dict) and isinstance(data.get("words"), list) else \
            {"transcript": transcript, "words": []}

    def unsure(self, transcript: str) -> list[UnsureWord]:
        """The words of a transcribed transcript still to review (not accepted or corrected), in text order,
        each where it is in the text now."""
        _, data = self._sidecar(transcript)
        if not any(w.get("status", "unsure") == "unsure" for w in data["words"]):
            return []  # (Read & code asks on every run: no text read for a transcript with nothing to review)
        try:
            text = self.transcripts.get(transcript).text
        except NotFoundError:
            return []
        out: list[UnsureWord] = []
        for w in data["words"]:
            if w.get("status", "unsure") != "unsure":
                continue
            start, end, said = int(w["start"]), int(w["end"]), str(w["text"])
            if text[start:end] != said:  # a correction elsewhere moved it: the nearest occurrence, if close
                near = [i for i in (text.rfind(said, 0, start + 1), text.find(said, start)) if i >= 0]
                best = min(near, key=lambda i: abs(i - start), default=-1)
                if best < 0 or abs(best - start) > 400:
                    continue  # corrected away (by a line correction): nothing left to review there
                start, end = best, best + len(said)
            out.append(UnsureWord(start=start, end=end, text=said, time=float(w["time"]),
                                  probability=float(w["probability"])))
        return sorted(out, key=lambda w: w.start)

    def _word(self, data: dict[str, Any], transcript: str, start: int) -> dict[str, Any]:
        word: dict[str, Any] | None = next((w for w in data["words"] if w["start"] == start and w.get("status", "unsure") == "unsure"), None)
        if word is None:
            raise NotFoundError(Errors.E1711, transcript=transcript, start=start)
        return word

    def accept_word(self, transcript: str, start: int) -> None:
        """The researcher accepts the unsure word at ``start`` as recognised: it is no longer marked."""
        from analysis.speech.webvtt import write_atomic

        sidecar, data = self._sidecar(transcript)
        word = self._word(data, transcript, start)
        word["status"] = "accepted"
        write_atomic(sidecar, json.dumps(data, ensure_ascii=False, indent=1).encode())
        self.ctx.log("transcript.unsure_review", target=f"transcript:{transcript}",
                     summary=f"Accepted '{word['text']}' in {transcript} as recognised",
                     after={"decision": "accepted", "text": word["text"], "start": start})

    def correct_word(self, transcript: str, start: int, replacement: str) -> WordCorrection:
        """Replace the unsure word at ``start`` with ``replacement``: a correction while listening
        (``transcripts.correct_span``: one recorded, undoable action, codings re-anchored, counted in the methods
        report; the file in transcripts/ is not rewritten, as for every correction); the later unsure words'
        offsets move with the text. Returns what the correction did."""
        from analysis.speech.webvtt import write_atomic

        new = " ".join(replacement.split())
        if not new:
            raise ValidationError(Errors.E1712)
        sidecar, data = self._sidecar(transcript)
        word = self._word(data, transcript, start)
        text = self.transcripts.get(transcript).text
        if text[int(word["start"]):int(word["end"])] != word["text"]:
            raise NotFoundError(Errors.E1711, transcript=transcript, start=start)
        report = self.transcripts.correct_span(transcript, int(word["start"]), int(word["end"]), new,
                                               note="an unsure word, corrected while listening")
        delta = len(new) - len(word["text"])
        data["words"].remove(word)
        for other in data["words"]:
            if other["start"] > start:
                other["start"] += delta
                other["end"] += delta
            if other.get("cue") == word["cue"] and other["text"] == word["text"] \
                    and other["occurrence"] > word["occurrence"] and new != word["text"]:
                other["occurrence"] -= 1
        write_atomic(sidecar, json.dumps(data, ensure_ascii=False, indent=1).encode())
        return WordCorrection(transcript=report.transcript, line=report.line, start=report.start, end=report.end,
                              text=report.text, speaker=report.speaker, corrections=report.corrections,
                              reanchored=report.reanchored, orphaned=report.orphaned)


def unsure_words(name: str, vtt: str, segments: Sequence[Any]) -> list[dict[str, Any]]:
    """The words under the probability threshold, placed in the text the transcript imports as.

    The reader (:func:`analysis.ingest.subtitles.read_subtitles`) joins a speaker's consecutive cues into
    one turn (cue texts joined by single spaces): each word is found in its cue's text, in order, and its
    offset is the turn's start plus the cue's place in the turn. A word that cannot be found is left out."""
    from analysis.ingest.subtitles import read_subtitles
    from analysis.speech.transcribe import UNSURE_BELOW

    parsed = read_subtitles(name, vtt.encode("utf-8"), fmt="vtt")
    out: list[dict[str, Any]] = []
    turn_index, in_turn, previous = -1, 0, None
    for cue, seg in enumerate(segments, start=1):
        if seg.speaker != previous:
            turn_index, in_turn, previous = turn_index + 1, 0, seg.speaker
        turn = parsed.turns[turn_index]
        base = turn.start + in_turn
        cursor = 0
        for word in seg.words:
            text = word.text.strip()
            at = seg.text.find(text, cursor) if text else -1
            if at < 0:
                continue
            cursor = at + len(text)
            start = base + at
            if word.probability < UNSURE_BELOW and parsed.text[start:start + len(text)] == text:
                out.append({"start": start, "end": start + len(text), "text": text, "time": round(word.start, 2),
                            "cue": cue, "occurrence": seg.text[:at].count(text),
                            "probability": round(word.probability, 3)})
        in_turn += len(seg.text) + 1
    return out
