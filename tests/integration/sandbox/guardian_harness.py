"""Playing schedules against a real sandbox (aiohttp, in-process, loopback HTTP) on a clock the test sets."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp

from libs.core.clock import Clock
from sandbox.app import READ_LIMIT_TOAST, WORLD
from sandbox.schedules import Step
from tests.e2e.sandbox.sandbox_harness import Sandbox, create_tweet, web_page

ARTICLE = re.compile(r'<article data-testid="tweet"[^>]*data-tweet-id="(\d+)" data-handle="([A-Za-z0-9_]+)"')


def set_time(clock: Clock, at: float) -> None:
    """Make the (frozen) clock read ``at`` simulated seconds."""
    clock.anchor = time.time()
    clock.epoch = datetime.fromtimestamp(at, UTC)


page = web_page  # (final path after redirects, HTML) of a page of the web client, once loaded


def articles(html: str) -> list[tuple[str, str]]:
    """(tweet id, handle) of every post the page rendered."""
    return ARTICLE.findall(html)


def viewed(html: str) -> int:
    """Posts viewed as the sandbox's reading limit counts them: every article, X's ads (sandbox/ads.py) too."""
    return html.count("<article ")


def rate_limited(html: str) -> bool:
    return READ_LIMIT_TOAST in html


def write_code(answer: dict) -> int | str:
    """X's error code of a CreateTweet answer, or "created"."""
    errors = answer.get("errors")
    return errors[0]["code"] if errors else "created"


@dataclass
class Player:
    """Plays a schedule's steps: reads pick their targets from what the last pages showed, as a person would."""

    sandbox: Sandbox
    http: aiohttp.ClientSession
    seen: list[tuple[str, str]] = field(default_factory=list)  # (id, handle) of others' posts on recent pages
    opened: tuple[str, str] | None = None  # the post whose status page is open
    codes: list[tuple[Step, int | str]] = field(default_factory=list)  # every write's answer
    limited_pages: int = 0

    def _reply_target(self, step: Step) -> str:
        """Someone else's post to answer: the one open, else a fresh one of the population; never one whose
        author limits who can reply (X greys its reply button out)."""
        world = self.sandbox.runner.app[WORLD]  # type: ignore[attr-defined]
        if self.opened and world.tweet(self.opened[0]).can_reply:
            return self.opened[0]
        fresh = [t for t in world.population.tweets_between(step.at - 7200, step.at)
                 if t.in_reply_to is None and world.may_reply(t)]
        return fresh[-1].id

    async def play(self, step: Step) -> None:
        set_time(self.sandbox.clock, step.at)
        if step.kind in ("post", "reply"):
            reply_to = self._reply_target(step) if step.kind == "reply" else None
            self.codes.append((step, write_code(await create_tweet(self.http, step.target, reply_to))))
            return
        handle = self.sandbox.settings.handle
        if step.kind == "home":
            _, html = await page(self.http, "/home")
        elif step.kind == "search":
            _, html = await page(self.http, "/search", q=step.target, src="typed_query")
        elif step.kind == "status":
            others = [a for a in self.seen if a[1] != handle] or [(self._reply_target(step), "someone")]
            self.opened = others[int(step.at) % len(others)]
            _, html = await page(self.http, f"/{self.opened[1]}/status/{self.opened[0]}")
        else:
            author = self.opened[1] if self.opened else handle
            _, html = await page(self.http, f"/{author}")
        self.limited_pages += rate_limited(html)
        found = articles(html)
        if step.kind in ("home", "search") and found:
            self.seen = found
