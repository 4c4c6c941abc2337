"""The sandbox's world: our account, the population around it, and the rules X enforces on writes.

Deterministic for a seed on the shared simulated clock. Our tweets are stored (sandbox/store.py) together with
the final reactions the hidden audience decided for them at posting time, seeded per tweet; what a page shows at
age a is ``final.at_age(a)``, and our follower count is the start count plus the follows those reactions have
brought so far. Everything else is computed on request from the seed and the time, so an idle world costs nothing.

A fresh world may start with the account's past posts (``history_posts``; sandbox/history.py): what a real account
brings to xbot. Pages and the API show them as any of our tweets; what the run is measured by leaves them out.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from libs.core.clock import Clock
from sandbox.audience import AudienceModel, Engagement, PostChoice
from sandbox.conversations import AudienceReply, Conversations, answer_engagement, takes_up
from sandbox.history import Habits, habits, plan
from sandbox.population import OWN_WORKER, Account, Population, PopulationTweet, snowflake
from sandbox.search import Candidate, SearchQuery, parse_query
from sandbox.settings import SandboxSettings
from sandbox.store import OwnTweet, Store

HOUR = 3600.0
# X's raters add context under a post hours after it goes out, once enough of them agree (Community Notes shows a
# note after it is rated helpful; hours to days). The world notes ours this long after posting at the earliest.
NOTE_AFTER_HOURS = 6.0
NOTE_ON_INVENTED_CLAIM = ("Readers added context: the study or statistic this post cites could not be found in any "
                          "published source.")
DAY = 24 * HOUR
HALF_HOUR = 1800.0
MAX_TWEET_CHARS = 280
SEARCH_WINDOW = 7 * DAY  # how far back search and profiles look into the population
SEARCH_RESULTS = 40
HISTORY_MARK = "history_before"  # the store's mark of the world's start when it made the account's past
THREAD_PART_SHARE = 0.3  # later parts of a thread are seen by a fraction of the first part's audience

# X's own words for each refusal; the web client shows them in a toast.
REFUSALS: dict[str, str] = {
    "duplicate": "Whoops! You already said that.",
    "daily_limit": "You are over the daily limit for sending posts.",
    "error": "Something went wrong. Try reloading.",
    "rate_limit": "Rate limit exceeded. Please wait a few moments then try again.",
    "automation": "This request looks like it might be automated. To protect our users from spam and other "
                  "malicious activity, we can't complete this action right now.",
    # X's words (v1.1 code 433) for a reply its author does not allow; the web client greys the reply button out
    # first, so only a client that ignores it reads them.
    "reply_restricted": "The original Tweet author restricted who can reply to this Tweet.",
}


class WriteRefused(Exception):
    def __init__(self, mode: str) -> None:
        super().__init__(REFUSALS[mode])
        self.mode = mode
        self.message = REFUSALS[mode]


@dataclass(frozen=True)
class QuotedView:
    """The card of the post a quote post quotes; ``handle`` None when that post is gone ("This post is
    unavailable.")."""

    id: str
    handle: str | None
    name: str
    text: str
    created_at: float


@dataclass(frozen=True)
class TweetView:
    """One tweet as a page shows it at a given moment."""

    id: str
    handle: str
    name: str
    text: str
    created_at: float
    counts: Engagement
    lang: str
    in_reply_to: str | None
    reply_to_handle: str | None
    own: bool
    # Who may reply (the X API's reply_settings) and whether the account may: X greys its reply button out when not.
    reply_settings: str = "everyone"
    can_reply: bool = True
    # The Community Note X shows under it ("Readers added context …"), if any.
    community_note: str | None = None
    # The post it quotes, shown in a card inside it.
    quoted: QuotedView | None = None

    def candidate(self) -> Candidate:
        return Candidate(text=self.text, handle=self.handle, lang=self.lang, is_reply=self.in_reply_to is not None,
                         created_at=self.created_at, likes=self.counts.likes, retweets=self.counts.retweets,
                         replies=self.counts.replies)


@dataclass(frozen=True)
class Limits:
    daily_posts: int
    daily_replies: int
    half_hour_posts: int
    half_hour_replies: int


def limit_refusal(kind: str, history: list[float], now: float, limits: Limits) -> str | None:
    """Which of X's limits (if any) one more write of ``kind`` at ``now`` breaks, given the times of earlier
    writes of that kind. Rolling windows: 24 h for the daily cap, 30 min for the half-hourly sub-limit."""
    daily, half_hour = (limits.daily_posts, limits.half_hour_posts) if kind == "post" else \
        (limits.daily_replies, limits.half_hour_replies)
    if sum(1 for t in history if now - t < DAY) >= daily:
        return "daily_limit"
    if sum(1 for t in history if now - t < HALF_HOUR) >= half_hour:
        return "rate_limit"
    return None


def mentions(text: str, handle: str) -> bool:
    """Whether ``text`` mentions @``handle`` (X's mention: not inside a word or an e-mail address)."""
    return re.search(rf"(?<![\w@])@{re.escape(handle)}(?!\w)", text, re.IGNORECASE) is not None


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def reach_penalty(text: str, recent_texts: list[str]) -> float:
    """Share of reach lost, 0..0.95: near-duplicates of our recent posts and spam signals are shown to fewer
    people, as on X."""
    words = _words(text)
    similarity = 0.0
    for other in recent_texts:
        other_words = _words(other)
        if words and other_words:
            similarity = max(similarity, len(words & other_words) / len(words | other_words))
    penalty = similarity if similarity >= 0.5 else 0.0
    penalty += 0.15 * max(0, text.count("#") - 2) + 0.25 * max(0, len(re.findall(r"https?://", text)) - 1)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        penalty += 0.3
    return min(0.95, penalty)


def scaled(e: Engagement, factor: float) -> Engagement:
    return Engagement(**{f.name: math.floor(getattr(e, f.name) * factor) for f in dataclasses.fields(e)})


def _newest_order(v: TweetView) -> tuple[float, int]:
    """Time order as X keeps it: by time, then by id (snowflake ids grow with time, so two tweets of the same
    second are still in the order they were made)."""
    return v.created_at, int(v.id)


class World:
    def __init__(self, settings: SandboxSettings, clock: Clock, store: Store,
                 audience: AudienceModel | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.audience = audience or AudienceModel(settings.seed)
        self.population = Population(settings.seed, size=settings.population,
                                     tweets_per_hour=settings.tweets_per_hour,
                                     format_effects=self.audience.format_effects())
        self.limits = Limits(settings.daily_posts, settings.daily_replies,
                             settings.half_hour_posts, settings.half_hour_replies)
        self.handle = settings.handle
        deleted = store.deleted_tweets()
        tweets = store.load_tweets()
        self._own: dict[str, OwnTweet] = {t.id: t for t in tweets if t.id not in deleted}
        # How many of our tweets reply to each tweet: every view of a tweet counts them, and a search views
        # thousands (counting by scanning our tweets made each search grow with our history).
        self._own_replies: Counter[str] = Counter(t.in_reply_to for t in self._own.values() if t.in_reply_to)
        # Deleted on X: out of every page and answer, but the followers they brought stay (X does not take a
        # follow back because a post went), and they still count against the day's posting limits.
        self._gone: dict[str, tuple[OwnTweet, float]] = {t.id: (t, deleted[t.id]) for t in tweets if t.id in deleted}
        self._pinned: float | None = None
        # The audience's replies to our posts (issue 24, item 5; sandbox/conversations.py).
        self.conversations = Conversations(settings.seed, self.population.accounts)
        # Accounts a test made up to reply to us (add_audience_reply): users like the population's, so that the
        # API's author expansion and profile lookups know them as X knows every author.
        self._scripted_accounts: dict[str, Account] = {}
        self.suspended: set[str] = set()  # handles (lower case) X suspended (POST /admin/suspend)
        # Community Notes X shows under our tweets (POST /admin/community_note: raters' context under a claim they
        # found misleading), by tweet id. The world's audience writes none by itself: who rates a claim as
        # misleading is not modelled, so a test adds the note X would show.
        self.own_notes: dict[str, str] = {}
        # The claims the sandbox's text endpoint invented (its ground truth: realistic mode's invented_stat, wired by
        # the app): a post of ours that carries one is noted by X's raters NOTE_AFTER_HOURS after it went out, as a
        # real invented statistic would be by people who looked for its source. Which posts were judged, and how.
        self.invented_claims: Callable[[], Sequence[str]] = tuple
        self._judged: dict[str, str | None] = {}
        # The account's past: made once, in a fresh store; a restarted sandbox finds it there. It is what the account
        # brings, not what the run does: the run's followers (the start count already holds what the past brought),
        # posting limits and ground-truth accounting leave it out. X's duplicate rule does not: a repeat of a past
        # post is refused, and a near-duplicate of a recent one costs reach, as for the run's own.
        self.history_habits: Habits = habits(settings.seed, self.audience)
        if settings.history_posts and not tweets:
            self._make_history(self.now())
        before = store.marks().get(HISTORY_MARK)
        self._history: frozenset[str] = frozenset(
            t.id for t in (*self._own.values(), *(t for t, _ in self._gone.values()))
            if before is not None and t.created_at < before)

    def now(self) -> float:
        return self._pinned if self._pinned is not None else self.clock.timestamp()

    @contextmanager
    def frozen(self) -> Iterator[float]:
        """Pin ``now()`` for a reading of several parts, so that all its figures are of one instant.

        Only for synchronous blocks: time runs on in the sandbox's own clock and resumes afterwards.
        """
        self._pinned = self.clock.timestamp()
        try:
            yield self._pinned
        finally:
            self._pinned = None

    # ------------------------------------------------------------------ our account

    def followers_at(self, when: float) -> int:
        gained = sum(t.final.at_age((when - t.created_at) / HOUR).follows
                     for t in self._own.values() if t.created_at <= when and t.id not in self._history)
        # A deleted tweet brings no follower after its deletion.
        gained += sum(t.final.at_age((min(when, gone_at) - t.created_at) / HOUR).follows
                      for t, gone_at in self._gone.values() if t.created_at <= when and t.id not in self._history)
        return self.settings.start_followers + gained

    def followers(self) -> int:
        return self.followers_at(self.now())

    def followers_series(self, *, hours: float, step_minutes: float) -> list[tuple[float, int]]:
        now = self.now()
        steps = max(1, int(hours * 60 / step_minutes))
        return [(t, self.followers_at(t)) for t in (now - hours * HOUR + i * step_minutes * 60
                                                     for i in range(steps + 1))]

    def own_tweets(self) -> list[OwnTweet]:
        """Every tweet of ours on X, the account's past too, oldest first."""
        return sorted(self._own.values(), key=lambda t: (t.created_at, t.id))

    def run_tweets(self) -> list[OwnTweet]:
        """Our tweets but the account's past: what the run did, and what its accounting values."""
        return [t for t in self.own_tweets() if t.id not in self._history]

    def history(self) -> list[OwnTweet]:
        """The account's past posts still on X, oldest first; each one's ``choice`` is the world's reading of its
        text (the owner's intended choice but where no unused text read back as it, sandbox/history.py)."""
        return [t for t in self.own_tweets() if t.id in self._history]

    def is_history(self, tweet_id: str) -> bool:
        return tweet_id in self._history

    def _make_history(self, start: float) -> None:
        """The account's past posts, each drawn as create_tweet draws a single (its near-duplicates among the past
        cost reach) at the follower count the world starts with, and written in one transaction."""
        made: list[OwnTweet] = []
        for post in plan(self.settings.seed, self.audience, posts=self.settings.history_posts, start=start,
                         days=self.settings.history_days):
            tweet_id = self._new_id(post.created_at)
            rng = random.Random(f"{self.settings.seed}:own:{tweet_id}")
            penalty = reach_penalty(post.text, [t.text for t in made if post.created_at - t.created_at < SEARCH_WINDOW])
            choice = self.audience.infer_choice(post.text, hour=datetime.fromtimestamp(post.created_at, UTC).hour,
                                                format="single")
            followers = self.settings.start_followers
            tweet = OwnTweet(id=tweet_id, kind="post", text=post.text, created_at=post.created_at, in_reply_to=None,
                             reply_to_handle=None, thread_root=None, choice=choice,
                             final=self._sample_post(choice, post.text, followers, rng, penalty),
                             followers_at_post=followers, reach_penalty=penalty)
            self._own[tweet_id] = tweet
            made.append(tweet)
        with self.store.atomic():
            self.store.set_mark(HISTORY_MARK, start)
            for tweet in made:
                self.store.save_tweet(tweet)

    def create_tweet(self, text: str, *, in_reply_to: str | None = None) -> OwnTweet:
        """Post one tweet (a single, a thread part, or a reply) under X's rules, or raise WriteRefused."""
        text = text.strip()
        if not text or len(text) > MAX_TWEET_CHARS:
            raise WriteRefused("error")
        now = self.now()
        parent_own = self._own.get(in_reply_to) if in_reply_to else None
        parent_pop = self.population.tweet(in_reply_to) if in_reply_to and not parent_own else None
        answered = self.audience_reply(in_reply_to) if in_reply_to and not parent_own and not parent_pop else None
        if answered is not None:
            parent_pop = answered.tweet  # an answer in our own conversation: the replier is the target
        if in_reply_to and not parent_own and (parent_pop is None or parent_pop.created_at > now):
            raise WriteRefused("error")  # replying to a tweet that does not exist
        if parent_pop is not None and answered is None and not self.may_reply(parent_pop):
            raise WriteRefused("reply_restricted")
        kind = self.write_kind(in_reply_to)
        if any(normalise(t.text) == normalise(text) for t in self._own.values()):
            raise WriteRefused("duplicate")
        refusal = limit_refusal(kind, [t.created_at for t in self._written() if t.kind == kind], now,
                                self.limits)
        if refusal:
            raise WriteRefused(refusal)

        tweet_id = self._new_id(now)
        rng = random.Random(f"{self.settings.seed}:own:{tweet_id}")
        followers = self.followers_at(now)
        recent = [t.text for t in self._own.values() if now - t.created_at < SEARCH_WINDOW]
        penalty = reach_penalty(text, recent)
        hour = datetime.fromtimestamp(now, UTC).hour
        choice: PostChoice | None = None
        thread_root = None
        if parent_own:
            thread_root = parent_own.thread_root or parent_own.id
            self._make_thread(self._own[thread_root])
            base = self._sample_post(self._own[thread_root].choice, text, followers, rng, penalty) \
                if kind == "post" else self._sample_reply(text, followers, None, now, rng, penalty)
            final = scaled(base, THREAD_PART_SHARE)
            choice = self._own[thread_root].choice
        elif answered is not None:
            final = self._sample_answer(text, followers, answered, now, rng, penalty)
        elif parent_pop:
            final = self._sample_reply(text, followers, parent_pop, now, rng, penalty)
        else:
            choice = self.audience.infer_choice(text, hour=hour, format="single")
            final = self._sample_post(choice, text, followers, rng, penalty)
        tweet = OwnTweet(id=tweet_id, kind=kind, text=text, created_at=now, in_reply_to=in_reply_to,
                         reply_to_handle=(self.handle if parent_own else parent_pop.author.handle if parent_pop
                                          else None),
                         thread_root=thread_root, choice=choice, final=final, followers_at_post=followers,
                         reach_penalty=penalty)
        self.store.save_tweet(tweet)
        self._own[tweet_id] = tweet
        if in_reply_to:
            self._own_replies[in_reply_to] += 1
        return tweet

    def delete_tweet(self, tweet_id: str) -> str:
        """Delete one of our tweets: ``deleted``, ``gone`` (already deleted, or no such tweet) or ``not_own``."""
        if tweet_id in self._gone or (tweet_id not in self._own and self.tweet(tweet_id) is None):
            return "gone"
        if tweet_id not in self._own:
            return "not_own"
        now = self.now()
        self.store.delete_tweet(tweet_id, now)
        gone = self._own.pop(tweet_id)
        self._gone[tweet_id] = (gone, now)
        if gone.in_reply_to:
            self._own_replies[gone.in_reply_to] -= 1
        return "deleted"

    def _written(self) -> list[OwnTweet]:
        """Every tweet we wrote in the run, deleted ones too: X's posting limits count what was posted."""
        return [t for t in (*self._own.values(), *(t for t, _ in self._gone.values())) if t.id not in self._history]

    def deleted_at(self, tweet_id: str) -> float | None:
        gone = self._gone.get(tweet_id)
        return gone[1] if gone else None

    def write_kind(self, in_reply_to: str | None) -> str:
        """What X counts a write as: a self-reply continues our own thread and counts as a post (a thread part);
        a reply to anyone else is a reply."""
        parent_own = self._own.get(in_reply_to) if in_reply_to else None
        if parent_own:
            return parent_own.kind
        return "reply" if in_reply_to else "post"

    def _sample_post(self, choice: PostChoice | None, text: str, followers: int, rng: random.Random,
                     penalty: float) -> Engagement:
        assert choice is not None
        return self.audience.sample_engagement(choice, text=text, followers=followers, rng=rng,
                                               reach_penalty=penalty, format_lift=self.audience.own_format_lift(text))

    def _sample_reply(self, text: str, followers: int, target: PopulationTweet | None, now: float,
                      rng: random.Random, penalty: float) -> Engagement:
        age = (now - target.created_at) / HOUR if target else 0.0
        final = self.audience.sample_reply_engagement(
            text=text, followers=followers,
            target_followers=target.author.followers if target else followers,
            target_likes=target.final.at_age(age).likes if target else 0,
            target_age_hours=age, rng=rng)
        return scaled(final, 1.0 - penalty)

    def _sample_answer(self, text: str, followers: int, reply: AudienceReply, now: float, rng: random.Random,
                       penalty: float) -> Engagement:
        """Our answer to a reply our post got: a reply's draw, plus what answering brings (conversations.py)."""
        base = self._sample_reply(text, followers, reply.tweet, now, rng, penalty)
        root = self._own.get(reply.root)
        root_views = root.final.at_age((now - root.created_at) / HOUR).views if root else 0
        return answer_engagement(base, reply.kind, root_views=root_views, rng=rng,
                                 on_point=takes_up(reply.tweet.text, text))

    # ------------------------------------------------------------------ the audience's replies to our posts

    def _conversation_replies(self, t: OwnTweet, now: float) -> list[AudienceReply]:
        if t.kind == "post" and t.in_reply_to is not None:
            return []  # a thread's later part: its replies go to the thread's first part
        # Our posts (a single, a thread's first part) and our replies draw the audience's replies.
        return self.conversations.replies(t.id, t.created_at, t.final, now)

    def audience_reply(self, tweet_id: str) -> AudienceReply | None:
        """A reply our posts got, visible now, by id (drawn for every post first when not seen yet: after a
        restart the page that showed it may not have been read again)."""
        found = self.conversations.get(tweet_id)
        if found is None:
            now = self.now()
            for t in self._own.values():
                self._conversation_replies(t, now)
            found = self.conversations.get(tweet_id)
        return found if found is not None and found.tweet.created_at <= self.now() else None

    def add_audience_reply(self, to: str, handle: str, text: str, *, kind: str = "comment",
                           followers: int = 150) -> AudienceReply:
        """A reply to one of our posts from ``handle`` (a population account, or a new one), now: for tests."""
        if to not in self._own:
            raise KeyError(to)
        author = self.population.by_handle.get(handle.lower()) or self._scripted_accounts.setdefault(
            handle.lower(), Account(handle=handle, name=handle, bio="", followers=followers, following=100,
                                    niche=True, lang="en"))
        return self.conversations.add(to, author, text, at=self.now(), kind=kind)

    def _reply_view(self, r: AudienceReply, now: float) -> TweetView:
        t = r.tweet
        return TweetView(id=t.id, handle=t.author.handle, name=t.author.name, text=t.text, created_at=t.created_at,
                         counts=dataclasses.replace(t.final.at_age((now - t.created_at) / HOUR),
                                                    replies=self._replies_to_count(t.id)),
                         lang=t.lang, in_reply_to=r.root, reply_to_handle=self.handle, own=False)

    def _make_thread(self, root: OwnTweet) -> None:
        """The second part arriving turns a single into a thread: its reactions are decided again as one, from
        the same per-tweet seed, so the outcome does not depend on when anyone looked in between."""
        if root.kind != "post" or root.choice is None or root.choice.format == "thread":
            return
        if root.id in self._history:
            return  # the account's past is settled: a part added days later rides on it as on a single
        choice = dataclasses.replace(root.choice, format="thread")
        rng = random.Random(f"{self.settings.seed}:own:{root.id}:thread")
        final = self._sample_post(choice, root.text, root.followers_at_post, rng, root.reach_penalty)
        updated = dataclasses.replace(root, choice=choice, final=final)
        self.store.save_tweet(updated)
        self._own[root.id] = updated
        self.conversations.forget(root.id)  # its replies follow its new reply count

    def _new_id(self, now: float) -> str:
        ms = int(now * 1000)
        for seq in range(4096):
            candidate = snowflake(ms, OWN_WORKER, seq)
            if candidate not in self._own and candidate not in self._gone:
                return candidate
        raise RuntimeError("more than 4096 tweets in one simulated millisecond")

    # ------------------------------------------------------------------ what pages show

    def _replies_to_count(self, tweet_id: str) -> int:
        return self._own_replies[tweet_id]

    def _own_view(self, t: OwnTweet, now: float) -> TweetView:
        counts = t.final.at_age((now - t.created_at) / HOUR)
        # The audience's drawn replies are part of the count (they arrive as it grows); the ones a test added are not.
        added = self.conversations.added_count(t.id, now)
        counts = dataclasses.replace(counts, replies=counts.replies + added + self._replies_to_count(t.id))
        return TweetView(id=t.id, handle=self.handle, name=self.settings.display_name, text=t.text,
                         created_at=t.created_at, counts=counts, lang="en", in_reply_to=t.in_reply_to,
                         reply_to_handle=t.reply_to_handle, own=True,
                         community_note=self.own_notes.get(t.id) or self._raters_note(t, now))

    def _raters_note(self, t: OwnTweet, now: float) -> str | None:
        """The note X's raters put under our tweet by now: one for a claim the text endpoint invented (judged once,
        the first time the tweet is seen NOTE_AFTER_HOURS after it went out; none before)."""
        if now - t.created_at < NOTE_AFTER_HOURS * HOUR:
            return None
        if t.id not in self._judged:
            text = _plain(t.text)
            invented = any(claim and claim in text for claim in (_plain(c).rstrip(".") for c in self.invented_claims()))
            self._judged[t.id] = NOTE_ON_INVENTED_CLAIM if invented else None
        return self._judged[t.id]

    def _pop_view(self, t: PopulationTweet, now: float) -> TweetView:
        counts = t.final.at_age((now - t.created_at) / HOUR)
        counts = dataclasses.replace(counts, replies=counts.replies + self._replies_to_count(t.id))
        parent = self.population.tweet(t.in_reply_to) if t.in_reply_to else None
        return TweetView(id=t.id, handle=t.author.handle, name=t.author.name, text=t.text,
                         created_at=t.created_at, counts=counts, lang=t.lang, in_reply_to=t.in_reply_to,
                         reply_to_handle=parent.author.handle if parent else None, own=False,
                         reply_settings=t.reply_settings, can_reply=self.may_reply(t),
                         community_note=t.community_note, quoted=self._quoted_view(t.quoted_id))

    def _quoted_view(self, quoted_id: str | None) -> QuotedView | None:
        q = self.population.quoted(quoted_id) if quoted_id else None
        if q is None:
            return None
        if q.kind == "gone":
            return QuotedView(id=q.id, handle=None, name="", text="", created_at=q.created_at)
        return QuotedView(id=q.id, handle=q.author.handle, name=q.author.name, text=q.text, created_at=q.created_at)

    def may_reply(self, t: PopulationTweet) -> bool:
        """Whether the account may reply to ``t``: its author lets everyone, or limits it to the accounts it
        mentions and mentions ours (whom the author follows is not modelled: the account is not among them)."""
        return t.reply_settings == "everyone" or (
            t.reply_settings == "mentionedUsers" and mentions(t.text, self.handle))

    def tweet(self, tweet_id: str) -> TweetView | None:
        now = self.now()
        if tweet_id in self._own:
            return self._own_view(self._own[tweet_id], now)
        t = self.population.tweet(tweet_id)
        if t is None:
            reply = self.audience_reply(tweet_id)
            return self._reply_view(reply, now) if reply is not None else None
        # X shows no post of a suspended account (its status page is a missing one).
        return self._pop_view(t, now) if t.created_at <= now and t.author.handle.lower() not in self.suspended \
            else None

    def ancestors(self, tweet: TweetView, limit: int = 10) -> tuple[list[TweetView], str | None]:
        """What a reply answers, root first: X shows these above a reply on its status page. A parent gone ends
        the chain, and X shows its notice in its place (the notice, else None): deleted by its author, from a
        suspended account, or unavailable."""
        chain: list[TweetView] = []
        parent, gone = tweet.in_reply_to, None
        while parent and len(chain) < limit:
            view = self.tweet(parent)
            if view is None:
                gone = self._gone_notice(parent)
                break
            chain.append(view)
            parent = view.in_reply_to
        return chain[::-1], gone

    def _gone_notice(self, tweet_id: str) -> str:
        if self.deleted_at(tweet_id) is not None:
            return "This post was deleted by the post author."
        t = self.population.tweet(tweet_id)
        if t is not None and t.author.handle.lower() in self.suspended:
            return "This post is from a suspended account."
        return "This post is unavailable."

    def _conversation_views(self, root_id: str) -> list[TweetView]:
        """A conversation: its root and every reply under it, level by level (the ``conversation_id:`` search)."""
        root = self.tweet(root_id)
        if root is None or root.in_reply_to:
            return []  # X matches the tweets whose conversation_id is the id: a reply starts none
        out, level = [root], [root]
        while level and len(out) < 1000:  # a bound, not a limit a conversation of the sandbox reaches
            level = [child for parent in level for child in self.replies(parent.id)]
            out += level
        return out

    def replies(self, tweet_id: str) -> list[TweetView]:
        """Replies under a tweet as X shows a conversation to the account: its own first (a reply it just sent
        stands at the top, whatever the conversation's length), then the others (the audience's and the
        population's), each oldest first."""
        now = self.now()
        ours = [self._own_view(t, now) for t in self._own.values() if t.in_reply_to == tweet_id]
        views: list[TweetView] = []
        own = self._own.get(tweet_id)
        if own is not None:
            views += [self._reply_view(r, now) for r in self._conversation_replies(own, now)]
        parent = self.population.tweet(tweet_id)
        if parent:
            views += [self._pop_view(t, now) for t in self.population.replies_to(parent) if t.created_at <= now]
        return sorted(ours, key=_newest_order) + sorted(views, key=_newest_order)

    def _population_views(self, start: float, end: float, query: SearchQuery | None = None) -> list[TweetView]:
        """The population's tweets of [start, end] as pages show them at ``end``; with ``query``, only those
        whose words, author, language and kind it matches (their counts are for the caller to check): a view
        costs far more than that check, and a search looks through a week of tweets."""
        return [self._pop_view(t, end) for t in self.population.tweets_between(start, end)
                if t.author.handle.lower() not in self.suspended
                and (query is None or query.matches_content(t.text, t.author.handle, t.lang,
                                                            t.in_reply_to is not None, t.created_at))]

    def home_timeline(self, limit: int = 30) -> list[TweetView]:
        now = self.now()
        views = self._population_views(now - 6 * HOUR, now) + \
            [self._own_view(t, now) for t in self._own.values() if t.kind == "post"]
        return sorted(views, key=lambda v: v.created_at, reverse=True)[:limit]

    def discover_more(self, tweet_id: str, limit: int = 6) -> list[TweetView]:
        """What X's "Discover more" shows under a conversation's last reply: popular posts of the last hours from
        across X, none of them in this conversation (the most liked of the last 6 hours here)."""
        now = self.now()
        views = [v for v in self._population_views(now - 6 * HOUR, now) if v.in_reply_to is None and v.id != tweet_id]
        return sorted(views, key=lambda v: (-v.counts.likes, v.id))[:limit]

    def account(self, handle: str) -> dict | None:
        """The profile of ``handle``; None for a handle no account has (never had, or renamed or deactivated) or
        one X suspended (``is_suspended`` tells which)."""
        if handle.lower() in self.suspended:
            return None
        if handle.lower() == self.handle.lower():
            return {"handle": self.handle, "name": self.settings.display_name, "bio": self.settings.bio,
                    "followers": self.followers(), "following": self.settings.start_following}
        a = self.population.by_handle.get(handle.lower()) or self._scripted_accounts.get(handle.lower())
        if a is None:
            return None
        return {"handle": a.handle, "name": a.name, "bio": a.bio, "followers": a.followers, "following": a.following}

    def profile_timeline(self, handle: str, limit: int = 40) -> list[TweetView]:
        """The account's posts (not its replies to others), newest first, like X's Posts tab."""
        now = self.now()
        if handle.lower() == self.handle.lower():
            views = [self._own_view(t, now) for t in self._own.values() if t.kind == "post"]
        else:
            views = [v for v in self._population_views(now - SEARCH_WINDOW, now)
                     if v.handle.lower() == handle.lower() and v.in_reply_to is None]
        return sorted(views, key=lambda v: v.created_at, reverse=True)[:limit]

    def search(self, q: str, *, latest: bool) -> list[TweetView]:
        """Top (by engagement) or Latest (newest first) tweets matching an X search query."""
        query = parse_query(q)
        now = self.now()
        start = max(now - SEARCH_WINDOW, query.since or -math.inf)
        end = min(now, query.until or math.inf)
        if query.conversation_id:
            views = [v for v in self._conversation_views(query.conversation_id) if start <= v.created_at <= end]
        else:
            views = self._population_views(start, end, query) + [self._own_view(t, now) for t in self._own.values()]
        hits = [v for v in views if query.matches(v.candidate())]
        if latest:
            hits.sort(key=_newest_order, reverse=True)
        else:
            hits.sort(key=lambda v: (v.counts.likes + 2 * v.counts.retweets + 3 * v.counts.replies), reverse=True)
        return hits[:SEARCH_RESULTS]

    def usage(self) -> dict[str, int]:
        now = self.now()
        out = {}
        for kind, plural in (("post", "posts"), ("reply", "replies")):
            times = [t.created_at for t in self._written() if t.kind == kind]
            out[f"{plural}_24h"] = sum(1 for t in times if now - t < DAY)
            out[f"{plural}_30m"] = sum(1 for t in times if now - t < HALF_HOUR)
        return out


def _plain(text: str) -> str:
    """Lower case, straight apostrophes and quotes, single spaces: a claim reads the same in a post however the
    planner's normaliser typed it."""
    text = text.lower().translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}))
    return " ".join(text.split())
