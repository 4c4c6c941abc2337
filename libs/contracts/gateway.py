"""Messages of the browser gateway (its client, a bus concern, is libs/bus/gateway.py).

Operations are core NATS request/reply on ``<namespace>.browser.<op>``: a request answers once, nothing is
stored, and no JetStream stream may capture these subjects (streams are per producer, ``<ns>.<producer>.>``,
and ``browser`` is not a producer). Every reply is a :class:`GatewayReply`: ``ok`` with the op's result, or
a typed :class:`GatewayFault` that the client raises as :class:`GatewayError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import Field

from libs.contracts.base import Contract

ErrorCode = Literal[
    "rate_limited",
    "daily_limit",
    "duplicate",
    "automation_block",
    "session_expired",
    "locked",
    "dom_changed",
    "timeout",
    "browser_crashed",
    # The account's guardian in the gateway refused before anything reached X (issue 18).
    "writes_paused",
    "not_live",
    "invalid_content",
    "budget_exhausted",
    # X will not take a reply to this tweet: it is gone, or its author limits who can reply (and, through the API
    # since 2026-02-23, a reply to a post that neither mentions the account nor is its own). A property of the
    # target, not of the account or the text: the same reply is refused again, and X's health is not in question.
    "reply_not_allowed",
    # The account asked for is not on X: suspended, deactivated or renamed (its profile says so). Its doing, not a
    # changed DOM: asking again finds it gone again.
    "account_gone",
    # The client's own: NATS had no subscriber for the op (no gateway running, or one still starting), so the
    # request reached nobody and nothing can be on X. Unlike ``timeout`` it needs no read-back.
    "unreachable",
]

# Whether retrying the same request later can succeed without a person stepping in. daily_limit waits a day,
# duplicate never changes, the account-level blocks and a changed DOM need a human (or a new selector pack).
RETRYABLE: dict[str, bool] = {
    "rate_limited": True,
    "daily_limit": False,
    "duplicate": False,
    "automation_block": False,
    "session_expired": False,
    "locked": False,
    "dom_changed": False,
    "timeout": True,
    "browser_crashed": True,
    # The kill switch: writes resume when the operator says so (`xbot resume`).
    "writes_paused": True,
    # The live guard: the gateway's target is not a sandbox and XBOT_LIVE is not true; a setting must change.
    "not_live": False,
    # A hard content limit (parts, length, links in a reply): the same text is refused again.
    "invalid_content": False,
    # The activity budget or a hard write cap has no room now; retry_after_s says when it will.
    "budget_exhausted": True,
    "reply_not_allowed": False,
    "account_gone": False,
    # A gateway starting or restarting subscribes within seconds.
    "unreachable": True,
}
# Codes after which nothing can be on X (the gateway's own refusals, a request no gateway took, a reply X will not
# take to that tweet): nothing was posted, nothing needs reading back, and X's health is not in question (no write
# breaker counts them).
UNSENT_CODES: frozenset[str] = frozenset({"writes_paused", "not_live", "invalid_content", "budget_exhausted",
                                          "unreachable", "reply_not_allowed"})

Priority = Literal[0, 1, 2]
# An X handle (screen name): letters, digits and underscores, at most 15. It builds URLs the gateway opens, so
# anything else (a display name, "@someone else", a path) is refused at the contract.
HANDLE_PATTERN = r"^[A-Za-z0-9_]{1,15}$"
_STATUS_HANDLE = re.compile(r"/([A-Za-z0-9_]{1,15})/status/\d+")


def status_handle(url: str | None) -> str | None:
    """The author's handle from a status link (``/ava_sleep/status/123``): the one the display name cannot spoof."""
    m = _STATUS_HANDLE.search(url or "")
    return m.group(1) if m else None
SearchTab = Literal["top", "latest"]


def subject(namespace: str, op: str) -> str:
    return f"{namespace}.browser.{op}"


# ---------------------------------------------------------------- results


class LoginCheckResult(Contract):
    logged_in: bool
    handle: str | None = None
    # Why the session cannot be used, when X said more than "log in" (an account shown in another language).
    reason: str | None = None


IdSource = Literal["create_tweet_response", "toast_link", "profile_readback"]


class PostResult(Contract):
    # One id per posted part, first part first; never empty (a post whose id is unknown is an error).
    tweet_ids: list[str] = Field(min_length=1)
    id_source: IdSource


class DeleteResult(Contract):
    tweet_id: str
    # The post was not there any more (deleted earlier, e.g. by a first try whose answer was lost): deleting is
    # idempotent, so a retry after a lost answer is answered as a success.
    already_gone: bool = False


class TweetMetrics(Contract):
    tweet_id: str
    likes: int = Field(ge=0)
    retweets: int = Field(ge=0)
    replies: int = Field(ge=0)
    views: int = Field(ge=0)
    # What X tells only the author, for posts of the last 30 days (the X API's non_public_metrics, the web's
    # analytics page); None when the driver did not see them (the browser reads profile visits only when asked,
    # and neither reads link clicks on the web).
    profile_clicks: int | None = Field(default=None, ge=0)
    link_clicks: int | None = Field(default=None, ge=0)
    # The accounts that followed from this post ("New followers" on the web's analytics page, read with the
    # visits); None when not seen (the X API's metrics have no such count).
    follows: int | None = Field(default=None, ge=0)
    # Whether X shows a Community Note under it (readers' context under a claim they found misleading): None when
    # the driver cannot see it (the X API's tweet fields have no notes).
    noted: bool | None = None
    # When the driver had read these counts (the gateway's clock). A browser batch reads its posts one after the
    # other, pages apart (minutes, paced): the first post's counts are older than the answer. None from a gateway
    # that did not say; the caller then dates them by the answer.
    read_at: datetime | None = None


class TweetMetricsResult(Contract):
    items: list[TweetMetrics]


class QuotedPost(Contract):
    """The post a quote post quotes, as the card inside it shows it. ``author`` None and ``text`` empty when X shows
    no post there ("This post is unavailable.": deleted, or its author's protected or suspended)."""

    author: str | None = None
    text: str = ""


class TweetCard(Contract):
    """A tweet as a timeline or search page shows it."""

    tweet_id: str
    # The handle from the status link (``url``), never from the display name, which may contain "@someone".
    author: str
    text: str
    created_at: str | None = None
    # The tweet's status link as the page shows it; the author's handle is read from it.
    url: str | None = None
    likes: int = Field(default=0, ge=0)
    retweets: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)
    # Whether X lets the account reply to it: False when its author limits who can reply (X greys the reply
    # button out; the API's reply_settings) or, through the API, when X's rule for programmatic replies excludes
    # it; None when the page or answer did not say.
    can_reply: bool | None = None
    # Whether X shows a Community Note under it (readers' context under a misleading claim): None when the page or
    # answer cannot say (the X API does not show notes).
    noted: bool | None = None
    # A quote post's quoted post: what a reply to it is read beside (a short "Exactly this." endorses it).
    quoted: QuotedPost | None = None
    # X showed only the start of a long post ("Show more"; the rest is on its status page): gates reading ``text``
    # would read part of it. The X API reads long posts whole (note_tweet).
    truncated: bool = False

    def created(self) -> datetime | None:
        """``created_at`` as an aware time (``2024-05-01T12:00:00.000Z``; a time without a zone is UTC, as X's
        ``<time datetime>`` and the API's ``created_at`` are); None when absent or unreadable."""
        if not self.created_at:
            return None
        try:
            parsed = datetime.fromisoformat(self.created_at.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class TweetList(Contract):
    tweets: list[TweetCard]
    # tweet_replies only: whether the tweet asked about is gone from X (deleted, or removed by X): True when its
    # status page is missing, None when the driver cannot tell (the X API's search finds nothing either way).
    gone: bool | None = None
    # When the gateway that read this list started (its clock). A write request sent before then died with the
    # previous gateway and its Chromium (requests are core NATS: never redelivered to a new gateway), so a
    # read-back that does not find the write may conclude at once instead of waiting out the in-flight grace.
    gateway_started_at: datetime | None = None


class ProfileSnapshot(Contract):
    handle: str
    display_name: str
    bio: str = ""
    followers: int = Field(ge=0)
    following: int = Field(ge=0)


# ---------------------------------------------------------------- requests


R = TypeVar("R", bound=Contract)


class GatewayRequest(Contract, Generic[R]):
    """A request that names its result: ``GatewayRequest[PostResult]`` is answered with a PostResult, so
    ``GatewayClient.request`` returns the type its request names."""

    OP: ClassVar[str]
    RESULT: ClassVar[type[Contract]]
    DEFAULT_PRIORITY: ClassVar[int]
    WRITES: ClassVar[bool] = False

    # Overrides the op's class, e.g. a background refresh of metrics runs at P2.
    priority: Priority | None = None

    def effective_priority(self) -> int:
        return self.DEFAULT_PRIORITY if self.priority is None else self.priority

    def result(self, data: object) -> R:
        """The op's answer read as its result model."""
        return cast(R, self.RESULT.model_validate(data))


class LoginCheckRequest(GatewayRequest[LoginCheckResult]):
    OP = "login_check"
    RESULT = LoginCheckResult
    DEFAULT_PRIORITY = 1


class PostTweetRequest(GatewayRequest[PostResult]):
    OP = "post_tweet"
    RESULT = PostResult
    DEFAULT_PRIORITY = 0
    WRITES = True

    text: str = Field(min_length=1, max_length=4000)


class PostThreadRequest(GatewayRequest[PostResult]):
    OP = "post_thread"
    RESULT = PostResult
    DEFAULT_PRIORITY = 0
    WRITES = True

    parts: list[str] = Field(min_length=2, max_length=25)


class ReplyRequest(GatewayRequest[PostResult]):
    OP = "reply"
    RESULT = PostResult
    DEFAULT_PRIORITY = 0
    WRITES = True

    tweet_id: str = Field(pattern=r"^\d+$")
    # The author's handle builds the status URL; any handle works on X, but the real one avoids a redirect.
    author: str = Field(default="i", pattern=HANDLE_PATTERN)
    text: str = Field(min_length=1, max_length=4000)


class DeleteTweetRequest(GatewayRequest[DeleteResult]):
    """Delete one of the account's own posts (the owner's console): X's "Delete" menu on the status page, or the
    API's ``DELETE /2/tweets/:id``. A write: every guard of a write applies (live guard, kill switch, hard cap)."""

    OP = "delete_tweet"
    RESULT = DeleteResult
    DEFAULT_PRIORITY = 0
    WRITES = True

    tweet_id: str = Field(pattern=r"^\d+$")


class TweetMetricsRequest(GatewayRequest[TweetMetricsResult]):
    OP = "tweet_metrics"
    RESULT = TweetMetricsResult
    DEFAULT_PRIORITY = 1

    ids: list[str] = Field(min_length=1, max_length=50)
    author: str = "i"
    # Also read the profile visits (and, on the web, the new followers) of the account's own posts. The browser
    # loads each post's analytics page for them (one more page per post against the reading budget), so only reads
    # that feed the learner ask; the X API returns the visits with the public counts whatever this says.
    with_profile_visits: bool = False


class ProfileSnapshotRequest(GatewayRequest[ProfileSnapshot]):
    OP = "profile_snapshot"
    RESULT = ProfileSnapshot
    DEFAULT_PRIORITY = 1

    handle: str = Field(pattern=r"^[A-Za-z0-9_]{1,30}$")


class SearchRequest(GatewayRequest[TweetList]):
    OP = "search"
    RESULT = TweetList
    DEFAULT_PRIORITY = 1

    query: str = Field(min_length=1)
    tab: SearchTab = "latest"
    limit: int = Field(default=20, ge=1, le=100)


class OwnTimelineRequest(GatewayRequest[TweetList]):
    OP = "own_timeline"
    RESULT = TweetList
    DEFAULT_PRIORITY = 2

    limit: int = Field(default=20, ge=1, le=100)


class TweetRepliesRequest(GatewayRequest[TweetList]):
    """The replies one of the account's own tweets (a post, or a reply of ours) got, oldest first, as its status
    page shows them (issue 24, item 5: answering our own conversations). The tweet itself is left out."""

    OP = "tweet_replies"
    RESULT = TweetList
    DEFAULT_PRIORITY = 1

    tweet_id: str = Field(pattern=r"^\d+$")
    limit: int = Field(default=20, ge=1, le=100)
    # When the tweet is a reply of ours: the root of its conversation. The X API finds replies by searching a
    # conversation (``conversation_id:`` takes a root only); the browser reads the tweet's own page and needs none.
    conversation_id: str | None = Field(default=None, pattern=r"^\d+$")


_REQUESTS: tuple[type[GatewayRequest[Any]], ...] = (
    LoginCheckRequest, PostTweetRequest, PostThreadRequest, ReplyRequest, TweetMetricsRequest,
    ProfileSnapshotRequest, SearchRequest, OwnTimelineRequest, DeleteTweetRequest, TweetRepliesRequest)
# op name -> (request model, result model)
OPERATIONS: dict[str, tuple[type[GatewayRequest[Any]], type[Contract]]] = {r.OP: (r, r.RESULT) for r in _REQUESTS}


# ---------------------------------------------------------------- replies and the typed error


class GatewayFault(Contract):
    code: ErrorCode
    retryable: bool
    message: str
    # X itself answered the op with this failure (its "Something went wrong", a 5xx of its API): no request of the
    # op is still on its way to X. False when the gateway gave up waiting (an op or a call over its time limit, no
    # answer at all), where a request already sent may still land.
    x_answered: bool = False
    # Simulated seconds after which a retry may succeed (an open breaker), when known.
    retry_after_s: float | None = None


class GatewayReply(Contract):
    ok: bool
    result: dict[str, Any] | None = None
    error: GatewayFault | None = None
    # A request the gateway could not read (a contract mismatch between versions): a bug, not an X failure.
    rejected: str | None = None


class GatewayError(Exception):
    """A typed failure of a gateway operation, raised by the client. ``x_answered``: GatewayFault's."""

    def __init__(self, code: str, message: str, *, retryable: bool | None = None,
                 retry_after_s: float | None = None, x_answered: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = RETRYABLE.get(code, False) if retryable is None else retryable
        self.retry_after_s = retry_after_s
        self.x_answered = x_answered

    def fault(self) -> GatewayFault:
        return GatewayFault(code=self.code, retryable=self.retryable, message=self.message,
                            retry_after_s=self.retry_after_s, x_answered=self.x_answered)

    @classmethod
    def from_fault(cls, fault: GatewayFault) -> "GatewayError":
        return cls(fault.code, fault.message, retryable=fault.retryable, retry_after_s=fault.retry_after_s,
                   x_answered=fault.x_answered)
