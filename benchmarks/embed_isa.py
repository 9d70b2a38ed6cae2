"""The embedder's lead over torch on both kinds of machine (issue 26 item 5), side by side in one run.

Machines here differ: some are Zen 4 with AVX-512 (VNNI, BF16), some AVX2 only. ONNX Runtime (MLAS) and
torch (oneDNN/MKL) both choose their kernels from CPUID, so an AVX2-only machine is emulated on an AVX-512
one by ``benchmarks/cpuid_avx2.c``: an LD_PRELOAD that turns on Linux CPUID faulting and answers every CPUID
with the AVX-512 (and AVX-VNNI, AMX) bits cleared. The same sentences (the sample study's, split by
Storyloom's own segmenter) are embedded by

* torch, as sentence-transformers runs it (the reference);
* the shipped ONNX embedder (:class:`analysis.embedding.onnx_backend.OnnxMiniLM`), at several batch sizes;

in a child process per instruction set (native, then AVX2 emulated), interleaved round by round so load
changes hit every runner alike. Two set-ups: **one thread each** (torch 1 thread, ONNX 1 worker; sentences
per CPU-second of that thread: the fair figure on a busy machine) and **two cores** (torch 2 threads, ONNX
as shipped: one worker per core; sentences per wall second and per process CPU-second). Cosine to torch
for every ONNX runner.

    .venv/bin/python benchmarks/embed_isa.py [--rounds 5] [--sentences 600] [--no-write]

Writes the "The embedder on AVX-512 and AVX2 (issue 26 item 5)" section of BENCHMARKS.md. Needs ``cc`` and
a Linux kernel with CPUID faulting (``arch_prctl(ARCH_SET_CPUID)``, Intel and AMD Zen 2+ under KVM); where
either is missing the AVX2 run is skipped and the report says why.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADING = "The embedder on AVX-512 and AVX2 (issue 26 item 5)"
SHIM = Path(__file__).resolve().parent / "cpuid_avx2.c"
BATCHES = (8, 16, 32)


def seed_sentences(limit: int) -> list[str]:
    """The sample study's distinct sentences, split as an import splits them, spread over every transcript."""
    from analysis.domain.segment import sentences
    from analysis.ingest import read_transcript

    out: list[str] = []
    for path in sorted((ROOT / "transcripts").iterdir()):
        if path.suffix in (".txt", ".md", ".docx", ".vtt", ".srt"):
            parsed = read_transcript(path.name, path.read_bytes())
            turns = [(t.start, t.end) for t in parsed.turns]
            for spans in sentences(parsed.text, turns):
                out.extend(parsed.text[s.start:s.end] for s in spans)
    distinct = list(dict.fromkeys(out))
    step = max(1, len(distinct) // limit)
    return distinct[::step][:limit]


def isa_flags() -> str:
    """What this process is told the CPU has: the kernel's flags (/proc/cpuinfo, which the shim cannot change)
    and the vector unit torch's CPUID probe picked (through the shim if loaded: AVX2 where AVX-512 is hidden)."""
    import torch

    flags = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = line
            break
    have = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16") if f" {f}" in flags]
    return f"CPUID as torch sees it: {torch.backends.cpu.get_cpu_capability()}; kernel flags: {' '.join(have)}"


def child(rounds: int, n: int) -> dict[str, Any]:
    """One instruction set's runs (this process; the parent decides the LD_PRELOAD)."""
    warnings.filterwarnings("ignore")
    from analysis.offline import set_offline_env

    set_offline_env()
    import numpy as np
    import torch

    from analysis.embedding import minilm, onnx_backend as ob

    texts = seed_sentences(n)
    torch.set_num_threads(1)
    st = minilm.new_torch_model()
    md = minilm.model_dir()
    folder = ob.prepare(md)  # the shipped, verified export (exported now on first use)
    if folder is None:
        raise SystemExit("the ONNX export could not be prepared (see the warning above)")

    def torch_fn(threads: int) -> Callable[[list[str]], Any]:
        def run(x: list[str]) -> Any:
            torch.set_num_threads(threads)
            return st.encode(x, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return run

    one = {"torch, 1 thread": torch_fn(1)}
    for b in BATCHES:
        r = ob.OnnxMiniLM(Path(folder), md, workers=1)
        one[f"ONNX, 1 worker, batch {b}" + (" (shipped)" if b == ob.BATCH_SIZE else "")] = (
            lambda x, r=r, b=b: r.encode(x, batch_size=b))
    shipped = ob.OnnxMiniLM(Path(folder), md)
    two = {"torch, 2 threads": torch_fn(2),
           f"ONNX as shipped ({shipped.workers} workers x 1 thread, batch {ob.BATCH_SIZE})": lambda x: shipped.encode(x)}
    out: dict[str, Any] = {"flags": isa_flags(), "preload": os.environ.get("LD_PRELOAD", ""), "sentences": len(texts),
                           "words": statistics.mean(len(t.split()) for t in texts), "load_start": os.getloadavg()}
    for setup, runners, clock in (("one", one, time.thread_time), ("two", two, time.process_time)):
        for fn in runners.values():
            fn(texts[:32])  # warm-up
        res: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in runners}
        vecs: dict[str, Any] = {}
        for _ in range(rounds):
            for k, fn in runners.items():
                c0, t0 = clock(), time.perf_counter()
                vecs[k] = np.asarray(fn(texts), dtype=np.float32)
                wall, cpu = time.perf_counter() - t0, clock() - c0
                res[k]["wall"].append(len(texts) / wall)
                res[k]["cpu"].append(len(texts) / max(cpu, 1e-9))
            print(setup, " ".join(f"{k}={v['cpu'][-1]:.0f}" for k, v in res.items()), "load", os.getloadavg()[0],
                  file=sys.stderr, flush=True)
        ref = next(k for k in runners if k.startswith("torch"))
        out[setup] = {k: {**v, "cos_min": float(ob.cosines(vecs[k], vecs[ref]).min())} for k, v in res.items()}
    out["load_end"] = os.getloadavg()
    return out


def build_shim(tmp: Path) -> tuple[Path | None, str]:
    so = tmp / "cpuid_avx2.so"
    done = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(so), str(SHIM)], capture_output=True, text=True)
    if done.returncode:
        return None, f"the shim did not build: {done.stderr.strip()[:200]}"
    probe = subprocess.run([sys.executable, "-c", "print(1)"], env={**os.environ, "LD_PRELOAD": str(so)},
                           capture_output=True, text=True)
    if probe.returncode:
        return None, f"CPUID faulting is not available here: {probe.stderr.strip()[:200]}"
    return so, ""


def run_child(rounds: int, n: int, preload: Path | None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if preload:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(rounds), "--sentences", str(n)],
                          env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"child ({'AVX2 emulated' if preload else 'native'}) failed: rc {done.returncode}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def table(result: dict[str, Any], setup: str, key: str) -> list[str]:
    rows = result[setup]
    ref = next(k for k in rows if k.startswith("torch"))
    base = statistics.median(rows[ref][key])
    lines = []
    for k, v in rows.items():
        med = statistics.median(v[key])
        per_round = [a / b for a, b in zip(v[key], rows[ref][key])]
        lines.append(f"| {k} | {med:.0f} | {min(v[key]):.0f}-{max(v[key]):.0f} | **{med / base:.2f}x** | "
                     f"{min(per_round):.2f}-{max(per_round):.2f} | {v['cos_min']:.7f} |")
    return lines


def report(results: dict[str, dict[str, Any]], skipped: str, rounds: int) -> str:
    from benchmarks.machine import describe

    parts = [f"Machine: {describe(('torch', 'sentence-transformers', 'onnxruntime', 'tokenizers'))}. "
             f"Rerun: `.venv/bin/python benchmarks/embed_isa.py`. {rounds} interleaved rounds per set-up; a ratio is "
             "the ONNX runner's median over torch's median, and the per-round range is each round's ONNX/torch ratio."]
    for label, r in results.items():
        parts.append(f"\n### {label}\n\n{r['flags'] or '?'}"
                     f"{' (LD_PRELOAD ' + Path(r['preload']).name + ')' if r['preload'] else ''}; "
                     f"{r['sentences']} distinct sentences of the sample study ({r['words']:.1f} words on average); "
                     f"load {'/'.join(f'{x:.1f}' for x in r['load_start'])} at start, "
                     f"{'/'.join(f'{x:.1f}' for x in r['load_end'])} at end.\n")
        parts.append("One thread each (sentences per CPU-second of the embedding thread):\n\n"
                     "| runner | median | range | x torch | per round | cosine to torch, min |\n|---|---|---|---|---|---|")
        parts.extend(table(r, "one", "cpu"))
        parts.append("\nTwo cores (sentences per wall second):\n\n"
                     "| runner | median | range | x torch | per round | cosine to torch, min |\n|---|---|---|---|---|---|")
        parts.extend(table(r, "two", "wall"))
    if skipped:
        parts.append(f"\nAVX2 run skipped: {skipped}.")
    return "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sentences", type=int, default=600)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.rounds, a.sentences)))
        return
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        so, skipped = build_shim(Path(tmp))
        results["Native (AVX-512 where the CPU has it)"] = run_child(a.rounds, a.sentences, None)
        if so:
            results["AVX2 only (AVX-512 hidden from CPUID)"] = run_child(a.rounds, a.sentences, so)
    text = report(results, skipped, a.rounds)
    print(text)
    if not a.no_write:
        from benchmarks.machine import write_section

        write_section(HEADING, text)


if __name__ == "__main__":
    main()
