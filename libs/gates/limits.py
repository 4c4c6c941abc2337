"""Hard content limits of every write to X: the same function in the poster (before posting a ContentQueued) and
in the browser gateway (before any write op), whatever a planner or a forged request asks for.

These are not the planner's quality gates (posts.py, replies.py: they shape what is worth posting); they are the
account's guard rails, so that a buggy or forged ``ContentQueued`` cannot make hundreds of tweets out of one item
or carry a link to a stranger:

* a thread has at most ``thread_max_parts`` parts (``XBOT_THREAD_MAX_PARTS``; the contract allows 25);
* every part is at most 280 characters as X counts them (libs/text/length.py: weighted code points, a URL 23);
* a reply to someone else carries no link, mention or cashtag, in any spelling X or a reader would follow
  (libs/gates/entities.py).

Each violation names the limit it broke, so ``PostFailed(reason="invalid_content")`` tells the owner which one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from libs.gates.entities import extract
from libs.text.length import MAX_TWEET_LENGTH, x_length

WriteKind = Literal["post", "thread", "reply", "thread_part"]
# X's own maximum for a thread in one composer; a setting above it is refused at start.
X_THREAD_MAX_PARTS = 25
DEFAULT_THREAD_MAX_PARTS = 6  # the niche file's default (gates.thread_max_parts)


@dataclass(frozen=True)
class ContentLimits:
    thread_max_parts: int = DEFAULT_THREAD_MAX_PARTS
    part_max_length: int = MAX_TWEET_LENGTH


@dataclass(frozen=True)
class LimitBroken:
    """Which limit a write broke (``limit``: a stable name) and a sentence a person can act on."""

    limit: str
    message: str

    def __str__(self) -> str:
        return f"{self.limit}: {self.message}"


def check_write(kind: WriteKind, parts: Sequence[str], limits: ContentLimits) -> LimitBroken | None:
    """None when ``parts`` (one for a post, a reply or one part of a thread; all of a thread) may be written.

    ``thread_part`` is a later part of an own thread (a reply to the account's own previous part): a post, as X
    counts it, so the post rules apply to it, not the reply rules.
    """
    if not parts or any(not p.strip() for p in parts):
        return LimitBroken("empty", "an empty text or thread part")
    if kind == "thread" and len(parts) > limits.thread_max_parts:
        return LimitBroken("thread_max_parts",
                           f"a thread of {len(parts)} parts; at most {limits.thread_max_parts} (XBOT_THREAD_MAX_PARTS)")
    if kind != "thread" and len(parts) != 1:
        return LimitBroken("parts", f"a {kind} has one part, got {len(parts)}")
    for i, part in enumerate(parts, 1):
        n = x_length(part)
        if n > limits.part_max_length:
            where = f"part {i}" if kind == "thread" else kind
            return LimitBroken("max_length",
                               f"{where} is {n} characters as X counts them; at most {limits.part_max_length}")
    if kind == "reply":
        found = extract(parts[0])
        for name, values in (("link", found.urls), ("mention", found.mentions), ("cashtag", found.cashtags)):
            if values:
                return LimitBroken(f"reply_{name}", f"a reply to someone else carries a {name}: {values[0]!r}")
    return None
