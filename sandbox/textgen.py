"""A template composer for the sandbox's offline text endpoint (not a language model).

It writes posts, threads and replies by filling fixed templates with facts from ``facts.yaml`` (public-health
findings, each with its source). Every template carries the cues that the audience's classifier reads
(``AudienceModel.infer_choice``), so a requested content type and topic is what the simulated world sees.

Limits honoured: every post and thread part fits ``max_chars`` (at most 280); replies fit ``max_chars`` (at most
220) and carry no links, hashtags, emoji or generic openers, and they take up a concept from the tweet replied to.
The templates' own words state no figures and name no studies: every number in a text is a fact's (a drafter told
to state only the facts it was given would not add "two weeks" or "a 3-step framework" of its own).
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import yaml

from sandbox.audience import DEFAULT_CONTENT_TYPES, DEFAULT_TOPICS, TOPIC_KEYWORDS

FACTS_PATH = Path(__file__).with_name("facts.yaml")
POST_LIMIT = 280
REPLY_LIMIT = 220
KINDS = ("post", "thread", "reply")


@dataclass(frozen=True)
class Fact:
    id: str
    topics: tuple[str, ...]
    fact: str
    source: str
    url: str
    tip: str | None = None
    myth: str | None = None


@dataclass(frozen=True)
class CompositionRequest:
    kind: str = "post"  # post | thread | reply
    content_type: str = "practical_tip"
    topic: str = "sleep"
    parts: int = 4  # threads only, clamped to 3..6
    max_chars: int = POST_LIMIT
    tweet: str | None = None  # replies only: the text replied to
    # replies only: our own tweet that the text replied to answers (a conversation), whose subject a model reads
    # "Any tips for sticking with it?" in (until 2026-12-07 the writer did not: "Related to tips: …" was posted)
    context: str | None = None


def load_facts(path: Path = FACTS_PATH) -> tuple[Fact, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["facts"]
    return tuple(
        Fact(
            id=item["id"],
            topics=tuple(item["topics"]),
            fact=item["fact"].strip(),
            source=item["source"].strip(),
            url=item["url"].strip(),
            tip=(item.get("tip") or None),
            myth=(item.get("myth") or None),
        )
        for item in raw
    )


@lru_cache(maxsize=1)
def default_facts() -> tuple[Fact, ...]:
    return load_facts()


def topic_label(topic: str) -> str:
    return topic.replace("_", " ")


def _clip(text: str, limit: int) -> str:
    """Cut at a word boundary and end on a full stop, for the rare request with a very small limit."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)].rsplit(" ", 1)[0].rstrip(",;:-(")
    return cut + "."


def _first_fitting(variants: Sequence[str], limit: int) -> str | None:
    for variant in variants:
        if len(variant) <= limit:
            return variant
    return None


# ---- single posts: each content type lists variants from richest to leanest -------------------------------------

PostTemplate = Callable[[Fact, str], list[str]]


def _myth_busting(f: Fact, t: str) -> list[str]:
    myth = f.myth or f"{t.capitalize()} advice has to be complicated to work."
    return [
        f"{t.capitalize()} myth: {myth}\n\nActually: {f.fact} ({f.source})",
        f"{t.capitalize()} myth: {myth}\n\nActually: {f.fact}",
        f"Myth about {t}: {myth} Actually: {f.fact}",
        f"{t.capitalize()} myth, busted: {f.fact}",
    ]


def _framework(f: Fact, t: str) -> list[str]:
    tip = f.tip or "Change one thing, not five."
    return [
        f"A simple framework for {t}:\n\nKnow it: {f.fact}\nDo it: {tip}\nThen look back at how it went.",
        f"A framework for {t}:\nKnow it: {f.fact}\nDo it: {tip}",
        f"A framework for {t}: {f.fact}",
    ]


def _research_breakdown(f: Fact, t: str) -> list[str]:
    return [
        f"What researchers found about {t}:\n\n{f.fact}\n\nThe study: {f.source}.",
        f"What researchers found about {t}: {f.fact} ({f.source})",
        f"Researchers on {t}: {f.fact}",
    ]


def _practical_tip(f: Fact, t: str) -> list[str]:
    tip = f.tip or f"Pick one {t} habit and keep it up."
    return [
        f"Quick win for your {t}: {tip}\n\nWhy it works: {f.fact} ({f.source})",
        f"Quick win for your {t}: {tip}\n\nWhy it works: {f.fact}",
        f"Quick win for your {t}: {tip}",
    ]


def _story(f: Fact, t: str) -> list[str]:
    change = f.tip or f"I stopped guessing and looked at the evidence on {t}."
    return [
        f"Last year I learned this about {t} the hard way: {f.fact}\n\nWhat I changed: {change}",
        f"Last year I learned this about {t} the hard way: {f.fact}",
        f"Last year I learned this about {t}: {f.fact}",
    ]


def _contrarian_take(f: Fact, t: str) -> list[str]:
    return [
        f"Unpopular opinion: most {t} hacks are overrated. The boring basics win.\n\n{f.fact} ({f.source})",
        f"Unpopular opinion: most {t} hacks are overrated.\n\n{f.fact}",
        f"Unpopular opinion on {t}: {f.fact}",
    ]


def _data_insight(f: Fact, t: str) -> list[str]:
    return [
        f"{t.capitalize()} by the numbers:\n\n{f.fact}\n\nData: {f.source}",
        f"{t.capitalize()} by the numbers: {f.fact}",
        f"By the numbers: {f.fact}",
    ]


def _question(f: Fact, t: str) -> list[str]:
    return [
        f"What's your experience with {t}? Does this match what you've seen?\n\n{f.fact} ({f.source})",
        f"What's your experience with {t}?\n\n{f.fact}",
        f"What's your take on {t}? {f.fact}",
    ]


POST_TEMPLATES: dict[str, PostTemplate] = {
    "myth_busting": _myth_busting,
    "framework": _framework,
    "research_breakdown": _research_breakdown,
    "practical_tip": _practical_tip,
    "story": _story,
    "contrarian_take": _contrarian_take,
    "data_insight": _data_insight,
    "question": _question,
}

# ---- threads: a typed hook, one fact per middle part, a takeaway --------------------------------------------------

THREAD_HOOKS: dict[str, str] = {
    "myth_busting": "Myth: {myth}\n\nThe evidence says otherwise. A thread on {t}:",
    "framework": "A simple framework for better {t}, built on evidence. Step by step:",
    "research_breakdown": "What the research actually says about {t}, in plain words:",
    "practical_tip": "Quick wins for your {t}: simple habits, and why each one works.",
    "story": "Last year I realised I had {t} all wrong. What I learned from the evidence:",
    "contrarian_take": "Unpopular opinion: most {t} advice online is overrated. What actually matters:",
    "data_insight": "{T} by the numbers: the data points worth knowing.",
    "question": "What do you get wrong about {t}? Most people miss at least one of these:",
}
THREAD_CLOSERS: dict[str, str] = {
    "question": "Which of these will you try first? What's your experience with {t}?",
    "framework": "The framework: know the facts, start with one step, then look back at how it went.",
}
DEFAULT_CLOSER = "Takeaway: {tip}"


# ---- replies: take up a concept from the tweet, add one fact ------------------------------------------------------

REPLY_TEMPLATES: tuple[str, ...] = (
    "On {concept}: {fact}",
    "The {concept} point holds up. {fact}",
    "{Concept} matters more than most people think. {fact}",
    "Worth adding on {concept}: {fact}",
    "{Concept} is where it starts. {fact}",
)
# When the tweet names no health topic, bridge from its concept instead of pretending it was about health.
BRIDGE_TEMPLATES: tuple[str, ...] = (
    "{Concept} and health overlap more than it seems. {fact}",
    "Related to {concept}: {fact}",
)
REPLY_TIP_TEMPLATES: tuple[str, ...] = (
    "On {concept}, one practical step: {tip}",
    "For {concept}, this helps: {tip}",
)
GENERIC_OPENERS = (
    "great post", "great point", "love this", "so true", "this!", "totally agree", "thanks for sharing",
    "well said", "100%", "couldn't agree more", "nice thread", "interesting",
)
_STOPWORDS = frozenset(
    "the a an and or but if then so to of in on at for with from by about as is are was were be been being it its "
    "this that these those you your we our they their he she his her i me my not no yes do does did have has had "
    "just more most very really can will would should could what when how why who which all any some every into "
    "than too also out up down over after before most people thing things everything something anything nothing "
    "think changed change today really pretty "
    # not things a reply takes up ("Related to behind: …", "First and health overlap …" were posted in a demo)
    "behind first second third last next never always ever still even only yet there here make makes made "
    # nor how a question asks ("Related to tips: …", "Experience and health overlap …", 2026-12-07)
    "tip tips reminder experience difference advice question questions thought thoughts idea ideas week weeks "
    "day days time times lot way ways anyone someone genuinely curious".split()
)


class TextComposer:
    """Fills templates with facts; deterministic for a given ``random.Random``."""

    def __init__(self, facts: Sequence[Fact] | None = None) -> None:
        self.facts = tuple(facts) if facts is not None else default_facts()
        self._by_topic: dict[str, list[Fact]] = {}
        for fact in self.facts:
            for topic in fact.topics:
                self._by_topic.setdefault(topic, []).append(fact)

    def compose(self, request: CompositionRequest, rng: random.Random) -> list[str]:
        """The parts of one piece of text: one element for a post or a reply, 3..6 for a thread."""
        if request.kind == "thread":
            return self.thread(content_type=request.content_type, topic=request.topic, parts=request.parts,
                               max_chars=request.max_chars, rng=rng)
        if request.kind == "reply":
            return [self.reply(tweet=request.tweet or "", max_chars=min(request.max_chars, REPLY_LIMIT), rng=rng,
                               context=request.context)]
        return [self.post(content_type=request.content_type, topic=request.topic, max_chars=request.max_chars,
                          rng=rng)]

    def facts_for(self, topic: str) -> list[Fact]:
        """Facts of a topic, those with it as main topic first; every fact when the topic is unknown."""
        facts = self._by_topic.get(topic)
        if not facts:
            return list(self.facts)
        return sorted(facts, key=lambda f: f.topics[0] != topic)

    def post(self, *, content_type: str, topic: str, max_chars: int = POST_LIMIT, rng: random.Random) -> str:
        limit = min(max_chars, POST_LIMIT)
        template = POST_TEMPLATES.get(content_type, _practical_tip)
        label = topic_label(topic)
        candidates = self._ranked_facts(content_type, topic, rng)
        for fact in candidates:
            text = _first_fitting(template(fact, label), limit)
            if text is not None:
                return text
        return _clip(template(candidates[0], label)[-1], limit)

    def thread(
        self, *, content_type: str, topic: str, parts: int = 4, max_chars: int = POST_LIMIT, rng: random.Random
    ) -> list[str]:
        n = max(3, min(6, int(parts)))
        limit = min(max_chars, POST_LIMIT)
        label = topic_label(topic)
        facts = self._ranked_facts(content_type, topic, rng)
        body_facts = facts[: n - 2] if len(facts) >= n - 2 else (facts * n)[: n - 2]
        suffix = lambda i: f"\n\n{i}/{n}"  # noqa: E731 - numbering as X threads usually show it

        myth = next((f.myth for f in facts if f.myth), f"{label.capitalize()} advice has to be complicated.")
        hook = THREAD_HOOKS.get(content_type, THREAD_HOOKS["practical_tip"]).format(
            t=label, T=label.capitalize(), myth=myth
        )
        texts = [_clip(hook, limit - len(suffix(1))) + suffix(1)]
        for i, fact in enumerate(body_facts, start=2):
            room = limit - len(suffix(i))
            body = _first_fitting([f"{fact.fact} ({fact.source})", fact.fact], room) or _clip(fact.fact, room)
            texts.append(body + suffix(i))
        tip = next((f.tip for f in facts if f.tip), f"pick one {label} habit and keep it up.")
        closer = THREAD_CLOSERS.get(content_type, DEFAULT_CLOSER).format(t=label, tip=tip)
        texts.append(_clip(closer, limit - len(suffix(n))) + suffix(n))
        return texts

    def reply(self, *, tweet: str, max_chars: int = REPLY_LIMIT, rng: random.Random,
              context: str | None = None) -> str:
        limit = min(max_chars, REPLY_LIMIT)
        topic, concept, on_topic = reply_concept(tweet)
        if not on_topic and context and (in_context := reply_concept(context))[2]:
            topic, concept, on_topic = in_context
        facts = self.facts_for(topic)
        # Prefer facts that mention the concept itself, then the rest of the topic.
        related = [f for f in facts if concept.lower() in f.fact.lower()]
        others = [f for f in facts if f not in related]
        rng.shuffle(related)
        rng.shuffle(others)
        templates = list(REPLY_TEMPLATES if on_topic else BRIDGE_TEMPLATES)
        rng.shuffle(templates)
        for fact in related + others:
            for template in templates:
                text = template.format(concept=concept, Concept=concept[:1].upper() + concept[1:], fact=fact.fact)
                if len(text) <= limit:
                    return _clean_reply(text)
            if fact.tip and on_topic:
                text = rng.choice(REPLY_TIP_TEMPLATES).format(concept=concept, tip=fact.tip)
                if len(text) <= limit:
                    return _clean_reply(text)
        fact = (related + others)[0]
        return _clean_reply(_clip(f"On {concept}: {fact.fact}", limit))

    def _ranked_facts(self, content_type: str, topic: str, rng: random.Random) -> list[Fact]:
        facts = self.facts_for(topic)
        main = [f for f in facts if f.topics[0] == topic] or facts
        side = [f for f in facts if f not in main]
        rng.shuffle(main)
        rng.shuffle(side)
        ranked = main + side
        # Myths make myth-busting posts; tips make tips, frameworks and stories: put fitting facts first.
        wanted = {"myth_busting": "myth", "practical_tip": "tip", "framework": "tip", "story": "tip"}.get(content_type)
        if wanted:
            on_topic = set(map(id, main))
            ranked.sort(key=lambda f: (id(f) not in on_topic, getattr(f, wanted) is None))
        return ranked


# Endings of words that describe or do rather than name: adjectives, adverbs, verb forms.
_NOT_A_THING = re.compile(r"(?:ing|ed|ly|al|ive|ous|ful|less|able|ible|ic|est|ish)$|^(?:skeptic|honest|really|"
                          r"actually|literally|basically|everyone|everything|someone|something|anyone|nobody)")


def reply_concept(tweet: str) -> tuple[str, str, bool]:
    """(topic, concept, on_topic) of a tweet: the first health keyword it uses, else its most salient word
    (and a stable pick of topic)."""
    padded = " " + tweet.lower() + " "  # some cues carry a space to match whole words only
    best: tuple[int, str, str] | None = None
    for topic in DEFAULT_TOPICS:
        for cue in TOPIC_KEYWORDS[topic]:
            position = padded.find(cue)
            if position >= 0 and (best is None or position < best[0]):
                start = max(0, position - 1 + (len(cue) - len(cue.lstrip())))
                best = (position, topic, _word_at(tweet, start, cue.strip()))
    if best is not None:
        return best[1], best[2], True
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", tweet) if w.lower() not in _STOPWORDS]
    topic = DEFAULT_TOPICS[zlib.crc32(tweet.encode()) % len(DEFAULT_TOPICS)]
    # A thing the tweet talks of, not how it says it: "Skeptical and health overlap …" and "Related to sticking: …"
    # were posted in a demo (the longest word of the tweet, whatever it was).
    things = [w for w in words if not _NOT_A_THING.search(w.lower())]
    if not things:
        return topic, topic_label(topic), False
    return topic, max(things, key=len).lower(), False


def _word_at(text: str, position: int, cue: str) -> str:
    """The whole word (or phrase) of ``text`` in which a keyword was found, e.g. "melatonin" for "melatonin"."""
    start = position
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-'"):
        start -= 1
    end = position + len(cue)
    while end < len(text) and (text[end].isalnum() or text[end] in "-"):
        end += 1
    return text[start:end].lower()


_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


def _clean_reply(text: str) -> str:
    """Replies never carry links, hashtags or emoji (facts have none; this guards against future facts)."""
    text = re.sub(r"https?://\S+|www\.\S+", "", text)
    text = re.sub(r"#(\w+)", r"\1", text)
    text = _EMOJI.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


__all__ = [
    "CompositionRequest",
    "DEFAULT_CONTENT_TYPES",
    "DEFAULT_TOPICS",
    "Fact",
    "GENERIC_OPENERS",
    "KINDS",
    "POST_LIMIT",
    "REPLY_LIMIT",
    "TextComposer",
    "default_facts",
    "load_facts",
    "reply_concept",
]
