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
# X's trolling in its own words ("ratio", "who asked", "touch grass", "L + ratio + you fell off"), found blind
# on 2026-12-06 (evening): none holds an insult the lexicon above knows. Phrases that are trolling wherever they
# stand; the one-word ones ("ratio", "cope", "yawn") only as the whole reply ("the omega-3 ratio", "how do you
# cope with stress?" are questions).
_TROLLING = re.compile(
    r"\b(?:who asked|(?:nobody|no one|didn'?t|did not) asked?|nobody cares|(?<!to )touch (?:some )?grass|"
    r"ok(?:ay)? boomer|skill issue|cry about it|stay mad|get a real job|stick to your day job|you fell off|"
    r"(?<!to )log off|(?:is|are|it'?s) (?:a |such a |total )?scam\b|"
    r"(?:grifter|clown|scam) (?:account|energy|behaviou?r)|"
    # 2026-12-07: harm wished on the author, hate at a group, "cope harder", "imagine taking advice from a bot"
    r"hope you (?:(?:get|catch) (?:cancer|sick|covid|hurt|hit by|run over|fired|what you deserve)|die|choke|rot|"
    r"suffer|burn|drown|lose everything)|you deserve to (?:die|suffer)|"
    r"die in a (?:fire|hole|ditch)|drop dead|go back to (?:where you came from|your (?:own )?country)|"
    r"(?:women|girls|females) (?:shouldn'?t|should not|can'?t|cannot|don'?t) (?:be )?(?:giving|give|talk|talking|"
    r"post|posting|tweet|tweeting|speak|speaking)|you people are (?:the (?:reason|problem)|why|ruining|killing)|"
    r"(?:cope|seethe|mald|cry) harder|"
    r"imagine (?:taking|getting|listening to|trusting) (?:\w+ ){0,2}(?:advice|tips) from (?:a bot|an ai|a chatbot|"
    r"this (?:account|bot|clown|guy)|you))\b"
    r"|\+ ?ratio\b|\bratio ?\+"
    # "sit down" told, not done ("I sit down for meals now")
    r"|(?:^|[.!?,]\s*)sit down\b(?!\s+(?:for|to|with|and|at|before|after))",
    re.IGNORECASE,
)
_QUOTED = re.compile(r'"[^"\n]{1,40}"|“[^”\n]{1,40}”')
_ONE_WORD_TROLL = re.compile(r"^\W*(?:ratio(?:'?d)?|cope|seethe|mald|yawn|cringe|mid|l|fell off)\W*$",
                             re.IGNORECASE)
# A reply of emoji alone that laugh at or bin what it answers (a skull, tears of laughter, a waste bin).
_MOCKING_EMOJI = re.compile("^[\\s\U0001F480\U0001F602\U0001F923\U0001F5D1\uFE0F\U0001F921\U0001F644]+$")


def hostility(text: str) -> str | None:
    """Why this reply to our tweet is hostile ("injection" or "abuse"), or None when it may be answered."""
    if instruction_spans(text):
        return "injection"
    return "abuse" if abusive(text) else None


def abusive(text: str) -> bool:
    """Insults, dismissals, harm wished, trolling: in a tweet we might answer, or in a reply we might post."""
    folded = fold(text).casefold()
    unquoted = _QUOTED.sub(" ", folded)  # 'the "who asked" crowd' quotes the trolls
    return bool(_ABUSE.search(folded) or _DERISION.search(text) or _TROLLING.search(unquoted)
                or _ONE_WORD_TROLL.match(folded) or _MOCKING_EMOJI.match(text))
