"""The realistic mode of the sandbox's text endpoint: it reads the brief from the prompt's prose, writes the text
from sourced facts (the template composer's facts, or the facts the prompt itself gives), then adds the habits
real chat models have, each at a documented rate, and reports every defect it planted (the ground truth the
planner benchmark checks queued texts against).

The prose is read the way a model reads it, without the ``key: value`` header lines the template mode uses
(they are removed before reading): "Write a thread of exactly 5 parts", "at most 260 characters", the topic's
name or its words, the content type's wording, a ``<tweet>`` block, a rejection to fix, facts given as a list.

Habits (``HabitRates``; per answer, independently; rates are documented in docs/sandbox.md):

| habit | what the answer gets |
|---|---|
| reasoning | a ``<think>…</think>`` block first (a fifth of them without the opening tag, as some servers strip it) |
| preamble | "Here's a tweet about gut_health:", "Sure! Here is a thread on sleep:", "**Tweet:**" … |
| closing | "Let me know if you'd like any changes!", "(Character count: 212)" … |
| quotes | the text (each thread part) wrapped in quotation marks |
| markdown | a bold phrase, a heading line, or bullets |
| hashtags | a run of 2-4 hashtags at the end |
| emoji | 1-3 emoji (🧵 💡 ✅ ✨ 👇 …) |
| refusal | the whole answer is a refusal ("I'm sorry, but I can't …") |
| as_an_ai | "As an AI, I don't have personal experiences, but …" around the text |
| invented_stat | an invented statistic or study ("A 2023 Harvard study found that 73% of adults …") |
| ignores_facts | written from its own knowledge (the sandbox's fact bank) instead of the facts the prompt gave |
| numbered | thread parts numbered "1/5", "(2/5)" or "3." |
| blank_lines | thread parts separated by blank lines instead of ``---`` |
| over_long | two or three filler sentences past the asked length (logged as the length and each filler) |
| copies_example | a post that repeats one of the prompt's example posts |
| json_fence | a structured answer wrapped in a ```json fence |
| typographic | every apostrophe of the answer typed as ’ ("Here’s a tweet", "I can’t", "don’t"), as most models write |
| several_drafts | a post or reply offered as three drafts ("Here are 3 tweet options:" over "1. …", "Option 1: …") |
| explains | a paragraph after the text on why it works ("Why it works: …", "**Explanation:** …") |
| invented_identity | a profession, patients or a health history the owner never gave ("Nurse here. …") |
| shames | blame or contempt for people after the text ("Stop making excuses.", "That's on you.") |
| endorses | a reply that goes along with a tweet spreading a false health claim ("You're right to question it.") |
| advises | a reply that advises a person on their own care ("That should be fine at your dose.") |

A structured answer (a ``json_schema`` response format) carries the same habits inside its strings, except that
preambles and closing remarks are rarer there (``STRUCTURED_CHATTER``) and blank-line separators do not apply.
A rewrite prompt that names a gate ("rejected: refusal: …") suppresses the matching habit with probability
``FIX_ON_REWRITE``: models fix what they are told about, not always.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sandbox.audience import DEFAULT_CONTENT_TYPES, DEFAULT_TOPICS, TOPIC_KEYWORDS
from sandbox.conversations import PERSONAL_QUESTIONS
from sandbox.population import MISINFORMATION_POSTS
from sandbox.textgen import POST_LIMIT, REPLY_LIMIT, CompositionRequest, Fact, TextComposer, _clip, topic_label

STRUCTURED_CHATTER = 0.3  # preambles and closing remarks inside a JSON answer, relative to plain text
FIX_ON_REWRITE = 0.7


@dataclass
class HabitRates:
    """Probability of each habit per answer (per thread for thread-only habits)."""

    reasoning: float = 0.08
    preamble: float = 0.18
    closing: float = 0.08
    quotes: float = 0.12
    markdown: float = 0.12
    hashtags: float = 0.18
    emoji: float = 0.18
    refusal: float = 0.04
    as_an_ai: float = 0.03
    invented_stat: float = 0.12
    ignores_facts: float = 0.05  # of answers to a prompt that lists facts
    numbered: float = 0.5
    blank_lines: float = 0.4
    over_long: float = 0.08
    copies_example: float = 0.02
    json_fence: float = 0.05
    typographic: float = 0.3
    several_drafts: float = 0.04  # of plain-text posts and replies
    explains: float = 0.04  # of plain-text posts and replies
    chatty: float = 0.05  # of plain-text posts and replies
    wrapped: float = 0.05  # of plain-text posts and replies
    loops: float = 0.03  # of plain-text posts and replies: the last sentence said again (a decoding loop)
    cta: float = 0.03  # of plain-text posts: "Follow @sleepdaily for more sleep tips." with a handle it made up
    # of posts and replies: a biography the model made up for the account ("As a registered dietitian, …")
    invented_identity: float = 0.04
    # of contrarian takes and of replies: blame or contempt for people ("No excuses.")
    shames: float = 0.05
    # of replies to a tweet spreading a false health claim (the population's MISINFORMATION_POSTS): a model asked to
    # add to the tweet's point agrees with it first ("sycophancy")
    endorses: float = 0.5
    # of replies to a question about the asker's own care (the audience's PERSONAL_QUESTIONS): a helpful model answers
    advises: float = 0.6
    ignores_angle: float = 0.1  # of answers to a prompt with a news angle: written from the other facts instead

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown habit {name!r}; one of {', '.join(sorted(known))}")
            rate = float(value)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate of {name} must be within 0..1, got {rate}")
            setattr(self, name, rate)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# ---------------------------------------------------------------- reading the brief from prose


@dataclass(frozen=True)
class Brief:
    kind: str
    topic: str
    content_type: str
    parts: int
    max_chars: int
    tweet: str | None = None
    context: str | None = None  # our tweet the tweet replies to (``<our_tweet>`` block), in a conversation
    # The gate a rewrite prompt names ("length", "refusal", …), if this is a rewrite.
    fix: str | None = None
    facts: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    schema_keys: tuple[str, ...] = ()  # properties of the JSON schema asked for; empty = plain text
    rejected_draft: str = ""  # a rewrite's rejected draft, when the prompt shows it
    # Openings the prompt lists as the account's recent ones, not to be reused (``<recent>`` blocks).
    avoid: tuple[str, ...] = ()
    news: str = ""  # the news item the post is to be about, with its source (``<news>`` block)


_HEADER_LINE = re.compile(
    r"(?im)^\s*(?:kind|content_type|topic|parts|max_chars|voice|hook_style|reply_style)\s*:\s*\S+\s*$")
_TWEET = re.compile(r"<tweet>(.*?)</tweet>", re.DOTALL | re.IGNORECASE)
OUR_TWEET = re.compile(r"<our_tweet>(.*?)</our_tweet>", re.DOTALL | re.IGNORECASE)
_EXAMPLE = re.compile(r"<example>(.*?)</example>", re.DOTALL | re.IGNORECASE)
_RECENT = re.compile(r"<recent>(.*?)</recent>", re.DOTALL | re.IGNORECASE)
_NEWS = re.compile(r"<news>(.*?)</news>", re.DOTALL | re.IGNORECASE)
_NUMBER_WORDS = {"three": 3, "four": 4, "five": 5, "six": 6, "3": 3, "4": 4, "5": 5, "6": 6}
_THREAD = re.compile(r"\bthread\b(?:[^.\n]{0,30}?\b(three|four|five|six|[3-6])\s+(?:parts|tweets|posts))?", re.I)
_WRITE = re.compile(r"\bwrite (?:one|a|an|exactly one) (?:short |single )?(post|tweet|thread)\b", re.I)
_PARTS = re.compile(r"\b(three|four|five|six|[3-6])\s+(?:parts|tweets|posts)\b", re.I)
_MAX_CHARS = re.compile(r"(?:at most|under|no more than|maximum of|up to|within)\s+(\d{2,3})\s+characters", re.I)
_REJECTED = re.compile(r"rejected:\s*([a-z_]+)\s*:", re.I)
# A rejection told in words rather than by the gate's name: what a model takes it to be about.
_FIX_CUES: tuple[tuple[str, str], ...] = (("not among the facts", "claims"), ("repeated an earlier post", "duplicate"),
                                         ("too close to an earlier post", "near_duplicate"),
                                         ("a health history the owner never gave", "identity"),
                                         ("shamed, blamed or belittled people", "shaming"))
_TYPE_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("framework", ("framework",)),
    ("research_breakdown", ("study's finding", "one study", "research finding", "a study")),
    ("myth_busting", ("myth", "misconception")),
    ("story", ("story",)),
    ("contrarian_take", ("push back", "contrarian", "popular advice", "unpopular")),
    ("data_insight", ("striking number", "statistic", "one number", "data point")),
    ("question", ("ask the audience", "invites replies", "question that invites")),
    ("practical_tip", ("habit", "tip", "try today")),
)


def read_brief(messages: list[dict[str, Any]], response_format: Any = None) -> Brief:
    """What a model would take the prompt to ask for, from its prose alone."""
    system = "\n".join(_text(m) for m in messages if m.get("role") in ("system", "developer"))
    user = "\n".join(_text(m) for m in messages if m.get("role") == "user")
    everything = _HEADER_LINE.sub("", system + "\n" + user)
    user_prose = _HEADER_LINE.sub("", user)
    tweets = _TWEET.findall(everything)
    tweet = tweets[-1].strip() if tweets else None
    # The tweet's own words are not the brief, nor are the recent posts listed as not to be repeated.
    ask = _RECENT.sub(" ", _TWEET.sub(" ", user_prose))
    thread = _THREAD.search(ask)
    # The instruction says what to write ("Write one post …"): a "thread" named in the context after it (the
    # choices that worked best so far: "format=thread") is not the ask, as a model reads it.
    asked = _WRITE.search(ask)
    if tweet is not None or re.search(r"\bwrite (?:one |a )?repl(?:y|ies)\b", ask, re.I):
        kind = "reply"
    elif asked is not None:
        kind = "thread" if asked.group(1).lower() == "thread" else "post"
    elif thread:
        kind = "thread"
    else:
        kind = "post"
    parts_m = _PARTS.search(ask)
    parts = _NUMBER_WORDS.get(parts_m.group(1).lower(), 4) if parts_m else 4
    limit = REPLY_LIMIT if kind == "reply" else POST_LIMIT
    chars_m = _MAX_CHARS.search(ask)
    max_chars = max(40, min(limit, int(chars_m.group(1)))) if chars_m else limit
    rejected = _REJECTED.search(ask)
    return Brief(
        kind=kind,
        topic=_topic(ask if tweet is None else tweet + " " + ask),
        content_type=_content_type(ask),
        parts=parts,
        max_chars=max_chars,
        tweet=tweet,
        context=m.group(1).strip() if (m := OUR_TWEET.search(everything)) else None,
        fix=rejected.group(1).lower() if rejected else next((g for cue, g in _FIX_CUES if cue in ask.lower()), None),
        facts=given_facts(everything),
        examples=tuple(e.strip() for e in _EXAMPLE.findall(system)),
        schema_keys=_schema_keys(response_format),
        rejected_draft=m.group(1) if (m := re.search(r"Rejected draft:\s*\n(.*)", ask, re.DOTALL)) else "",
        avoid=tuple(r.strip() for r in _RECENT.findall(user_prose)),
        news=news_in(user_prose),
    )


def _text(message: dict[str, Any]) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _first_named(low: str, cues: Iterable[tuple[str, str]]) -> str | None:
    """The value of the cue that ``low`` mentions first."""
    found = [(pos, value) for value, cue in cues if (pos := low.find(cue)) >= 0]
    return min(found)[1] if found else None


def _topic(text: str) -> str:
    """The topic a model takes the prompt to ask for: the one a "Topic:" statement names, else the one the prompt
    mentions first, by name ("gut health", "gut_health") before keywords. A model writes about what it was asked
    to, not about a topic the prompt's context mentions on the way (a fact citing sleep in a post on metabolic
    health, a "topic=sleep" among the choices that worked): until 2026-12-05 the first of the topics' list found
    anywhere won, and the learner's own insights turned 61 % of a week's posts to sleep."""
    low = " " + text.lower() + " "
    names = [(t, n) for t in DEFAULT_TOPICS for n in (t, topic_label(t))]
    stated = re.search(r"\btopic:\s*([^\n.]+)", low)
    return (_first_named(stated.group(1), names) if stated else None) or _first_named(low, names) or _first_named(
        low, [(t, cue) for t in DEFAULT_TOPICS for cue in TOPIC_KEYWORDS[t]]) or "sleep"


def _content_type(text: str) -> str:
    """The content type whose cue the prompt mentions first (its instruction, not the context after it)."""
    return _first_named(text.lower(), [(t, c) for t, cues in _TYPE_CUES for c in cues]) or "practical_tip"


_FACT_HEADING = re.compile(r"(?im)^[^\n]*\b(?:facts?|sources?|evidence)\b[^\n]*:\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|\[[^\]]{1,12}\])\s+(.+?)\s*$")


def given_facts(text: str) -> tuple[str, ...]:
    """Facts the prompt lists under a heading that names them ("Facts you may state:")."""
    found: list[str] = []
    for heading in _FACT_HEADING.finditer(text):
        for line in text[heading.end():].lstrip("\n").splitlines():
            m = _LIST_ITEM.match(line)
            if not m:
                break
            found.append(m.group(1).strip())
    return tuple(dict.fromkeys(found))


# Figures ("type 2 diabetes" names a disease: a remembered fact that only adds it states nothing the prompt's did not).
_DIGITS = re.compile(r"(?<![Tt]ype )\d+(?:[.,]\d+)?")


def _split_source(line: str) -> tuple[str, str]:
    """"claim (source, 2019)" -> ("claim", "source, 2019"): the last bracket that closes the line, nested ones
    inside it included; the whole line and no source when it has none."""
    text = line.rstrip()
    if not text.endswith(")"):
        return text, ""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            claim = text[:i].rstrip()
            return (claim, text[i + 1:-1].strip()) if len(claim) >= 10 else (text, "")
    return text, ""


def news_in(prompt: str) -> str:
    """The news item a prompt asks the post to be about, with its source (its ``<news>`` block), or ""."""
    return m.group(1).strip() if (m := _NEWS.search(prompt)) else ""


def with_news(parts: list[str], angle: str, room: int) -> list[str]:
    """The news as the post under the post's frame, or as a thread's first point, naming its source as the prompt
    asks (as a citation: "… (Sandbox Journal)")."""
    claim, cite = _split_source(angle)[0], f" ({_news_source(angle)})"
    if len(parts) >= 3:
        return [parts[0], claim + cite if len(claim + cite) <= room else _clip(claim, room - len(cite)) + cite,
                *parts[2:]]
    # The post's frame over the news, unless it says the news is wrong or a hack ("Heart health myth: <the news>"
    # read as if the news were the myth in a demo, 2026-12-07).
    frame = m.group("frame") + " " if (m := _FRAME.match(parts[0])) and not _CONTRARY_FRAME.search(m.group(
        "frame")) else ""
    line = frame + claim + cite
    return [line if len(line) <= room else _clip(claim, room - len(cite)) + cite]


def _news_source(citation: str) -> str:
    """The source a news fact cites: "… (Sandbox journals, 2026)" -> "Sandbox journals"."""
    return _split_source(citation)[1].split(",")[0].strip() or "the source"


def composer_from(facts: tuple[str, ...], topic: str) -> TextComposer:
    """A composer that writes from the facts a prompt gave, each as the prompt worded it with its source."""
    return TextComposer([Fact(id=f"given-{i}", topics=(topic,), fact=claim, source=source, url="")
                         for i, (claim, source) in enumerate(map(_split_source, facts))])


def _schema_keys(response_format: Any) -> tuple[str, ...]:
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return ()
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    return tuple(props) if isinstance(props, dict) else ()


# ---------------------------------------------------------------- the answer


@dataclass
class Defect:
    habit: str
    # How to see it in a queued text: "contains" (the planted words), "twice" (the planted words said twice),
    # "prefix" / "suffix" (a part starts / ends with them), "wrapped" (quotes around a part), "longer_than" (a part
    # over that many characters), "lacks" (the words are missing: a news post that does not name its source), ""
    # (formatting only: nothing to see once the answer is parsed).
    check: str
    value: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Answer:
    content: str | None  # None with a refusal: the structured-output refusal field carries it
    refusal: str | None = None
    defects: list[Defect] = field(default_factory=list)
    brief: Brief | None = None


class RealisticWriter:
    """Writes like a chat model: on-brief text with habits. Deterministic for a given ``random.Random``."""

    def __init__(self, composer: TextComposer | None = None, rates: HabitRates | None = None) -> None:
        self.composer = composer or TextComposer()
        self.rates = rates or HabitRates()

    def answer(self, messages: list[dict[str, Any]], rng: random.Random, *, response_format: Any = None) -> Answer:
        # The habits added since 2026-12-06 draw from a stream of their own, seeded by the answer's without a draw
        # from it: every other habit of a seeded run stays as it was. Seeded by the state's ints alone: the whole
        # state holds None, whose hash Python 3.11 takes from its address, so the stream (and a seeded planner
        # benchmark: 268 then 278 items queued, same code and seed) changed from one process to the next.
        late = random.Random(hash(rng.getstate()[1]))
        typographic = late.random() < self.rates.typographic
        answer = self._around(self._answer(messages, rng, response_format=response_format), late)
        return _typographic(answer) if typographic else answer

    def _around(self, answer: Answer, late: random.Random) -> Answer:
        """A plain-text post or reply offered as several drafts, or followed by why it works (``late``'s habits;
        not around a refusal, a preamble, a closing remark or reasoning, which a model writing drafts leaves out)."""
        brief = answer.brief
        if (brief is None or answer.content is None or brief.kind == "thread" or brief.schema_keys
                or {d.habit for d in answer.defects} & {"refusal", "preamble", "closing", "reasoning"}):
            return answer
        content, defects = answer.content, list(answer.defects)
        # A decoding loop (small local models most): the last sentence said again, its capital at times lost. From
        # a stream of its own, seeded by the text: the late habits' draws stay as they were.
        own = random.Random(f"loops:{content}")
        if own.random() < self.rates.loops:
            said = [s for s in re.split(r"(?<=[.!?])\s+", content.strip()) if len(s.split()) >= 4 and "#" not in s]
            if said:
                again = said[-1] if own.random() < 0.5 else said[-1][:1].lower() + said[-1][1:]
                content = f"{content.rstrip()} {again}"
                defects.append(Defect("loops", "twice", again))
        if late.random() < self.rates.several_drafts:
            # Drafts on other sentences: one that opens as the first does (its words, whatever the first's
            # Markdown or emoji) would be seen in it once it is cleaned.
            others = [p for p in (self._base(brief, late)[0] for _ in range(2))
                      if _words(p.split(".")[0]) not in _words(content)]
            if others:
                noun = {"post": "tweet", "reply": "reply"}[brief.kind]
                label = late.choice(("{n}. ", "Option {n}: ", "**Option {n}:** "))
                drafts = [content, *others]
                content = f"Here are {len(drafts)} {noun} options:\n\n" + "\n\n".join(
                    label.format(n=n) + d for n, d in enumerate(drafts, 1))
                defects += [Defect("several_drafts", "contains", d) for d in others]
        if late.random() < self.rates.explains:
            explanation = late.choice(EXPLANATIONS)
            content = f"{content}\n\n{explanation}"
            defects.append(Defect("explains", "contains", explanation.split(":", 1)[1].strip()))
        if late.random() < self.rates.chatty:
            # Chat around the text in the forms a probe of 2026-12-06 found the normaliser missed: a lead line
            # that announces without the usual words ("I'd suggest something like this:", "Heres a tweet:"), a
            # note, a count or an offer in brackets, emphasis or with an emoji after it.
            noun = {"post": "tweet", "reply": "reply"}[brief.kind]
            lead = late.choice(CHATTY_LEADS).format(kind=noun, t=topic_label(brief.topic))
            tail = late.choice(CHATTY_TAILS).format(n=len(content)) if late.random() < 0.5 else None
            content = f"{lead}\n\n{content}" + (f"\n\n{tail}" if tail else "")
            for line in (lead, tail) if tail else (lead,):
                # What shows of it in the text, whatever emoji or emphasis marks the normaliser drops around it.
                defects.append(Defect("chatty", "contains", max(_MARKS.split(line), key=len).strip()))
        if late.random() < self.rates.wrapped:
            # What surrounds the text in the forms blind sets of 2026-12-06 (evening) found: markup or a leaked
            # template token around it, an echoed instruction or an announcement without a colon over it, a note
            # on the writing, its tone or its hashtags under it.
            noun = {"post": "tweet", "reply": "reply"}[brief.kind]
            before, after, seen = (w.format(kind=noun, t=topic_label(brief.topic)) for w in late.choice(WRAPPERS))
            content = before + content + after
            defects.append(Defect("wrapped", "contains", seen))
        return Answer(content, answer.refusal, defects, brief)

    def _answer(self, messages: list[dict[str, Any]], rng: random.Random, *, response_format: Any) -> Answer:
        brief = read_brief(messages, response_format)
        structured = bool(brief.schema_keys)
        habits = _Planter(self.rates, brief, rng, structured)
        if habits.fires("refusal"):
            refusal = rng.choice(REFUSALS).format(t=topic_label(brief.topic))
            # Other wordings (a probe of 2026-12-06 found the refusal gate blind to them), from a stream of the
            # refusal's own: a seeded run's other draws stay as they were.
            own = random.Random(f"refusal:{refusal}")
            if own.random() < 0.3:
                refusal = own.choice(OTHER_REFUSALS).format(t=topic_label(brief.topic))
            habits.record("refusal", "contains", refusal)
            if structured and rng.random() < 0.5:
                return Answer(content=None, refusal=refusal, defects=habits.defects, brief=brief)
            return Answer(content=habits.wrap_json([refusal]) if structured else refusal, defects=habits.defects,
                          brief=brief)
        own_knowledge = bool(brief.facts) and habits.fires("ignores_facts")
        angle = brief.news
        if angle and habits.fires("ignores_angle"):
            # Asked to write about a news item and name its source, a model may write from the other facts.
            habits.record("ignores_angle", "lacks", _news_source(angle))
            angle = ""
        parts = self._base(brief, rng, own_knowledge=own_knowledge, angle=angle)
        if own_knowledge:
            used = next((f.fact for f in self.composer.facts if any(f.fact in p for p in parts)), None)
            if used is not None:
                habits.record("ignores_facts", "contains", used)
        if brief.kind == "post" and brief.examples and habits.fires("copies_example"):
            parts = [rng.choice(brief.examples)]
            habits.record("copies_example", "contains", parts[0])
        parts = habits.inside(parts)
        # A call to follow an account it names itself (chat models' growth advice), in JSON as in plain text; from
        # a stream of its own, seeded by the text: the other habits' draws stay as they were.
        own = random.Random(f"cta:{parts[-1] if parts else ''}")
        if brief.kind == "post" and parts and own.random() < self.rates.cta:
            handle = "@" + topic_label(brief.topic).replace(" ", "") + own.choice(("daily", "coach", "facts", "hq"))
            cta = f" Follow {handle} for more {topic_label(brief.topic)} tips."
            if len(parts[-1].rstrip() + cta) <= brief.max_chars:  # written within the length asked
                parts[-1] = parts[-1].rstrip() + cta
                habits.record("cta", "contains", handle)
        # A biography for the account (chat models' "story" voice), in JSON as in plain text; from a stream of its
        # own, seeded by the text: the other habits' draws stay as they were.
        own = random.Random(f"identity:{parts[0] if parts else ''}")
        told = brief.fix == "identity" and own.random() < FIX_ON_REWRITE
        if parts and not told and own.random() < self.rates.invented_identity:
            claim = own.choice(IDENTITIES)
            if len(claim) + 1 + len(parts[0]) <= brief.max_chars:  # written within the length asked
                parts[0] = f"{claim} {parts[0]}"
                habits.record("invented_identity", "contains", claim)
        # Asked to push back, or answering someone, a model may shame ("tough love"); from a stream of its own.
        own = random.Random(f"shames:{parts[-1] if parts else ''}")
        pushed = brief.kind == "reply" or brief.content_type == "contrarian_take"
        told = brief.fix == "shaming" and own.random() < FIX_ON_REWRITE
        if parts and pushed and not told and own.random() < self.rates.shames:
            blame = own.choice(SHAMING)
            if len(parts[-1].rstrip() + " " + blame) <= brief.max_chars:
                parts[-1] = f"{parts[-1].rstrip()} {blame}"
                habits.record("shames", "contains", blame)
        # Answering a tweet that spreads a false health claim, a model goes along with it ("endorses"); asked about
        # someone's own medicine, result or symptom, a helpful model answers it ("advises"). Each from a stream of
        # its own, seeded by the tweet and the text.
        for habit, tweets, openers in (("endorses", MISINFORMATION_POSTS, ENDORSEMENTS),
                                       ("advises", PERSONAL_QUESTIONS, ADVICE)):
            own = random.Random(f"{habit}:{brief.tweet or ''}:{parts[0] if parts else ''}")
            if parts and brief.kind == "reply" and (brief.tweet or "").strip() in tweets \
                    and own.random() < getattr(self.rates, habit):
                opener = own.choice(openers)
                if len(opener) + 1 + len(parts[0]) <= brief.max_chars:
                    parts[0] = f"{opener} {parts[0]}"
                    habits.record(habit, "contains", opener)
        if structured:
            content = habits.wrap_json(parts)
        else:
            content = habits.join(parts)
        return Answer(content=habits.outside(content), defects=habits.defects, brief=brief)

    def _base(self, brief: Brief, rng: random.Random, *, own_knowledge: bool = False, angle: str = "") -> list[str]:
        composer = self.composer
        if brief.facts and not own_knowledge:
            composer = composer_from(brief.facts, brief.topic)
        elif own_knowledge:
            # What it "remembers" states figures the prompt did not give (else it restated a given fact).
            given = set(_DIGITS.findall(" ".join(brief.facts)))
            own = [f for f in composer.facts if set(_DIGITS.findall(f.fact)) - given]
            composer = TextComposer(own) if own else composer
        if brief.fix in ("duplicate", "near_duplicate") and brief.rejected_draft:
            # Told its draft repeats a post, a model writes about something else.
            fresh = [f for f in composer.facts if f.fact not in brief.rejected_draft]
            if fresh:
                composer = TextComposer(fresh)
        request = CompositionRequest(kind=brief.kind, content_type=brief.content_type, topic=brief.topic,
                                     parts=brief.parts, max_chars=brief.max_chars, tweet=brief.tweet,
                                     context=brief.context)
        parts = composer.compose(request, rng)
        # The composer numbers thread parts ("…\n\n2/4"); numbering is a habit here, at its own rate.
        parts = [re.sub(r"\s*\d{1,2}/\d{1,2}\s*$", "", p).replace(" ()", "").strip() for p in parts]
        if brief.kind == "reply":
            return parts
        parts = [_reword(p, rng, limit=brief.max_chars) for p in _vary_frame(parts, brief, rng)]
        return with_news(parts, angle, brief.max_chars) if angle else parts


class _Planter:
    def __init__(self, rates: HabitRates, brief: Brief, rng: random.Random, structured: bool) -> None:
        self.rates, self.brief, self.rng, self.structured = rates, brief, rng, structured
        self.defects: list[Defect] = []

    def fires(self, habit: str) -> bool:
        rate = getattr(self.rates, habit)
        if self.structured and habit in ("preamble", "closing"):
            rate *= STRUCTURED_CHATTER
        if self.brief.fix and habit in _FIXED_BY.get(self.brief.fix, ()) and self.rng.random() < FIX_ON_REWRITE:
            return False
        return self.rng.random() < rate

    def record(self, habit: str, check: str, value: str = "") -> None:
        self.defects.append(Defect(habit, check, value))

    # -- inside the text (each part)

    def inside(self, parts: list[str]) -> list[str]:
        rng, b = self.rng, self.brief
        parts = list(parts)
        # Markdown first: the habits below only add whole words around it, so every planted marker stays intact.
        if self.fires("markdown"):
            parts = self._markdown(parts)
        if self.fires("invented_stat"):
            claim = invented_claim(b.topic, rng)
            i = rng.randrange(1, len(parts) - 1) if len(parts) > 2 else 0  # a thread's middle, else the text
            text = parts[i].rstrip()
            text = text if text.endswith((".", "!", "?")) else text + "."
            parts[i] = f"{text} {claim}" if rng.random() < 0.6 else _before(parts[i], claim)
            self.record("invented_stat", "contains", claim)
        if self.fires("as_an_ai"):
            line = rng.choice(AS_AN_AI)
            parts[0] = _before(parts[0], line)
            self.record("as_an_ai", "contains", line)
        if self.fires("over_long"):
            limit = REPLY_LIMIT if b.kind == "reply" else POST_LIMIT  # past what X takes, not only the asked length
            i = rng.randrange(len(parts))
            extra: list[str] = []
            while len(parts[i]) + sum(len(e) + 1 for e in extra) <= limit + 20:
                extra.append(rng.choice([f for f in FILLERS if f not in extra] or FILLERS))
            parts[i] = parts[i] + " " + " ".join(extra)
            self.record("over_long", "longer_than", str(limit))
            # Cut back to the limit by whole sentences, the first filler sentences still fit: padding a reader sees.
            for filler in extra:
                self.record("over_long", "contains", filler)
        if self.fires("emoji"):
            marks = rng.sample(EMOJI, rng.randint(1, 3))
            i = rng.randrange(len(parts))
            spot = rng.random()
            if spot < 0.4:
                parts[i], placed = f"{marks[0]} {parts[i]}", marks[:1]
            elif spot < 0.8 or ". " not in parts[i]:
                parts[i], placed = f"{parts[i]} {' '.join(marks)}", marks
            else:
                parts[i], placed = parts[i].replace(". ", f". {marks[0]} ", 1), marks[:1]
            for mark in placed:
                self.record("emoji", "contains", mark)
        if self.fires("hashtags"):
            tags = rng.sample(_hashtags(b.topic), rng.randint(2, 4))
            run = " ".join(tags)
            parts[-1] = f"{parts[-1]}\n\n{run}" if rng.random() < 0.6 else f"{parts[-1]} {run}"
            self.record("hashtags", "contains", run)
        if b.kind == "thread" and self.fires("numbered"):
            n = len(parts)
            style = rng.choice(("{i}/{n} ", "{i}/ ", "({i}/{n}) ", "{i}. ", "suffix"))
            numbered = []
            for i, p in enumerate(parts, 1):
                if style == "suffix":
                    mark = f" {i}/{n}"
                    numbered.append(p + mark)
                    self.record("numbered", "suffix", mark.strip())
                else:
                    mark = style.format(i=i, n=n)
                    numbered.append(mark + p)
                    self.record("numbered", "prefix", mark.strip())
            parts = numbered
        if self.fires("quotes"):
            q = rng.choice(('"', "“"))
            close = '"' if q == '"' else "”"
            parts = [f"{q}{p}{close}" for p in parts]
            self.record("quotes", "wrapped")
        return parts

    def _markdown(self, parts: list[str]) -> list[str]:
        rng = self.rng
        style = rng.choice(("bold", "bold", "heading", "bullets"))
        i = rng.randrange(len(parts))
        p = parts[i]
        if style == "bold":
            words = p.split("\n")[0].split(" ")
            j = rng.randrange(max(1, min(len(words), 6)))
            k = min(len(words), j + rng.randint(1, 3))
            phrase = " ".join(words[j:k]).strip(" .,:;!?()")
            if phrase and phrase in p:
                parts[i] = p.replace(phrase, f"**{phrase}**", 1)
                self.record("markdown", "contains", f"**{phrase}**")
        elif style == "heading":
            title = f"{'#' * rng.randint(1, 3)} {topic_label(self.brief.topic).title()}: what to know"
            parts[i] = f"{title}\n\n{p}"
            self.record("markdown", "contains", title)
        else:
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", p) if s]
            if len(sentences) >= 2:
                parts[i] = "\n".join(f"- {s}" for s in sentences)
                self.record("markdown", "contains", f"- {sentences[1]}")
        return parts

    # -- around the text

    def join(self, parts: list[str]) -> str:
        if self.brief.kind != "thread":
            return parts[0]
        if self.fires("blank_lines"):
            self.record("blank_lines", "")
            return "\n\n".join(parts)
        return "\n---\n".join(parts)

    def wrap_json(self, parts: list[str]) -> str:
        keys = self.brief.schema_keys
        if "parts" in keys:
            body: dict[str, Any] = {"parts": parts}
        else:
            body = {keys[0] if keys else "text": "\n\n".join(parts)}
        text = json.dumps(body, ensure_ascii=False)
        if self.fires("json_fence"):
            self.record("json_fence", "")
            text = f"```json\n{text}\n```"
        return text

    def outside(self, content: str) -> str:
        rng, b = self.rng, self.brief
        if self.fires("preamble"):
            line = rng.choice(PREAMBLES).format(t=b.topic if rng.random() < 0.3 else topic_label(b.topic),
                                                kind={"post": "tweet", "thread": "thread", "reply": "reply"}[b.kind])
            content = f"{line}\n\n{content}" if rng.random() < 0.8 else f"{line} {content}"
            shown = line.replace("**", "").strip()
            self.record("preamble", "contains", shown.rstrip(":") if len(shown.split()) > 2 else shown)
        if self.fires("closing"):
            line = rng.choice(CLOSINGS).format(n=len(content))
            content = f"{content}\n\n{line}"
            self.record("closing", "contains", line)
        if self.fires("reasoning"):
            thought = rng.choice(THOUGHTS).format(t=topic_label(b.topic), kind=b.kind)
            opening = "<think>\n" if rng.random() < 0.8 else ""
            content = f"{opening}{thought}\n</think>\n\n{content}"
            self.record("reasoning", "contains", thought.split(".")[0])
        return content


_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _typographic(answer: Answer) -> Answer:
    """The answer with its apostrophes typed as ’, the planted defects' words too (a leaked "Here’s a tweet" is
    still seen)."""
    def curl(text: str | None) -> str | None:
        return None if text is None else _APOSTROPHE.sub("’", text)
    defects = [Defect(d.habit, d.check, curl(d.value) or "") for d in answer.defects]
    return Answer(curl(answer.content), curl(answer.refusal), defects, answer.brief)


def _before(part: str, words: str) -> str:
    """``words`` put in front of a part's text (after a Markdown heading line, where a model would put them)."""
    if part.startswith("#") and "\n\n" in part:
        heading, rest = part.split("\n\n", 1)
        return f"{heading}\n\n{words} {rest}"
    return f"{words} {part}"


_LEAD_INS = (
    "Worth knowing:", "Here's the thing:", "One finding stands out.", "Quick reminder:", "The data is clear.",
    "Something most people miss:", "Plain version:", "Evidence first:", "Small thing, big effect.",
    "Keep this in mind:",
    "Not a trend, a finding:", "Simple, and well studied:", "This surprised me:", "Easy to overlook:",
    "Read that again:", "The short answer:",
)
_SOURCE = re.compile(r"\s*\(([^()]{3,120})\)\s*$")
_TAKEAWAY = re.compile(r"^(Takeaway|Quick win for your [a-z ]+|Unpopular opinion)(:)", re.IGNORECASE)
_TAKEAWAYS = ("Takeaway:", "Bottom line:", "Try this:", "Start here:", "One step:", "Your move:", "In practice:")
# An opening of its own: a label (up to a colon) or a question as the first sentence.
_OPENING = re.compile(r"^[^\n.!?:]{2,60}(?::|\?)(?:\s|$)")


def _reword(part: str, rng: random.Random, *, limit: int) -> str:
    """A model never writes the same sentence twice the same way: vary lead-ins, labels and source mentions
    (the sourced fact itself is kept)."""
    text = part
    if (m := _TAKEAWAY.match(text)) and m.group(1).lower() == "takeaway":
        text = rng.choice(_TAKEAWAYS) + text[m.end():]
    if (m := _SOURCE.search(text)) and rng.random() < 0.4:
        text = text[: m.start()] + rng.choice((f" ({m.group(1)})", f" Source: {m.group(1)}.", f" — {m.group(1)}"))
    if rng.random() < 0.6:
        candidate = f"{rng.choice(_LEAD_INS)} {text}"
        # A writer opens once: no lead-in over an opening that is one already ("Plain version: Start here: …" and
        # "Easy to overlook: What's your take on sleep?" were posted in the demo before this).
        if len(candidate) <= limit and not _OPENING.match(text):
            text = candidate
    return text


# A model words a post's frame (a thread's hook and sign-off, a post's opening) afresh each time: several frames
# per content type, each keeping the words the audience model reads the content type from, none stating a number,
# a study or an institution (the facts carry those). Openings the prompt lists as recent (``<recent>``) are avoided
# AVOID_RECENT of the time: models follow a "do not repeat these" list, not always.
AVOID_RECENT = 0.85
THREAD_HOOK_FRAMES: dict[str, tuple[str, ...]] = {
    "myth_busting": ("Myth: {myth}\n\nHere is what holds up instead. A thread on {t}:",
                     "A {t} myth that will not die: {myth} Here is what holds up:",
                     "You have heard this {t} myth: {myth} Let's look closer:",
                     "{T} myth, checked against the evidence: {myth}"),
    "framework": ("A simple framework for better {t}, built on evidence. Step by step:",
                  "A framework for {t} you can actually keep, step by step:",
                  "My {t} framework, built on evidence:",
                  "The {t} framework I keep coming back to:"),
    "research_breakdown": ("What the research on {t} means, in plain words:",
                           "The research on {t}, minus the jargon:",
                           "The research on {t}, explained simply:",
                           "Reading the {t} research so you do not have to:"),
    "practical_tip": ("Quick wins for your {t}: simple habits, and why each one works.",
                      "Small {t} habits that hold up, and the reason for each:",
                      "{T} tips backed by evidence:",
                      "Easy {t} habits worth a try this week:"),
    "story": ("Last year I realised I had {t} all wrong. What I learned from the evidence:",
              "I used to get {t} wrong. Here is what the evidence taught me:",
              "A short story about {t}, and what changed my mind:",
              "How I stopped guessing about {t}:"),
    "contrarian_take": ("Unpopular opinion: most {t} advice online is overrated. What actually matters:",
                        "Unpopular opinion: the basics of {t} beat the hacks.",
                        "Most {t} hacks are overrated. Here is what holds up:",
                        "Hot take on {t}: skip the hacks, keep the basics."),
    "data_insight": ("{T} by the numbers: the data points worth knowing.",
                     "A few {t} numbers worth knowing:",
                     "{T} in numbers, each with its source:",
                     "The {t} numbers that changed how I see it:"),
    "question": ("What do you get wrong about {t}? Most people miss at least one of these:",
                 "How well do you know {t}? Most people miss one of these:",
                 "Which of these {t} facts surprises you?",
                 "Do these match your experience with {t}?"),
}
POST_OPENING_FRAMES: dict[str, tuple[str, ...]] = {
    "myth_busting": ("{T} myth:", "A {t} myth worth dropping:", "Common {t} myth:", "Myth versus evidence on {t}:"),
    "framework": ("A simple framework for {t}:", "A framework for {t} that sticks:", "My {t} framework:",
                  "A plain framework for {t}:"),
    "research_breakdown": ("The research on {t}, in plain words:", "Research worth knowing on {t}:",
                           "The research on {t}, briefly:", "A research note on {t}:"),
    "practical_tip": ("Quick win for your {t}:", "An easy {t} habit:", "A {t} tip that holds up:",
                      "Try this for your {t}:"),
    "story": ("Last year I learned this about {t} the hard way:", "I got {t} wrong for years. Then I read this:",
              "What changed my mind on {t}:", "I used to ignore this about {t}:"),
    "contrarian_take": ("Unpopular opinion: most {t} hacks are overrated.", "Unpopular opinion on {t}:",
                        "Hot take: {t} hacks are overrated.", "Skip the {t} hacks. Keep this:"),
    "data_insight": ("{T} by the numbers:", "A {t} number worth knowing:", "A {t} number to remember:",
                     "The {t} data point I keep quoting:"),
    "question": ("What's your experience with {t}?", "Does this match your {t} experience?",
                 "What's your take on {t}?", "Did you know this about {t}?"),
}
THREAD_SIGN_OFFS: dict[str, tuple[str, ...]] = {
    "question": ("Which of these will you try first? What's your experience with {t}?",
                 "Which of these surprised you most?", "Which would you start with, and why?"),
    "framework": ("The framework: know the facts, start with one step, then look back at how it went.",
                  "Know it, do it, look back at it. That is the whole framework.",
                  "The framework in short: learn it, try it, check how it went."),
}
# The composer's stock sentences (its defaults when a fact has no tip or myth of its own, as the prompt's facts have
# not): a model words the tip, the change and the myth afresh each time; left fixed, every framework post ended on
# the same two sentences and landed at cosine 0.9+ of the last one whatever fact it stated.
STOCK_SENTENCES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"Change one thing, not five\."),
     ("Change one thing, not five.", "Start small and keep it.", "Pick the easiest change first.",
      "Begin with the change you can keep.")),
    (re.compile(r"Then look back at how it went\."),
     ("Then look back at how it went.", "Check in with yourself after a while.", "Notice what changes.",
      "Review it when the month is out.")),
    (re.compile(r"I stopped guessing and looked at the evidence on (?P<t>[a-z ]+)\."),
     ("I stopped guessing and looked at the evidence on {t}.", "I read what the sources actually say about {t}.",
      "I swapped hunches about {t} for sources.", "I started checking {t} claims before trying them.")),
    (re.compile(r"(?P<T>[A-Z][a-z ]+) advice has to be complicated(?: to work)?\."),
     ("{T} advice has to be complicated to work.", "You need a complicated plan for {t}.",
      "Good {t} takes an expensive routine.", "{T} is all about willpower.")),
    (re.compile(r"[Pp]ick one (?P<t>[a-z ]+) habit and keep it up\."),
     ("Pick one {t} habit and keep it up.", "Choose a single {t} habit and stick with it.",
      "Keep the {t} habit small enough to repeat.", "Make the {t} change boring enough to keep.")),
    (re.compile(r"The boring basics win\."),
     ("The boring basics win.", "Basics beat hacks.", "Dull habits do the heavy lifting.",
      "The unglamorous stuff works.")),
    (re.compile(r"Does this match what you've seen\?"),
     ("Does this match what you've seen?", "Is that your experience too?", "Seen the same?",
      "How does that compare with yours?")),
)


def _vary_stock(part: str, rng: random.Random) -> str:
    for pattern, variants in STOCK_SENTENCES:
        m = pattern.search(part)
        if m is None:
            continue
        t = (m.groupdict().get("t") or m.groupdict().get("T") or "").strip().lower()
        choice = rng.choice(variants).format(t=t, T=t[:1].upper() + t[1:])
        part = part[: m.start()] + choice + part[m.end():]
    return part


# A post's frame as the template composer writes it: a short opening without figures, up to a colon, question mark
# or full stop and the line or sentence break after it.
_WORDS = re.compile(r"[a-z0-9']+")
_HACKS_CLAIM = re.compile(r"^\s*most [a-z ]+ hacks are overrated\.[ \t]*", re.IGNORECASE)
_FRAME = re.compile(r"^(?P<frame>[^\n\d]{3,90}?[:?.])(?:\s*\n+|\s+)(?=\S)")
_CONTRARY_FRAME = re.compile(r"(?i)\b(?:myths?|opinion|hot take|hacks?|overrated|wrong|skip|stop|nobody|never)\b")
_THREAD_MYTH = re.compile(r"^Myth: (?P<myth>.+?)\n\nThe evidence says otherwise", re.DOTALL)


def _avoided(text: str, avoid: tuple[str, ...]) -> bool:
    """A listed opening, or its wording on another topic: "do not reuse them or their wording", as a model reads
    it, rules out "How I stopped guessing about stress:" after "How I stopped guessing about sleep:"."""
    key = text.lower().strip()
    words = set(_WORDS.findall(key))
    for a in avoid:
        other = set(_WORDS.findall(a.lower()))
        if key and (key[:40] in a.lower() or len(words & other) >= 0.5 * len(words | other)):
            return True
    return False


def _pick(frames: tuple[str, ...], avoid: tuple[str, ...], rng: random.Random, **values: str) -> str:
    options = [f.format(**values) for f in frames]
    if avoid and rng.random() < AVOID_RECENT:
        fresh = [o for o in options if not _avoided(o, avoid)]
        options = fresh or options
    return rng.choice(options)


def _vary_frame(parts: list[str], brief: Brief, rng: random.Random) -> list[str]:
    """The composer's parts with the frame worded afresh (the facts untouched)."""
    t = topic_label(brief.topic)
    values = {"t": t, "T": t[:1].upper() + t[1:]}
    parts = list(parts)
    if brief.kind == "thread" and parts:
        m = _THREAD_MYTH.match(parts[0])
        myth = m.group("myth") if m else f"{values['T']} advice has to be complicated."
        hook = _pick(THREAD_HOOK_FRAMES.get(brief.content_type, THREAD_HOOK_FRAMES["practical_tip"]), brief.avoid,
                     rng, myth=myth, **values)
        if len(hook) <= brief.max_chars:
            parts[0] = hook
        closers = THREAD_SIGN_OFFS.get(brief.content_type)
        if closers and len(parts) > 2:
            parts[-1] = _pick(closers, (), rng, **values)
        varied = [_vary_stock(p, rng) for p in parts]
        return [v if len(v) <= brief.max_chars else p for v, p in zip(varied, parts)]
    if brief.kind == "post" and parts and (m := _FRAME.match(parts[0])):
        frame = _pick(POST_OPENING_FRAMES.get(brief.content_type, POST_OPENING_FRAMES["practical_tip"]),
                      brief.avoid, rng, **values)
        rest = parts[0][m.end():]
        # The contrarian template's claim after its colon ("Unpopular opinion: most sleep hacks are overrated.") is
        # frame too: under a new frame that says it ("Hot take: sleep hacks are overrated.") it was said twice
        # ("… overrated. most sleep hacks are overrated.", posted in a demo before 2026-12-06, night; the habit it
        # looked like is ``loops`` now).
        if "hacks" in frame.lower():
            rest = _HACKS_CLAIM.sub("", rest, count=1)
        joined = f"{frame}\n\n{rest}" if "\n" in parts[0][: m.end()] else f"{frame} {rest}"
        if len(joined) <= brief.max_chars:
            parts[0] = joined
    varied = [_vary_stock(p, rng) for p in parts]
    return [v if len(v) <= brief.max_chars else p for v, p in zip(varied, parts)]


# The gate named in a rewrite prompt → the habits a model then leaves out (when it listens).
_FIXED_BY: dict[str, tuple[str, ...]] = {
    "refusal": ("refusal", "as_an_ai"),
    "length": ("over_long",),
    "hashtags": ("hashtags",),
    "malformed": ("json_fence", "reasoning"),
    "reply_form": ("emoji", "hashtags"),
    "injection": ("as_an_ai",),
    "duplicate": ("copies_example",),
    "near_duplicate": ("copies_example",),
    "claims": ("invented_stat", "ignores_facts"),
    "identity": ("invented_identity",),
    "shaming": ("shames",),
}

PREAMBLES = (
    "Here's a {kind} about {t}:",
    "Sure! Here's a {kind} on {t}:",
    "Certainly! Here is a {kind} about {t}:",
    "Here's a concise, engaging {kind} about {t}:",
    "Here is your {kind}:",
    "**{kind}:**",
    "Absolutely! Here's a {kind} that fits your voice:",
    "Here's a draft {kind} for you:",
)
CLOSINGS = (
    "Let me know if you'd like me to adjust the tone!",
    "Feel free to tweak it to match your voice.",
    "(Character count: {n})",
    "Would you like a version with hashtags?",
    "I hope this helps!",
)
THOUGHTS = (
    "Okay, the user wants a {kind} about {t}. I should keep it short and evidence-based. Let me pick one fact "
    "and make it punchy.",
    "The user asks for a {kind} on {t}. Constraints: character limit, no medical advice. I'll lead with a hook.",
    "Let me think about what makes a good {kind} about {t}. It needs a hook, one idea, and a takeaway.",
)
REFUSALS = (
    "I'm sorry, but I can't help with creating content that could be taken as medical advice about {t}.",
    "I'm sorry, but I can't help with that request.",
    "I can't provide health advice. Please consult a qualified healthcare professional about {t}.",
    "Unfortunately, I cannot create content about {t} that might be mistaken for medical guidance.",
)
OTHER_REFUSALS = (
    "I'd rather not write about {t} in a way that could be read as medical advice.",
    "I won't be able to help with this one.",
    "That's not something I can help with.",
    "I'm not comfortable writing this tweet.",
    "Writing this could spread misinformation about {t}, so I'll pass.",
)
EXPLANATIONS = (
    "Why it works: it opens with a concrete claim and ends with one thing to try.",
    "**Explanation:** A specific number hooks the reader, and the takeaway is easy to act on.",
    "Why this works: short sentences, one idea, and a clear next step.",
)
CHATTY_LEADS = (
    "I'd suggest something like this:",
    "Heres a {kind}:",
    "As requested, a {kind} on {t}:",
    "Okay, here's my attempt:",
    "Note: I've kept this under 280 characters.",
    "Certainly! 😊",
    "Great topic! Getting {t} right matters. Here's a {kind}:",
    "I can't verify specific statistics, but here's a general {kind}:",
    "Here's one that should land well with your audience:",
    "Response:",
)
CHATTY_TAILS = (
    "(Under 280 characters ✅)",
    "**Character count:** {n}",
    "(Feel free to adjust the tone.)",
)
# (before the text, after it, what of them a queued text would show)
WRAPPERS = (
    ("<{kind}>", "</{kind}>", "<{kind}>"),
    ("Assistant: ", "<|eot_id|>", "Assistant:"),
    ("Write one {kind} about {t} for X.\n\n", "", "Write one {kind}"),
    ("Here's something short and punchy for your audience\n\n", "", "short and punchy"),
    ("Got it. ", "", "Got it."),
    ("", "\n\nThis works because it leads with one clear, practical point.", "This works because"),
    ("", "\n\nI kept it short so it reads naturally.", "I kept it short"),
    ("", "\n\n*(Friendly, practical, supportive)*", "Friendly, practical, supportive"),
    ("", "\n\nSuggested hashtags: #wellness #habits", "Suggested hashtags"),
    ("", " [Image suggestion: a calm morning scene]", "Image suggestion"),
    ("", "\n\nWould you like a version with a stronger hook?", "stronger hook"),
)
_MARKS = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]|\\*\\*")
# What models write for an account's story or reply voice when no one told them who the owner is.
IDENTITIES = (
    "As a registered dietitian, I get this question a lot.",
    "Nurse here.",
    "After 12 years in practice, this is what I'd say:",
    "One of my clients asked me this last week.",
    "When I was diagnosed with prediabetes, this is what helped.",
    "I tell every patient the same thing.",
    "Speaking as someone who reversed their insomnia:",
    "Personal trainer for a decade.",
    "My heart attack at 44 taught me this.",
    "I've coached hundreds of people through this.",
)
# What a model adds when it takes "push back" as licence to blame.
SHAMING = (
    "Stop making excuses.",
    "No excuses.",
    "If you can't manage that, that's on you.",
    "Most people aren't tired, they're just lazy.",
    "It's not rocket science, people.",
    "Honestly embarrassing that adults still need to hear this.",
)
ENDORSEMENTS = (
    "You're right, and more people need to hear this.",
    "This is what the mainstream advice keeps missing.",
    "Love that you trusted your own body here.",
    "Exactly, the body heals when we get out of its way.",
    "So true, and it takes courage to say it.",
)
ADVICE = (
    "That should be fine at your dose.",
    "Yes, it's safe to combine those.",
    "At those numbers, start with this before anything else.",
    "You can keep going, just halve it for the first week.",
    "That's usually nothing to worry about.",
)
AS_AN_AI = (
    "As an AI, I don't have personal experiences, but here's what the research says:",
    "As an AI language model, I can share that",
    "I'm just an AI, but",
)
FILLERS = (
    "This matters because small, consistent changes compound over months and years.",
    "Remember that everyone's body is different, so what works for one person may not work for another.",
    "It is always a good idea to listen to your body and to talk to a professional before big changes.",
    "Consistency beats intensity, and the best plan is the one you can actually keep.",
    "Over time these habits add up to real, measurable differences in how you feel every single day.",
)
EMOJI = ("🧵", "💡", "✅", "✨", "👇", "🌱", "💪", "🧠", "😴", "🔥", "🚀", "❤️")
_INSTITUTIONS = ("Harvard", "Stanford", "Oxford", "Johns Hopkins", "Mayo Clinic", "MIT", "Cambridge", "Yale")
_SUBJECTS = {
    "sleep": "adults who kept a fixed bedtime slept deeper",
    "nutrition": "people who ate breakfast made healthier choices all day",
    "exercise": "people who walked after meals lowered their risk of heart disease",
    "stress": "employees who took short breaks reported less burnout",
    "gut_health": "people who ate fermented foods had a more diverse microbiome",
    "longevity": "people with strong friendships lived longer",
    "mental_health": "people who journaled daily felt less anxious",
    "hydration": "office workers were mildly dehydrated by mid-afternoon",
    "metabolic_health": "adults who ate dinner early had steadier blood sugar",
    "heart_health": "people who climbed stairs daily lowered their heart disease risk",
}


def invented_claim(topic: str, rng: random.Random) -> str:
    """An invented statistic or study, in the shapes models produce them."""
    subject = _SUBJECTS.get(topic, _SUBJECTS["sleep"])
    year, inst, pct = rng.randint(2015, 2024), rng.choice(_INSTITUTIONS), rng.randint(17, 89)
    claim = rng.choice((
        f"A {year} {inst} study found that {pct}% of {subject}.",
        f"Research from {inst} shows {pct}% of {subject}.",
        f"Studies show that {pct}% of {subject}.",
        f"In a {year} study of {rng.randint(2, 40)},000 people, {pct}% of {subject}.",
    ))
    # Shapes with no digit (an appeal to authority, an effect as a fraction; a probe of 2026-12-06 found the claims
    # gate blind to them), drawn from a stream of the claim's own: a seeded run's other draws stay as they were.
    own = random.Random(f"claim:{claim}")
    if own.random() < 0.3:
        claim = own.choice((f"Experts agree that {subject}.", f"It's been proven that {subject}.",
                            "Doing this cuts the risk in half.", "The risk drops by a third within weeks."))
    return claim


def _hashtags(topic: str) -> list[str]:
    label = "".join(w.capitalize() for w in topic.split("_"))
    return [f"#{label}", "#HealthTips", "#Wellness", "#HealthyLiving", "#SelfCare", f"#{label}Tips", "#Health"]


__all__ = ["Answer", "Brief", "Defect", "HabitRates", "RealisticWriter", "composer_from", "given_facts",
           "invented_claim", "read_brief",
           "DEFAULT_CONTENT_TYPES"]
