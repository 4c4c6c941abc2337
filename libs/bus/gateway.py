"""The browser gateway's client: what poster, harvester and scraper call over NATS request/reply."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from nats.errors import NoRespondersError
from nats.js.errors import KeyNotFoundError
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
from libs.bus.broker import jetstream
from libs.bus.streams import kv_bucket

log = logging.getLogger(__name__)

# How often a request in flight looks at the gateway's registration (real seconds; one KV read each).
REPLACED_POLL_S = 2.0


class GatewayClient:
    """What poster, harvester and scraper call: one method per op, the result model or a GatewayError.

    ``timeout`` is the real-time limit of the NATS request; it must exceed the gateway's queue timeout of the
    op's class plus one op, else a late answer is lost (the gateway answers ``timeout`` itself first).
    A request no gateway took (none subscribed: down, or still starting) raises ``GatewayError("unreachable")``;
    one taken but not answered in time raises ``GatewayError("timeout")``: it may still be running. Both are
    retryable.

    A request dies with the gateway that took it (core NATS: never handed to the next one), and without a word:
    the caller would wait out the whole ``timeout`` (minutes) for a gateway killed mid-write, while the restarted
    one sat idle. So while a request is in flight the client reads the gateway's registration (KV ``services``,
    written by every gateway as it starts): one that began to start after the request was sent cannot have taken
    it, so the one that did is gone, and the request ends at once as that ``timeout`` (it may have reached X: the
    poster reads back before sending again). Wrongly concluded (a gateway host's clock far ahead of the caller's),
    it is only a timeout come early, which every caller already survives.
    """

    def __init__(self, broker: Any, namespace: str = "xbot", *, timeout: float = 420.0) -> None:
        self.broker = broker
        self.namespace = namespace
        self.timeout = timeout
        self._registry: Any = None  # the `services` KV bucket, opened at the first request that waits
        self._registry_unread = False  # said once: the registry could not be read

    async def request(self, request: GatewayRequest[R], *, timeout: float | None = None) -> R:
        """Send one operation; its answer as the result type the request names, or a GatewayError."""
        sent = time.time()
        answer = asyncio.ensure_future(self.broker.request(
            request.model_dump(mode="json"), subject(self.namespace, request.OP), timeout=timeout or self.timeout))
        replaced = asyncio.ensure_future(self._replaced_after(sent))
        try:
            await asyncio.wait((answer, replaced), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the caller cancelled: its request goes with it (asyncio.wait cancels neither)
            answer.cancel()
            raise
        finally:
            replaced.cancel()
        if not answer.done():
            answer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await answer
            raise GatewayError("timeout", f"the browser gateway that took {request.OP} was replaced before it "
                                          "answered (restarted): it may still have reached X")
        try:
            msg = answer.result()
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

    async def _replaced_after(self, sent: float) -> None:
        """Returns once a gateway registers that began to start after ``sent``; never if none does (or the
        registry cannot be read: the request's own timeout then stands)."""
        while True:
            await asyncio.sleep(REPLACED_POLL_S)
            try:
                if self._registry is None:
                    self._registry = await jetstream(self.broker).key_value(kv_bucket(self.namespace, "services"))
                entry = await self._registry.get("svc.browser_gateway")
                if float(json.loads(entry.value or b"{}").get("started", 0)) > sent:
                    return
            except KeyNotFoundError:
                continue
            except Exception as err:  # noqa: BLE001 - an unreadable registry only leaves the timeout to decide
                if not self._registry_unread:
                    self._registry_unread = True
                    log.warning("cannot read the browser gateway's registration (%s): a request taken by a gateway "
                                "that dies is given up only at its timeout", err)

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
