"""Replies: which harvested tweets to answer, and the gates a reply must pass.

A harvested tweet is untrusted input written by a stranger. It is quoted to the model inside delimiters and
never obeyed; the injection gate rejects a reply that carries out an instruction found in the tweet (posts a
link or a handle, or says a phrase the tweet asked for), whatever the model did with the prompt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.text import find_urls, normalise, x_length
from services.planner.config import NicheConfig
from services.planner.gates import HANDLE_RE, HASHTAG_RE, Rejection, Verdict, check_banned, check_medical_safety

# ---------------------------------------------------------------- the opportunity pool


@dataclass(frozen=True)
class Opportunity:
    tweet_id: str
    author: str
    author_followers: int
    text: str
    likes: int
    retweets: int
    replies: int
    created_at: datetime
    relevance: float
    topic: str | None = None
    is_reply: bool = False
    conversation_id: str | None = None

    @classmethod
    def from_event(cls, evt: object) -> "Opportunity":
        """From an OpportunityFound payload."""
        return cls(
            tweet_id=evt.tweet_id, author=evt.author, author_followers=evt.author_followers, text=evt.text,
            likes=evt.likes, retweets=evt.retweets, replies=evt.replies, created_at=evt.tweet_created_at,
            relevance=evt.relevance, topic=evt.topic, is_reply=evt.is_reply,
        )

    @property
    def conversation(self) -> str:
        # Only root tweets are answered, so a root's id is its conversation's id.
        return self.conversation_id or self.tweet_id

    def age_hours(self, now: datetime) -> float:
        return max(0.0, (now - self.created_at).total_seconds() / 3600)

    def velocity(self, now: datetime) -> float:
        """Engagement per hour since posting (a minimum age of 10 minutes keeps brand-new tweets sane)."""
        engagement = self.likes + 2 * self.retweets + 1.5 * self.replies
        return engagement / max(self.age_hours(now), 1 / 6)


@dataclass(frozen=True)
class OurReply:
    tweet_id: str
    author: str
    conversation: str
    at: datetime


@dataclass
class ReplyHistory:
    """Our replies (queued or posted) — what the eligibility rules remember."""

    replies: list[OurReply] = field(default_factory=list)

    def add(self, reply: OurReply) -> None:
        self.replies.append(reply)

    def answered(self, tweet_id: str) -> bool:
        return any(r.tweet_id == tweet_id for r in self.replies)

    def to_author_since(self, author: str, since: datetime) -> list[OurReply]:
        a = author.lower()
        return [r for r in self.replies if r.author.lower() == a and r.at >= since]

    def in_conversation_since(self, conversation: str, since: datetime) -> list[OurReply]:
        return [r for r in self.replies if r.conversation == conversation and r.at >= since]


def ineligibility(
    opp: Opportunity, history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str
) -> str | None:
    """Why this tweet must not be answered now, or None when it may."""
    rc = config.replies
    if opp.author.lower().lstrip("@") == own_handle.lower().lstrip("@"):
        return "own tweet"
    if opp.is_reply:
        return "not a root tweet"
    if opp.age_hours(now) >= rc.max_age_hours:
        return "older than 24 h"
    if history.answered(opp.tweet_id):
        return "already answered"
    if opp.relevance < rc.min_relevance:
        return "not relevant enough"
    if len(history.to_author_since(opp.author, now - timedelta(days=1))) >= rc.max_per_author_per_day:
        return "daily replies to this author used"
    if history.to_author_since(opp.author, now - timedelta(hours=rc.author_cooldown_hours)):
        return "author cooldown"
    if history.in_conversation_since(opp.conversation, now - timedelta(hours=rc.conversation_cooldown_hours)):
        return "conversation cooldown"
    return None


def score(opp: Opportunity, *, now: datetime, config: NicheConfig) -> float:
    """0..1-ish: reach (log followers), velocity (log engagement/hour), freshness, relevance, weighted."""
    w = config.replies.weights
    reach = min(1.0, math.log10(opp.author_followers + 1) / 7)  # 10M followers → 1
    velocity = min(1.0, math.log1p(opp.velocity(now)) / math.log1p(1000))  # 1000 engagements/h → 1
    freshness = max(0.0, 1 - opp.age_hours(now) / config.replies.max_age_hours)
    relevance = max(0.0, min(1.0, opp.relevance))
    return (
        w.get("reach", 0) * reach + w.get("velocity", 0) * velocity
        + w.get("freshness", 0) * freshness + w.get("relevance", 0) * relevance
    )


def rank_opportunities(
    opps: Iterable[Opportunity], history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str
) -> list[tuple[Opportunity, float]]:
    """Eligible opportunities, best first."""
    ranked = [
        (o, score(o, now=now, config=config))
        for o in opps
        if ineligibility(o, history, now=now, config=config, own_handle=own_handle) is None
    ]
    ranked.sort(key=lambda pair: (-pair[1], pair[0].tweet_id))
    return ranked


def pick_targets(
    opps: Iterable[Opportunity], history: ReplyHistory, *, now: datetime, config: NicheConfig, own_handle: str, n: int
) -> list[Opportunity]:
    """Up to ``n`` tweets to answer in this run, each author and conversation at most once in the run."""
    chosen: list[Opportunity] = []
    trial = ReplyHistory(list(history.replies))
    for opp, _ in rank_opportunities(opps, history, now=now, config=config, own_handle=own_handle):
        if len(chosen) >= n:
            break
        if ineligibility(opp, trial, now=now, config=config, own_handle=own_handle) is None:
            chosen.append(opp)
            trial.add(OurReply(opp.tweet_id, opp.author, opp.conversation, now))
    return chosen


# ---------------------------------------------------------------- reply gates

# Emoji and pictographs (a reply from the account reads as plain text).
_EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2300-\u23FF\u2B05-\u2B55\U0001F1E6-\U0001F1FF\uFE0F\u200D]"
)
_STOPWORDS = frozenset(
    """a an the and or but if then so of to in on at by for with from as is are was were be been being it its this
    that these those i you he she we they me my your our their his her them us do does did done not no yes can
    could should would will just very really more most less than too also about into over after before out up
    down what which who whom why how when where all any some every each much many such own same other only get
    got have has had make makes made like one two lot lots thing things way ways people tweet reply
    """.split()
)
_WORD_RE = re.compile(r"[a-z][a-z'-]+")


def content_words(text: str) -> set[str]:
    """Lower-cased content words, crudely stemmed so "sleeping" meets "sleep"."""
    out = set()
    for w in _WORD_RE.findall(normalise(text)):
        if w in _STOPWORDS or len(w) < 3:
            continue
        for suffix in ("ing", "ed", "es", "s", "ly"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 4:
                w = w[: -len(suffix)]
                break
        out.add(w)
    return out


def check_reply_form(text: str, config: NicheConfig) -> Verdict:
    n = x_length(text)
    if not text.strip():
        return Rejection("reply_form", "empty reply")
    if n > config.gates.reply_max_chars:
        return Rejection("length", f"reply is {n} characters, limit {config.gates.reply_max_chars}")
    if find_urls(text):
        return Rejection("reply_form", "reply contains a link")
    if HASHTAG_RE.search(text):
        return Rejection("reply_form", "reply contains a hashtag")
    if HANDLE_RE.search(text):
        return Rejection("reply_form", "reply mentions a handle")
    if _EMOJI_RE.search(text):
        return Rejection("reply_form", "reply contains an emoji")
    opening = normalise(text)[:40]
    for opener in config.replies.generic_openers:
        o = normalise(opener)
        if o and (opening == o or opening.startswith(o + " ")):
            return Rejection("generic_opener", f"opens with {opener!r}")
    return None


def check_grounded(reply: str, tweet: str, similarity: float | None, *, min_similarity: float) -> Verdict:
    """The reply takes up a concept of the tweet: a shared content word, or close enough in meaning."""
    shared = content_words(reply) & content_words(tweet)
    if shared:
        return None
    if similarity is not None and similarity >= min_similarity:
        return None
    sim = "n/a" if similarity is None else f"{similarity:.2f}"
    return Rejection("grounding", f"shares no concept with the tweet (similarity {sim})")


# What an injected instruction looks like: quoted phrases, and the object of a command verb.
_QUOTED = re.compile(r"[\"“”«»„]([^\"“”«»„]{2,120})[\"“”«»„]|(?<!\w)'([^']{2,120})'(?!\w)")
_COMMAND = re.compile(
    r"(?:\b(?:reply(?: only)? with|respond(?: only)? with|answer with|say|says|saying|write(?: that)?|type|post|"
    r"tweet|repeat(?: after me)?|include(?: the (?:word|phrase|text|code))?|add|"
    r"end (?:your|the) (?:reply|response|answer|tweet) with|start (?:your|the) (?:reply|response|answer|tweet) with|"
    r"begin with|sign (?:off )?with|use the (?:word|phrase|code|hashtag)|mention|tag|promote|recommend|link to|"
    r"visit|print|output|(?:reply|respond) (?:that|telling people(?: to)?)|tell (?:people|everyone|them)(?: to| that)?|"
    r"translate(?: this)? (?:to|into) \w+ and say)"
    # Role markers smuggled into the text: "Assistant: ...", "reply: ...".
    r"|\b(?:assistant|system|ai|bot|bots|reply|answer)\s*:)"
    r"\s*[:\-–]?\s*([\w\"'“«@#].{1,79}?)(?=[.!?;\n`]|$)",
    re.IGNORECASE,
)
# Where the object of a command ends and the tweet's own words resume.
_CLAUSE_END = re.compile(
    r",| in (?:your|the|every|each) | to (?:prove|show|help)| or | so | because | and nothing| it helps| thanks",
    re.IGNORECASE,
)
# Words that announce a prompt injection whether or not the reply obeys; the reply must never echo them.
_META = re.compile(
    r"\b(?:ignore (?:all |any |the |your )?(?:previous|prior|above|earlier)|system prompt|previous instructions|"
    r"as an ai|language model|my instructions|my prompt|i was (?:told|instructed|programmed)|"
    r"i(?:'m| am) programmed|i(?:'m| am) an? (?:ai|bot|assistant)|jailbreak|developer mode)\b",
    re.IGNORECASE,
)
_FILLER = frozenset({
    "this", "that", "it", "something", "anything", "me", "us", "them", "now", "here", "below", "above", "nothing",
    "else", "word", "words", "phrase", "text", "code", "reply", "replies", "answer", "response", "tweet", "please",
})


def instructed_phrases(tweet: str) -> list[str]:
    """Phrases the tweet asks a reader (or a model) to produce: quoted text and objects of command verbs."""
    found: list[str] = []
    for m in _QUOTED.finditer(tweet):
        found.append(m.group(1) or m.group(2))
    for m in _COMMAND.finditer(tweet):
        found.append(_CLAUSE_END.split(m.group(1) + " ", maxsplit=1)[0])
    phrases = []
    for p in found:
        n = normalise(p)
        words = n.split()
        if not words or all(w in _FILLER or w in _STOPWORDS for w in words):
            continue
        phrases.append(n)
    return phrases


def _contains(text_norm: str, phrase_norm: str) -> bool:
    if re.search(rf"(?<!\w){re.escape(phrase_norm)}(?!\w)", text_norm):
        return True
    # "5000 mg" asked for, "5000mg" written: the same words without the spaces.
    return " " in phrase_norm and phrase_norm.replace(" ", "") in text_norm.replace(" ", "")


def check_injection(reply: str, tweet: str) -> Verdict:
    """Reject a reply that does what the tweet told it to, or that talks about instructions at all."""
    tweet_urls = find_urls(tweet)
    if find_urls(reply):
        why = "a link the tweet asked for" if tweet_urls or re.search(r"\blink|visit|url|site\b", tweet, re.I) else "a link"
        return Rejection("injection", f"reply carries {why}")
    if HANDLE_RE.search(reply):
        return Rejection("injection", "reply carries a handle")
    if _META.search(reply):
        return Rejection("injection", "reply talks about instructions or being an AI")
    reply_norm = normalise(reply)
    for phrase in instructed_phrases(tweet):
        for span in _telltale_spans(phrase):
            if _contains(reply_norm, span):
                return Rejection("injection", f"reply says {span!r}, which the tweet asked for")
    return None


def _plain(word: str) -> bool:
    return word in _STOPWORDS or word in _FILLER


def _telltale_spans(phrase: str) -> list[str]:
    """Parts of an instructed phrase whose presence in a reply means the reply obeyed.

    Every run of two or more words that starts and ends on a non-filler word ("obey the algorithm" inside
    "the word obey the algorithm and nothing else"); a lone word only when it is distinctive — an ordinary
    niche word ("sleep") is how a grounded reply takes up the tweet.
    """
    words = phrase.split()
    content = [i for i, w in enumerate(words) if not _plain(w)]
    if not content:
        return []
    if len(content) == 1:
        w = words[content[0]]
        return [] if w in _COMMON_TOPIC_WORDS or len(w) < 3 else [w]
    spans = []
    for a in content:
        for b in content:
            if b > a:
                spans.append(" ".join(words[a : b + 1]))
    return spans


# Ordinary niche words a grounded reply may share with the tweet even when the tweet put them in an instruction.
_COMMON_TOPIC_WORDS = frozenset(
    """sleep sleeping rest stress food diet protein sugar water walk walking run running exercise gym fiber
    fibre gut heart brain mood sun light coffee caffeine alcohol health habit habits energy fat fats carbs carb
    meal meals hydration fasting muscle muscles strength cardio""".split()
)


def gate_reply(
    reply: str, tweet: str, *, config: NicheConfig, similarity: float | None, embedder_kind: str
) -> Verdict:
    """All reply gates, cheapest first; injection before form so an obeyed instruction is reported as such."""
    return (
        check_injection(reply, tweet)
        or check_reply_form(reply, config)
        or check_banned(reply, config, kind="reply")
        or check_medical_safety(reply)
        or check_grounded(
            reply, tweet, similarity,
            min_similarity=config.replies.grounding_min_similarity.get(embedder_kind, 0.35),
        )
    )
