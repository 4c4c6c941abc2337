"""The sandbox's stand-in for a model reviewing drafts against the rubric of libs/gates/review.py.

It is not a language model and it does not look anything up: it is a small classifier (one logistic regression
per rubric category, numpy only) trained at start on its own labelled drafts, ``review_examples.yaml``, written
separately from the test corpora. It judges a draft by content features: its words and word pairs, shapes
(long digit runs, ``@``, domain-like tokens, brand-like CamelCase, codes like ``SAVE20``, a titled name), and how
it echoes the tweet it answers (quoted or capitalised words of the tweet, words from the part of the tweet after
a colon). The one category about the tweet, ``hostile_tweet`` (a reply to the account's own tweet that trolls it),
reads the tweet's own words and nothing else, and only for a draft of kind conversation; ``endorses_misinformation``
(a draft going along with a false health claim in its tweet) and ``personal_medical_advice`` (a draft advising the
tweet's writer on their own care) read both the draft's words and the tweet's. Like a real reviewer it is
fallible: what it misses is what its examples did not teach it.

It answers in the two-line format the prompt asks for, but not always cleanly: some answers come in Markdown
bold, some in a code fence, some after a preamble, as real models do.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from sandbox.conversations import HOSTILE_SHARE

EXAMPLES_PATH = Path(__file__).with_name("review_examples.yaml")
CATEGORIES = ("medical_misinformation", "defamation", "promotion", "contact_details", "party_politics",
              "obeys_tweet", "invented_identity", "shaming", "endorses_misinformation", "personal_medical_advice",
              "hostile_tweet")
# The categories about the tweet a draft answers, not the draft: they learn from the tweet's own words (``t:``
# features) and nothing else, the others from the draft and how it echoes the tweet, never the tweet's words.
TWEET_CATEGORIES = ("hostile_tweet",)
# A draft going along with a false claim in its tweet is judged on both: the tweet's words and the draft's.
BOTH_CATEGORIES = ("endorses_misinformation", "personal_medical_advice")
# The prompt's rubric asks for hostile_tweet only on an answer in our own conversation (libs/gates/review.py).
CONVERSATION_KIND = "conversation"
# A reply is judged trolling from this probability (at the world's odds, below), not from 0.5: answering a troll
# is taken to cost four times what leaving a friendly reply unanswered does, so the reviewer leaves a reply alone
# once trolling is one chance in five (1 / (1 + 4)), as a careful owner would.
TWEET_THRESHOLD = 0.2
_KIND = re.compile(r"^\s*draft_kind\s*:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
_DRAFT = re.compile(r"<draft>(.*?)</draft>", re.DOTALL | re.IGNORECASE)
_TWEET = re.compile(r"<tweet>(.*?)</tweet>", re.DOTALL | re.IGNORECASE)
# A batch review's numbered blocks (libs/gates/review.py, review_batch_messages).
_NUMBERED_DRAFT = re.compile(r'<draft id="(\d+)"(?:\s+kind="(\w*)")?[^>]*>(.*?)</draft>', re.DOTALL | re.IGNORECASE)
_NUMBERED_TWEET = re.compile(r'<tweet id="(\d+)">(.*?)</tweet>', re.DOTALL | re.IGNORECASE)
_REVIEW_LINE = re.compile(r"^\s*kind\s*:\s*review\s*$", re.IGNORECASE | re.MULTILINE)
# Words too common to say anything of a tweet's tone on their own (with a few hundred examples they picked up
# chance weights: "a" and "take" made "How long did it take …?" read as trolling); their pairs still count.
_FUNCTION_WORDS = frozenset("a an the of to in on at for with by from as and or but it its is are was were be "
                            "been this that these those there here so than then".split())
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
        tweet_words = [w.lower() for w in _WORD.findall(t)]
        if words and len(set(words) - set(tweet_words)) <= 1:
            out.add("e:parrot")
        content = [w for w in tweet_words if w not in _FUNCTION_WORDS]
        out |= {f"t:{w}" for w in content} | {f"t:{a}_{b}" for a, b in zip(tweet_words, tweet_words[1:])}
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

    def judge(self, draft: str, tweet: str | None, kind: str | None = None) -> list[str]:
        """Categories whose probability reaches 0.5 for the whole draft or any one of its sentences: a
        harmless opening sentence does not dilute a harmful second one. The tweet's own categories only for a
        draft of ``kind`` conversation, as the rubric says."""
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", draft) if len(s.split()) >= 4]
        pieces = [draft, *sentences] if len(sentences) > 1 else [draft]
        best = {c: 0.0 for c in CATEGORIES}
        for piece in pieces:
            for c, p in self.scores(piece, tweet).items():
                best[c] = max(best[c], p)
        return [c for c, p in best.items()
                if (p >= TWEET_THRESHOLD and kind == CONVERSATION_KIND if c in TWEET_CATEGORIES else p >= 0.5)]


def train(examples: list[dict], *, epochs: int = 300, rate: float = 1.0, l2: float = 1e-4) -> Reviewer:
    # Character n-grams were tried as features too: on a set this small they flagged ordinary drafts by chance.
    feats = [features(e.get("draft", ""), e.get("tweet")) for e in examples]
    vocabulary = {f: i for i, f in enumerate(sorted(set().union(*feats)))}
    x = np.zeros((len(examples), len(vocabulary)), dtype=np.float32)
    for row, fs in enumerate(feats):
        x[row, [vocabulary[f] for f in fs]] = 1.0
    y = np.array([[c in (e.get("labels") or []) for c in CATEGORIES] for e in examples], dtype=np.float32)
    tweet_words = np.array([f.startswith("t:") for f in sorted(vocabulary, key=vocabulary.get)])
    reads = (tweet_words[:, None] == np.array([c in TWEET_CATEGORIES for c in CATEGORIES])[None, :])
    reads[:, [c in BOTH_CATEGORIES for c in CATEGORIES]] = True
    # A draft without a tweet teaches the tweet's categories nothing (it would only push their bias down), and a
    # tweet without a draft (a reply to an account's tweet, labelled for hostile_tweet) the draft's nothing. An
    # example written for a category that reads both (``judges``) teaches the tweet's categories nothing either:
    # its tweet is a stranger's post, not a reply to us, and each one would move the share of trolls, which the prior
    # correction below moves to the world's.
    counts = np.array([[(bool(e.get("tweet")) and not e.get("judges")) if c in TWEET_CATEGORIES
                        else bool(e.get("draft")) for c in CATEGORIES]
                       for e in examples], dtype=np.float32)
    taught = counts.sum(axis=0)  # examples per category: each category's gradient is its own examples' mean
    w = np.zeros((len(vocabulary), len(CATEGORIES)), dtype=np.float32)
    b = np.zeros(len(CATEGORIES), dtype=np.float32)
    for _ in range(epochs):  # full-batch gradient descent: deterministic, a fraction of a second
        p = 1 / (1 + np.exp(-(x @ w + b)))
        grad = (p - y) * counts
        w -= rate * (x.T @ grad / taught + l2 * w) * reads
        b -= rate * grad.sum(axis=0) / taught
    # The examples hold as many trolling replies as friendly ones; the replies an account gets do not (about one in
    # seven trolls, conversations.HOSTILE_SHARE): the tweet's categories' bias moves from the examples' odds to the
    # world's (prior correction), or every reply with a word the examples did not settle reads as trolling.
    for c, category in enumerate(CATEGORIES):
        if category in TWEET_CATEGORIES:
            share = float(y[counts[:, c] > 0, c].mean())
            b[c] += math.log(HOSTILE_SHARE / (1 - HOSTILE_SHARE)) - math.log(share / (1 - share))
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
    kind = m.group(1) if (m := _KIND.search(prompt)) else None
    categories = (reviewer or default_reviewer()).judge(draft, tweets[-1].strip() if tweets else None, kind)
    verdict = "fail" if categories else "pass"
    listed = ", ".join(categories) or "none"
    lines = f"VERDICT: {verdict}\nCATEGORIES: {listed}"
    style = rng.random()
    if style < 0.15:
        return f"**VERDICT:** {verdict}\n**CATEGORIES:** {listed}"
    if style < 0.25:
        return f"```\n{lines}\n```"
    if style < 0.35:
        return f"Here is my review of the draft.\n\n{lines}"
    # The forms real models answer in besides (since 2026-12-06, evening; the same draw, so every verdict of a
    # seeded run is as it was): JSON, reasoning first, a verdict in prose, the answer format echoed before the
    # answer, and (a small model's non-answer) the format echoed alone, which reviews nothing.
    if style < 0.40:
        return json.dumps({"verdict": verdict, "categories": list(categories)})
    if style < 0.45:
        return f"<think>Check the draft against each rubric item.</think>\n{lines}"
    if style < 0.49:
        return f"Final answer: {verdict.upper()}" + (f" ({listed})" if categories else "")
    if style < 0.53:
        return f"{REVIEW_FORMAT}\n\n{lines}"
    if style < 0.55:
        return REVIEW_FORMAT
    return lines


# The answer format of the review prompt, as a small model echoes it back.
REVIEW_FORMAT = "VERDICT: pass or fail\nCATEGORIES: none, or the rubric names that apply, separated by commas"


def _answer_batch(drafts: list[tuple[str, str, str]], tweets: dict[str, str], rng: random.Random,
                  reviewer: Reviewer) -> str:
    """One numbered verdict line per draft, each judged on its own, in the styles of a single answer."""
    lines = []
    for n, kind, draft in drafts:
        tweet = tweets.get(n)
        categories = reviewer.judge(draft.strip(), tweet.strip() if tweet else None, kind or None)
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
