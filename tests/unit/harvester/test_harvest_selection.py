from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.text import EMBEDDER_KINDS
from libs.contracts.events import TweetPosted
from libs.contracts.gateway import QuotedPost, TweetCard
from services.harvester.selection import (
    PooledOpportunity,
    SearchedTweet,
    Thresholds,
    expire_opportunities,
    replied_tweet_id,
    searched_tweet,
    select_opportunities,
    should_harvest,
)
from services.harvester.settings import HarvesterSettings

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
TH = Thresholds(min_likes=2000, min_replies=200, max_age=timedelta(hours=24), min_relevance=0.5)


def tweet(tid="1", *, text="poor sleep ruins everything", likes=2500, replies=10, retweets=0,
          age=timedelta(hours=2), author="ava", is_reply=False) -> SearchedTweet:
    return SearchedTweet(tweet_id=tid, author=author, author_followers=50_000, text=text, likes=likes,
                         retweets=retweets, replies=replies, created_at=NOW - age, views=90_000, is_reply=is_reply)


def select(tweets, relevance, *, known=(), pool_size=0, pool_max=300, **kw):
    return select_opportunities(tweets, now=NOW, thresholds=TH, relevance=relevance, known_ids=set(known),
                                pool_size=pool_size, pool_max=pool_max, **kw)


def test_viral_fresh_on_topic_tweet_becomes_an_opportunity(relevance):
    out = select([tweet("7", likes=2500, replies=12, retweets=30, age=timedelta(minutes=90))], relevance)
    [opp] = out.found
    assert (opp.tweet_id, opp.author, opp.likes, opp.replies, opp.retweets, opp.views) == ("7", "ava", 2500, 12, 30,
                                                                                         90_000)
    assert opp.age_minutes == pytest.approx(90)
    assert opp.topic == "sleep" and opp.relevance == pytest.approx(1.0)
    assert opp.tweet_created_at == NOW - timedelta(minutes=90)
    assert not out.rejected


@pytest.mark.parametrize(("likes", "replies", "qualifies"), [
    (2000, 0, True), (1999, 199, False), (0, 200, True), (1999, 200, True),
])
def test_likes_or_replies_threshold(relevance, likes, replies, qualifies):
    out = select([tweet(likes=likes, replies=replies)], relevance)
    assert bool(out.found) is qualifies
    assert out.rejected["not_viral"] == (0 if qualifies else 1)


def test_tweets_of_24_hours_or_older_are_too_old(relevance):
    out = select([tweet("a", age=timedelta(hours=23, minutes=59)), tweet("b", age=timedelta(hours=24))], relevance)
    assert [o.tweet_id for o in out.found] == ["a"]
    assert out.rejected["too_old"] == 1


def test_off_topic_tweets_are_rejected_by_relevance(relevance):
    out = select([tweet("s", text="sleep is underrated"), tweet("b", text="bitcoin to the moon"),
                  tweet("m", text="bitcoin and sleep")], relevance)  # mixed text: similarity 0.707 > 0.5
    assert sorted(o.tweet_id for o in out.found) == ["m", "s"]
    assert out.rejected["off_topic"] == 1
    assert {o.tweet_id: o.topic for o in out.found} == {"m": "sleep", "s": "sleep"}


def test_replies_and_excluded_authors_are_not_opportunities(relevance):
    out = select([tweet("r", is_reply=True), tweet("o", author="@Us")], relevance, exclude_authors={"us"})
    assert out.found == []
    assert out.rejected == {"reply": 1, "excluded_author": 1}


def test_tweets_x_would_not_let_us_answer_are_not_opportunities(relevance):
    card = TweetCard(tweet_id="9", author="@ava", text="poor sleep ruins everything",
                     created_at="2024-05-02T10:00:00.000Z", likes=2500, replies=10, views=90_000)
    limited, open_, unknown = (searched_tweet(card.model_copy(update={"tweet_id": i, "can_reply": c}))
                               for i, c in (("9", False), ("10", True), ("11", None)))
    out = select([limited, open_, unknown], relevance)
    assert sorted(e.tweet_id for e in out.found) == ["10", "11"]  # unknown is tried: X's refusal is typed
    assert out.rejected == {"replies_limited": 1}
    # Still one of the niche's viral posts (format learning reads them); an off-topic one is not.
    assert [t.tweet_id for t in out.unanswerable] == ["9"]
    off = searched_tweet(card.model_copy(update={"tweet_id": "12", "can_reply": False, "text": "crypto moon"}))
    assert select([off], relevance).unanswerable == []


def test_a_tweet_under_a_community_note_is_no_opportunity(relevance):
    """Readers' context under a claim: the account must not be seen answering it as if it stood (nor learn from
    its format as a peer's post)."""
    card = TweetCard(tweet_id="9", author="@ava", text="poor sleep ruins everything",
                     created_at="2024-05-02T10:00:00.000Z", likes=2500, replies=10, views=90_000)
    noted, plain, unknown = (searched_tweet(card.model_copy(update={"tweet_id": i, "noted": n}))
                             for i, n in (("9", True), ("10", False), ("11", None)))
    out = select([noted, plain, unknown], relevance)
    assert sorted(e.tweet_id for e in out.found) == ["10", "11"] and out.unanswerable == []
    assert out.rejected == {"community_note": 1}


def test_a_post_read_in_part_is_no_opportunity_and_a_quote_carries_what_it_quotes(relevance):
    """A long post X showed the start of, and a quote of a post X no longer shows, cannot be answered on what was
    read; a quote post goes to the planner with the post it quotes."""
    card = TweetCard(tweet_id="9", author="@ava", text="poor sleep ruins everything",
                     created_at="2024-05-02T10:00:00.000Z", likes=2500, replies=10, views=90_000)
    cut, gone, quote, plain = (searched_tweet(card.model_copy(update={"tweet_id": i, **u})) for i, u in (
        ("9", {"truncated": True}), ("10", {"quoted": QuotedPost()}),
        ("11", {"quoted": QuotedPost(author="ben", text="Seven hours is the floor, not the goal.")}), ("12", {})))
    out = select([cut, gone, quote, plain], relevance)
    assert out.rejected == {"truncated": 1, "quote_unread": 1}
    found = {e.tweet_id: e for e in out.found}
    assert sorted(found) == ["11", "12"]
    assert (found["11"].quoted_author, found["11"].quoted_text) == ("ben", "Seven hours is the floor, not the goal.")
    assert (found["12"].quoted_author, found["12"].quoted_text) == (None, None)


def test_same_tweet_twice_is_one_opportunity(relevance):
    # Seen on Latest and on Top with different counts: one opportunity, the fresher (higher) reading.
    out = select([tweet("9", likes=2100), tweet("9", likes=2600)], relevance)
    assert [(o.tweet_id, o.likes) for o in out.found] == [("9", 2600)]


def test_known_tweets_are_never_found_again(relevance):
    first = select([tweet("1"), tweet("2")], relevance)
    known = {o.tweet_id for o in first.found}
    again = select([tweet("1"), tweet("2"), tweet("3")], relevance, known=known)
    assert [o.tweet_id for o in again.found] == ["3"]
    assert again.rejected["known"] == 2


def test_full_pool_keeps_the_fastest_growing(relevance):
    slow = tweet("slow", likes=3000, age=timedelta(hours=20))   # 150 per hour
    fast = tweet("fast", likes=2500, age=timedelta(hours=1))    # 2,500 per hour
    mid = tweet("mid", likes=2400, age=timedelta(hours=4))      # 600 per hour
    out = select([slow, fast, mid], relevance, pool_size=298, pool_max=300)
    assert [o.tweet_id for o in out.found] == ["fast", "mid"]
    assert out.rejected["pool_full"] == 1
    assert select([fast], relevance, pool_size=300, pool_max=300).found == []


def test_thresholds_follow_the_embedder_in_use():
    s = HarvesterSettings(harvest_min_relevance=0.3, harvest_min_relevance_lexical=0.1)
    assert Thresholds.from_settings(s, embedder_kind="minilm_int8").min_relevance == 0.3
    assert Thresholds.from_settings(s, embedder_kind="lexical").min_relevance == 0.1
    # Every kind the embedder can report has its threshold; the PyTorch model's old kind has none.
    assert all(s.min_relevance_for(kind) in (0.3, 0.1) for kind in EMBEDDER_KINDS)
    with pytest.raises(ValueError, match="minilm"):
        s.min_relevance_for("minilm")


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 5000), st.integers(0, 400),
                          st.integers(0, 30 * 60), st.sampled_from(["sleep tips", "bitcoin news"])), max_size=25),
       st.integers(0, 10))
def test_selection_invariants(relevance, rows, room):
    tweets = [tweet(t, likes=lk, replies=rp, age=timedelta(minutes=m), text=tx) for t, lk, rp, m, tx in rows]
    out = select(tweets, relevance, pool_size=300 - room, known={"a"})
    ids = [o.tweet_id for o in out.found]
    assert len(ids) == len(set(ids)) <= room
    assert "a" not in ids
    for o in out.found:
        assert (o.likes >= 2000 or o.replies >= 200) and o.age_minutes < 24 * 60 and o.relevance >= 0.5
    assert len(ids) + sum(out.rejected.values()) == len({t.tweet_id for t in tweets})


@pytest.mark.parametrize(("size", "was", "expected"), [
    (300, True, False), (350, True, False), (199, False, True), (0, False, True),
    (250, True, True), (250, False, False), (200, False, False),
])
def test_harvest_hysteresis_over_the_target_band(size, was, expected):
    assert should_harvest(size, pool_min=200, pool_max=300, was_harvesting=was) is expected


def test_expiry_reasons_most_specific_first():
    pool = [PooledOpportunity("old", NOW - timedelta(hours=24)),
            PooledOpportunity("gone", NOW - timedelta(hours=1)),
            PooledOpportunity("used", NOW - timedelta(hours=30)),
            PooledOpportunity("fresh", NOW - timedelta(hours=23))]
    expired = expire_opportunities(pool, now=NOW, max_age=timedelta(hours=24), deleted_ids={"gone"},
                                   replied_ids={"used"})
    assert [(e.tweet_id, e.reason) for e in expired] == [("gone", "deleted"), ("old", "too_old"),
                                                         ("used", "replied")]


def test_own_reply_uses_up_its_opportunity():
    def posted(kind, reply_to):
        return TweetPosted(content_id="c", kind=kind, tweet_ids=["100"], url="u", posted_at=NOW,
                           reply_to_tweet_id=reply_to)
    assert replied_tweet_id(posted("reply", "42")) == "42"
    assert replied_tweet_id(posted("post", None)) is None


def test_default_topics_with_the_lexical_fallback_separate_clear_cases():
    # The real fallback embedder (no model download) against the shipped topic descriptions and threshold.
    from libs.text import Embedder
    from services.harvester.selection import TopicRelevance
    from services.harvester.settings import DEFAULT_TOPICS

    settings = HarvesterSettings()
    rel = TopicRelevance(DEFAULT_TOPICS, Embedder("lexical").embed)
    on, heart, off, empty = rel.score([
        "Nobody talks about a consistent sleep schedule enough.",
        "Hot take: most people get LDL cholesterol and heart health completely wrong.",
        "Who won the football match last night?",
        "",
    ])
    threshold = settings.min_relevance_for("lexical")
    assert on.topic == "sleep" and on.relevance >= threshold
    assert heart.topic == "heart_health" and heart.relevance >= threshold
    assert off.relevance < threshold
    assert empty.relevance == 0.0


def test_gateway_cards_become_candidates_only_with_a_creation_time():
    card = TweetCard(tweet_id="5", author="@ava", text="sleep", created_at="2024-05-02T10:00:00.000Z", likes=3,
                     retweets=2, replies=1, views=40)
    t = searched_tweet(card)
    assert (t.tweet_id, t.author, t.engagement, t.views, t.author_followers) == ("5", "ava", 6, 40, None)
    assert t.created_at == NOW - timedelta(hours=2)
    assert searched_tweet(card.model_copy(update={"created_at": None})) is None
    assert searched_tweet(card.model_copy(update={"created_at": "yesterday"})) is None
    naive = card.model_copy(update={"created_at": "2024-05-02T10:00:00"})
    assert searched_tweet(naive).created_at == NOW - timedelta(hours=2)  # naive: X's times are UTC


def test_unknown_author_followers_are_published_as_zero(relevance):
    t = SearchedTweet(tweet_id="8", author="ava", text="sleep", likes=5000, retweets=0, replies=0,
                      created_at=NOW - timedelta(hours=1))
    [opp] = select([t], relevance).found
    assert opp.author_followers == 0


def test_the_author_comes_from_the_status_link_not_the_display_name() -> None:
    # The gateway reads a card whose display name says "@someone": the status link names the real author.
    card = TweetCard(tweet_id="5", author="ava", text="sleep", created_at="2024-05-02T10:00:00.000Z",
                     url="/real_ava/status/5")
    assert searched_tweet(card).author == "real_ava"
    assert searched_tweet(card.model_copy(update={"url": None})).author == "ava"
    # A card whose author is not a handle is dropped, not answered under a made-up URL.
    assert searched_tweet(card.model_copy(update={"url": None, "author": "Ava | DM me"})) is None



def test_a_person_telling_of_a_crisis_is_no_opportunity(relevance):
    """Searches for sleep and stress find people in a crisis too (libs/gates/crisis.py): never an opportunity."""
    told = tweet("1", text="can't sleep again. honestly i don't want to wake up anymore")
    out = select([told, tweet("2")], relevance)
    assert [e.tweet_id for e in out.found] == ["2"] and out.rejected == {"crisis": 1}


def test_a_tweet_spreading_a_false_health_claim_is_no_opportunity(relevance):
    """Answered, the account is seen going along with it (libs/gates/misinformation.py); a debunking is answered."""
    false = tweet("1", text="Sleep is overrated. Four hours is plenty once your body adapts.")
    debunked = tweet("2", text="No, sleep is not overrated. Four hours a night harms everyone.")
    out = select([false, debunked], relevance)
    assert [e.tweet_id for e in out.found] == ["2"] and out.rejected == {"misinformation": 1}


def test_a_question_about_the_writers_own_care_is_no_opportunity(relevance):
    """Answered, it is personal medical advice (libs/gates/advice.py); a question about sleep in general is not."""
    own = tweet("1", text="I'm on sertraline and my sleep is wrecked. Should I take melatonin with it?")
    general = tweet("2", text="Does sleep really matter more than diet? Genuinely curious.")
    out = select([own, general], relevance)
    assert [e.tweet_id for e in out.found] == ["2"] and out.rejected == {"personal_question": 1}
