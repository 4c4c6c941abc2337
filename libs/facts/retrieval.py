"""Choosing the facts a prompt carries: the ones on the chosen topic, or, for a reply, the ones closest in
meaning to the target tweet. Fact vectors are computed once per embedder and kept."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from libs.facts.claims import sentences
from libs.facts.model import Fact, FactBook
from libs.niche import FactsConfig
from libs.text import Embedder, normalise


@dataclass(frozen=True)
class ScoredFact:
    fact: Fact
    similarity: float


class FactIndex:
    """The usable facts of a facts file with their embeddings, for retrieval."""

    def __init__(self, book: FactBook, embedder: Embedder, config: FactsConfig | None = None) -> None:
        self.config = config or FactsConfig()
        self.embedder = embedder
        self.facts: tuple[Fact, ...] = book.usable(include_unverified=self.config.use_unverified)
        # A fact is found by what it says in either wording; each row is the mean of its two unit vectors.
        if self.facts:
            claims = embedder.embed_stored([f.claim for f in self.facts])
            quotes = embedder.embed_stored([f.quote for f in self.facts])
            both = claims + quotes
            norms = np.linalg.norm(both, axis=1, keepdims=True)
            self._vectors = both / np.where(norms == 0, 1, norms)
        else:
            self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)

    def _threshold(self, table: Mapping[str, float]) -> float:
        try:
            return table[self.embedder.kind]
        except KeyError:
            raise ValueError(
                f"no fact relevance threshold for embedder kind {self.embedder.kind!r}: add it to "
                f"facts.relevance_min_similarity in the niche file (known: {', '.join(sorted(table))})"
            ) from None

    def for_topic(self, topic: str, *, k: int | None = None, rng: random.Random | None = None,
                  stated: np.ndarray | None = None, stated_texts: Sequence[str] = (),
                  fresh_only: bool = False, exclude: frozenset[str] = frozenset()) -> list[Fact]:
        """Up to ``k`` facts on ``topic``; with ``rng``, a fresh sample each time so prompts vary. ``stated``: the
        embeddings of the account's recent posts; the facts they are least close to come first, and among those
        the ones the fewest of ``stated_texts`` (recent posts' texts) carry word for word, so a topic's facts take
        turns instead of the same few being restated until the duplicate gates refuse them. ``fresh_only``: none
        that a recent post states already (as close to it as ``stated_min_similarity``: a post about that fact).
        A fact a thread stated among others stays, last: excluding those too leaves a topic without facts within
        two weeks (~100 facts, ~250 posts and threads in a 30-day window: measured, two posts in three then got no
        call at all), and a new thread may state it again in other words; the thread's repeated parts go
        (Drafter._without_repeated_parts). ``exclude``: ids of facts never to offer (:meth:`stated_by`)."""
        k = k or self.config.per_prompt
        on_topic = [i for i, f in enumerate(self.facts) if f.topic == topic and f.id not in exclude]
        if rng is not None:
            on_topic = rng.sample(on_topic, len(on_topic))
        closeness = np.zeros(len(on_topic), dtype=np.float32)
        if stated is not None and len(stated) and on_topic and stated.shape[1] == self._vectors.shape[1]:
            closeness = (stated @ self._vectors[on_topic].T).max(axis=0)
        said = [normalise(t) for t in stated_texts]
        uses = [sum(normalise(self.facts[i].claim) in t for t in said) for i in on_topic]
        keep: list[int] = list(range(len(on_topic)))
        if fresh_only:
            limit = self._threshold(self.config.stated_min_similarity)
            keep = [j for j in keep if closeness[j] < limit]
        # Stable sort: among facts equally (un)stated, the random order above stands.
        order = sorted(keep, key=lambda j: (round(float(closeness[j]), 1), uses[j]))
        return [self.facts[on_topic[j]] for j in order[:k]]

    def for_text(self, text: str, *, k: int | None = None, topic: str | None = None,
                 exclude: frozenset[str] = frozenset()) -> list[ScoredFact]:
        """The facts closest in meaning to ``text`` (a target tweet), best first, above the relevance threshold
        for this embedder; those on ``topic`` first among equals; none of ``exclude`` (fact ids)."""
        k = k or self.config.per_prompt
        if not self.facts or not text.strip():
            return []
        threshold = self._threshold(self.config.relevance_min_similarity)
        sims = self._vectors @ self.embedder.embed_one(text)
        order = sorted(
            range(len(self.facts)),
            key=lambda i: (-float(sims[i]), self.facts[i].topic != topic, self.facts[i].id),
        )
        order = [i for i in order if self.facts[i].id not in exclude]
        return [ScoredFact(self.facts[i], float(sims[i])) for i in order[:k] if sims[i] >= threshold]

    def stated_by(self, texts: Sequence[str]) -> frozenset[str]:
        """Ids of the facts ``texts`` state: a fact's claim word for word, or a sentence of them as close to the
        fact as a post stating it is (``stated_min_similarity``: the claims gate's own ``support_min_similarity``
        takes most facts of the topic for a sentence stating one of them). What the planner holds a post X shows a
        Community Note under to have rested on."""
        lines = [s for t in texts for s in sentences(t) if len(s.split()) >= 4]
        if not self.facts or not lines:
            return frozenset()
        close = (self.embedder.embed(lines) @ self._vectors.T).max(axis=0)
        threshold = self._threshold(self.config.stated_min_similarity)
        said = [normalise(t) for t in texts]
        return frozenset(f.id for f, c in zip(self.facts, close, strict=True)
                         if c >= threshold or any(normalise(f.claim) in t for t in said))


def least_stated(facts: Sequence[Fact], stated_texts: Sequence[str], k: int) -> list[Fact]:
    """Up to ``k`` of ``facts`` (best first) for a prompt, before the call: those none of ``stated_texts`` (our
    tweets of the duplicate window) carries word for word; when every one was stated, the ones stated the fewest
    times, best first among equals. A reply restating a fact comes back as a repeat of one of our tweets often
    enough when that fact was stated many times (the same fact in the same stock frame, which X refuses): offered
    the closest facts however often they were stated, replies to the benchmark's ten recurring tweets were refused
    as repeats 163 times in 1,000 items, for 262 replies."""
    said = [normalise(t) for t in stated_texts]
    uses = [sum(normalise(f.claim) in t for t in said) for f in facts]
    unstated = [f for f, n in zip(facts, uses, strict=True) if n == 0]
    if unstated:
        return unstated[:k]
    order = sorted(range(len(facts)), key=lambda i: uses[i])  # stable: the given order among equals
    return [facts[i] for i in order[:k]]


def prompt_lines(facts: Sequence[Fact]) -> list[str]:
    """The facts as numbered lines for a prompt, each with its source."""
    return [f"[{i}] {fact.citation()}" for i, fact in enumerate(facts, start=1)]
