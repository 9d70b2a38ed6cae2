"""Assist benchmark: how well "more like this code" finds held-out codings of the sample study
(against a keyword TF-IDF baseline), search latency at 10,000 and 100,000 segments, and clustering
(the measurements behind the choice of HDBSCAN). Not part of the test suite.

    .venv/bin/python benchmarks/assist.py [--seeds 5] [--queries 60]

Writes the "Assist (semantic suggestions, search, clustering)" section of benchmarks/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
import pandas as pd  # noqa: E402

from analysis import open_project  # noqa: E402
from analysis.domain.assist import SegmentIndex, top_k  # noqa: E402
from analysis.domain.consistency import MIN_WORDS, rank_like  # noqa: E402
from analysis.domain.patterns import MIN_PATTERN_WORDS, cluster_vectors, distinctive_words  # noqa: E402
from benchmarks.machine import describe, write_section  # noqa: E402

HEADING = "Assist (semantic suggestions, search, clustering)"
HIDE = 0.3
KS = (10, 25)
LOAD = [0.0]
SLOW_AT_10K = ("HDBSCAN eom on raw 384-d", "Agglomerative average-cosine k=40")
RANKERS = {  # name: (alpha = weight of the nearest example against the centroid, centred on the corpus mean)
    "semantic: 0.5 max + 0.5 centroid, centred (shipped)": (0.5, True),
    "semantic: 0.25 max + 0.75 centroid, centred": (0.25, True),
    "semantic: 0.75 max + 0.25 centroid, centred": (0.75, True),
    "semantic: max only, centred": (1.0, True),
    "semantic: centroid only, centred": (0.0, True),
    "semantic: 0.5 max + 0.5 centroid, raw cosine": (0.5, False),
}


def open_sample(folder: Path) -> Any:
    shutil.copytree(ROOT / "transcripts", folder / "transcripts")
    shutil.copytree(ROOT / "codebooks", folder / "codebooks")
    project = open_project(folder)
    project.sync()
    if project.status()["codings"] == 0:  # older sync without the codebook import
        project.codebook_files.import_codebook(folder / "codebooks" / "codebook.yaml")
        project.codebook_files.import_codings(folder / "codebooks" / "codings.yaml")
    return project


# -- 1. held-out codings ---------------------------------------------------------------------------------
def evaluate(project: Any, seeds: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    index = project.assist.segment_index()
    f = index.frame
    spans = project.assist.coding_spans()
    base = ~f["interviewer"].to_numpy() & (f["text"].str.split().str.len().to_numpy() >= MIN_WORDS)
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit(f["text"])
    seg_tfidf = tfidf.transform(f["text"])
    quotes = {int(c.coding_id): index.texts[int(c.transcript_id)][int(c.start):int(c.end)] for c in spans.itertuples()}
    codes = [(cid, g) for cid, g in spans.groupby("code_id") if len(g) >= 3]
    rows = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        for code_id, g in codes:
            hidden_n = max(1, int(round(HIDE * len(g))))
            hidden_ids = set(rng.choice(g["coding_id"].to_numpy(), size=hidden_n, replace=False).tolist())
            hidden, visible = g[g["coding_id"].isin(hidden_ids)], g[~g["coding_id"].isin(hidden_ids)]
            candidates = base & ~index.overlap(visible)
            targets = [set(index.rows_in(int(h.transcript_id), int(h.start), int(h.end)).tolist())
                       for h in hidden.itertuples()]
            relevant = set().union(*targets)
            ex_rows, _ = project.suggestions.code_examples(index, visible)
            mean, norms = index.centre()
            scores_by = {name: rank_like(index.vectors, index.vectors[ex_rows], alpha=a, mean=mean if centred else None,
                                         norms=norms if centred else None)[0]
                         for name, (a, centred) in RANKERS.items()}
            query = tfidf.transform([" ".join(quotes[int(i)] for i in visible["coding_id"])])
            scores_by["keyword TF-IDF baseline"] = (seg_tfidf @ query.T).toarray().ravel().astype(np.float32)
            chance = len(relevant & set(np.flatnonzero(candidates).tolist())) / max(1, int(candidates.sum()))
            for name, scores in scores_by.items():
                scores = np.where(candidates, scores, -np.inf)
                ranked = top_k(scores, max(KS)).tolist()
                rec = {"seed": seed, "code": int(code_id), "codings": len(g), "hidden": hidden_n, "ranker": name,
                       "chance_precision": chance}
                for k in KS:
                    top = set(ranked[:k])
                    rec[f"recall@{k}"] = sum(bool(t & top) for t in targets) / len(targets)
                    rec[f"precision@{k}"] = len(top & relevant) / k
                rows.append(rec)
    df = pd.DataFrame(rows)
    info = {"codes": len(codes), "codings": int(sum(len(g) for _, g in codes)), "segments": len(f),
            "candidates": int(base.sum())}
    return df, info


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Macro average over codes per seed, then mean and sd over seeds."""
    metrics = [f"{m}@{k}" for k in KS for m in ("recall", "precision")]
    per_seed = df.groupby(["ranker", "seed"])[metrics + ["chance_precision"]].mean()
    return per_seed.groupby("ranker").agg(["mean", "std"])


# -- 2. search latency --------------------------------------------------------------------------------------
def scaled_index(index: SegmentIndex, n: int, *, cos: float, seed: int = 0) -> SegmentIndex:
    """``n`` segments: the real ones tiled, each copy's vectors perturbed with Gaussian noise sized so a
    copy's cosine to its original is about ``cos``, re-normalised; copies become separate transcripts."""
    rng = np.random.default_rng(seed)
    reps = -(-n // len(index.frame))
    frames, texts = [], {}
    for r in range(reps):
        fr = index.frame.copy()
        fr["transcript_id"] = fr["transcript_id"] + r * 100_000
        fr["transcript"] = fr["transcript"] + ("" if r == 0 else f"#{r}")
        frames.append(fr)
        texts.update({tid + r * 100_000: t for tid, t in index.texts.items()})
    frame = pd.concat(frames, ignore_index=True).iloc[:n].reset_index(drop=True)
    sigma = np.sqrt((1 / cos**2 - 1) / index.vectors.shape[1])
    vectors = np.tile(index.vectors, (reps, 1))[:n]
    noise = rng.normal(0, sigma, vectors.shape).astype(np.float32)
    noise[: len(index.frame)] = 0  # the first copy is the real study
    vectors = vectors + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return SegmentIndex.build(frame, vectors, texts)


def timed(fn: Any, repeat: list[Any]) -> list[float]:
    out = []
    for arg in repeat:
        t0 = time.perf_counter()
        fn(arg)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def stats(ms: list[float]) -> str:
    return f"{statistics.median(ms):.1f} / {np.percentile(ms, 95):.1f}"


def latency(project: Any, queries: list[str], nn_cos: float) -> list[dict[str, Any]]:
    real = project.assist.segment_index()
    import torch

    threads = torch.get_num_threads()
    embed_each = timed(lambda q: project.embedder.embed([q]), queries)
    torch.set_num_threads(1)
    embed_one = timed(lambda q: project.embedder.embed([q]), queries)
    torch.set_num_threads(threads)
    out: list[dict[str, Any]] = [
        {"what": f"query embedding (MiniLM, one query, uncached; torch {threads} threads)", "n": None,
         "ms": stats(embed_each)},
        {"what": "query embedding (MiniLM, one query, uncached; torch 1 thread)", "n": None, "ms": stats(embed_one)}]
    qvecs = {q: project.assist._query_vector(q) for q in queries}  # also warms the project's query cache

    def warm() -> None:
        for q in queries:
            project.assist._query_vector(q)

    for n in (10_000, 100_000):
        big = scaled_index(real, n, cos=nn_cos)
        project.assist.segment_index = lambda big=big: big  # the benchmark's synthetic index
        core = timed(lambda q: top_k(big.vectors @ qvecs[q], 10), queries)
        out.append({"what": "rank only: matrix-vector product + argpartition (top 10)", "n": n, "ms": stats(core)})
        full = timed(lambda q: project.assist.search(q, k=10), queries)
        out.append({"what": "`search()` semantic, cached query vector (incl. hits + audit event)", "n": n,
                    "ms": stats(full)})
        uncached = timed(lambda q: (project.assist._query_vectors.clear(), project.assist.search(q, k=10)), queries[:20])
        out.append({"what": "`search()` semantic, query embedded each time (20 queries)", "n": n,
                    "ms": stats(uncached)})
        warm()
        filtered = timed(lambda q: project.assist.search(q, k=10, uncoded=True), queries)
        out.append({"what": "`search()` semantic, `uncoded=True`", "n": n, "ms": stats(filtered)})
        t0 = time.perf_counter()
        project.assist.search("akonga", mode="keyword")  # builds the word index once (cached on the index)
        fold_ms = (time.perf_counter() - t0) * 1000
        kw = timed(lambda q: project.assist.search(q, mode="keyword", k=10), queries)
        out.append({"what": f"`search()` keyword (the first call builds the word index: {fold_ms:,.0f} ms)", "n": n,
                    "ms": stats(kw)})
        hy = timed(lambda q: project.assist.search(q, mode="hybrid", k=10), queries)
        out.append({"what": "`search()` hybrid (RRF)", "n": n, "ms": stats(hy)})
    del project.assist.segment_index
    return out


# -- 3. clustering ----------------------------------------------------------------------------------------------
def clustering(project: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from sklearn.cluster import HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    index = project.assist.segment_index()
    f = index.frame
    before = ~f["interviewer"].to_numpy() & (f["text"].str.split().str.len().to_numpy() >= MIN_PATTERN_WORDS)
    keep = before & ~index.overlap(project.assist.coding_spans())
    x = index.vectors[keep]
    sets = {"before coding": index.vectors[before], "uncoded": x}

    def centred(v: np.ndarray) -> np.ndarray:
        c = v - v.mean(axis=0)
        return c / np.linalg.norm(c, axis=1, keepdims=True)

    def pca_hdbscan(v: np.ndarray, d: int) -> np.ndarray:
        z = PCA(min(d, len(v) - 1), random_state=0).fit_transform(centred(v))
        return HDBSCAN(min_cluster_size=5, min_samples=3, cluster_selection_method="leaf").fit_predict(z)

    candidates = {
        "KMeans k=40": lambda v: KMeans(40, n_init=4, random_state=0).fit_predict(centred(v)),
        "MiniBatchKMeans k=40": lambda v: MiniBatchKMeans(40, n_init=3, random_state=0,
                                                          batch_size=2048).fit_predict(centred(v)),
        "Agglomerative ward k=40": lambda v: AgglomerativeClustering(n_clusters=40,
                                                                     linkage="ward").fit_predict(centred(v)),
        "Agglomerative average-cosine k=40": lambda v: AgglomerativeClustering(
            n_clusters=40, metric="cosine", linkage="average").fit_predict(v),
        "HDBSCAN eom on raw 384-d": lambda v: HDBSCAN(min_cluster_size=5, min_samples=3).fit_predict(v),
        "HDBSCAN eom on PCA-50": lambda v: HDBSCAN(min_cluster_size=5, min_samples=3).fit_predict(
            PCA(min(50, len(v) - 1), random_state=0).fit_transform(centred(v))),
        "HDBSCAN leaf on PCA-25 (shipped)": lambda v: pca_hdbscan(v, 25),
        "HDBSCAN leaf on PCA-50": lambda v: pca_hdbscan(v, 50),
    }
    nn = x @ x.T
    np.fill_diagonal(nn, -1)
    nn_cos = float(np.median(nn.max(axis=1)))
    real_n = len(x)
    big = scaled_index(SegmentIndex.build(f[keep].reset_index(drop=True), x, index.texts), 10_000, cos=nn_cos)
    rows = []
    for name, fn in candidates.items():
        row: dict[str, Any] = {"algorithm": name}
        for label, v in sets.items():
            t0 = time.perf_counter()
            labels = fn(v)
            dt = time.perf_counter() - t0
            m = labels >= 0
            sizes = np.bincount(labels[m]) if m.any() else np.array([0])
            sil = silhouette_score(v[m], labels[m], metric="cosine") if len(set(labels[m])) > 1 else float("nan")
            row[f"{label}: clusters (clustered)"] = f"{int((sizes > 0).sum())} ({m.mean():.0%})"
            row[f"{label}: silhouette"] = f"{sil:.3f}"
            row[f"{label}: sizes min/median/max"] = f"{sizes.min()}/{int(np.median(sizes))}/{sizes.max()}"
            row[f"{label}: time"] = f"{dt:.2f} s"
        row["time 10,000"] = "not run (slow in high dimensions / O(n²))"
        if name not in SLOW_AT_10K:
            t0 = time.perf_counter()
            fn(big.vectors)
            row["time 10,000"] = f"{time.perf_counter() - t0:.2f} s"
        rows.append(row)
    t0, c0 = time.perf_counter(), time.process_time()
    labels = cluster_vectors(big.vectors, min_size=5)
    distinctive_words(big.frame["text"].tolist(), labels)
    shipped, shipped_cpu = time.perf_counter() - t0, time.process_time() - c0
    return rows, {"uncoded": real_n, "before": int(before.sum()), "nn_cos": nn_cos, "shipped_10k": shipped,
                  "shipped_10k_cpu": shipped_cpu,
                  "clusters_10k": int(len(set(labels.tolist())) - (1 if -1 in labels else 0))}


def reading(summary: pd.DataFrame, chance: float) -> str:
    """What the held-out table says, in words (numbers from this run)."""
    def m(name: str, metric: str) -> float:
        return float(summary.loc[name, (metric, "mean")])

    shipped, raw, base = (next(n for n in summary.index if key in n)
                          for key in ("(shipped)", "raw cosine", "TF-IDF"))
    beats = m(shipped, "recall@10") > m(base, "recall@10") and m(shipped, "recall@25") > m(base, "recall@25")
    return (
        f"Reading: with raw cosines the semantic ranker is no better than the keyword baseline (recall@10 "
        f"{m(raw, 'recall@10'):.3f} vs {m(base, 'recall@10'):.3f}): the sample's codes are topical, their passages "
        f"share words (heat pumps, approval, fees), and MiniLM vectors of interview talk share a large common "
        f"direction. Centred on the corpus mean, the shipped ranker "
        + ("beats" if beats else "does not beat")
        + f" the baseline: recall@10 {m(shipped, 'recall@10'):.3f} vs {m(base, 'recall@10'):.3f}, recall@25 "
        f"{m(shipped, 'recall@25'):.3f} vs {m(base, 'recall@25'):.3f}, with seed-to-seed sd of about 0.04. "
        f"Precision looks low ({m(shipped, 'precision@10'):.3f} at 10) because each code hides 1-5 codings among "
        f"~1,600 candidates: it is {m(shipped, 'precision@10') / chance:.0f} times chance, and a suggestion next to "
        f"a hidden coding, or one the researcher had simply not coded, counts as a miss. The centred blends "
        f"with 0.25-0.5 weight on the nearest example are within one sd of each other; 0.5 has the best recall@25 "
        f"and the smallest spread, so it ships.")


def markdown(machine: str, info: dict[str, Any], summary: pd.DataFrame, lat: list[dict[str, Any]],
             clus: list[dict[str, Any]], cinfo: dict[str, Any], seeds: int, n_queries: int, total: float) -> str:
    lines = [f"Machine: {machine}. Load average (1 min) at start / end: {LOAD[0]:.1f} / {os.getloadavg()[0]:.1f} "
             "(other jobs share these cores; timings under load are upper bounds).", "",
             f"Sample study: {info['segments']:,} segments ({info['candidates']:,} participant segments of >= "
             f"{MIN_WORDS} words can be suggested), real codings from `codebooks/`: {info['codes']} codes with >= 3 "
             f"codings ({info['codings']} codings).", "",
             "### More like this code: held-out codings", "",
             f"For each code, a random {HIDE:.0%} of its codings (at least one) is hidden; the rest are the code's "
             f"material. Each ranker ranks the candidate segments that overlap no visible coding; a suggestion "
             f"overlapping a hidden coding is a hit. recall@k: share of hidden codings hit by the top k; "
             f"precision@k: share of the top k that are hits. Macro-averaged over codes, mean ± sd over {seeds} seeds "
             f"(0..{seeds - 1}). \"chance\" is the precision of a random ranking.", "",
             "| ranker | recall@10 | precision@10 | recall@25 | precision@25 |", "|---|---|---|---|---|"]
    for name, r in summary.sort_values(("recall@10", "mean"), ascending=False).iterrows():
        cells = [f"{r[(m, 'mean')]:.3f} ± {r[(m, 'std')]:.3f}" for m in ("recall@10", "precision@10", "recall@25",
                                                                        "precision@25")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    chance = summary[("chance_precision", "mean")].iloc[0]
    lines += [f"| chance | – | {chance:.3f} | – | {chance:.3f} |", "", reading(summary, chance), "",
              "### Search latency", "",
              f"Synthetic scale-up: the real segment vectors tiled, each copy perturbed with Gaussian noise so that "
              f"a copy's cosine to its original is {cinfo['nn_cos']:.2f} (the median nearest-neighbour cosine "
              f"among the real uncoded segments), re-normalised. {n_queries} queries (the codebook's code names "
              f"and definitions); median / p95 in ms. `search()` includes the filters, building the hits (with "
              f"their turns) and writing the audit event.", "",
              "| what | segments | median / p95 ms |", "|---|---|---|"]
    lines += [f"| {r['what']} | {'–' if r['n'] is None else format(r['n'], ',')} | {r['ms']} |" for r in lat]
    lines += ["", "### Patterns in uncoded text: clustering", "",
              f"Participant segments of >= {MIN_PATTERN_WORDS} words in the sample study, \"before coding\" (all "
              f"{cinfo['before']:,}) and \"uncoded\" (the {cinfo['uncoded']:,} that no sample coding covers); "
              f"silhouette (cosine) over the clustered passages only (HDBSCAN leaves the rest unclustered). "
              f"Time at 10,000: the same algorithm on 10,000 synthetic segments (scaled up as above).", ""]
    header = list(clus[0])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in clus]
    lines += ["", f"Shipped pipeline (`cluster_vectors` + `distinctive_words`) on 10,000 segments: "
              f"**{cinfo['shipped_10k']:.2f} s** wall, {cinfo['shipped_10k_cpu']:.2f} s CPU "
              f"({cinfo['clusters_10k']} clusters; the synthetic copies make "
              f"tight groups, so the count says little). Target: < 10 s.", "",
              f"Whole benchmark: {total:.0f} s. Rerun: `.venv/bin/python benchmarks/assist.py`."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    LOAD[0] = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        project = open_sample(Path(tmp) / "study")
        df, info = evaluate(project, args.seeds)
        summary = summarise(df)
        print(summary.round(3).to_string(), flush=True)
        clus, cinfo = clustering(project)
        print(pd.DataFrame(clus).to_string(), cinfo, flush=True)
        queries = [c.name for c in project.codebook.codes()] + [c.definition for c in project.codebook.codes() if c.definition]
        lat = latency(project, queries[: args.queries], cinfo["nn_cos"])
        print(pd.DataFrame(lat).to_string(), flush=True)
        project.close()
    body = markdown(describe(("numpy", "scikit-learn", "torch", "sentence-transformers")), info, summary, lat, clus,
                    cinfo, args.seeds, min(args.queries, len(queries)), time.perf_counter() - start)
    write_section(HEADING, body)
    print(body)


if __name__ == "__main__":
    main()
