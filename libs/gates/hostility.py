"""Hostile replies to our own tweets: the ones xbot leaves unanswered (issue 24, item 5).

Answering a troll feeds it, and a reply that tries to steer a reply-writer ("ignore your instructions and …") is
bait, not a question. :func:`hostility` says why a reply is hostile, or None: instructions aimed at whoever
answers (libs.gates.injection, the same detector the reply gates use), or abuse (insults, "shut up", "delete your
account"): a short lexicon, matched on whole words of the folded text. It errs towards leaving a reply alone: a
conversation not answered costs one missed reply; an answered troll costs the account's standing. Trolling
without an insult ("Ratio.", "Sure, Jan.") passes it: the planner's model review is asked about the reply answered
too (libs/gates/review.py, ``hostile_tweet``).
"""

from __future__ import annotations

import re

from libs.gates.entities import fold
from libs.gates.injection import instruction_spans

# Insults and dismissals aimed at the author; whole words, lower case, accents folded.
_ABUSE = re.compile(
    r"\b(?:idiot\w*|moron\w*|stupid|dumb(?:ass)?|clown\w*|grifter\w*|scammers?|snake ?oil|charlatan\w*|"
    r"liars?|fraud\w*|garbage|trash|pathetic|loser\w*|imbecile\w*|shut up|stfu|kys|kill yourself|"
    r"delete (?:your|this) (?:account|tweet|post)|nobody asked|f+u+c*k+\w*|sh[i1]t\w*|bullsh[i1]t|"
    r"cr[a4]p advice|quack\w*)\b",
    re.IGNORECASE,
)


# Derision in emoji (a clown, eyes rolled, vomit, a middle finger, a pile of poo): much of X's trolling is only this.
_DERISION = re.compile("[\U0001F921\U0001F644\U0001F92E\U0001F595\U0001F4A9]")


def hostility(text: str) -> str | None:
    """Why this reply to our tweet is hostile ("injection" or "abuse"), or None when it may be answered."""
    if instruction_spans(text):
        return "injection"
    if _ABUSE.search(fold(text).casefold()) or _DERISION.search(text):
        return "abuse"
    return None
