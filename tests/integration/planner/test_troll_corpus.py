"""Replies to our own tweets (tests/data/troll_replies.yaml) through what decides whether xbot answers them: the
hostility lexicon (libs/gates/hostility.py, the harvester's and the planner's rule) and the model review asked about
the reply answered (rubric ``hostile_tweet``, draft kind ``conversation``; issue 24, item 5).

The review is the real path: the Drafter's budgeted call through the official openai client to the sandbox's text
endpoint, whose reviewer learned from its own labelled replies (sandbox/review_examples.yaml), not from these. The
lexicon alone, today's defence before the review was asked, runs on the same corpus in the same test and answers
nearly every troll, so the check can fail. The corpus's "dev" third was looked at while the sandbox's reviewer was
built; "holdout" and "blind" are the result (README, Learner, "Answering our own conversations").
"""

from __future__ import annotations

from pathlib import Path

import yaml

from libs.gates import CONVERSATION_KIND, HOSTILE_TWEET
from libs.gates.hostility import hostility
from libs.niche import load_niche
from libs.text import Embedder
from sandbox.conversations import COMMENTS, QUESTIONS
from services.planner.drafting import DraftOutcome

from .helpers import drafter

DATA = Path(__file__).parents[2] / "data"
ITEMS = yaml.safe_load((DATA / "troll_replies.yaml").read_text(encoding="utf-8"))["items"]
CONFIG = load_niche()
# What the planner would answer with: the draft itself is harmless, so only the reply answered can fail it.
ANSWER = "Thanks for reading. The study behind this is linked in the post, happy to say more about it."


async def _refusals(endpoint, embedder: Embedder, replies: list[str], kind: str) -> list[bool]:
    """For each reply: whether the model review refuses our harmless answer to it for the reply it answers. An
    answer the review could not read (the sandbox's reviewer sometimes only echoes the format, as small models do)
    judges nothing: the planner writes the reply again, and so is the review asked again here."""
    d = drafter(endpoint, CONFIG, embedder, seed=24)
    out = []
    try:
        for n, reply in enumerate(replies):
            for attempt in range(3):
                outcome = DraftOutcome(f"t{n}-{attempt}", "reply")
                verdict = await d.review(outcome, ANSWER, kind=kind, tweet=reply)
                assert outcome.stopped is None and len(outcome.usage) == 1
                if verdict is None or verdict.reason != "the review's answer could not be read":
                    break
            assert verdict is None or verdict.reason.endswith(HOSTILE_TWEET), verdict
            out.append(verdict is not None)
    finally:
        await d.model.close()
    return out


def _split(kind: str, *splits: str) -> list[str]:
    return [i["reply"] for i in ITEMS if i["kind"] == kind and i["split"] in splits]


async def test_trolling_no_lexicon_knows_is_left_unanswered_and_friendly_replies_are_not(
        text_endpoint, embedder: Embedder) -> None:
    trolls, friendly = _split("troll", "holdout", "blind"), _split("ordinary", "holdout", "blind")
    assert len(trolls) >= 40 and len(friendly) >= 40
    lexicon = [hostility(t) is not None for t in trolls]
    review = await _refusals(text_endpoint, embedder, trolls, CONVERSATION_KIND)
    unanswered = sum(a or b for a, b in zip(lexicon, review))
    refused_friendly = sum(await _refusals(text_endpoint, embedder, friendly, CONVERSATION_KIND)) \
        + sum(hostility(t) is not None for t in friendly)
    print(f"\ntrolls left unanswered: lexicon alone {sum(lexicon)}/{len(trolls)}, with the review "
          f"{unanswered}/{len(trolls)}; friendly replies refused: {refused_friendly}/{len(friendly)}")
    # Today's defence answers nearly every troll here: without that, this test could not fail.
    assert sum(lexicon) <= 0.1 * len(trolls)
    # With the review (the sandbox's stand-in: a bag of words on 146 labelled replies; a real model reads better),
    # at least 40% are left alone (measured: 20 of 44, the lexicon's 1 among them), and at most 10% of friendly
    # replies go unanswered (measured: 2 of 44).
    assert unanswered >= 0.4 * len(trolls)
    assert refused_friendly <= 0.1 * len(friendly)


async def test_the_sandboxs_own_audience_gets_its_answers_and_harvested_tweets_are_not_judged_so(
        text_endpoint, embedder: Embedder) -> None:
    """The sandbox audience's friendly replies are never refused (what its ground truth rewards stays reachable),
    and the reply answered is judged only in our own conversation: the same trolls as harvested tweets (kind
    reply) are not refused for themselves (the review judges our answer there)."""
    assert not any(await _refusals(text_endpoint, embedder, list(QUESTIONS + COMMENTS), CONVERSATION_KIND))
    assert not any(await _refusals(text_endpoint, embedder, _split("troll", "dev", "holdout", "blind"), "reply"))
