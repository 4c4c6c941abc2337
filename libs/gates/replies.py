"""The gates a reply to a stranger's tweet passes, cheapest first; the first rejection wins.

A harvested tweet is untrusted input. Whatever the model did with it, a reply is refused when it carries out an
instruction found in the tweet, carries an entity X would link (or a disguised one), uses look-alike letters,
touches a banned subject, gives medical advice, sells or solicits, accuses a named person, or does not take up
the tweet's point. The model review (libs/gates/review.py) runs after these, on what they let through.
"""

from __future__ import annotations

import re

from libs.gates.conduct import check_defamation, check_solicitation
from libs.gates.entities import extract, fold, lookalike_words
from libs.gates.injection import check_injection
from libs.gates.medical import check_medical_safety
from libs.gates.posts import check_banned
from libs.gates.verdict import Rejection, Verdict
from libs.niche import NicheConfig
from libs.text import normalise, x_length

# Emoji and pictographs (a reply from the account reads as plain text).
_EMOJI_RE = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2300-\u23FF\u2B05-\u2B55\U0001F1E6-\U0001F1FF\uFE0F\u200D]"
)


def check_entities(text: str) -> Verdict:
    """No link, e-mail, mention, hashtag, cashtag, phone number or wallet, in any spelling."""
    found = extract(text).first()
    if found:
        kind, value = found
        return Rejection("entities", f"reply carries a {kind}: {value!r}")
    return None


def check_lookalikes(text: str) -> Verdict:
    words = lookalike_words(text)
    if words:
        return Rejection("lookalike", f"look-alike letters from another alphabet in {words[0]!r}")
    return None


def check_reply_form(text: str, config: NicheConfig) -> Verdict:
    n = x_length(text)
    if not text.strip():
        return Rejection("reply_form", "empty reply")
    if n > config.gates.reply_max_chars:
        return Rejection("length", f"reply is {n} characters, limit {config.gates.reply_max_chars}")
    if _EMOJI_RE.search(text):
        return Rejection("reply_form", "reply contains an emoji")
    opening = normalise(fold(text))[:40]
    for opener in config.replies.generic_openers:
        o = normalise(opener)
        if o and (opening == o or opening.startswith(o + " ")):
            return Rejection("generic_opener", f"opens with {opener!r}")
    return None


def grounding_threshold(config: NicheConfig, embedder_kind: str) -> float:
    """The niche's grounding threshold for this embedder; a missing one is a configuration error, not 0."""
    try:
        return config.replies.grounding_min_similarity[embedder_kind]
    except KeyError:
        raise ValueError(
            f"no replies.grounding_min_similarity for embedder kind {embedder_kind!r} in the niche file "
            f"(XBOT_PLANNER_NICHE_PATH); calibrate one with `python -m libs.gates.calibrate`"
        ) from None


def check_grounded(similarity: float, *, min_similarity: float) -> Verdict:
    """The reply takes up the tweet's point: close enough in meaning (libs/gates/grounding.py)."""
    if similarity >= min_similarity:
        return None
    return Rejection("grounding", f"does not take up the tweet's point (similarity {similarity:.2f}, "
                                  f"needs {min_similarity:.2f})")


def gate_reply(reply: str, tweet: str, *, config: NicheConfig, similarity: float, embedder_kind: str) -> Verdict:
    """All rule gates for a reply; ``similarity`` is :func:`libs.gates.grounding.grounding_similarity`."""
    return (
        check_injection(reply, tweet)
        or check_entities(reply)
        or check_lookalikes(reply)
        or check_reply_form(reply, config)
        or check_banned(reply, config, kind="reply")
        or check_medical_safety(reply)
        or check_solicitation(reply)
        or check_defamation(reply)
        or check_grounded(similarity, min_similarity=grounding_threshold(config, embedder_kind))
    )
