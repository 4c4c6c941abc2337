"""Sentence embeddings for near-duplicate and relevance checks.

The packaged all-MiniLM-L6-v2 with int8 weights on ONNX Runtime (libs/text/minilm.py; no PyTorch, loads offline)
is used when installed; otherwise a lexical embedding (hashed word and character n-gram counts) keeps the checks
working, with coarser similarity. ``Embedder.kind`` says which one is in use, because similarity thresholds differ
between the two (``EMBEDDER_KINDS`` lists every kind a threshold table must cover).
Every vector is L2-normalised, so a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from libs.text import minilm
from libs.text.kinds import EmbedderKind
from libs.text.normalise import normalise

log = logging.getLogger(__name__)

MODEL_KIND: EmbedderKind = "minilm_int8"
LEXICAL_DIM = 4096
# The vectors of the texts embedded last, by text, for the whole process (as the model is). The gates embed the
# same texts again and again: the facts and the window's posts for every draft, a reply's target tweet for each
# gate and each rewrite, a draft for the near-duplicate and the claims gates (of 2,795 texts the reply corpora
# embed, 1,661 are distinct); and each planner started in a process embeds the facts file (~40% of the CPU of the
# planner's service tests; Embedder.embed_stored keeps those on disk). Bounded in bytes per kind: 4,096 of the
# model's vectors (1.5 KB each), 384 lexical ones (16 KB each: fewer than the facts' two wordings, 510, which the
# lexical fallback then embeds again as drafts need them).
CACHE_BYTES = 6 * 1024 * 1024
_caches: dict[str, OrderedDict[str, np.ndarray]] = {}
_cache_lock = threading.Lock()  # the planner embeds from worker threads too

# One model per process: every Embedder shares it (loading takes about a second and ~95 MB resident).
_model: minilm.MiniLM | None = None
_model_lock = threading.Lock()
_model_failed = False


def _load_model() -> minilm.MiniLM | None:
    global _model, _model_failed
    with _model_lock:
        if _model is None and not _model_failed:
            minilm.threads()  # a bad XBOT_EMBED_THREADS stops the service with its name, not a fallback
            try:
                _model = minilm.MiniLM()
            except Exception as err:  # missing package, wrong file, broken runtime: all mean "use the fallback"
                log.warning("embedding model unavailable, using lexical fallback: %s", err)
                _model_failed = True
        return _model


def model_available() -> bool:
    return minilm.installed()


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

    def __init__(self, prefer: Literal["auto", "minilm_int8", "lexical"] = "auto") -> None:
        if prefer not in ("auto", "lexical", MODEL_KIND):
            raise ValueError(f"prefer must be 'auto', {MODEL_KIND!r} or 'lexical', not {prefer!r}")
        self._model = None if prefer == "lexical" else _load_model()
        if self._model is None and prefer == MODEL_KIND:
            raise RuntimeError("all-MiniLM-L6-v2 (int8) is not installed: pip install -e '.[embeddings]'")
        self.kind: EmbedderKind = MODEL_KIND if self._model is not None else "lexical"

    @property
    def dim(self) -> int:
        return minilm.DIM if self._model is not None else LEXICAL_DIM

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dim), float32, each row of norm 1 (or 0 for an empty lexical text)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _cache_lock:
            cache = _caches.setdefault(self.kind, OrderedDict())
            known = {t: cache[t] for t in texts if t in cache}
            for t in known:
                cache.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            vectors = self._model.encode(missing) if self._model is not None else map(lexical_vector, missing)
            fresh = dict(zip(missing, vectors, strict=True))
            known |= fresh
            self._remember(fresh)
        return np.stack([known[t] for t in texts])

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Into the process's cache, the least recently used going first past its bound."""
        with _cache_lock:
            cache = _caches.setdefault(self.kind, OrderedDict())
            cache.update(vectors)
            while len(cache) > CACHE_BYTES // (self.dim * 4):
                cache.popitem(last=False)

    def embed_stored(self, texts: Sequence[str]) -> np.ndarray:
        """``embed``, kept on disk between processes: the facts file's ~500 sentences take 3-7 CPU-s to embed, and
        every planner process (each service start, each restart after a crash) embeds the same ones. The file is
        named by the model (the pinned file's digest, or the lexical embedding's size) and every text, so a changed
        facts file or model is embedded afresh. A store that cannot be read or written is only a slower start."""
        directory = _store_dir()
        identity = minilm.MODEL_SHA256 if self._model is not None else f"lexical-{LEXICAL_DIM}"
        key = hashlib.sha256("\0".join([identity, *texts]).encode("utf-8")).hexdigest()[:32]
        path = directory / f"{self.kind}-{key}.npy" if directory is not None else None
        if path is not None:
            try:
                stored: np.ndarray = np.load(path, allow_pickle=False)
                if stored.shape == (len(texts), self.dim):
                    self._remember(dict(zip(texts, stored, strict=True)))
                    return stored
            except (OSError, ValueError) as err:
                if not isinstance(err, FileNotFoundError):
                    log.info("stored embeddings %s unreadable, embedding again: %s", path, err)
        vectors = self.embed(texts)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(f".{os.getpid()}.part")
                with partial.open("wb") as out:
                    np.save(out, vectors, allow_pickle=False)
                os.replace(partial, path)  # whole or absent: processes starting together may race here
            except OSError as err:
                log.info("embeddings not stored in %s: %s", directory, err)
        return vectors

    def embed_one(self, text: str) -> np.ndarray:
        one: np.ndarray = self.embed([text])[0]
        return one


def _store_dir() -> Path | None:
    """The user's cache directory (XDG_CACHE_HOME, else ~/.cache), as pip and Playwright keep theirs."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory (a bare container user): nothing is stored
            return None
    return Path(base) / "xbot" / "embeddings"


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
