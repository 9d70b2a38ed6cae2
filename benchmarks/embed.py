"""Speed benchmark (issue 13, backend): the CLI's start, embedding throughput (torch vs ONNX fp32 vs
ONNX int8, side by side in one run), int8's quality gate, and search latency at 100,000 segments with
the query embedded each time. Not part of the test suite.

    .venv/bin/python benchmarks/embed.py [--rounds 3] [--queries 60] [--skip-cli]

Writes the "Speed: CLI start, embeddings, search (issue 13)" section of benchmarks/BENCHMARKS.md.
Throughput is reported two ways: sentences per wall-clock second (what a researcher waits, depressed
by whatever else runs on the machine: the load average is printed beside it) and sentences per CPU
second of this process (less sensitive to other load; on N idle cores the wall rate approaches N
times it when the work parallelises).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.offline import set_offline_env  # noqa: E402

set_offline_env()

import numpy as np  # noqa: E402

from analysis.embedding import minilm as embed, onnx_backend as embed_onnx  # noqa: E402
from benchmarks.machine import describe, write_section  # noqa: E402

HEADING = "Speed: CLI start, embeddings, search (issue 13)"


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# -- 1. the CLI's start ---------------------------------------------------------------------------------------
def cli_env(checkout: Path) -> dict[str, str]:
    """The environment of a CLI run: bytecode cached (as after ``pip install``; this machine's shells set
    PYTHONDONTWRITEBYTECODE, which recompiles every module of the checkout at each start) in a folder
    outside the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    prefix = Path(tempfile.gettempdir()) / "storyloom-bench-pycache"
    return {**env, "PYTHONPATH": str(checkout), "PYTHONPYCACHEPREFIX": str(prefix)}


def cli_start(project: Path, runs: int = 7, checkout: Path = ROOT, suffix: str = "") -> list[dict[str, Any]]:
    """``storyloom status`` etc. in a fresh process, ``runs`` times (after one warm-up run): wall and CPU seconds."""
    out = []
    for label, args in (("storyloom status", ["status"]), ("storyloom code list", ["code", "list"])):
        walls, cpus = [], []
        command = [sys.executable, "-c", "from analysis.cli import app; app()", *args, "--project", str(project)]
        for i in range(runs + 1):
            t0 = time.perf_counter()
            before = os.times()
            done = subprocess.run(command, capture_output=True, cwd=checkout, env=cli_env(checkout))
            after = os.times()
            if i == 0:
                if done.returncode:
                    break  # (the command does not exist in that checkout)
                continue
            walls.append(time.perf_counter() - t0)
            cpus.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
        if not walls:
            continue
        label += suffix
        out.append({"what": label, "wall": walls, "cpu": cpus, "load": load()})
        print(label, f"wall median {statistics.median(walls):.2f} s, cpu median {statistics.median(cpus):.2f} s", load(),
              flush=True)
    return out


# -- 2. throughput ------------------------------------------------------------------------------------------------
def sample_sentences(project: Any) -> list[str]:
    return list(dict.fromkeys(str(t) for t in project.assist.segment_index().frame["text"]))


def int8_model(folder: Path, dest: Path) -> Path:
    """Dynamic int8 quantisation of the fp32 export (onnxruntime.quantization; needs the ``onnx`` package)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(folder / "model.onnx"), str(dest / "model.onnx"), weight_type=QuantType.QUInt8,
                     per_channel=True, reduce_range=True)
    return dest


class IntraOp(embed_onnx.OnnxMiniLM):
    """The same runner with one session of N intra-op threads and no pool (the alternative measured)."""

    def __init__(self, folder: Path, model_dir: Path, threads: int) -> None:
        import onnxruntime as ort

        super().__init__(folder, model_dir, workers=1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])


def throughput(texts: list[str], runners: dict[str, Any], rounds: int) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Every runner on ``texts``, interleaved round by round (so load changes hit them alike)."""
    results: dict[str, dict[str, Any]] = {name: {"wall": [], "cpu": []} for name in runners}
    vectors: dict[str, np.ndarray] = {}
    for fn in runners.values():  # warm-up
        fn(texts[:64])
    for r in range(rounds):
        for name, fn in runners.items():
            c0, t0 = time.process_time(), time.perf_counter()
            vectors[name] = np.asarray(fn(texts), dtype=np.float32)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            results[name]["wall"].append(len(texts) / wall)
            results[name]["cpu"].append(len(texts) / cpu)
            print(f"round {r} {name:38} {len(texts) / wall:7.0f} sentences/s wall, {len(texts) / cpu:6.0f} per CPU-s"
                  f"  load {load()}", flush=True)
    return results, vectors


# -- 3. int8's quality gate -------------------------------------------------------------------------------------------
def gate(project: Any, runner_fp32: Any, runner_int8: Any, queries: list[str], seeds: int) -> dict[str, Any]:
    """"More like this code" recall@10 (held-out codings, benchmarks/assist.py's protocol, shipped ranker)
    and search top-10 with fp32 vectors and with int8 vectors of every segment (and query)."""
    from analysis.domain.assist import SegmentIndex
    from benchmarks.assist import evaluate, summarise

    index = project.assist.segment_index()
    texts = [str(t) for t in index.frame["text"]]
    out: dict[str, Any] = {}
    indexes = {}
    for name, runner in (("fp32", runner_fp32), ("int8", runner_int8)):
        vectors = runner.encode(texts)
        indexes[name] = SegmentIndex.build(index.frame, vectors, index.texts)
        project.assist.segment_index = lambda big=indexes[name]: big
        df, _ = evaluate(project, seeds)
        s = summarise(df)
        shipped = [r for r in s.index if "(shipped)" in r][0]
        out[f"recall@10 {name}"] = float(s.loc[shipped, ("recall@10", "mean")])
        out[f"recall@10 sd {name}"] = float(s.loc[shipped, ("recall@10", "std")])
    del project.assist.segment_index
    kept, score_diff = [], []
    q32, q8 = runner_fp32.encode(queries), runner_int8.encode(queries)
    for i in range(len(queries)):
        s32 = indexes["fp32"].vectors @ q32[i]
        s8 = indexes["int8"].vectors @ q8[i]
        top32, top8 = np.argsort(-s32)[:10], np.argsort(-s8)[:10]
        kept.append(len(set(top32.tolist()) & set(top8.tolist())) / 10)
        score_diff.append(float(np.abs(s32[top32] - s8[top32]).mean()))
    cos = embed_onnx.cosines(indexes["fp32"].vectors, indexes["int8"].vectors)
    out.update({"search top-10 kept": float(np.mean(kept)), "search score diff": float(np.mean(score_diff)),
                "cos mean": float(cos.mean()), "cos min": float(cos.min())})
    out["passes"] = (out["recall@10 fp32"] - out["recall@10 int8"] <= 0.01 and out["search top-10 kept"] >= 0.99)
    return out


# -- 4. search latency at 100,000 segments, the query embedded each time -------------------------------------------------
def search_latency(project: Any, queries: list[str], folder: Path) -> list[dict[str, Any]]:
    from analysis.domain.assist import top_k
    from benchmarks.assist import scaled_index, stats, timed

    real = project.assist.segment_index()
    big = scaled_index(real, 100_000, cos=0.52)
    out = []
    model_dir = embed.model_dir()
    variants = {"ONNX fp32, 1 thread (shipped)": embed_onnx.OnnxMiniLM(folder, model_dir),
                "ONNX fp32, 2 intra-op threads": IntraOp(folder, model_dir, 2)}
    shipped = project.embedder
    for name, runner in variants.items():
        embed_ms = timed(lambda q, r=runner: r.encode([q]), queries)
        out.append({"what": f"query embedding alone: {name}", "n": None, "ms": stats(embed_ms)})
    import torch

    torch.set_num_threads(1)
    torch_model = embed._load_minilm()
    torch_model.encode(["warm"])
    torch_ms = timed(lambda q: torch_model.encode([q], normalize_embeddings=True), queries)
    out.append({"what": "query embedding alone: torch, 1 thread (before)", "n": None, "ms": stats(torch_ms)})
    project.assist.segment_index = lambda: big
    project.assist.search(queries[0], k=10)  # builds the derived caches once
    qv = {q: shipped.embed([q])[0] for q in queries}
    rank = timed(lambda q: top_k(big.vectors @ qv[q], 10), queries)
    out.append({"what": "rank only: matrix-vector product + argpartition (top 10)", "n": 100_000, "ms": stats(rank)})
    cpu: list[float] = []

    def search_each(q: str) -> None:
        c0 = time.process_time()  # every thread of the process: ONNX runs in this one, numpy's BLAS in its own
        project.assist._query_vectors.clear()
        project.assist.search(q, k=10)
        cpu.append((time.process_time() - c0) * 1000)

    each = timed(search_each, queries)
    out.append({"what": "`search()` semantic, query embedded each time (ONNX, 1 thread): wall", "n": 100_000,
                "ms": stats(each), "p95": float(np.percentile(each, 95))})
    out.append({"what": "the same: CPU time of the process (ONNX on the calling thread + numpy's BLAS threads)", "n": 100_000,
                "ms": stats(cpu), "p95": float(np.percentile(cpu, 95))})
    del project.assist.segment_index
    return out


def markdown_cli(info: dict[str, Any]) -> str:
    med = statistics.median
    if not info.get("cli"):
        return ""
    lines = ["### CLI start", "", "A fresh `python -c \"from analysis.cli import app; app()\" ...` (what the `storyloom` script runs) on the synced sample study, 7 runs each after one "
             "warm-up, bytecode cached as after an install. Before: every command imported pandas (~0.4 s), Alembic "
             "(~0.3 s, to check the schema revision) and python-docx; now a project at the newest revision is checked "
             "with one query and those load only where used. No command that needs no model imports torch, spaCy, "
             "sentence-transformers or onnxruntime (tests/system/test_speed.py). CPU seconds are less sensitive to the "
             "other load than wall seconds.", "",
             "| command | wall median / max s | CPU median s | load 1/5/15 |", "|---|---|---|---|"]
    for r in [*info["cli"], *info.get("cli_before", [])]:
        lines.append(f"| `{r['what']}` | {med(r['wall']):.2f} / {max(r['wall']):.2f} | {med(r['cpu']):.2f} | {r['load']} |")
    return "\n".join(lines) + "\n"


def markdown(info: dict[str, Any]) -> str:
    med = statistics.median
    lines = [f"Machine: {info['machine']}. Load average (1/5/15 min) at start: {info['load_start']}; at end: "
             f"{info['load_end']}. Seven other helpers shared these two cores during the run: the wall-clock rates "
             "below are depressed and noisy; ratios measured side by side in one run, and rates per CPU-second, "
             "are the figures to compare. Rerun: `.venv/bin/python benchmarks/embed.py`.", ""]
    lines += markdown_cli(info).splitlines()
    t = info["throughput"]
    base = med(t["torch (sentence-transformers), batch 64"]["wall"])
    base_cpu = med(t["torch (sentence-transformers), batch 64"]["cpu"])
    lines += ["### Embedding throughput", "",
              f"{info['n_sentences']:,} distinct sentences of the sample study (mean {info['mean_words']:.1f} words), "
              f"{info['rounds']} interleaved rounds, median; the same texts, the same machine, the same minutes.", "",
              "| backend | sentences/s (wall) | x torch | sentences per CPU-s | x torch |", "|---|---|---|---|---|"]
    for name, r in t.items():
        lines.append(f"| {name} | {med(r['wall']):,.0f} | {med(r['wall']) / base:.2f} | {med(r['cpu']):,.0f} | "
                     f"{med(r['cpu']) / base_cpu:.2f} |")
    g = info["gate"]
    lines += ["", f"Agreement with torch (the reference): ONNX fp32 cosine min {info['cos_fp32_min']:.7f}, "
              f"mean {info['cos_fp32_mean']:.7f} over these sentences (so fp32 ONNX vectors share torch's model id and "
              "cache); int8 to fp32: cosine mean "
              f"{g['cos mean']:.4f}, min {g['cos min']:.4f}.", "",
              "### Int8: the quality gate", "",
              f"\"More like this code\" recall@10 (held-out codings, the shipped ranker, {info['seeds']} seeds): fp32 "
              f"{g['recall@10 fp32']:.3f} ± {g['recall@10 sd fp32']:.3f}, int8 {g['recall@10 int8']:.3f} ± "
              f"{g['recall@10 sd int8']:.3f}. Search ({info['n_queries']} queries: code names and definitions): int8 "
              f"keeps {g['search top-10 kept']:.1%} of fp32's top 10, score difference {g['search score diff']:.4f} on "
              "average. Gate: recall@10 within 0.01 of fp32 and at least 99% of the top-10 search hits kept. "
              f"**{'Passes' if g['passes'] else 'Fails'}**: "
              + ("int8 could ship." if g["passes"] else "int8 does not ship; Storyloom embeds with ONNX fp32."), "",
              "### Search at 100,000 segments, the query embedded each time", "",
              f"The sample study's vectors tiled and perturbed to 100,000 segments (benchmarks/assist.py's scaled index), "
              f"{info['n_queries']} queries, each embedded anew (the query cache cleared before every call); median / p95 ms.", "",
              "| what | segments | median / p95 ms |", "|---|---|---|"]
    for r in info["search"]:
        lines.append(f"| {r['what']} | {r['n'] or '–'} | {r['ms']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--only-cli", action="store_true", help="only the CLI start (prints its table)")
    parser.add_argument("--limit", type=int, default=0, help="time the first N distinct sentences only")
    parser.add_argument("--variants", action="store_true", help="also 1 worker, batch 16 and batch 256")
    parser.add_argument("--only-search", type=Path, help="only the search latency on this synced project (prints its table)")
    parser.add_argument("--before", type=Path, help="a checkout of the code before (e.g. /work/main) for the CLI row")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from benchmarks.assist import open_sample

    info: dict[str, Any] = {"load_start": load(), "rounds": args.rounds, "seeds": args.seeds,
                            "machine": describe(("torch", "sentence-transformers", "onnxruntime", "tokenizers"))}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STORYLOOM_EMBEDDINGS"] = "onnx"
        if args.only_search:
            from analysis import open_project

            project = open_project(args.only_search)
        else:
            project = open_sample(Path(tmp) / "study")
        if not args.skip_cli and not args.only_search:
            project.close()
            info["cli"] = cli_start(project.path)
            if args.before:
                info["cli_before"] = cli_start(project.path, checkout=args.before, suffix=" (before: main)")
            if args.only_cli:
                print(markdown_cli(info))
                return
        if args.only_search:
            folder = embed_onnx.prepare(embed.model_dir())
            assert folder is not None
            queries = [c.name for c in project.codebook.codes()] + [c.definition for c in project.codebook.codes() if c.definition]
            for r in search_latency(project, queries[: args.queries], folder):
                print(f"| {r['what']} | {r['n'] or '–'} | {r['ms']} |  load {load()}", flush=True)
            return
        texts = sample_sentences(project)
        if args.limit:
            texts = texts[:: max(1, len(texts) // args.limit)][: args.limit]  # spread over the study
        info["n_sentences"], info["mean_words"] = len(texts), float(np.mean([len(t.split()) for t in texts]))
        model_dir = embed.model_dir()
        folder = embed_onnx.prepare(model_dir)
        assert folder is not None, "the ONNX export failed its verification"
        cores = len(os.sched_getaffinity(0))
        import torch

        torch.set_num_threads(cores)
        torch_model = embed._load_minilm()
        fp32 = embed_onnx.OnnxMiniLM(folder, model_dir)
        int8 = embed_onnx.OnnxMiniLM(int8_model(folder, Path(tmp) / "int8"), model_dir)
        intra = IntraOp(folder, model_dir, cores)
        runners = {
            "torch (sentence-transformers), batch 64":
                lambda x: torch_model.encode(x, batch_size=64, normalize_embeddings=True, convert_to_numpy=True),
            f"ONNX fp32, {cores} workers x 1 thread, batch 64 (shipped)": lambda x: fp32.encode(x, batch_size=64),
            f"ONNX fp32, {cores} intra-op threads, batch 64": lambda x: intra.encode(x, batch_size=64),
            f"ONNX int8 (dynamic, QUInt8 per channel), {cores} workers x 1 thread": lambda x: int8.encode(x),
        }
        if args.variants:
            runners.update({
                "ONNX fp32, 1 worker x 1 thread, batch 64": lambda x: embed_onnx.OnnxMiniLM.encode(_one(fp32), x),
                f"ONNX fp32, {cores} workers x 1 thread, batch 16": lambda x: fp32.encode(x, batch_size=16),
                f"ONNX fp32, {cores} workers x 1 thread, batch 256": lambda x: fp32.encode(x, batch_size=256)})
        info["throughput"], vectors = throughput(texts, runners, args.rounds)
        cos = embed_onnx.cosines(vectors[f"ONNX fp32, {cores} workers x 1 thread, batch 64 (shipped)"],
                                 vectors["torch (sentence-transformers), batch 64"])
        info["cos_fp32_min"], info["cos_fp32_mean"] = float(cos.min()), float(cos.mean())
        project.close()
        from analysis import open_project

        project = open_project(Path(tmp) / "study")
        queries = [c.name for c in project.codebook.codes()] + [c.definition for c in project.codebook.codes() if c.definition]
        queries = queries[: args.queries]
        info["n_queries"] = len(queries)
        info["gate"] = gate(project, fp32, int8, queries, args.seeds)
        print(info["gate"], flush=True)
        info["search"] = search_latency(project, queries, folder)
        for r in info["search"]:
            print(r, flush=True)
        project.close()
    info["load_end"] = load()
    body = markdown(info)
    write_section(HEADING, body)
    print(body)


def _one(runner: embed_onnx.OnnxMiniLM) -> embed_onnx.OnnxMiniLM:
    """A view of ``runner`` with one worker (shares its session)."""
    view = object.__new__(embed_onnx.OnnxMiniLM)
    view.__dict__.update(runner.__dict__, workers=1, _pool=None)
    return view


if __name__ == "__main__":
    main()
