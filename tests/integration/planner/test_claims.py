"""The planner states only the facts it was given: the facts go into the prompt, and the claims gate rejects a
draft of the sandbox's realistic model that invents a statistic or writes from its own memory, naming the claim,
or repairs it by leaving out the sentence that carries the claim."""

from __future__ import annotations

import re

from datetime import UTC, datetime, timedelta

import pytest

from libs.contracts.events import Choice
from libs.facts import unsupported_claims
from libs.niche import load_niche
from sandbox.habits import HabitRates
from services.planner.drafting import fact_index
from services.planner.replies import Opportunity
from tests.integration.planner.helpers import drafter

CONFIG = load_niche()
NOW = datetime(2025, 3, 1, 9, tzinfo=UTC)
NO_HABITS = {h: 0.0 for h in HabitRates().as_dict()}


@pytest.fixture(autouse=True)
async def _default_habits(realistic_endpoint):
    yield
    await realistic_endpoint.configure(habits=HabitRates().as_dict())


def post_choice(topic: str) -> Choice:
    return Choice(content_type="data_insight", topic=topic, format="single", hour=10, voice="owner",
                  hook_style="number")


async def test_invented_statistics_and_remembered_figures_are_rejected_naming_the_claim(
        realistic_endpoint, embedder) -> None:
    # Seeded: the endpoint is shared by the session, and its answers must not depend on the tests run before.
    await realistic_endpoint.configure(habits={**NO_HABITS, "invented_stat": 1.0, "ignores_facts": 0.5}, seed=4)
    start = len(await realistic_endpoint.log())
    d = drafter(realistic_endpoint, CONFIG, embedder, seed=4)
    outs = []
    for i, topic in enumerate(("sleep", "heart_health", "exercise", "nutrition", "stress", "gut_health", "hydration",
                               "longevity")):
        outs.append(await d.write_post(post_choice(topic), propensity=0.1, policy_version="u",
                                       now=NOW + timedelta(days=i), scheduled_for=NOW))
    answers = [e for e in (await realistic_endpoint.log())[start:] if "defects" in e]
    index = fact_index(CONFIG, embedder)
    # What the sandbox remembers can be true: a remembered figure one of the niche's verified facts states (the
    # CDC's third of adults sleeping under 7 hours is in both files) is no invented claim.
    planted = [(e, d) for e in answers for d in e["defects"] if d["habit"] in ("invented_stat", "ignores_facts")
               and unsupported_claims([d["value"]], index.facts, embedder,
                                      min_similarity=CONFIG.facts.support_min_similarity)]
    assert len(planted) >= 8  # every first answer invents: the test means something only if the model does
    every = [r for o in outs for r in o.rejections]
    claims = [r for r in every if r.gate == "claims"]
    repaired = sum(o.repairs.count("claims") for o in outs)
    # Many invented claims reach the claims gate: refused, or repaired by leaving their sentence out when the rest is
    # still the post (no new call then). The others go first: the sandbox appends them after the answer's "Data:"
    # line, which a long source name already brings near 280, so the cut for length takes them (6 of 16 here
    # reached the gate with seed 4), or another gate refuses that draft.
    assert len(claims) >= 2 and repaired >= 1, [r.reason for r in every]
    for r in claims:
        # The rejection names the claim: the words it quotes are in the draft.
        # (quoted as Python's repr quotes it: in double quotes when the claim has an apostrophe, "It's been proven")
        named = re.match(r"unsupported (?:number|study claim|institution) (['\"])(.+?)\1", r.reason)
        assert named and named.group(2) in r.text and "no provided fact states it" in r.reason, r.reason
    for o in outs:
        if o.queued is not None:
            text = "\n".join(o.queued.parts)
            assert not any(d["value"] in text for _, d in planted)
            assert unsupported_claims(o.queued.parts, index.facts, embedder,
                                      min_similarity=CONFIG.facts.support_min_similarity) == []


async def test_a_draft_stating_the_given_facts_is_queued_and_a_reply_gets_the_facts_near_its_tweet(
        realistic_endpoint, embedder) -> None:
    await realistic_endpoint.configure(habits=NO_HABITS)
    d = drafter(realistic_endpoint, CONFIG, embedder, seed=5)
    out = await d.write_post(post_choice("sleep"), propensity=0.1, policy_version="u", now=NOW, scheduled_for=NOW)
    assert out.queued is not None, [r.reason for r in out.rejections]
    index = fact_index(CONFIG, embedder)
    # The sandbox writes from the prompt's facts only: what was queued restates one of the niche's sleep facts.
    assert any(f.claim in "\n".join(out.queued.parts) for f in index.facts if f.topic == "sleep")
    tweet = "Coffee after lunch wrecks my sleep every single time. Anyone else?"
    opp = Opportunity(tweet_id="t1", author="someone", author_followers=5000, text=tweet, likes=50, retweets=2,
                      replies=3, created_at=NOW - timedelta(hours=1), relevance=0.9, topic="sleep")
    reply_choice = Choice(content_type="reply", topic="sleep", format="single", hour=9, voice="owner",
                          reply_style="add_insight")
    reply = await d.write_reply(opp, reply_choice, propensity=0.2, policy_version="u", now=NOW)
    assert reply.queued is not None, [r.reason for r in reply.rejections]
    # Relevant to the tweet (above the relevance threshold); those a tweet of ours states are not offered again.
    near = [s.fact for s in index.for_text(tweet, k=len(index.facts), topic="sleep")]
    assert near and unsupported_claims(reply.queued.parts, near, embedder,
                                       min_similarity=CONFIG.facts.support_min_similarity) == []


async def test_a_reply_gets_the_relevant_facts_we_have_not_stated(realistic_endpoint, embedder) -> None:
    """Facts a tweet of ours states word for word are not offered again while other relevant ones are left (a
    reply restating one comes back as a repeat of that tweet), even beyond the closest few; with every relevant
    fact stated, the closest are."""
    await realistic_endpoint.configure(habits=NO_HABITS)
    d = drafter(realistic_endpoint, CONFIG, embedder, seed=5)
    tweet = "Coffee after lunch wrecks my sleep every single time. Anyone else?"
    opp = Opportunity(tweet_id="t1", author="someone", author_followers=5000, text=tweet, likes=50, retweets=2,
                      replies=3, created_at=NOW - timedelta(hours=1), relevance=0.9, topic="sleep")
    choice = Choice(content_type="reply", topic="sleep", format="single", hour=9, voice="owner",
                    reply_style="add_insight")
    relevant = [s.fact for s in d.facts.for_text(tweet, k=len(d.facts.facts), topic="sleep")]
    per_prompt = CONFIG.facts.per_prompt
    assert len(relevant) > per_prompt
    d.recent.add_tweets([f"Worth knowing: {f.claim}" for f in relevant[:per_prompt]], at=NOW - timedelta(days=1))
    prompts: list[str] = []
    complete = d.model.complete

    async def recording(messages, **kw):
        prompts.append(messages[-1]["content"])
        return await complete(messages, **kw)

    d.model.complete = recording
    out = await d.write_reply(opp, choice, propensity=0.2, policy_version="u", now=NOW)
    assert not any(f.claim in prompts[0] for f in relevant[:per_prompt])
    assert all(f.claim in prompts[0] for f in relevant[per_prompt:2 * per_prompt])
    assert out.queued is not None, [r.reason for r in out.rejections]

    d.recent.add_tweets([f"Worth knowing: {f.claim}" for f in relevant], at=NOW - timedelta(days=1))
    prompts.clear()
    await d.write_reply(opp, choice, propensity=0.2, policy_version="u", now=NOW)
    assert all(f.claim in prompts[0] for f in relevant[:per_prompt])
    await d.model.close()


async def test_a_repaired_draft_is_cleaned_again(realistic_endpoint, embedder) -> None:
    """Leaving out a sentence can leave what the normaliser had read as inside it (a bullet after it on the same
    line) at the start of the tweet: the repair cleans the changed tweet again."""
    d = drafter(realistic_endpoint, CONFIG, embedder, seed=5)
    fact = d.facts.for_topic("sleep", k=1)[0]
    draft = f"A 2023 study found 70% slept deeper. - {fact.claim}"
    repaired = d._repair_claims([draft], [fact], "reply")
    assert repaired == [fact.claim]
    await d.model.close()
