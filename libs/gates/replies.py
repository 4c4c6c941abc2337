"""The gates a reply to a stranger's tweet passes, cheapest first; the first rejection wins.

A harvested tweet is untrusted input. Whatever the model did with it, a reply is refused when it carries out an
instruction found in the tweet, carries an entity X would link (or a disguised one), uses look-alike letters,
is too short, in another language or abusive, touches a banned subject, gives medical advice, repeats a false
health claim, sells or solicits, accuses a named person (these read digits in words as letters too), or does not
take up the tweet's point. The model review (libs/gates/review.py) runs after these, on what they let through.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from libs.gates.conduct import check_defamation, check_solicitation
from libs.gates.entities import extract, fold, lookalike_words, unleet
from libs.gates.hostility import abusive
from libs.gates.injection import check_injection, in_another_language
from libs.gates.medical import check_medical_safety
from libs.gates.misinformation import misinformation
from libs.gates.posts import check_banned
from libs.gates.verdict import Rejection, Verdict
from libs.niche import NicheConfig
from libs.text import normalise, x_length

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
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


# Fewer words than this take up no point of a tweet: "yes", "Agreed.", a word a tweet asked for.
MIN_REPLY_WORDS = 4


def check_reply_form(text: str, config: NicheConfig) -> Verdict:
    n = x_length(text)
    if not text.strip():
        return Rejection("reply_form", "empty reply")
    if n > config.gates.reply_max_chars:
        return Rejection("length", f"reply is {n} characters, limit {config.gates.reply_max_chars}")
    if len(_WORD.findall(text)) < MIN_REPLY_WORDS:
        return Rejection("reply_form", f"reply has fewer than {MIN_REPLY_WORDS} words")
    if _EMOJI_RE.search(text):
        return Rejection("reply_form", "reply contains an emoji")
    if in_another_language(text):
        # The account writes in English; a reply in another language is what a tweet asked of the model.
        return Rejection("reply_form", "reply is not in English")
    if abusive(text):
        return Rejection("conduct", "reply insults, dismisses or wishes harm")
    if opener := generic_opener(text, config):
        return Rejection("generic_opener", f"opens with {opener!r}")
    return None


def generic_opener(text: str, config: NicheConfig) -> str | None:
    """The configured generic opener the reply starts with. An opener with punctuation ("this!", "100%") is
    compared as written, since normalising takes the punctuation off and "this" opens many a good reply."""
    folded = fold(text).casefold().lstrip()
    opening = normalise(folded)[:40]
    for opener in config.replies.generic_openers:
        written = opener.casefold().strip()
        if normalise(written) != written.replace("'", " ").strip():
            if folded.startswith(written):
                return opener
            continue
        o = normalise(opener)
        if o and (opening == o or opening.startswith(o + " ")):
            return opener
    return None


def check_misinformation(text: str) -> Verdict:
    """A false health claim the reply repeats from the tweet it answers ("chlorine dioxide clears parasites")."""
    claim = misinformation(text)
    return Rejection("misinformation", f"reply states a false health claim: {claim}") if claim else None


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
        or _either_spelling(reply, lambda text: (
            check_banned(text, config, kind="reply")
            or check_medical_safety(text)
            or check_misinformation(text)
            or check_solicitation(text)
            or check_defamation(text)))
        or check_grounded(similarity, min_similarity=grounding_threshold(config, embedder_kind))
    )


def _either_spelling(reply: str, check: Callable[[str], Verdict]) -> Verdict:
    """The content rules on the reply as written and, when it has words in digits ("v4cc1n3s"), as read."""
    return check(reply) or ((read := unleet(reply)) != reply and check(read)) or None
