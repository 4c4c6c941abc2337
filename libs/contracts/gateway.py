"""Messages of the browser gateway (DESIGN.md §5) and the client the other services use.

Operations are core NATS request/reply on ``<namespace>.browser.<op>``: a request answers once, nothing is
stored, and no JetStream stream may capture these subjects (streams are per producer, ``<ns>.<producer>.>``,
and ``browser`` is not a producer). Every reply is a :class:`GatewayReply`: ``ok`` with the op's result, or
a typed :class:`GatewayFault` that the client raises as :class:`GatewayError`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from nats.errors import NoRespondersError
from pydantic import BaseModel, Field

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
}

Priority = Literal[0, 1, 2]
SearchTab = Literal["top", "latest"]


def subject(namespace: str, op: str) -> str:
    return f"{namespace}.browser.{op}"


# ---------------------------------------------------------------- requests


class GatewayRequest(Contract):
    OP: ClassVar[str]
    DEFAULT_PRIORITY: ClassVar[int]
    WRITES: ClassVar[bool] = False

    # Overrides the op's class, e.g. a background refresh of metrics runs at P2.
    priority: Priority | None = None

    def effective_priority(self) -> int:
        return self.DEFAULT_PRIORITY if self.priority is None else self.priority


class LoginCheckRequest(GatewayRequest):
    OP = "login_check"
    DEFAULT_PRIORITY = 1


class PostTweetRequest(GatewayRequest):
    OP = "post_tweet"
    DEFAULT_PRIORITY = 0
    WRITES = True

    text: str = Field(min_length=1, max_length=4000)


class PostThreadRequest(GatewayRequest):
    OP = "post_thread"
    DEFAULT_PRIORITY = 0
    WRITES = True

    parts: list[str] = Field(min_length=2, max_length=25)


class ReplyRequest(GatewayRequest):
    OP = "reply"
    DEFAULT_PRIORITY = 0
    WRITES = True

    tweet_id: str = Field(pattern=r"^\d+$")
    # The author's handle builds the status URL; any handle works on X, but the real one avoids a redirect.
    author: str = "i"
    text: str = Field(min_length=1, max_length=4000)


class TweetMetricsRequest(GatewayRequest):
    OP = "tweet_metrics"
    DEFAULT_PRIORITY = 1

    ids: list[str] = Field(min_length=1, max_length=50)
    author: str = "i"


class ProfileSnapshotRequest(GatewayRequest):
    OP = "profile_snapshot"
    DEFAULT_PRIORITY = 1

    handle: str = Field(pattern=r"^[A-Za-z0-9_]{1,30}$")


class SearchRequest(GatewayRequest):
    OP = "search"
    DEFAULT_PRIORITY = 1

    query: str = Field(min_length=1)
    tab: SearchTab = "latest"
    limit: int = Field(default=20, ge=1, le=100)


class OwnTimelineRequest(GatewayRequest):
    OP = "own_timeline"
    DEFAULT_PRIORITY = 2

    limit: int = Field(default=20, ge=1, le=100)


# ---------------------------------------------------------------- results


class LoginCheckResult(Contract):
    logged_in: bool
    handle: str | None = None


IdSource = Literal["create_tweet_response", "toast_link", "profile_readback"]


class PostResult(Contract):
    # One id per posted part, first part first; never empty (a post whose id is unknown is an error).
    tweet_ids: list[str] = Field(min_length=1)
    id_source: IdSource


class TweetMetrics(Contract):
    tweet_id: str
    likes: int = Field(ge=0)
    retweets: int = Field(ge=0)
    replies: int = Field(ge=0)
    views: int = Field(ge=0)


class TweetMetricsResult(Contract):
    items: list[TweetMetrics]


class TweetCard(Contract):
    """A tweet as a timeline or search page shows it."""

    tweet_id: str
    author: str
    text: str
    created_at: str | None = None
    likes: int = Field(default=0, ge=0)
    retweets: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)


class TweetList(Contract):
    tweets: list[TweetCard]


class ProfileSnapshot(Contract):
    handle: str
    display_name: str
    bio: str = ""
    followers: int = Field(ge=0)
    following: int = Field(ge=0)


# op name -> (request model, result model)
OPERATIONS: dict[str, tuple[type[GatewayRequest], type[Contract]]] = {
    LoginCheckRequest.OP: (LoginCheckRequest, LoginCheckResult),
    PostTweetRequest.OP: (PostTweetRequest, PostResult),
    PostThreadRequest.OP: (PostThreadRequest, PostResult),
    ReplyRequest.OP: (ReplyRequest, PostResult),
    TweetMetricsRequest.OP: (TweetMetricsRequest, TweetMetricsResult),
    ProfileSnapshotRequest.OP: (ProfileSnapshotRequest, ProfileSnapshot),
    SearchRequest.OP: (SearchRequest, TweetList),
    OwnTimelineRequest.OP: (OwnTimelineRequest, TweetList),
}


# ---------------------------------------------------------------- replies and the typed error


class GatewayFault(Contract):
    code: ErrorCode
    retryable: bool
    message: str
    # Simulated seconds after which a retry may succeed (an open breaker), when known.
    retry_after_s: float | None = None


class GatewayReply(Contract):
    ok: bool
    result: dict[str, Any] | None = None
    error: GatewayFault | None = None
    # A request the gateway could not read (a contract mismatch between versions): a bug, not an X failure.
    rejected: str | None = None


class GatewayError(Exception):
    """A typed failure of a gateway operation, raised by the client."""

    def __init__(self, code: str, message: str, *, retryable: bool | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = RETRYABLE.get(code, False) if retryable is None else retryable
        self.retry_after_s = retry_after_s

    def fault(self) -> GatewayFault:
        return GatewayFault(code=self.code, retryable=self.retryable, message=self.message,
                            retry_after_s=self.retry_after_s)

    @classmethod
    def from_fault(cls, fault: GatewayFault) -> "GatewayError":
        return cls(fault.code, fault.message, retryable=fault.retryable, retry_after_s=fault.retry_after_s)


# ---------------------------------------------------------------- client


class GatewayClient:
    """What poster, harvester and scraper call: one method per op, the result model or a GatewayError.

    ``timeout`` is the real-time limit of the NATS request; it must exceed the gateway's queue timeout of the
    op's class plus one op, else a late answer is lost (the gateway answers ``timeout`` itself first).
    A request nobody answers (gateway down) raises ``GatewayError("timeout", retryable=True)``.
    """

    def __init__(self, broker: Any, namespace: str = "xbot", *, timeout: float = 420.0) -> None:
        self.broker = broker
        self.namespace = namespace
        self.timeout = timeout

    async def call(self, request: GatewayRequest, *, timeout: float | None = None) -> BaseModel:
        _, result_model = OPERATIONS[request.OP]
        try:
            msg = await self.broker.request(
                request.model_dump(mode="json"), subject(self.namespace, request.OP),
                timeout=timeout or self.timeout,
            )
        except (TimeoutError, NoRespondersError) as err:
            raise GatewayError("timeout", f"no answer from the browser gateway for {request.OP}") from err
        reply = GatewayReply.model_validate(json.loads(msg.body))
        if reply.rejected is not None:
            raise ValueError(f"browser gateway rejected {request.OP}: {reply.rejected}")
        if not reply.ok:
            assert reply.error is not None
            raise GatewayError.from_fault(reply.error)
        return result_model.model_validate(reply.result or {})

    async def login_check(self, **kw: Any) -> LoginCheckResult:
        return await self.call(LoginCheckRequest(**kw))  # type: ignore[return-value]

    async def post_tweet(self, text: str, **kw: Any) -> PostResult:
        return await self.call(PostTweetRequest(text=text, **kw))  # type: ignore[return-value]

    async def post_thread(self, parts: list[str], **kw: Any) -> PostResult:
        return await self.call(PostThreadRequest(parts=parts, **kw))  # type: ignore[return-value]

    async def reply(self, tweet_id: str, text: str, **kw: Any) -> PostResult:
        return await self.call(ReplyRequest(tweet_id=tweet_id, text=text, **kw))  # type: ignore[return-value]

    async def tweet_metrics(self, ids: list[str], **kw: Any) -> TweetMetricsResult:
        return await self.call(TweetMetricsRequest(ids=ids, **kw))  # type: ignore[return-value]

    async def profile_snapshot(self, handle: str, **kw: Any) -> ProfileSnapshot:
        return await self.call(ProfileSnapshotRequest(handle=handle, **kw))  # type: ignore[return-value]

    async def search(self, query: str, tab: SearchTab = "latest", limit: int = 20, **kw: Any) -> TweetList:
        return await self.call(SearchRequest(query=query, tab=tab, limit=limit, **kw))  # type: ignore[return-value]

    async def own_timeline(self, limit: int = 20, **kw: Any) -> TweetList:
        return await self.call(OwnTimelineRequest(limit=limit, **kw))  # type: ignore[return-value]
