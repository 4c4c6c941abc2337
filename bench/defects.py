"""Defects a reader would see in a queued text, found two independent ways for the planner benchmark.

1. ``planted_survivors``: the sandbox's ground-truth log says which defects it planted in each answer; a planted
   defect survives when its marker is still in the text queued from that answer.
2. ``detect``: this module's own detector, written apart from the planner's normaliser (other patterns, no shared
   code), so a blind spot of the normaliser is not also a blind spot of the measurement. It flags padding (stock
   advice sentences filling an over-long answer out, cut back to the limit), words said twice back to back, and
   claims
   (a percentage, a year with a study, a named institution) that no usable fact of the niche's facts file supports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from libs.text import x_length

QUOTE_CHARS = "\"“”'‘’«»"

_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|certainly|of course|absolutely|okay|great)\b[!,.]|here'?s?(?: is| are)?\b[^\n]{0,80}"
    r"\b(?:tweet|post|thread|reply|draft|version|attempt)\b|here'?s?(?: is)?[^\n:]{0,40}\bone\s*:"
    r"|(?:tweet|post|thread|reply|draft|response)\s*\d*\s*:"
    r"|i'?d (?:suggest|reply|go with|say)\b|as requested\b|note\s*:)",
    re.IGNORECASE,
)
_CLOSING = re.compile(r"let me know|feel free to|hope (?:this|that) (?:helps|works)|character count|would you like|"
                      r"want me to|\d+ characters|adjust the tone|another version|should i make|this works because|"
                      r"i kept it|suggested hashtags|image suggestion|stronger hook|^\s*\(?(?:tone|length|style)\s*:",
                      re.IGNORECASE | re.MULTILINE)
# Markup or a chat template's tokens around the text, an instruction echoed back, a role named.
_WRAPPING = re.compile(
    r"</?[a-z]{2,12}>|<\|[a-z_]+\|>|^\s*(?:assistant|model)\s*:|^\s*write (?:one|a) (?:tweet|post|reply)\b",
    re.IGNORECASE | re.MULTILINE,
)
_MARKDOWN = re.compile(r"\*\*[^*]+\*\*|__[^_]+__|(?m:^\s{0,3}#{1,6}\s)|(?m:^\s*[-*+]\s+\S)|\[[^\]]+\]\([^)]+\)")
_HASHTAG_RUN = re.compile(r"(?:#\w+\s*){2,}$")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\U0001F1E6-\U0001F1FF]")
_AI = re.compile(r"\bas an ai\b|\blanguage model\b|\bi(?:'m| am) (?:just )?an ai\b|\bi(?:'m| am) sorry\b|"
                 r"\bi can(?:not|'t) (?:help|provide|create|assist)\b|\bi don't have personal", re.IGNORECASE)
_REASONING = re.compile(r"</?think>|\bthe user (?:wants|asks)\b|\blet me think\b", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*\(?\d{1,2}\s*/\s*\d{0,2}\)?\s|^\s*\d{1,2}\.\s|\s\(?\d{1,2}/\d{1,2}\)?\s*$")
_INSTITUTION = re.compile(r"\b(?:harvard|stanford|oxford|johns hopkins|mayo clinic|mit|cambridge|yale)\b",
                          re.IGNORECASE)
_CLAIM = re.compile(r"\d+(?:\.\d+)?\s*%|\b(?:19|20)\d\d\b[^.]{0,60}\bstud(?:y|ies)\b|\bstudies show\b|"
                    r"\bresearch (?:from|shows)\b", re.IGNORECASE)
# Clauses: a lead-in ("Last year I learned this the hard way:") or a citation in brackets closes one, so the words
# around a claim do not dilute the words it shares with its fact.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[:)])\s+(?=[A-Z])|\n+")
# Padding: generic sentences that fill an answer out without saying anything of its subject (a model asked for a
# length it overshot); a sentence is padding when it is made of such stock advice.
_PADDING = re.compile(
    r"(?:every(?:one|body)(?:'s body)? (?:is|are) (?:different|unique)|may not work for (?:another|everyone|you)|"
    r"your body(?:'s)? (?:signals|cues)|listen(?:ing)? to your body|before (?:any |making )?(?:big|major) changes|"
    r"(?:plan|routine) (?:is|that) (?:the one )?you can (?:actually )?(?:keep|stick)|"
    r"compound(?:s)? over (?:months|time|years)|add(?:s)? up to real|every single day|"
    r"(?:always|generally) (?:a good|wise|best)|professional (?:advice|guidance|before))",
    re.IGNORECASE,
)
# A figure; "type 2 diabetes" names a disease and states none (a sentence adding "type 2" to a fact's "diabetes"
# is not a new statistic).
_NUMBER = re.compile(r"(?<![Tt]ype )\d+(?:[.,]\d+)?")


@lru_cache(maxsize=1)
def _fact_bank() -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """(numbers, words) of every fact the planner may state (the niche's facts file, the facts claims may rest on
    by default): what a supported claim may repeat. The sandbox's own fact bank is not in it: a draft written from
    it instead of the prompt's facts states claims the account cannot cite."""
    from libs.facts import load_niche_facts
    from libs.niche import load_niche

    config = load_niche()
    out = []
    for fact in load_niche_facts(config).usable(include_unverified=config.facts.use_unverified):
        text = f"{fact.claim} {fact.quote} {fact.source} {fact.date}"
        out.append((frozenset(_NUMBER.findall(text)), frozenset(re.findall(r"[a-z]{4,}", text.lower()))))
    return tuple(out)


def unsupported_claims(text: str) -> list[str]:
    """Sentences that state a statistic, a study or an institution no usable fact supports (all their numbers in
    one fact that shares at least half their longer words)."""
    found = []
    for sentence in _SENTENCE.split(text):
        if not (_CLAIM.search(sentence) or _INSTITUTION.search(sentence)):
            continue
        numbers = set(_NUMBER.findall(sentence))
        words = set(re.findall(r"[a-z]{4,}", sentence.lower()))
        supported = any(numbers <= nums and len(words & ws) >= max(1, len(words) // 2)
                        for nums, ws in _fact_bank())
        if not supported:
            found.append(sentence.strip())
    return found


def detect(parts: Sequence[str], kind: str) -> list[str]:
    """Categories of defects a reader would see in a queued item (empty when clean)."""
    # Read with one apostrophe: the patterns are written with ' and models type ’ ("I can’t help with that").
    parts = [p.replace("’", "'").replace("ʼ", "'") for p in parts]
    text = "\n".join(parts)
    found = []
    if _PREAMBLE.search(parts[0]):
        found.append("preamble")
    if _CLOSING.search(text):
        found.append("closing")
    if any(len(p) >= 2 and p[0] in QUOTE_CHARS and p[-1] in QUOTE_CHARS for p in parts):
        found.append("quotes")
    if _MARKDOWN.search(text):
        found.append("markdown")
    if any(_HASHTAG_RUN.search(p.strip()) for p in parts):
        found.append("hashtags")
    if _EMOJI.search(text):
        found.append("emoji")
    if _AI.search(text):
        found.append("refusal_or_ai")
    if _REASONING.search(text):
        found.append("reasoning")
    if _WRAPPING.search(text):
        found.append("wrapping")
    if kind == "thread" and any(_NUMBERING.search(p) for p in parts):
        found.append("numbered")
    if any(x_length(p) > (220 if kind == "reply" else 280) for p in parts):
        found.append("over_long")
    if any(_PADDING.search(s) for p in parts for s in _SENTENCE.split(p)):
        found.append("padding")
    if unsupported_claims(text):
        found.append("unsupported_claim")
    if _said_twice(parts):
        found.append("repeated")
    return found


def _said_twice(parts: Sequence[str], least: int = 4) -> bool:
    """Words said twice back to back in one part (a tweet): a run of ``least`` words or more followed at once by
    the same run, case and punctuation aside ("… hacks are overrated. most … hacks are overrated."). Back to back
    only: a fact and its source's title share words ("120 minutes a week in nature") without a loop."""
    for p in parts:
        words = re.findall(r"[a-z0-9%'.]*[a-z0-9%]", p.lower())
        for n in range(least, len(words) // 2 + 1):
            if any(words[i:i + n] == words[i + n:i + 2 * n] for i in range(len(words) - 2 * n + 1)):
                return True
    return False


def planted_survivors(parts: Sequence[str], defects: Iterable[dict]) -> list[str]:
    """The habits planted in the answer (the sandbox's log) still visible in the queued parts."""
    text = "\n".join(parts).lower()
    out = []
    for d in defects:
        check, value = d.get("check", ""), str(d.get("value", ""))
        if check == "contains" and value and value.lower() in text:
            out.append(d["habit"])
        elif check == "twice" and value and text.count(value.lower()) >= 2:
            out.append(d["habit"])
        elif check == "prefix" and any(p.lstrip().startswith(value) for p in parts):
            out.append(d["habit"])
        elif check == "suffix" and any(p.rstrip().endswith(value) for p in parts):
            out.append(d["habit"])
        elif check == "wrapped" and any(len(p) >= 2 and p[0] in QUOTE_CHARS and p[-1] in QUOTE_CHARS for p in parts):
            out.append(d["habit"])
        elif check == "longer_than" and any(x_length(p) > int(value) for p in parts):
            out.append(d["habit"])
        elif check == "lacks" and value and value.lower() not in text:
            out.append(d["habit"])
    return sorted(set(out))
