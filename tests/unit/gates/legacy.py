"""The reply gates as they stood before issue 20 (a frozen copy of services/planner/gates.py and replies.py of
that time; the unreleased commit it was taken from did not land, v0.1 0cbbb0c has their ancestors), kept only so
the corpus tests can show that they leak; nothing else imports this."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass




from libs.text import find_urls, normalise, x_length
from libs.niche import NicheConfig


@dataclass(frozen=True)
class Rejection:
    gate: str
    reason: str


Verdict = Rejection | None

HASHTAG_RE = re.compile(r"(?<![\w&])#\w+", re.UNICODE)
HANDLE_RE = re.compile(r"(?<![\w@])@\w{1,15}\b")


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
    return bool(p) and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text_norm) is not None


def check_banned(text: str, config: NicheConfig, *, kind: str = "post") -> Verdict:
    norm = normalise(text)
    for phrase in config.banned_phrases:
        if _contains_phrase(norm, phrase):
            return Rejection("banned", f"banned phrase {phrase!r}")
    for subject in config.banned_subjects:
        if _contains_phrase(norm, subject):
            return Rejection("banned", f"banned subject {subject!r}")
    tags = HASHTAG_RE.findall(text)
    banned = {t.lower() for t in config.hashtags.banned}
    for tag in tags:
        if tag.lower() in banned:
            return Rejection("hashtags", f"banned hashtag {tag}")
    limit = config.hashtags.max_per_reply if kind == "reply" else config.hashtags.max_per_post
    if len(tags) > limit:
        return Rejection("hashtags", f"{len(tags)} hashtags, at most {limit} allowed")
    return None


# ---------------------------------------------------------------- medical safety

# Drug-like units make a dose with a schedule alone; grams are also how food guidance is written ("25 g of
# fibre a day"), so a gram amount is a dose only when the reader is told to take it.
_DRUG_UNIT = r"(?:mg|mcg|µg|μg|ug|iu|ml|milligrams?|micrograms?|units?|drops?|capsules?|pills?|tablets?)"
_DOSE = re.compile(rf"\b\d+(?:[.,]\d+)?\s*(?:-|to|–)?\s*\d*\s*{_DRUG_UNIT}\b", re.IGNORECASE)
_GRAM_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:-|to|–)?\s*\d*\s*(?:g|grams?)\b", re.IGNORECASE)
_TAKE = re.compile(r"\b(?:take|taking|dose|dosing|supplement(?:ing)? with|pop|swallow|inject)\b", re.IGNORECASE)
# A quantity becomes an instruction when the reader is told to take it or when it comes with a schedule.
_DOSE_CONTEXT = re.compile(
    r"\b(?:take|taking|dose|dosing|supplement(?:ing)? with|start with|pop|swallow|you need|aim for|inject|"
    r"per day|a day|daily|twice|before bed|every morning|each morning|every night|with meals)\b",
    re.IGNORECASE,
)
_MEDICATION_ADVICE = re.compile(
    r"\b(?:stop|quit|skip|ditch|double|halve|replace) (?:taking )?(?:your |the )?"
    r"(?:meds|medications?|prescriptions?|insulin|statins?|antidepressants?|dose)\b",
    re.IGNORECASE,
)
_CLAIMS = re.compile(
    r"\b(?:cures?|cured|curing|guarantee[sd]?|guaranteed|100% (?:effective|safe|proven)|miracle|"
    r"reverses? (?:diabetes|cancer|heart disease|aging|ageing|alzheimer'?s)|eliminates? (?:cancer|disease)|"
    r"never get sick(?:\s+again)?|proven to (?:cure|heal|prevent))\b",
    re.IGNORECASE,
)
_CLICKBAIT = re.compile(
    r"\b(?:doctors? (?:hate|don'?t want you to know|won'?t tell you)|"
    r"(?:big pharma|they) (?:doesn'?t|don'?t) want you to know)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:no|not|nothing|never|doesn'?t|don'?t|won'?t|can'?t|isn'?t|aren'?t|nor|myth)\b\W+(?:\w+\W+){0,3}$",
    re.IGNORECASE)


def check_medical_safety(text: str) -> Verdict:
    for sentence in _sentences(text):
        if (_DOSE.search(sentence) and _DOSE_CONTEXT.search(sentence)) or (
            _GRAM_DOSE.search(sentence) and _TAKE.search(sentence)
        ):
            return Rejection("medical_safety", f"dosing instruction: {sentence.strip()[:80]!r}")
        if _MEDICATION_ADVICE.search(sentence):
            return Rejection("medical_safety", f"medication advice: {sentence.strip()[:80]!r}")
        if m := _CLICKBAIT.search(sentence):
            return Rejection("medical_safety", f"clickbait claim {m.group(0)!r}")
        for m in _CLAIMS.finditer(sentence):
            # "No supplement cures anxiety" debunks a cure claim; it does not make one.
            if not _NEGATION.search(sentence[: m.start()]):
                return Rejection("medical_safety", f"cure or guarantee claim {m.group(0)!r}")
    return None



_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]

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
        asked = tweet_urls or re.search(r"\blink|visit|url|site\b", tweet, re.I)
        why = "a link the tweet asked for" if asked else "a link"
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
            # The thresholds of the time (the niche file has recalibrated ones now).
            min_similarity={"minilm": 0.35, "lexical": 0.15}.get(embedder_kind, 0.35),
        )
    )
