"""Gates every post, thread and reply passes. Each gate is a pure function returning None (pass) or a Rejection.

A draft must pass every gate to be queued; a rejection names the gate, a reason a person can act on and fixed
advice for the rewrite prompt. Gates that need history (duplicates, topic freshness) take it as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from libs.gates.entities import fold
from libs.gates.medical import check_medical_safety
from libs.gates.verdict import Rejection, Verdict
from libs.niche import NicheConfig
from libs.text import content_hash, normalise, x_length
from libs.text.sentences import split_sentences

if TYPE_CHECKING:
    # numpy is imported where vectors are compared: the console gates its owner's posts without vectors and
    # needs no numpy (~10 MB resident).
    import numpy as np

HASHTAG_RE = re.compile(r"(?<![\w&])#\w+", re.UNICODE)


# ---------------------------------------------------------------- length


def check_length(parts: Sequence[str], kind: str, config: NicheConfig) -> Verdict:
    g = config.gates
    if not parts or any(not p.strip() for p in parts):
        return Rejection("length", "empty text or empty thread part")
    if kind == "thread":
        if not g.thread_min_parts <= len(parts) <= g.thread_max_parts:
            return Rejection("length",
                             f"thread has {len(parts)} parts, needs {g.thread_min_parts}-{g.thread_max_parts}")
    elif len(parts) != 1:
        return Rejection("length", f"a {kind} has one part, got {len(parts)}")
    limit = g.reply_max_chars if kind == "reply" else g.part_max_chars
    for i, part in enumerate(parts, 1):
        n = x_length(part)
        if n > limit:
            where = f"part {i}" if kind == "thread" else kind
            return Rejection("length", f"{where} is {n} characters as X counts them, limit {limit}")
    return None


# ---------------------------------------------------------------- banned phrases and hashtags


def _contains_phrase(text_norm: str, phrase: str) -> bool:
    p = normalise(phrase)
    # A plural or possessive "s" still names the subject: "vaccines" for "vaccine", "Ozempic's".
    return bool(p) and re.search(rf"(?<!\w){re.escape(p)}s?(?!\w)", text_norm) is not None


def subject_banned(text: str, config: NicheConfig) -> Verdict:
    """Banned phrases and subjects (by name or by the terms that name them): in our text, or in a tweet we would
    answer."""
    norm = normalise(fold(text))
    for phrase in config.banned_phrases:
        if _contains_phrase(norm, phrase):
            return Rejection("banned", f"banned phrase {phrase!r}")
    for subject in config.banned_subjects:
        for term in (subject, *config.banned_subject_terms.get(subject, ())):
            if _contains_phrase(norm, term):
                return Rejection("banned", f"banned subject {subject!r} ({term!r})")
    return None


def check_banned(text: str, config: NicheConfig, *, kind: str = "post") -> Verdict:
    """Banned phrases, subjects and hashtags, in posts and replies."""
    if verdict := subject_banned(text, config):
        return verdict
    folded = fold(text)
    tags = HASHTAG_RE.findall(folded)
    banned = {t.lower() for t in config.hashtags.banned}
    for tag in tags:
        if tag.lower() in banned:
            return Rejection("hashtags", f"banned hashtag {tag}")
    limit = config.hashtags.max_per_reply if kind == "reply" else config.hashtags.max_per_post
    if len(tags) > limit:
        return Rejection("hashtags", f"{len(tags)} hashtags, at most {limit} allowed")
    return None


# ---------------------------------------------------------------- duplicates and freshness


@dataclass(frozen=True)
class OwnPost:
    text: str
    hash: str
    topic: str | None
    at: datetime
    vector: np.ndarray | None = field(default=None, compare=False)


@dataclass
class RecentPosts:
    """Own posts (and queued items) with the embeddings the duplicate gates compare against."""

    posts: list[OwnPost] = field(default_factory=list)
    # Hashes of every tweet of ours in the window (each thread part, each reply): X refuses a repeat of any.
    tweet_hashes: set[str] = field(default_factory=set)
    # When each tweet added with a time was written: a drafter kept across days (the planner benchmark, a long
    # run) forgets them as they leave the window. Hashes loaded without a time come from a windowed query.
    tweet_times: dict[str, datetime] = field(default_factory=dict)
    # The tweets' texts by hash (replies included), for the facts a reply offers: those our tweets stated go last.
    tweet_texts: dict[str, str] = field(default_factory=dict)

    def add(self, post: OwnPost) -> None:
        self.posts.append(post)

    def add_tweets(self, texts: Sequence[str], at: datetime | None = None) -> None:
        for t in texts:
            h = content_hash(t)
            self.tweet_hashes.add(h)
            self.tweet_texts[h] = t
            if at is not None:
                self.tweet_times[h] = max(at, self.tweet_times.get(h, at))

    def discard_tweets(self, texts: Sequence[str]) -> None:
        """Forget tweets added for a while (a draft held while its review was pending)."""
        for t in texts:
            h = content_hash(t)
            self.tweet_hashes.discard(h)
            self.tweet_texts.pop(h, None)
            self.tweet_times.pop(h, None)

    def forget_before(self, since: datetime) -> None:
        """Forget timed tweets older than ``since``: out of the duplicate window, X takes them again. (Posts keep
        their times and are windowed where they are read.)"""
        old = [h for h, at in self.tweet_times.items() if at < since]
        for h in old:
            del self.tweet_times[h]
            self.tweet_hashes.discard(h)
            self.tweet_texts.pop(h, None)

    def tweets_since(self, since: datetime) -> list[str]:
        """Our tweets written since ``since`` (a draft held for its review, added without a time, is one of now)."""
        return [t for h, t in self.tweet_texts.items() if self.tweet_times.get(h, since) >= since]

    def within(self, now: datetime, days: int) -> list[OwnPost]:
        since = now - timedelta(days=days)
        return [p for p in self.posts if p.at >= since]

    def matrix(self, now: datetime, days: int) -> np.ndarray:
        import numpy as np

        vecs = [p.vector for p in self.within(now, days) if p.vector is not None]
        return np.stack(vecs) if vecs else np.zeros((0, 1), dtype=np.float32)

    def topics_latest_last(self) -> list[str | None]:
        return [p.topic for p in sorted(self.posts, key=lambda p: p.at)]


def check_exact_duplicate(text: str, recent_hashes: set[str] | Sequence[str]) -> Verdict:
    if content_hash(text) in set(recent_hashes):
        return Rejection("duplicate", "same text as a post of the last 30 days")
    return None


def check_repeated_tweets(parts: Sequence[str], tweet_hashes: set[str]) -> Verdict:
    """Each part is its own tweet, and X refuses a tweet that repeats one of ours: a thread refused at a later
    part would stay half-posted. So every part must be new, to our recent tweets and within the item."""
    seen: dict[str, int] = {}
    for i, part in enumerate(parts, start=1):
        h = content_hash(part)
        if h in tweet_hashes:
            return Rejection("duplicate", f"part {i} repeats a tweet of ours of the last 30 days")
        if h in seen:
            return Rejection("duplicate", f"part {i} repeats part {seen[h]}")
        seen[h] = i
    return None


_WORD = re.compile(r"[\w']+")


def word_set(text: str) -> frozenset[str]:
    """A tweet's words as a reader meets them: folded (styled letters, one apostrophe), in lower case."""
    return frozenset(_WORD.findall(fold(text).lower()))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """The share of their words two tweets have in common (Jaccard of their word sets)."""
    return len(a & b) / len(a | b) if a and b else 0.0


def check_word_overlap(parts: Sequence[str], recent: Sequence[str], max_overlap: float) -> Verdict:
    """Each part is its own tweet: none may share ``max_overlap`` of its words with one of ``recent`` (our tweets
    of the overlap window) or with an earlier part. The reason names the tweet it repeats (ours, not the input's),
    the advice does not."""
    earlier = [(word_set(t), t) for t in recent]
    for i, part in enumerate(parts, start=1):
        words = word_set(part)
        for other, text in earlier:
            if (share := overlap(words, other)) >= max_overlap:
                return Rejection("overlap", f"part {i} shares {share:.0%} of its words with our tweet "
                                            f"{' '.join(text.split())[:60]!r}")
        earlier.append((words, part))
    return None


def check_near_duplicate(vector: np.ndarray, recent: np.ndarray, threshold: float) -> Verdict:
    from libs.text import max_similarity  # numpy's, loaded by whoever has vectors (see the imports above)

    sim = max_similarity(vector, recent) if recent.shape[0] and recent.shape[1] == vector.shape[0] else 0.0
    if sim >= threshold:
        return Rejection("near_duplicate", f"similarity {sim:.2f} to a recent post (threshold {threshold:.2f})")
    return None


def check_topic_freshness(topic: str, recent_topics: Sequence[str | None], *, window: int,
                          max_in_window: int) -> Verdict:
    """At most ``max_in_window`` of the last ``window`` posts (latest last) on one topic, the new one included."""
    last = list(recent_topics)[-(window - 1):] if window > 1 else []
    count = sum(1 for t in last if t == topic) + 1
    if count > max_in_window:
        return Rejection("topic_freshness",
                         f"{topic!r} would be {count} of the last {window} posts (max {max_in_window})")
    return None


# ---------------------------------------------------------------- readability

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """English syllables by vowel groups, the usual Flesch approximation."""
    w = word.lower().strip("'-")
    if len(w) <= 3:
        return 1
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")):
        w = w[:-1]
    return max(1, len(_VOWEL_GROUPS.findall(w)))


def flesch_reading_ease(text: str) -> float | None:
    """Flesch reading ease (higher is easier); None when the text has no words."""
    sentences = [s for s in split_sentences(text) if _WORD.search(s)]
    words = _WORD.findall(text)
    if not words or not sentences:
        return None
    syl = sum(syllables(w) for w in words)
    return 206.835 - 1.015 * (len(words) / len(sentences)) - 84.6 * (syl / len(words))


def check_readability(text: str, config: NicheConfig) -> Verdict:
    g = config.gates
    sentences = [s for s in split_sentences(text) if _WORD.search(s)]
    if not sentences:
        return Rejection("readability", "no words")
    lengths = [len(_WORD.findall(s)) for s in sentences]
    if max(lengths) > g.max_sentence_words:
        return Rejection("readability", f"a sentence of {max(lengths)} words (max {g.max_sentence_words})")
    avg = sum(lengths) / len(lengths)
    if avg > g.max_avg_sentence_words:
        return Rejection("readability", f"{avg:.0f} words per sentence on average (max {g.max_avg_sentence_words:.0f})")
    score = flesch_reading_ease(text)
    if score is not None and score < g.flesch_min:
        return Rejection("readability", f"Flesch reading ease {score:.0f} below {g.flesch_min:.0f}")
    return None


# ---------------------------------------------------------------- all post gates


def gate_post(
    parts: Sequence[str],
    *,
    kind: str,
    topic: str,
    config: NicheConfig,
    recent: RecentPosts,
    vector: np.ndarray | None,
    embedder_kind: str,
    now: datetime,
) -> Verdict:
    """Run the post gates in order, cheapest first; the first rejection wins."""
    text = "\n".join(parts)
    g = config.gates
    window = recent.within(now, g.duplicate_window_days)
    return (
        check_length(parts, kind, config)
        or check_banned(text, config, kind=kind)
        or check_medical_safety(text)
        or check_readability(text, config)
        or check_exact_duplicate(text, {p.hash for p in window})
        or check_repeated_tweets(parts, recent.tweet_hashes)
        # The first tweet only: it is what the timeline shows and what carries a thread's reach. A later part
        # repeating one of ours is left out by the planner where the thread keeps its length, else posted (it
        # loses its own reach, a part's): a demo rewrote 13 whole threads for a closer's wording.
        or check_word_overlap(parts[:1], recent.tweets_since(now - timedelta(days=g.overlap_window_days)),
                              g.word_overlap_max)
        or (
            check_near_duplicate(vector, recent.matrix(now, g.duplicate_window_days),
                                 g.near_duplicate_threshold[embedder_kind])
            if vector is not None else None
        )
        or check_topic_freshness(topic, recent.topics_latest_last(), window=g.topic_window_posts,
                                 max_in_window=g.topic_max_in_window)
    )
