"""Transcription benchmark (issue 22): CPU-seconds and wall seconds per audio second, peak RSS, WER and words on
the right speaker, for Whisper base beam 1 vs 5 and int8 vs float32, on a synthetic two-voice interview.

    .venv/bin/python benchmarks/transcribe.py [--minutes 10] [--configs int8:5 int8:1 float32:5 float32:1]

The interview is made with espeak-ng (en-us and en-gb-x-rp+f3, alternating, 0.8 s pauses) and sox. Each
configuration runs in its own process (so its peak RSS is its own): decode, recognise, tell the speakers
apart, as ``project.transcription`` does (no import). CPU time is the process's user + system time (all
threads). Goal: at most 0.35 CPU-s per audio second for base int8, beam 5. Not part of the test suite.
Writes the "Transcription" section of benchmarks/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.offline import set_offline_env  # noqa: E402

set_offline_env()

from benchmarks.machine import describe, write_section  # noqa: E402
from tests.speech.recordings import normalise, speak, speaker_accuracy, wer  # noqa: E402

QUESTIONS = (
    "Could you tell me how you first got involved with the project?",
    "What did a normal week look like for you back then?",
    "How did the other volunteers react when the funding changed?",
    "Was there a moment when you thought about leaving?",
    "Who helped you most during that first year?",
    "What would you tell someone who is just starting out?",
    "How did your family feel about the time you spent there?",
    "What changed after the new manager arrived?",
)
ANSWERS = (
    "A friend from church asked me to come along one Saturday, and I stayed because the work felt useful.",
    "We met on Tuesday evenings to plan, and then we spent most of the weekend outside in the garden.",
    "Some of them were angry at first, but most people understood that the council had made the decision.",
    "Yes, during the winter it was cold and quiet, and I wondered whether anyone would notice if I stopped.",
    "An older woman called Margaret showed me how to plan the beds and how to talk to the neighbours.",
    "Start small, listen to the people who have been there longest, and do not try to change everything at once.",
    "My husband complained about the muddy boots, but my children loved coming with me in the holidays.",
    "The meetings became shorter and more organised, and we finally had a budget that we could see.",
)


def interview_lines(minutes: float) -> list[tuple[int, str]]:
    """Alternating questions and answers, about ``minutes`` long (about 2.6 words per second with pauses)."""
    lines: list[tuple[int, str]] = []
    words, n = 0.0, 0
    while words < minutes * 60 * 2.6:
        q, a = QUESTIONS[n % len(QUESTIONS)], ANSWERS[(n * 3) % len(ANSWERS)]
        lines += [(0, q), (1, a)]
        words += len(q.split()) + len(a.split())
        n += 1
    return lines


def child(path: Path, compute_type: str, beam: int, speakers: int) -> dict[str, object]:
    from analysis.speech import speakers as voices, transcribe as engine

    t0, c0 = time.perf_counter(), time.process_time()
    engine.load(compute_type=compute_type)
    load_wall, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    audio = engine.decode(path)
    result = engine.recognise(audio, language="en", beam=beam, compute_type=compute_type)
    rec_wall, rec_cpu = time.perf_counter() - t1, time.process_time() - c1
    t2, c2 = time.perf_counter(), time.process_time()
    voices.assign(audio, result.segments, speakers)
    spk_wall, spk_cpu = time.perf_counter() - t2, time.process_time() - c2
    words = [(f"Speaker {s.speaker + 1}", w) for s in result.segments for w in normalise(s.text)]
    return {"duration": result.duration, "load_wall": load_wall, "load_cpu": load_cpu, "rec_wall": rec_wall,
            "rec_cpu": rec_cpu, "spk_wall": spk_wall, "spk_cpu": spk_cpu, "words": words,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--configs", nargs="+", default=["int8:5", "int8:1", "float32:5", "float32:1"])
    ap.add_argument("--section", default="Transcription", help="the BENCHMARKS.md heading to write")
    ap.add_argument("--child", nargs=3, metavar=("WAV", "COMPUTE", "BEAM"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1], int(args.child[2]), 2)))
        return
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        lines = interview_lines(args.minutes)
        t0 = time.perf_counter()
        wav = speak(tuple(lines), Path(tmp) / "interview.wav")
        made = time.perf_counter() - t0
        reference = [(who, w) for who, line in lines for w in normalise(line)]
        rows = []
        for config in args.configs:
            compute, beam = config.split(":")
            out = subprocess.run([sys.executable, __file__, "--child", str(wav), compute, beam], check=True,
                                 capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            r = json.loads(out.stdout.strip().splitlines()[-1])
            hyp = [(label, w) for label, w in r["words"]]
            r["wer"] = wer([w for _, w in reference], [w for _, w in hyp])
            r["speaker_acc"] = speaker_accuracy(reference, hyp)
            r["config"] = config
            rows.append(r)
            d = r["duration"]
            print(f"{config}: {r['rec_cpu'] / d:.3f} CPU-s/audio-s, {r['rec_wall'] / d:.3f} wall-s/audio-s, "
                  f"speakers {r['spk_cpu'] / d:.3f} CPU-s/audio-s, RSS {r['rss_mb']:.0f} MB, WER {r['wer']:.1%}, "
                  f"speaker {r['speaker_acc']:.1%}", flush=True)
    load_end = os.getloadavg()
    flags = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            wanted = ("avx", "avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "fma", "f16c", "amx_int8")
            flags = " ".join(f for f in line.split(":", 1)[1].split() if f in wanted)
            break
    duration = rows[0]["duration"]
    body = [
        f"Machine: {describe(('faster-whisper', 'ctranslate2', 'torch', 'av'))}. CPU flags that matter to "
        f"CTranslate2: {flags}. Load average (1 min) at start / end: {load_start[0]:.1f} / {load_end[0]:.1f} "
        f"on {os.cpu_count()} cores (other jobs share them; figures under load are upper bounds).",
        "",
        f"Recording: a synthetic two-voice interview of {duration / 60:.1f} minutes ({duration:.0f} s, "
        f"{len(reference):,} words, {len(lines)} turns; espeak-ng en-us and en-gb-x-rp+f3, made in {made:.0f} s). "
        "Whisper base (multilingual), language given as en, VAD filter on, word timestamps on; speakers: "
        "Resemblyzer embeddings per segment, Ward clustering into 2. Each configuration in its own process.",
        "",
        "| compute type, beam | recognise CPU-s / audio-s | recognise wall-s / audio-s | speakers CPU-s / audio-s "
        "| model load (wall) | peak RSS | WER | words on the right speaker |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d = r["duration"]
        body.append(f"| {r['config'].replace(':', ', beam ')} | **{r['rec_cpu'] / d:.3f}** | {r['rec_wall'] / d:.3f} | "
                    f"{r['spk_cpu'] / d:.3f} | {r['load_wall']:.1f} s | {r['rss_mb']:.0f} MB | {r['wer']:.1%} | "
                    f"{r['speaker_acc']:.1%} |")
    body += ["", "Goal: at most 0.35 CPU-s per audio second for base int8, beam 5 (recognition).",
             f"Rerun: `.venv/bin/python benchmarks/transcribe.py --minutes {args.minutes:g}` (or `make bench`)."]
    write_section(args.section, "\n".join(body))


if __name__ == "__main__":
    main()
