"""The browser gateway's client: what poster, harvester and scraper call over NATS request/reply."""

from __future__ import annotations

import json
from typing import Any

from nats.errors import NoRespondersError
from libs.contracts.gateway import (
    R,
    DeleteResult,
    DeleteTweetRequest,
    GatewayError,
    GatewayReply,
    GatewayRequest,
    LoginCheckRequest,
    LoginCheckResult,
    OwnTimelineRequest,
    TweetRepliesRequest,
    PostResult,
    PostThreadRequest,
    PostTweetRequest,
    ProfileSnapshot,
    ProfileSnapshotRequest,
    ReplyRequest,
    SearchRequest,
    SearchTab,
    TweetList,
    TweetMetricsRequest,
    TweetMetricsResult,
    subject,
)


class GatewayClient:
    """What poster, harvester and scraper call: one method per op, the result model or a GatewayError.

    ``timeout`` is the real-time limit of the NATS request; it must exceed the gateway's queue timeout of the
    op's class plus one op, else a late answer is lost (the gateway answers ``timeout`` itself first).
    A request no gateway took (none subscribed: down, or still starting) raises ``GatewayError("unreachable")``;
    one taken but not answered in time raises ``GatewayError("timeout")``: it may still be running. Both are
    retryable.
    """

    def __init__(self, broker: Any, namespace: str = "xbot", *, timeout: float = 420.0) -> None:
        self.broker = broker
        self.namespace = namespace
        self.timeout = timeout

    async def request(self, request: GatewayRequest[R], *, timeout: float | None = None) -> R:
        """Send one operation; its answer as the result type the request names, or a GatewayError."""
        try:
            msg = await self.broker.request(
                request.model_dump(mode="json"), subject(self.namespace, request.OP),
                timeout=timeout or self.timeout,
            )
        except NoRespondersError as err:
            # The server's "no responders" status: the request was delivered to nobody.
            raise GatewayError("unreachable", f"no browser gateway is subscribed to {request.OP}") from err
        except TimeoutError as err:
            raise GatewayError("timeout", f"no answer from the browser gateway for {request.OP}") from err
        reply = GatewayReply.model_validate(json.loads(msg.body))
        if reply.rejected is not None:
            raise ValueError(f"browser gateway rejected {request.OP}: {reply.rejected}")
        if not reply.ok:
            assert reply.error is not None
            raise GatewayError.from_fault(reply.error)
        return request.result(reply.result or {})

    async def login_check(self, **kw: Any) -> LoginCheckResult:
        return await self.request(LoginCheckRequest(**kw))

    async def post_tweet(self, text: str, **kw: Any) -> PostResult:
        return await self.request(PostTweetRequest(text=text, **kw))

    async def post_thread(self, parts: list[str], **kw: Any) -> PostResult:
        return await self.request(PostThreadRequest(parts=parts, **kw))

    async def reply(self, tweet_id: str, text: str, **kw: Any) -> PostResult:
        return await self.request(ReplyRequest(tweet_id=tweet_id, text=text, **kw))

    async def delete_tweet(self, tweet_id: str, **kw: Any) -> DeleteResult:
        return await self.request(DeleteTweetRequest(tweet_id=tweet_id, **kw))

    async def tweet_metrics(self, ids: list[str], **kw: Any) -> TweetMetricsResult:
        return await self.request(TweetMetricsRequest(ids=ids, **kw))

    async def profile_snapshot(self, handle: str, **kw: Any) -> ProfileSnapshot:
        return await self.request(ProfileSnapshotRequest(handle=handle, **kw))

    async def search(self, query: str, tab: SearchTab = "latest", limit: int = 20, **kw: Any) -> TweetList:
        return await self.request(SearchRequest(query=query, tab=tab, limit=limit, **kw))

    async def own_timeline(self, limit: int = 20, **kw: Any) -> TweetList:
        return await self.request(OwnTimelineRequest(limit=limit, **kw))

    async def tweet_replies(self, tweet_id: str, limit: int = 20, **kw: Any) -> TweetList:
        return await self.request(TweetRepliesRequest(tweet_id=tweet_id, limit=limit, **kw))
