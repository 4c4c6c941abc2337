"""Settings of the harvester (``XBOT_*`` environment variables).

Names carry a ``harvest_``/``discovery_``/``pool_`` prefix because every service reads the same ``XBOT_``
namespace. Durations are ``timedelta`` (``XBOT_HARVEST_INTERVAL=PT30M`` or seconds, ``1800``).
"""

from __future__ import annotations

from datetime import timedelta
from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.contracts.gateway import SearchTab
from libs.core.account import AccountSettings
from libs.core.settings import Duration


class NicheTopic(BaseModel):
    """One topic of the niche: what to search for and what "on topic" means for relevance scoring."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    # Compared with each tweet by embedding similarity; list the sub-themes people actually tweet about.
    description: str = Field(min_length=1)
    # Search terms, OR-ed in the query; a multi-word term is searched as a phrase.
    keywords: tuple[str, ...] = Field(min_length=1)


DEFAULT_TOPICS: tuple[NicheTopic, ...] = (
    NicheTopic(
        name="sleep",
        description="Sleep: sleep quality and duration, insomnia, circadian rhythm, bedtime routines and naps.",
        keywords=("sleep", "insomnia", "melatonin", "circadian"),
    ),
    NicheTopic(
        name="nutrition",
        description="Nutrition and diet: protein, fibre, vegetables, whole foods, added sugar and healthy meals.",
        keywords=("nutrition", "protein", "fibre", "fiber", "diet"),
    ),
    NicheTopic(
        name="exercise",
        description="Exercise and fitness: strength training, cardio, walking after meals, daily steps, mobility "
        "and workouts.",
        keywords=("exercise", "workout", "strength training", "cardio", "steps"),
    ),
    NicheTopic(
        name="stress",
        description="Stress management: breathing practice, relaxation, burnout, cortisol and time outdoors.",
        keywords=("stress", "burnout", "breathing", "cortisol"),
    ),
    NicheTopic(
        name="gut_health",
        description="Gut health and the microbiome: fermented foods, probiotics, fibre, digestion, kefir and "
        "yogurt.",
        keywords=("gut health", "gut", "microbiome", "probiotics"),
    ),
    NicheTopic(
        name="longevity",
        description="Longevity and healthy ageing: VO2 max, muscle mass, grip strength, lifespan and healthspan.",
        keywords=("longevity", "lifespan", "healthspan", "VO2 max"),
    ),
    NicheTopic(
        name="mental_health",
        description="Mental health and mood: journaling, anxiety, depression, loneliness, talking to friends, "
        "doomscrolling and screen time.",
        keywords=("mental health", "anxiety", "mood", "journaling"),
    ),
    NicheTopic(
        name="hydration",
        description="Hydration: drinking water, electrolytes, dehydration and swapping sugary drinks for water.",
        keywords=("hydration", "water", "electrolytes", "dehydration"),
    ),
    NicheTopic(
        name="metabolic_health",
        description="Metabolic health: blood sugar, insulin sensitivity, glucose, waist size and body weight.",
        keywords=("metabolic health", "blood sugar", "insulin", "glucose"),
    ),
    NicheTopic(
        name="heart_health",
        description="Heart health: blood pressure, cholesterol, resting heart rate, salt and cardiovascular "
        "fitness.",
        keywords=("heart health", "blood pressure", "cholesterol", "heart rate"),
    ),
)


class NewsFeed(BaseModel):
    """One RSS or Atom feed of niche news: its name is the source a post cites."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=2)
    url: str = Field(pattern=r"^https?://\S+$")


# Public health bodies' and journals' own news feeds (their published RSS addresses; a feed that moves answers with
# an error, which the job logs and counts without stopping the others: XBOT_NEWS_FEEDS replaces the list).
DEFAULT_FEEDS: tuple[NewsFeed, ...] = (
    NewsFeed(name="WHO", url="https://www.who.int/rss-feeds/news-english.xml"),
    NewsFeed(name="NIH", url="https://www.nih.gov/news-releases/feed.xml"),
    NewsFeed(name="CDC", url="https://tools.cdc.gov/api/v2/resources/media/132608.rss"),
    NewsFeed(name="NHS", url="https://www.england.nhs.uk/feed/"),
    NewsFeed(name="The BMJ", url="https://www.bmj.com/rss/recent.xml"),
    NewsFeed(name="JAMA", url="https://jamanetwork.com/rss/site_3/67.xml"),
    NewsFeed(name="The Lancet", url="https://www.thelancet.com/rssfeed/lancet_online.xml"),
)


class HarvesterSettings(AccountSettings):
    # ---------------------------------------------------------------- harvest job
    harvest_interval: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))
    niche_topics: tuple[NicheTopic, ...] = Field(default=DEFAULT_TOPICS, min_length=1)
    harvest_tabs: tuple[SearchTab, ...] = Field(default=("latest", "top"), min_length=1)
    harvest_lang: str = Field(default="en", pattern=r"^[a-z]{2}$")
    # A tweet qualifies with either many likes or many replies (X's operators AND, so one query per threshold).
    harvest_min_likes: int = Field(default=2_000, ge=0)
    harvest_min_replies: int = Field(default=200, ge=0)
    harvest_max_age: Duration = Field(default=timedelta(hours=24), gt=timedelta(0))
    # How many results the gateway collects per query (scrolling further costs browser time).
    harvest_results_per_query: int = Field(default=40, ge=1, le=100)  # SearchRequest.limit caps at 100
    # Max cosine similarity to a topic description below which a tweet is off-topic. The thresholds differ
    # per embedder: harvest_min_relevance is the packaged model's (minilm_int8; bench/embedders.py calibrates it
    # at 0.26, the middle of the gap between the sandbox's niche and off-topic tweets); the lexical fallback is
    # coarser and scores far lower for the same pair of texts.
    harvest_min_relevance: float = Field(default=0.26, ge=-1, le=1)
    harvest_min_relevance_lexical: float = Field(default=0.10, ge=-1, le=1)

    # Author profiles read per run for the follower count of kept candidates (search cards do not show it);
    # each is one gateway call, and profiles are cached for harvest_profile_ttl.
    harvest_profile_reads: int = Field(default=20, ge=0)
    harvest_profile_ttl: Duration = Field(default=timedelta(days=3), gt=timedelta(0))
    # Pooled tweets checked per run for deletion (least recently checked first; one status page each).
    harvest_deletion_checks: int = Field(default=20, ge=0)
    # Our own handle (AccountSettings.x_handle) is never an opportunity or a discovery.

    # ---------------------------------------------------------------- our own conversations (issue 24, item 5)
    # Replies our posts got are read (one status page per post, the gateway's "conversations" budget class) for
    # posts younger than conversations_window, at most conversations_reads per run, least recently read first.
    conversations_interval: Duration = Field(default=timedelta(minutes=20), gt=timedelta(0))
    conversations_window: Duration = Field(default=timedelta(hours=24), gt=timedelta(0))
    conversations_reads: int = Field(default=3, ge=0)
    conversations_replies_per_post: int = Field(default=20, ge=1, le=100)

    # ---------------------------------------------------------------- opportunity pool
    # Target band: harvesting stops once the pool holds pool_max and resumes when it falls below pool_min.
    pool_min: int = Field(default=200, ge=0)
    pool_max: int = Field(default=300, ge=1)

    # ---------------------------------------------------------------- account discovery
    discovery_interval: Duration = Field(default=timedelta(minutes=90), gt=timedelta(0))
    discovery_min_followers: int = Field(default=10_000, ge=0)
    discovery_max_followers: int = Field(default=500_000, ge=1)
    # Mean (likes + retweets + replies) per follower of an author's recent tweets.
    discovery_min_engagement_rate: float = Field(default=0.001, ge=0)
    discovery_recent_tweets: int = Field(default=20, ge=1, le=200)
    # Authors profiled per discovery run: each is one gateway call.
    discovery_max_profiles: int = Field(default=20, ge=1)

    # Discovered accounts are read again (profile + recent posts: two gateway reads each, inside the activity
    # budget) once older than account_refresh_age, at most account_refresh_batch per run.
    account_refresh_interval: Duration = Field(default=timedelta(hours=6), gt=timedelta(0))
    account_refresh_age: Duration = Field(default=timedelta(days=1), gt=timedelta(0))
    account_refresh_batch: int = Field(default=10, ge=0)

    # ---------------------------------------------------------------- format learning
    # FormatInsights from the peers' posts (viral tweets found, discovered accounts' recent posts) read within
    # the window; at least a few hundred posts are needed for useful intervals (README "Format learning").
    format_insights_interval: Duration = Field(default=timedelta(days=1), gt=timedelta(0))
    # Peers' posts are purged after XBOT_PERSONAL_DATA_RETENTION (4 days by default), which caps the window.
    format_window: Duration = Field(default=timedelta(days=4), gt=timedelta(0))

    # ---------------------------------------------------------------- news
    news_feeds: tuple[NewsFeed, ...] = DEFAULT_FEEDS
    news_interval: Duration = Field(default=timedelta(hours=2), gt=timedelta(0))
    # Items older than this are not news: never published, and the planner stops offering them as angles.
    news_max_age: Duration = Field(default=timedelta(days=3), gt=timedelta(0))
    news_timeout: Duration = Field(default=timedelta(seconds=20), gt=timedelta(0))  # real time, per feed

    # How often strangers' tweets and profiles past XBOT_PERSONAL_DATA_RETENTION are forgotten.
    personal_data_purge_interval: Duration = Field(default=timedelta(hours=6), gt=timedelta(0))

    @model_validator(mode="after")
    def _check_ranges(self) -> HarvesterSettings:
        if self.personal_data_retention <= self.harvest_max_age:
            # A forgotten tweet must be too old to be found and selected again.
            raise ValueError(f"personal_data_retention ({self.personal_data_retention}) must exceed "
                             f"harvest_max_age ({self.harvest_max_age})")
        if self.pool_min > self.pool_max:
            raise ValueError(f"pool_min ({self.pool_min}) must not exceed pool_max ({self.pool_max})")
        if self.discovery_min_followers > self.discovery_max_followers:
            raise ValueError("discovery_min_followers must not exceed discovery_max_followers")
        names = [t.name for t in self.niche_topics]
        if len(set(names)) != len(names):
            raise ValueError(f"niche topic names must be unique: {names}")
        return self

    def min_relevance_for(self, embedder_kind: str) -> float:
        """The relevance threshold for the embedder in use (``Embedder.kind``)."""
        by_kind = {"minilm_int8": self.harvest_min_relevance, "lexical": self.harvest_min_relevance_lexical}
        if embedder_kind not in by_kind:
            raise ValueError(f"no relevance threshold for embedder kind {embedder_kind!r}")
        return by_kind[embedder_kind]
