"""Quote posts and long posts through the X API, as X's API v2 gives them: a quote post names its quoted post in
``referenced_tweets`` and the expansions bring that post and its author (``includes``; one since deleted is left
out and named in ``errors``), and a long post's ``text`` is cut, whole only in ``note_tweet``. The API driver's
cards carry the quoted post and the whole text; the population's posts are found from the sandbox's seed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio

from libs.contracts.gateway import QuotedPost, SearchRequest, TweetCard
from sandbox.population import Population, PopulationTweet
from sandbox.settings import SandboxSettings
from tests.integration.xapi.conftest import api_settings, sign_in
from tests.integration.xapi.test_xapi_contract import call, conforms

pytestmark = pytest.mark.asyncio(loop_scope="module")

POPULATION = 60  # the module's sandbox (conftest)


def posts_of_the_week(clock) -> tuple[Population, list[PopulationTweet]]:
    """The population's posts (not replies) recent search reaches, newest first; none of the last minutes, which
    a search's end_time (10 s before the request) could leave out."""
    settings = SandboxSettings(population=POPULATION)
    population = Population(settings.seed, size=POPULATION, tweets_per_hour=settings.tweets_per_hour)
    now = clock.timestamp()
    posts = population.tweets_between(now - 6 * 86400, now - 600)
    return population, [t for t in reversed(posts) if t.in_reply_to is None]


def quote_of(population: Population, posts: list[PopulationTweet], *, gone: bool) -> PopulationTweet:
    return next(t for t in posts if t.quoted_id and (population.quoted(t.quoted_id).kind == "gone") is gone)


def long_post(posts: list[PopulationTweet]) -> PopulationTweet:
    return next(t for t in posts if len(t.text) > 280)


def _web_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d_%H:%M:%S_UTC")


async def card_of(gateway, post: PopulationTweet) -> TweetCard:
    """The post's card from the driver's search (its author's posts of the minutes around it)."""
    query = f"from:{post.author.handle} since:{_web_time(post.created_at - 60)} until:{_web_time(post.created_at + 60)}"
    cards = (await gateway.run(SearchRequest(query=query, tab="latest", limit=10))).tweets
    return next(c for c in cards if c.tweet_id == post.id)


async def test_a_quote_post_carries_the_quoted_post_and_its_author(gateway, clock) -> None:
    population, posts = posts_of_the_week(clock)
    post = quote_of(population, posts, gone=False)
    quoted = population.quoted(post.quoted_id or "")
    assert quoted is not None
    card = await card_of(gateway, post)
    assert card.author == post.author.handle and card.text == post.text
    assert card.quoted == QuotedPost(author=quoted.author.handle, text=quoted.text)


async def test_a_quote_of_a_deleted_post_carries_no_author_and_no_text(gateway, clock) -> None:
    """X leaves a deleted quoted post out of includes (and names it in errors): the web's "This post is
    unavailable." The answer is still a success."""
    population, posts = posts_of_the_week(clock)
    post = quote_of(population, posts, gone=True)
    card = await card_of(gateway, post)
    assert card.text == post.text
    assert card.quoted == QuotedPost(author=None, text="")


async def test_a_long_post_is_read_whole(gateway, clock) -> None:
    _, posts = posts_of_the_week(clock)
    post = long_post(posts)
    card = await card_of(gateway, post)
    assert card.text == post.text and not card.truncated and card.quoted is None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bearer(sandbox, clock, tmp_path_factory) -> str:
    settings = api_settings(sandbox.base_url, tmp_path_factory.mktemp("token") / "t.json")
    return (await sign_in(sandbox, settings, clock)).access_token.get_secret_value()


async def test_the_api_cuts_a_long_post_unless_asked_for_note_tweet(sandbox, bearer, clock) -> None:
    """What a client that does not ask for note_tweet reads: the post's start, cut after a whole word within 280
    characters, nothing added; with note_tweet, the whole text besides."""
    _, posts = posts_of_the_week(clock)
    post = long_post(posts)
    status, _, plain = await call(sandbox, bearer, "GET", "/2/tweets", params={"ids": post.id})
    assert status == 200
    conforms(plain, "tweets_lookup")
    [shown] = plain["data"]
    assert "note_tweet" not in shown
    assert len(shown["text"]) <= 280 and post.text.startswith(shown["text"])
    assert post.text[len(shown["text"])].isspace()  # the cut ends a word
    status, _, asked = await call(sandbox, bearer, "GET", "/2/tweets",
                                  params={"ids": post.id, "tweet.fields": "note_tweet"})
    conforms(asked, "tweets_lookup")
    [whole] = asked["data"]
    assert whole["text"] == shown["text"] and whole["note_tweet"] == {"text": post.text}


async def test_the_api_expands_a_quoted_post_and_reports_a_deleted_one(sandbox, bearer, clock) -> None:
    population, posts = posts_of_the_week(clock)
    quote, gone = quote_of(population, posts, gone=False), quote_of(population, posts, gone=True)
    quoted = population.quoted(quote.quoted_id or "")
    assert quoted is not None
    params = {"ids": f"{quote.id},{gone.id}", "tweet.fields": "author_id,referenced_tweets,note_tweet",
              "expansions": "referenced_tweets.id,referenced_tweets.id.author_id", "user.fields": "username"}
    status, _, body = await call(sandbox, bearer, "GET", "/2/tweets", params=params)
    assert status == 200
    conforms(body, "tweets_lookup")
    refs = {t["id"]: t["referenced_tweets"] for t in body["data"]}
    assert refs == {quote.id: [{"type": "quoted", "id": quote.quoted_id}],
                    gone.id: [{"type": "quoted", "id": gone.quoted_id}]}
    [included] = body["includes"]["tweets"]
    assert included["id"] == quote.quoted_id and included["text"] == quoted.text
    [author] = [u for u in body["includes"]["users"] if u["id"] == included["author_id"]]
    assert author["username"] == quoted.author.handle
    [missing] = body["errors"]
    assert (missing["title"], missing["parameter"], missing["resource_id"]) == \
        ("Not Found Error", "referenced_tweets.id", gone.quoted_id)
    # Without the expansion the reference stays and nothing is included.
    status, _, bare = await call(sandbox, bearer, "GET", "/2/tweets",
                                 params={"ids": quote.id, "tweet.fields": "referenced_tweets"})
    assert "includes" not in bare and "errors" not in bare
    assert bare["data"][0]["referenced_tweets"] == [{"type": "quoted", "id": quote.quoted_id}]
