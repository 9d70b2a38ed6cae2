"""MiniLM through ONNX Runtime: the packaged model exported once, verified against torch, then run
without torch.

Why not sentence-transformers' own ``backend="onnx"``: it needs ``optimum-onnx``, which pins
``transformers<4.58`` (this project runs transformers 5); the same graph is exported here with
``torch.onnx.export`` and run with ``onnxruntime`` and the model's own fast tokenizer, the same steps
sentence-transformers takes (truncate at ``max_seq_length`` 256, pad to the batch's longest, mean
pooling over the attention mask, L2 normalisation).

* **Export, once per user and model**: into ``~/.cache/storyloom/onnx/<key>/`` (``$STORYLOOM_CACHE``
  or ``$XDG_CACHE_HOME/storyloom`` if set), ``<key>`` a hash of the packaged model's files (names,
  sizes, mtimes, the small files' contents) and :data:`EXPORT_VERSION`. Nothing is written into
  site-packages; nothing is downloaded. The export needs torch; running the exported model does not.
  It is written into a temporary folder and renamed into place, so two processes racing to export
  leave one complete copy.
* **Verified**: :data:`SAMPLE` is embedded by torch (sentence-transformers) and by the exported model;
  every cosine must be >= :data:`MIN_COSINE` (0.9999), else the export is marked failed
  (``verified.json``) and :class:`~analysis.embedding.minilm.MiniLMEmbedder` keeps torch, with a warning.
  Measured here: min cosine 0.9999999 over the sample study, so ONNX vectors are stored under the
  same model id as torch's (existing embedding caches stay valid).
* **The graph** (:data:`EXPORT_OPTIONS`, issue 26): exported with BERT's *eager* attention, not
  transformers' default SDPA: the SDPA export adds an ``IsNaN``/``Where`` guard over every layer's
  attention scores and a longer mask computation (669 nodes against 516). ONNX Runtime's offline BERT
  fusions (``onnxruntime.transformers.optimizer``: Attention, SkipLayerNormalization, BiasGelu,
  EmbedLayerNormalization; all fuse on the eager export) were measured and are *not* used: its CPU
  Attention kernel made a batch slower, with AVX-512 and with AVX2 alike (benchmarks/BENCHMARKS.md).
  ``ORT_ENABLE_ALL`` at session start does the rest (MatMul+Add, BiasGelu, LayerNorm fusions).
* **Cache key**: the model's files, :data:`EXPORT_VERSION`, :data:`EXPORT_OPTIONS` and the ONNX Runtime
  version (:func:`model_key`): a new runtime or new options is a new export, verified anew; the verdict
  records them too and a verdict whose record differs is not trusted (:func:`prepared`).
* **Threads**: one ONNX Runtime session with one intra-op thread; a batch of many sentences is
  sorted by token length, cut into batches of :data:`BATCH_SIZE` and run on a pool of one worker per
  core (ONNX Runtime releases the GIL), so a single query runs on one thread and a bulk embedding uses
  every core without intra-op synchronisation. With one thread per session the vectors do not depend
  on the pool: the verification checks that a batch and the same sentences one by one agree.
  See benchmarks/embed.py for the figures.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import Errors

log = logging.getLogger("storyloom")

#: Bump when the export (graph, opset, inputs) changes: a new key, a new export.
EXPORT_VERSION = 2
MIN_COSINE = 0.9999
MAX_SEQ_LENGTH = 256
OPSET = 17
#: How the graph is made and run; part of the cache key and of the verdict.
EXPORT_OPTIONS: dict[str, Any] = {"opset": OPSET, "attention": "eager", "graph_optimization": "ORT_ENABLE_ALL",
                                  "intra_op_threads": 1}
#: Sentences per ``session.run`` (length-sorted). 16 measured best or level with 8-32 (issue 26).
BATCH_SIZE = 16
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: The fixed sample the export is verified on (interview talk: short, long, odd characters).
SAMPLE: tuple[str, ...] = (
    "We applied for the grant in March and heard nothing until the autumn.",
    "Honestly? It was the paperwork.",
    "I mean, the council said yes, but the fees, the fees were the thing that stopped us.",
    "[laughs] No, not really.",
    "My grandmother, she always said you don't leave land the way you found it; you leave it better.",
    "The heat pump arrived in pieces, and the installer didn't come back for six weeks.",
    "Mm-hmm.",
    "So the micro-credential counted towards the degree, which was a surprise to everyone.",
    "Kia ora, ko Aroha tōku ingoa, and I've worked at the marae for twenty years.",
    "It's about trust: if the students don't trust the assessment, they won't take it.",
    "Café owners told us the scheme was confusing — nobody read the fine print.",
    "We had three managers in two years, and each one started the project again from scratch.",
    "Yes.",
    "Because the approval process is slow, people give up before they even apply, and that is a "
    "real loss for the community, for the industry and for the students who would have benefited "
    "from the training that never happened because nobody could get the paperwork through in time.",
    "Data sovereignty matters to us; the servers should be here, not overseas.",
    "I don't know, maybe 40% of them? Something like that.",
)

_lock = threading.Lock()


def cache_root() -> Path:
    """Where Storyloom keeps per-user caches (the exported model): ``$STORYLOOM_CACHE``, else
    ``$XDG_CACHE_HOME/storyloom``, else ``~/.cache/storyloom``."""
    from analysis.userdirs import cache_dir

    return cache_dir()


def runtime_version() -> str:
    """The installed ONNX Runtime's version ("none" without it); read without importing it."""
    from importlib import metadata

    try:
        return metadata.version("onnxruntime")
    except metadata.PackageNotFoundError:
        return "none"


def export_record() -> dict[str, Any]:
    """What an export depends on besides the model's files: the key's inputs, kept in the verdict."""
    return {"export_version": EXPORT_VERSION, "options": EXPORT_OPTIONS, "onnxruntime": runtime_version()}


def model_key(model_dir: Path) -> str:
    """A short hash naming the export of ``model_dir``: its files' names, sizes and mtimes, the
    contents of its small files, and :func:`export_record` (version, options, ONNX Runtime)."""
    h = hashlib.sha256(f"storyloom-onnx {json.dumps(export_record(), sort_keys=True)}\n".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        st = path.stat()
        h.update(f"{path.relative_to(model_dir)} {st.st_size} {st.st_mtime_ns}\n".encode())
        if st.st_size < 1_000_000:
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two arrays of vectors."""
    na = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    out: np.ndarray = (a * b).sum(axis=1) / np.maximum(na, 1e-12)
    return out


class OnnxMiniLM:
    """The exported model: tokenise, run, mean-pool, normalise (see the module docstring)."""

    def __init__(self, folder: Path, model_dir: Path, *, workers: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_SEQ_LENGTH)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, EXPORT_OPTIONS["graph_optimization"])
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))
        self._pool: ThreadPoolExecutor | None = None

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out: np.ndarray = (pooled / norms).astype(np.float32)
        return out

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               done: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit vectors of ``texts`` (float32, shape ``(len(texts), 384)``), in order; ``done(n)`` is
        told the number embedded so far as batches finish (shortest first)."""
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable")
        batches = []
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, j in enumerate(idx):
                n = int(lengths[j])
                ids[row, :n] = encodings[j].ids
                mask[row, :n] = 1
            batches.append((idx, ids, mask))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        if len(batches) > 1 and self.workers > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="storyloom-embed")
            results: Iterable[np.ndarray] = self._pool.map(lambda b: self._run(b[1], b[2]), batches)
        else:
            results = (self._run(ids, mask) for _, ids, mask in batches)
        finished = 0
        for (idx, _, _), vectors in zip(batches, results):  # in order, as they finish
            out[idx] = vectors
            finished += len(idx)
            if done is not None:
                done(finished)
        return out


def export(st: Any, dest: Path) -> None:
    """Write ``dest/model.onnx``: the transformer of ``st`` (a SentenceTransformer on torch)."""
    import warnings

    import torch

    bert: Any = st[0].auto_model
    bert.eval()
    before = bert.config._attn_implementation
    bert.set_attn_implementation(EXPORT_OPTIONS["attention"])  # see the module docstring: no SDPA guards

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    example = st.tokenizer(list(SAMPLE[:2]), padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Hidden(), tuple(example[k] for k in INPUTS), str(dest / "model.onnx"),
                              input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=EXPORT_OPTIONS["opset"], dynamo=False)
    finally:
        bert.set_attn_implementation(before)


def torch_vectors(model: Any, texts: Sequence[str]) -> np.ndarray:
    """The reference: sentence-transformers on torch, as :class:`~analysis.embedding.minilm.MiniLMEmbedder` runs it."""
    return np.asarray(model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                   show_progress_bar=False, convert_to_numpy=True), dtype=np.float32)


def prepare(model_dir: Path) -> Path | None:
    """The folder of a verified export of ``model_dir`` (exported and verified now if need be), or
    None when the export failed its verification or could not be written (a warning says why)."""
    folder = cache_root() / "onnx" / model_key(model_dir)
    with _lock:
        verdict = _verdict(folder)
        if verdict is None:
            try:
                verdict = _export_and_verify(model_dir, folder)
            except Exception as err:  # noqa: BLE001 - any failure: keep torch, say why
                log.warning("[%s] %s", Errors.E9101.code, Errors.E9101.format(folder=folder, err=err))
                return None
    if not verdict.get("ok"):
        log.warning("[%s] %s", Errors.E9102.code, Errors.E9102.format(
            min_cosine=verdict.get("min_cosine"), threshold=MIN_COSINE, folder=folder))
        return None
    return folder


def prepared(folder: Path) -> dict[str, Any] | None:
    """The verdict of the export in ``folder`` (``ok``, ``min_cosine``, ...), or None when it was not
    exported yet, or by another version, options or ONNX Runtime (``storyloom doctor``)."""
    return _verdict(folder)


def _verdict(folder: Path) -> dict[str, Any] | None:
    try:
        verdict: dict[str, Any] = json.loads((folder / "verified.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or verdict.get("record") != export_record():
        return None  # not this export's verdict (written by other code): export and verify anew
    if verdict.get("ok") and not (folder / "model.onnx").is_file():
        return None
    return verdict


def _export_and_verify(model_dir: Path, folder: Path) -> dict[str, Any]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        from analysis.embedding.minilm import new_torch_model

        st = new_torch_model()
        export(st, tmp)
        runner = OnnxMiniLM(tmp, model_dir, workers=1)
        onnx_vectors = runner.encode(SAMPLE)
        cos = cosines(onnx_vectors, torch_vectors(st, SAMPLE))
        del st
        # batched (padded with others) and one by one, twice: the same vectors (deterministic)
        alone = np.concatenate([runner.encode([text]) for text in SAMPLE])
        again = runner.encode(SAMPLE)
        agree = float(min(cosines(alone, onnx_vectors).min(), cosines(again, onnx_vectors).min()))
        verdict = {"ok": bool(cos.min() >= MIN_COSINE and agree >= MIN_COSINE), "min_cosine": float(cos.min()),
                   "mean_cosine": float(cos.mean()), "batched_vs_alone_min_cosine": agree,
                   "repeat_identical": bool(np.array_equal(again, onnx_vectors)), "sample": len(SAMPLE),
                   "threshold": MIN_COSINE, "record": export_record(), "model_dir": str(model_dir)}
        if not verdict["ok"]:
            (tmp / "model.onnx").unlink(missing_ok=True)
        (tmp / "verified.json").write_text(json.dumps(verdict, indent=2), encoding="utf-8")
        try:
            os.replace(tmp, folder)
        except OSError:  # another process put its (equally verified) copy there first
            if _verdict(folder) is None:
                raise
        return verdict
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
