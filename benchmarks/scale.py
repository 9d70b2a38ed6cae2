"""Scale the sample study: copy each transcript ``factor`` times with light perturbation.

Copy ``k`` of ``leader_a.docx`` is ``leader_a_k.docx``; its participant is "Leader A k". In every
copy after the first, a fraction ``perturb`` of the spoken lines (or docx paragraphs) gets one
extra word, so those sentences are new text that must be embedded, while the rest hit the cache,
as re-coded or lightly corrected transcripts would. Used by benchmarks/ingest.py and ui.py.

``novel_study`` writes *new* text at study scale instead (see the comment above it), and running this
file imports it end to end into a fresh project (issue 13's honest scale benchmark)::

    .venv/bin/python benchmarks/scale.py 100000 [1000000]

Each size runs in its own process (peak RSS is that process's): generate, ``Project.sync()`` into a
fresh project (wall time, time in segmentation and in embedding, sentences embedded per second),
peak RSS, database size, the share of repeated sentences, a second sync (must embed nothing), and a
re-sync after replacing one paragraph in each of 10 transcripts. Writes the "Scale: novel text, end
to end (issue 13)" section of benchmarks/BENCHMARKS.md.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

FILLERS = ("really", "actually", "certainly", "perhaps", "frankly", "honestly", "basically", "clearly")
_TIMING = re.compile(r"^\s*(\d+|WEBVTT.*|\d{1,2}:\d{2}[:.,\d]*\s*-->.*)\s*$")


def _perturb_line(line: str, rng: random.Random) -> str:
    colon = line.find(": ")
    lo = colon + 2 if 0 <= colon < 40 else 0
    spaces = [m.start() for m in re.finditer(" ", line) if m.start() > lo]
    if not spaces:
        return line
    at = rng.choice(spaces)
    return f"{line[:at]} {rng.choice(FILLERS)}{line[at:]}"


def perturb_text(text: str, *, fraction: float, rng: random.Random) -> str:
    out = []
    for line in text.split("\n"):
        if line.strip() and not _TIMING.match(line) and not line.startswith("#") and rng.random() < fraction:
            line = _perturb_line(line, rng)
        out.append(line)
    return "\n".join(out)


def _perturb_docx(src: Path, dest: Path, *, fraction: float, rng: random.Random) -> None:
    import docx

    document = docx.Document(str(src))
    for para in document.paragraphs:
        runs = [r for r in para.runs if not r.bold and len(r.text) > 20]
        if runs and rng.random() < fraction:
            runs[-1].text = _perturb_line(runs[-1].text, rng)
    document.save(str(dest))


def scale_study(source: Path, dest: Path, factor: int, *, perturb: float = 0.2, seed: int = 0) -> Path:
    """Write ``factor`` copies of ``source/transcripts`` into ``dest/transcripts``; returns ``dest``."""
    rng = random.Random(seed)
    out = dest / "transcripts"
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(io.StringIO((source / "transcripts" / "participants.csv").read_text(encoding="utf-8"))))
    scaled_rows = []
    for k in range(1, factor + 1):
        fraction = 0.0 if k == 1 else perturb
        for f in sorted((source / "transcripts").iterdir()):
            if f.name == "participants.csv":
                continue
            name = f.name if factor == 1 else f"{f.stem}_{k}{f.suffix}"
            if f.suffix == ".docx":
                if fraction:
                    _perturb_docx(f, out / name, fraction=fraction, rng=rng)
                else:
                    shutil.copy(f, out / name)
            else:
                text = f.read_text(encoding="utf-8")
                (out / name).write_text(perturb_text(text, fraction=fraction, rng=rng), encoding="utf-8")
        for row in rows:
            stem, suffix = Path(row["transcript"]).stem, Path(row["transcript"]).suffix
            scaled_rows.append({**row, "pseudonym": row["pseudonym"] if factor == 1 else f"{row['pseudonym']} {k}",
                                "transcript": row["transcript"] if factor == 1 else f"{stem}_{k}{suffix}"})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(scaled_rows)
    (out / "participants.csv").write_text(buf.getvalue(), encoding="utf-8")
    return dest


# -- novel text at study scale (issue 13) ----------------------------------------------------------------------
# ``scale_study`` copies the sample study, so most sentences of a copy are already in the embedding cache
# (x50 embedded only 9,911 of 107,149 segments). ``novel_study`` writes interviews whose sentences are new:
# every sentence is recombined from clause fragments of *different* sample sentences (an opening clause of
# one, a continuation of another, sometimes a second continuation), joined by a connective, with words
# swapped for near-synonyms at random. With ~2,000 openings x ~3,000 continuations x 12 connectives x the
# swaps, 90,000 sentences repeat far below 5% (measured on the project after import: see
# :func:`repeat_rate`; the short back-channel turns "Yes." and "Mm-hmm." are the repeats there are).

SWAPS = {
    "really": ("truly", "genuinely", "honestly"), "people": ("folks", "staff", "colleagues"),
    "big": ("large", "major", "huge"), "thing": ("matter", "issue", "point"), "think": ("reckon", "believe", "feel"),
    "good": ("decent", "solid", "fine"), "lot": ("great deal", "heap", "ton"), "programme": ("course", "scheme", "programme"),
    "students": ("learners", "students", "ākonga"), "time": ("period", "stretch", "while"), "work": ("job", "role", "mahi"),
    "said": ("told us", "mentioned", "claimed"), "just": ("simply", "only", "merely"), "very": ("quite", "rather", "pretty"),
    "hard": ("difficult", "tough", "tricky"), "money": ("funding", "budget", "cash"), "started": ("began", "kicked off", "launched"),
    "team": ("group", "unit", "crew"), "problem": ("issue", "snag", "difficulty"), "changed": ("shifted", "moved", "altered"),
    "help": ("support", "assist", "back"), "know": ("understand", "realise", "see"), "want": ("wish", "hope", "need"),
    "new": ("fresh", "recent", "novel"), "made": ("created", "built", "produced"), "quite": ("fairly", "rather", "somewhat"),
}
CONNECTIVES = (", and", ", but", " because", ", so", ", which meant", " while", ", although", "; then",
               " and honestly", ", except that", " until", " since")
QUESTION_STARTS = ("Could you tell me", "How did you feel when", "What happened after", "Why do you think",
                   "Can you say more about how", "Looking back, what", "What did it mean for you that",
                   "How would you describe the way", "When did you first notice that", "Who decided that")
_CLAUSE_CUT = re.compile(r",\s+|;\s+|\s+(?:and|but|because|so|which|when|while|although)\s+")
_LEADING = re.compile(r"^(?:and|but|so|because|then|or|well|um|which|that)\s+", re.I)
_SPEAKER = re.compile(r"^\s*(?:\(\d[\d:.]*\)\s*)?([A-Z][\w .'-]{0,30}):\s+(.*)$")


def _source_sentences(folder: Path) -> list[str]:
    """The sample study's spoken sentences (a regex split of each turn: material, not a segmentation)."""
    texts: list[str] = []
    for f in sorted(folder.iterdir()):
        if f.suffix in (".txt", ".md", ".srt", ".vtt"):
            for line in f.read_text(encoding="utf-8").splitlines():
                m = _SPEAKER.match(line)
                if m:
                    texts.append(m.group(2))
        elif f.suffix == ".docx":
            import docx

            texts.extend(p.text.split(": ", 1)[-1] for p in docx.Document(str(f)).paragraphs if p.text.strip())
    out = []
    for t in texts:
        out.extend(s.strip() for s in re.split(r"(?<=[.?!])\s+", t) if len(s.split()) >= 4)
    return list(dict.fromkeys(out))


def _lower(clause: str) -> str:
    """A clause as a continuation: its first letter in lower case, unless it is "I" (I, I'm, I've ...)."""
    first = clause.split(" ", 1)[0]
    return clause if first == "I" or first.startswith("I'") or first.startswith("I’") else clause[0].lower() + clause[1:]


class NovelText:
    """Sentences and interviews recombined from the sample study (see the comment above)."""

    def __init__(self, source: Path, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.openers: list[str] = []
        self.tails: list[str] = []
        for s in _source_sentences(source / "transcripts"):
            parts = [_LEADING.sub("", p.strip(" .?!\"'")) for p in _CLAUSE_CUT.split(s.rstrip(".?!"))]
            parts = [p for p in parts if 3 <= len(p.split()) <= 8]
            if not parts:
                continue
            self.openers.append(parts[0])
            self.tails.extend(_lower(p) for p in (parts[1:] or parts[:1]))
        self.tails = list(dict.fromkeys(self.tails + [_lower(o) for o in self.openers[::2]]))
        self.openers = list(dict.fromkeys(self.openers))

    def _swap(self, text: str) -> str:
        words = text.split(" ")
        for i, w in enumerate(words):
            options = SWAPS.get(w.lower())
            if options and self.rng.random() < 0.5:
                words[i] = self.rng.choice(options)
        return " ".join(words)

    def sentence(self) -> str:
        rng = self.rng
        s = rng.choice(self.openers) + rng.choice(CONNECTIVES) + " " + rng.choice(self.tails)
        if rng.random() < 0.1:
            s += rng.choice(CONNECTIVES) + " " + rng.choice(self.tails)
        s = self._swap(s)
        return s[0].upper() + s[1:] + ("?" if rng.random() < 0.04 else ".")

    def question(self) -> str:
        rng = self.rng
        tail = rng.choice(self.tails)
        if rng.random() < 0.8:  # a start and one tail alone repeat at 1M words (about 30,000 such questions)
            tail += rng.choice(CONNECTIVES) + " " + rng.choice(self.tails)
        return f"{rng.choice(QUESTION_STARTS)} {self._swap(tail)}?"

    def answer(self) -> str:
        r = self.rng.random()
        if r < 0.03:
            return self.rng.choice(("Yes.", "Mm-hmm.", "No, not really.", "Right.", "[laughs] Yes."))
        return " ".join(self.sentence() for _ in range(self.rng.randint(3, 9)))

    def interview(self, label: str, words: int) -> str:
        turns: list[str] = []
        n = 0
        while n < words:
            q, a = self.question(), self.answer()
            turns += [f"I: {q}", f"{label}: {a}"]
            n += len(q.split()) + len(a.split())
        return "\n\n".join(turns) + "\n"


def novel_study(source: Path, dest: Path, words: int, *, per_interview: int = 8_000, seed: int = 0) -> Path:
    """Write about ``words`` words of novel interviews (``per_interview`` words each) into ``dest/transcripts``,
    with a participants.csv mapping each speaker label; returns ``dest``."""
    gen = NovelText(source, seed)
    out = dest / "transcripts"
    out.mkdir(parents=True, exist_ok=True)
    groups = ("leader", "manager", "academic", "professional")
    rows = ["pseudonym,transcript,speaker,interviewer,stakeholder_group,unit,period"]
    n, written = 0, 0
    while written < words:
        n += 1
        size = min(per_interview, words - written)
        text = gen.interview(f"P{n}", size)
        (out / f"interview_{n:04d}.txt").write_text(text, encoding="utf-8")
        written += len(text.split()) - text.count("\n\n") - 1  # speaker labels are not words said
        rows.append(f"Participant {n},interview_{n:04d}.txt,P{n},,{groups[n % 4]},Unit {n % 7},"
                    f"{('pre-pandemic', 'during pandemic')[n % 2]}")
    (out / "participants.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dest


def edit_paragraphs(dest: Path, count: int = 10, *, seed: int = 1, source: Path | None = None) -> list[str]:
    """Replace one answer (a paragraph) in each of the first ``count`` interviews with new sentences."""
    gen = NovelText(source or Path(__file__).resolve().parents[1], seed)
    edited = []
    for f in sorted((dest / "transcripts").glob("interview_*.txt"))[:count]:
        turns = f.read_text(encoding="utf-8").split("\n\n")
        i = next(i for i in range(len(turns) // 2, len(turns)) if not turns[i].startswith("I: "))
        label = turns[i].split(":", 1)[0]
        turns[i] = f"{label}: {' '.join(gen.sentence() for _ in range(6))}"
        f.write_text("\n\n".join(turns), encoding="utf-8")
        edited.append(f.name)
    return edited


# -- the end-to-end run ----------------------------------------------------------------------------------------
HEADING = "Scale: novel text, end to end (issue 13)"
ROOT = Path(__file__).resolve().parents[1]


def run_one(words: int, workdir: Path) -> dict[str, Any]:
    """Generate ``words`` words of novel interviews, import them into a fresh project, sync again, edit, re-sync."""
    import resource
    import sqlite3

    sys.path.insert(0, str(ROOT))
    from analysis.offline import set_offline_env

    set_offline_env()
    from analysis import open_project
    from analysis.services import transcripts as transcript_service

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    folder = novel_study(ROOT, workdir / "study", words)
    generate_s = time.perf_counter() - t0
    spent = {"segment": 0.0, "embed": 0.0, "embedded": 0}
    segment = transcript_service.sentences

    def timed_segment(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return segment(*a, **k)
        finally:
            spent["segment"] += time.perf_counter() - t

    transcript_service.sentences = timed_segment  # type: ignore[assignment]
    project = open_project(folder, create=True)
    embedder = project.embedder
    embed = embedder.embed

    def timed_embed(texts: Any, done: Any = None) -> Any:
        t = time.perf_counter()
        try:
            return embed(texts, done)
        finally:
            spent["embed"] += time.perf_counter() - t
            spent["embedded"] += len(texts)

    embedder.embed = timed_embed  # type: ignore[method-assign]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    report = project.sync()
    sync_s, sync_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    first = dict(spent)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux reports KiB)
    t0 = time.perf_counter()
    again = project.sync()
    second_s = time.perf_counter() - t0
    edited = edit_paragraphs(folder, 10)
    before = spent["embedded"]
    t0 = time.perf_counter()
    resync = project.sync()
    resync_s = time.perf_counter() - t0
    status = project.status()
    project.close()
    db = folder / "project.db"
    with sqlite3.connect(db) as conn:
        segments, distinct = conn.execute("SELECT count(*), count(DISTINCT text_sha256) FROM segments").fetchone()
        n_words = sum(len(t.split()) for (t,) in conn.execute(
            "SELECT substr(tr.text, s.start + 1, s.\"end\" - s.start) FROM segments s JOIN transcripts tr ON tr.id = s.transcript_id"))
    size = sum(p.stat().st_size for p in folder.glob("project.db*"))
    embedder_name = getattr(embedder, "backend", None) or type(embedder).__name__
    return {
        "words": words, "transcripts": status["transcripts"], "segments": segments, "distinct": distinct,
        "repeat_rate": 1 - distinct / max(segments, 1), "mean_words": n_words / max(segments, 1),
        "generate_s": generate_s, "sync_s": sync_s, "sync_cpu_s": sync_cpu, "segment_s": first["segment"],
        "embed_s": first["embed"], "embedded": report["segments_embedded"],
        "embed_rate": report["segments_embedded"] / max(first["embed"], 1e-9),
        "end_to_end_rate": report["segments_embedded"] / max(sync_s, 1e-9),
        "rss_mib": rss, "db_mib": size / 2**20, "second_sync_s": second_s, "second_embedded": again["segments_embedded"],
        "resync_s": resync_s, "resync_embedded": resync["segments_embedded"], "resync_updated": len(resync["updated"]),
        "edited": len(edited), "load_start": "/".join(f"{x:.1f}" for x in load_start),
        "load_end": "/".join(f"{x:.1f}" for x in os.getloadavg()), "backend": embedder_name,
        "embedded_after_edit": spent["embedded"] - before,
    }


def markdown(rows: list[dict[str, Any]], machine: str) -> str:
    lines = [
        f"Machine: {machine}.", "",
        "Text: `novel_study` (benchmarks/scale.py) recombines clause fragments of the sample study's sentences (an "
        "opening clause of one sentence, a continuation of another, sometimes a second, joined by one of 12 "
        "connectives, with near-synonym swaps) into 8,000-word interviews of question and answer turns; the share of "
        "repeated sentences below is measured on the imported project (segments whose text another segment also "
        "has). A fresh project each time (`Project.sync()` of transcripts/ with its participants.csv: parse, segment "
        "with spaCy, embed with MiniLM, store), then a second sync (nothing changed), then one answer paragraph "
        "replaced by six new sentences in each of 10 transcripts and a re-sync. Peak RSS is the benchmark process's.",
        "", "| words | transcripts | segments (mean words) | repeated | sync wall (CPU) | segmenting | embedding | "
        "sentences embedded/s (embedding alone; end to end) | peak RSS | DB | second sync | re-sync after 10 edits | load 1/5/15 start, end |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['words']:,} | {r['transcripts']} | {r['segments']:,} ({r['mean_words']:.1f}) | {r['repeat_rate']:.2%} | "
            f"{r['sync_s']:.0f} s ({r['sync_cpu_s']:.0f} s) | {r['segment_s']:.0f} s | {r['embed_s']:.0f} s | "
            f"{r['embed_rate']:,.0f}; {r['end_to_end_rate']:,.0f} | {r['rss_mib']:,.0f} MiB | {r['db_mib']:,.0f} MiB | "
            f"{r['second_sync_s']:.1f} s, {r['second_embedded']} embedded | {r['resync_s']:.1f} s, "
            f"{r['resync_embedded']} embedded, {r['resync_updated']} updated | {r['load_start']}, {r['load_end']} |")
    lines += ["", f"Embedding backend: {rows[0]['backend'] if rows else '?'}. Rerun: `.venv/bin/python benchmarks/scale.py "
              "100000 1000000` (1M words takes minutes)."]
    return "\n".join(lines)


def main() -> None:
    import argparse
    import subprocess
    import tempfile

    parser = argparse.ArgumentParser(description="Import novel text at study scale, end to end.")
    parser.add_argument("words", type=int, nargs="*", default=[100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print("RESULT " + json.dumps(run_one(args.one, Path(tmp))), flush=True)
        return
    sys.path.insert(0, str(ROOT))
    from benchmarks.machine import describe, write_section

    rows = []
    for words in args.words:
        out = subprocess.run([sys.executable, __file__, "--one", str(words)], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        result = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if out.returncode or not result:
            print(out.stdout[-3000:], out.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"the {words:,}-word run failed")
        rows.append(json.loads(result[0][7:]))
        print(rows[-1], flush=True)
    body = markdown(rows, describe(("torch", "sentence-transformers", "onnxruntime", "spacy")))
    write_section(HEADING, body)
    print(body)


if __name__ == "__main__":
    main()
