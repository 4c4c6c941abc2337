"""Replies our own posts got, as reply opportunities of their own (issue 24, item 5). Pure: no I/O.

Why the harvester reads them (not the scraper): they become reply opportunities, and the opportunity pool, its
expiry and OpportunityFound are the harvester's; the scraper reads numbers for the learner. The harvester also
already follows our posts (TweetPosted) for its pool.

A reply is taken when it is someone else's, not seen before, not too old, read whole, has words to answer, and is
not hostile (libs.gates.hostility: answering a troll feeds it), a false health claim (libs.gates.misinformation) nor
a question about the writer's own care (libs.gates.advice: personal medical advice).
"Never the same person twice in a row" is the planner's rule at the moment it answers (services/planner/replies.py,
which knows every answer queued); here a person's second reply in one read is left for a later read once the first
is answered or gone, so one read never offers the same person twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.contracts.events import OpportunityFound, ReplyLeftToOwner
from libs.contracts.gateway import TweetCard
from libs.core.account import handle_key
from libs.gates.hostility import hostility
from services.harvester.selection import RULES_ONLY, Readers, partly_read

# A reply in our own conversation is on the account's subject by construction: it answers our post.
CONVERSATION_RELEVANCE = 1.0


@dataclass
class ConversationOutcome:
    found: list[OpportunityFound] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    # Replies left for the owner to read (a person in a crisis): the console lists them.
    left: list[ReplyLeftToOwner] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def conversation_opportunities(
    cards: Iterable[TweetCard], *, root_id: str, own_handle: str, known_ids: Collection[str],
    open_authors: Collection[str] = (), now: datetime, max_age: timedelta,
    readers: Readers = RULES_ONLY,
) -> ConversationOutcome:
    """Reply opportunities of source "conversation" among the replies ``cards`` (oldest first) our post
    ``root_id`` got, and the replies left to the owner. ``known_ids``: every tweet id ever found or left to the
    owner (never offered nor left twice); ``open_authors``: authors whose earlier reply in this conversation is
    still offered and unanswered (lower case)."""
    out = ConversationOutcome()
    own = handle_key(own_handle)
    offered = {a.lower() for a in open_authors}

    def checked_before_crisis(card: TweetCard) -> str | None:
        if card.tweet_id == root_id or handle_key(card.author) == own:
            return "own"
        if card.tweet_id in known_ids:
            return "known"
        if card.can_reply is False:
            return "replies_limited"
        if card.noted:
            return "community_note"
        if unread := partly_read(card):
            return unread
        created = card.created()
        if created is None:
            return "no_time"
        if now - created >= max_age:
            return "too_old"
        if not any(ch.isalnum() for ch in card.text):
            return "no_words"  # "❤️🙌", "😂": nothing a written answer could take up.
        return None

    early = [(card, checked_before_crisis(card)) for card in cards]
    # Read at once, for the replies the checks before it leave (the crisis model embeds them).
    fresh = [card for card, reason in early if reason is None]
    left = readers.why_left(list(dict.fromkeys(
        [c.text for c in fresh] + [c.quoted.text for c in fresh if c.quoted is not None])))
    for card, early_reason in early:
        if early_reason is not None:
            out.reject(early_reason)
            continue
        author = handle_key(card.author)
        created = card.created()
        assert created is not None  # checked before: "no_time"
        if left.get(card.text) == "crisis":
            # A person in a crisis replied to us: not the bot's to answer (libs/gates/crisis.py), the owner's to read.
            out.reject("crisis")
            out.left.append(ReplyLeftToOwner(tweet_id=card.tweet_id, author=card.author.lstrip("@"),
                                             conversation_id=root_id, reason="crisis", tweet_created_at=created,
                                             found_at=now))
            continue
        reason = hostility(card.text) or (hostility(card.quoted.text) if card.quoted else None)
        if reason is not None:
            out.reject(f"hostile_{reason}")
            continue
        if why := left.get(card.text) or (left.get(card.quoted.text) if card.quoted is not None else None):
            # A false health claim under our tweet, or a question about the writer's own care (their medicine, a
            # result, a symptom): not answered, as under a stranger's (libs/gates/misinformation.py, advice.py).
            out.reject(why)
            continue
        if author in offered:
            out.reject("same_person_waiting")
            continue
        offered.add(author)
        out.found.append(OpportunityFound(
            tweet_id=card.tweet_id, author=card.author.lstrip("@"), author_followers=0, text=card.text,
            likes=card.likes, retweets=card.retweets, replies=card.replies, views=card.views,
            tweet_created_at=created, age_minutes=max(0.0, (now - created).total_seconds() / 60),
            relevance=CONVERSATION_RELEVANCE, topic=None, is_reply=True, source="conversation",
            conversation_id=root_id, quoted_author=card.quoted.author if card.quoted else None,
            quoted_text=card.quoted.text if card.quoted else None))
    return out
