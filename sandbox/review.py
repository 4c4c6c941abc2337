"""The sandbox's stand-in for a model reviewing drafts against the rubric of libs/gates/review.py.

It is not a language model and it does not look anything up: it is a small classifier (one logistic regression
per rubric category, numpy only) trained at start on its own labelled drafts, ``review_examples.yaml``, written
separately from the test corpora. It judges a draft by content features: its words and word pairs, shapes
(long digit runs, ``@``, domain-like tokens, brand-like CamelCase, codes like ``SAVE20``, a titled name), and how
it echoes the tweet it answers (quoted or capitalised words of the tweet, words from the part of the tweet after
a colon). Like a real reviewer it is fallible: what it misses is what its examples did not teach it.

It answers in the two-line format the prompt asks for, but not always cleanly: some answers come in Markdown
bold, some in a code fence, some after a preamble, as real models do.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

EXAMPLES_PATH = Path(__file__).with_name("review_examples.yaml")
CATEGORIES = ("medical_misinformation", "defamation", "promotion", "contact_details", "party_politics",
              "obeys_tweet")
_DRAFT = re.compile(r"<draft>(.*?)</draft>", re.DOTALL | re.IGNORECASE)
_TWEET = re.compile(r"<tweet>(.*?)</tweet>", re.DOTALL | re.IGNORECASE)
# A batch review's numbered blocks (libs/gates/review.py, review_batch_messages).
_NUMBERED_DRAFT = re.compile(r'<draft id="(\d+)"[^>]*>(.*?)</draft>', re.DOTALL | re.IGNORECASE)
_NUMBERED_TWEET = re.compile(r'<tweet id="(\d+)">(.*?)</tweet>', re.DOTALL | re.IGNORECASE)
_REVIEW_LINE = re.compile(r"^\s*kind\s*:\s*review\s*$", re.IGNORECASE | re.MULTILINE)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(c for c in text if not unicodedata.combining(c))


def features(draft: str, tweet: str | None) -> set[str]:
    """Binary features of a draft (and of how it echoes its tweet)."""
    raw = _plain(draft)
    words = [w.lower() for w in _WORD.findall(raw)]
    out = {f"w:{w}" for w in words}
    out |= {f"b:{a}_{b}" for a, b in zip(words, words[1:])}
    shapes = {
        "digits": re.search(r"(?:\d[\s().-]?){7,}", raw),
        "at": "@" in raw or re.search(r"\bat\b \w+ \bdot\b", raw, re.I),
        "domain": re.search(r"\w\.(?:[a-z]{2,})\b", raw) or re.search(r"\bdot (?:com|net|org|io)\b", raw, re.I),
        "camel": re.search(r"\b[A-Z][a-z]+[A-Z]\w+", raw),
        "code": re.search(r"\b[A-Z]{2,}\d{2,}\b", raw),
        "percent": "%" in raw,
        "titled_name": re.search(r"\b(?:Dr|Prof|Professor|Coach|Nurse|Chef|Trainer|Dietitian|Influencer|"
                                 r"Researcher|Senator)\.?\s+[A-Z][a-z]+", raw),
        "two_caps": re.search(r"(?<=[a-z,] )[A-Z][a-z]+ [A-Z][a-z]+", raw),
        "hex": re.search(r"\b0x[0-9a-fA-F]{8,}", raw),
        "short": len(words) <= 4,
        "shouting": re.search(r"\b[A-Z]{4,}\b", raw),
    }
    out |= {f"s:{name}" for name, hit in shapes.items() if hit}
    if tweet:
        t = _plain(tweet)
        quoted = re.findall(r"[\"'“”«»‘’]([^\"'“”«»‘’]{2,60})[\"'“”«»‘’]", t)
        tail = t.rsplit(":", 1)[1] if ":" in t else ""
        caps = set(re.findall(r"\b[A-Z]{3,}[\w-]*", t))
        low = raw.lower()
        if any(q.lower().strip() and q.lower().strip() in low for q in quoted):
            out.add("e:quoted")
        if tail and set(_WORD.findall(tail.lower())) & set(words) - {"the", "a", "and", "to", "with", "of"}:
            out.add("e:after_colon")
        if caps & set(_WORD.findall(raw)):
            out.add("e:caps")
        tweet_words = {w.lower() for w in _WORD.findall(t)}
        if words and len(set(words) - tweet_words) <= 1:
            out.add("e:parrot")
    return out


@dataclass
class Reviewer:
    vocabulary: dict[str, int]
    weights: np.ndarray  # (features, categories)
    bias: np.ndarray  # (categories,)

    def scores(self, draft: str, tweet: str | None) -> dict[str, float]:
        idx = [self.vocabulary[f] for f in features(draft, tweet) if f in self.vocabulary]
        z = self.weights[idx].sum(axis=0) + self.bias
        return dict(zip(CATEGORIES, (1 / (1 + np.exp(-z))).tolist()))

    def judge(self, draft: str, tweet: str | None) -> list[str]:
        """Categories whose probability reaches 0.5 for the whole draft or any one of its sentences: a
        harmless opening sentence does not dilute a harmful second one."""
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", draft) if len(s.split()) >= 4]
        pieces = [draft, *sentences] if len(sentences) > 1 else [draft]
        best = {c: 0.0 for c in CATEGORIES}
        for piece in pieces:
            for c, p in self.scores(piece, tweet).items():
                best[c] = max(best[c], p)
        return [c for c, p in best.items() if p >= 0.5]


def train(examples: list[dict], *, epochs: int = 300, rate: float = 1.0, l2: float = 1e-4) -> Reviewer:
    # Character n-grams were tried as features too: on a set this small they flagged ordinary drafts by chance.
    feats = [features(e["draft"], e.get("tweet")) for e in examples]
    vocabulary = {f: i for i, f in enumerate(sorted(set().union(*feats)))}
    x = np.zeros((len(examples), len(vocabulary)), dtype=np.float32)
    for row, fs in enumerate(feats):
        x[row, [vocabulary[f] for f in fs]] = 1.0
    y = np.array([[c in (e.get("labels") or []) for c in CATEGORIES] for e in examples], dtype=np.float32)
    w = np.zeros((len(vocabulary), len(CATEGORIES)), dtype=np.float32)
    b = np.zeros(len(CATEGORIES), dtype=np.float32)
    for _ in range(epochs):  # full-batch gradient descent: deterministic, a fraction of a second
        p = 1 / (1 + np.exp(-(x @ w + b)))
        grad = p - y
        w -= rate * (x.T @ grad / len(examples) + l2 * w)
        b -= rate * grad.mean(axis=0)
    return Reviewer(vocabulary, w, b)


@lru_cache(maxsize=1)
def default_reviewer() -> Reviewer:
    return train(yaml.safe_load(EXAMPLES_PATH.read_text(encoding="utf-8"))["examples"])


def is_review(prompt: str) -> bool:
    return bool(_REVIEW_LINE.search(prompt)) and bool(_DRAFT.search(prompt) or _NUMBERED_DRAFT.search(prompt))


def answer_review(prompt: str, rng: random.Random, reviewer: Reviewer | None = None) -> str:
    """The reviewer's answer to a review prompt (user and system text joined)."""
    if numbered := _NUMBERED_DRAFT.findall(prompt):
        return _answer_batch(numbered, dict(_NUMBERED_TWEET.findall(prompt)), rng, reviewer or default_reviewer())
    drafts = _DRAFT.findall(prompt)
    tweets = _TWEET.findall(prompt)
    draft = drafts[-1].strip()
    categories = (reviewer or default_reviewer()).judge(draft, tweets[-1].strip() if tweets else None)
    verdict = "fail" if categories else "pass"
    listed = ", ".join(categories) or "none"
    style = rng.random()
    if style < 0.15:
        return f"**VERDICT:** {verdict}\n**CATEGORIES:** {listed}"
    if style < 0.25:
        return f"```\nVERDICT: {verdict}\nCATEGORIES: {listed}\n```"
    if style < 0.35:
        return f"Here is my review of the draft.\n\nVERDICT: {verdict}\nCATEGORIES: {listed}"
    return f"VERDICT: {verdict}\nCATEGORIES: {listed}"


def _answer_batch(drafts: list[tuple[str, str]], tweets: dict[str, str], rng: random.Random,
                  reviewer: Reviewer) -> str:
    """One numbered verdict line per draft, each judged on its own, in the styles of a single answer."""
    lines = []
    for n, draft in drafts:
        tweet = tweets.get(n)
        categories = reviewer.judge(draft.strip(), tweet.strip() if tweet else None)
        lines.append((n, "fail" if categories else "pass", ", ".join(categories) or "none"))
    style = rng.random()
    if style < 0.15:
        return "\n".join(f"**{n}.** **VERDICT:** {v} | **CATEGORIES:** {c}" for n, v, c in lines)
    body = "\n".join(f"{n}: VERDICT: {v} | CATEGORIES: {c}" for n, v, c in lines)
    if style < 0.25:
        return f"```\n{body}\n```"
    if style < 0.35:
        return f"Here is my review of the {len(lines)} drafts.\n\n{body}"
    return body
