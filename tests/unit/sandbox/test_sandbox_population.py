from datetime import UTC, datetime

from sandbox.population import POPULATION_WORKER, Population, snowflake, snowflake_parts

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC).timestamp()


def test_same_seed_same_population_other_seed_other():
    a, b, c = Population(5), Population(5), Population(6)
    window = (NOW - 6 * 3600, NOW)
    assert a.tweets_between(*window) == b.tweets_between(*window)
    assert {t.id for t in a.tweets_between(*window)}.isdisjoint({t.id for t in c.tweets_between(*window)})


def test_ids_are_snowflakes_that_find_their_tweet():
    p = Population(5)
    for t in p.tweets_between(NOW - 3600, NOW):
        ms, worker, _ = snowflake_parts(t.id)
        assert worker == POPULATION_WORKER and ms == round(t.created_at * 1000)
        assert p.tweet(t.id) == t
    assert snowflake_parts(snowflake(1_700_000_000_000, 2, 7)) == (1_700_000_000_000, 2, 7)


def test_search_always_has_fresh_viral_targets_in_niche_and_off_topic():
    """At any moment there are tweets younger than 24 h with >= 2,000 likes or >= 200 replies, of both kinds."""
    p = Population(5)
    for hours_later in range(0, 72, 7):
        now = NOW + hours_later * 3600
        fresh = p.tweets_between(now - 24 * 3600, now)
        big = [t for t in fresh if (c := t.final.at_age((now - t.created_at) / 3600)).likes >= 2000
               or c.replies >= 200]
        assert any(t.niche for t in big) and any(not t.niche for t in big)


def test_most_accounts_are_in_the_niche_and_reach_is_heavy_tailed():
    p = Population(5)
    niche = sum(a.niche for a in p.accounts) / len(p.accounts)
    assert 0.65 < niche < 0.95
    likes = sorted(t.final.likes for t in p.tweets_between(NOW - 48 * 3600, NOW))
    median, top = likes[len(likes) // 2], likes[-1]
    assert top > 20 * max(1, median)


def test_population_engagement_follows_the_audiences_format_effects():
    """The same author's posts: those whose format the audience likes more get more engagement per post."""
    from libs.formats import format_effect

    p = Population(5)
    effects = p.format_effects
    assert effects == __import__("sandbox.audience", fromlist=["AudienceModel"]).AudienceModel(5).format_effects()
    tweets = [t for t in p.tweets_between(NOW - 200 * 3600, NOW) if not t.in_reply_to and t.lang == "en"
              and t.author.followers >= 1000]
    lifts = [format_effect(effects, t.text, hour=int(t.created_at % 86400 // 3600)) for t in tweets]
    ratio = [t.final.likes / t.author.followers for t in tweets]
    ranked = sorted(zip(lifts, ratio))
    low, high = ranked[: len(ranked) // 3], ranked[-len(ranked) // 3:]
    median = lambda xs: sorted(r for _, r in xs)[len(xs) // 2]  # noqa: E731
    assert median(high) > 1.5 * median(low)
