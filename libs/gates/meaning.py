"""A second reader of strangers' tweets, by meaning: a logistic regression on the packaged MiniLM's embedding,
beside a rule that reads words. Used for people in a crisis (libs/gates/crisis.py) and for false health claims
(libs/gates/misinformation.py); each model is a JSON file of 384 weights, trained by a script under bench/ on
labelled sets written blind and ~10,000 ordinary texts the rule leaves alone.

A rule's words reach the plain forms; what a person writes in other words the model reads, at a threshold chosen
on sets it was not trained on. Both err towards leaving a tweet alone: a lost opportunity costs one reply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

# texts -> per text, what it tells of (the rule's kind, or the model's ``told`` label), or None
TextReader = Callable[[Sequence[str]], list[str | None]]


class Embedder(Protocol):
    @property
    def kind(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class EmbeddingModel:
    """A logistic regression on a text's embedding, with the threshold it flags at and the embedder it was
    trained on (a vector of another embedder means nothing to it)."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.embedder_kind: str = data["embedder"]
        self.threshold = float(data["threshold"])
        self._weights = np.asarray(data["weights"], dtype=np.float64)
        self._intercept = float(data["intercept"])

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(vectors, dtype=np.float64) @ self._weights + self._intercept)))


@lru_cache(maxsize=4)
def load_model(path: Path) -> EmbeddingModel:
    return EmbeddingModel(path)


def reader(rule: Callable[[str], str | None], path: Path, told: str, embedder: Embedder | None = None) -> TextReader:
    """Reads texts with ``rule``, and, when ``embedder`` is the one the model at ``path`` was trained on, with the
    model for what the rule leaves (reported as ``told``). The rule's finding stands as it named it."""
    model = load_model(path) if embedder is not None and embedder.kind == load_model(path).embedder_kind else None

    def read(texts: Sequence[str]) -> list[str | None]:
        found = [rule(t) for t in texts]
        rest = [i for i, (t, kind) in enumerate(zip(texts, found, strict=True)) if kind is None and t.strip()]
        if model is not None and embedder is not None and rest:
            said = model.probabilities(embedder.embed([texts[i] for i in rest])) > model.threshold
            for i, flagged in zip(rest, said, strict=True):
                if flagged:
                    found[i] = told
        return found

    return read
