"""Writing one item: facts for the topic or the tweet → prompt → LLM → normalised answer → gates (the claims gate
holds the draft to the facts it was given) → model review (every reply; a post or thread only when the rule gates
cannot vouch for it, ``needs_review``) → (rewrite at most twice) → ContentQueued or a final ContentRejected.

Calls are spent only where a new answer can help: a post is drafted only from facts no post of the duplicate
window states yet (none left on the topic: no call, a final ``facts_exhausted`` rejection), with the openings of
the window's posts listed as not to be reused; a repeat with no other fresh fact to offer ends the item; a thread
repeating one of our tweets in a middle or closing part loses that part; a draft refused only for an unsupported
claim loses the sentences that carry it and is gated again, before any rewrite is asked for; a reply is offered
facts no tweet of ours states word for word while there are some, and sees the tweet without the instructions it
carries (a tweet that is only instructions gets no call).

Every answered call (the review included) is charged to the day's budget before its text is looked at (a call
without usage, or one that timed out, is charged its whole reservation), every rejection becomes a
ContentRejected, and the outcome carries the events for the service to publish; nothing here does I/O besides the
LLM calls, so the service decides when and how the events go out. A request the server refuses (a content filter,
a 400 no adaptation fixes) drops that item with a final rejection naming the server's reason; drafting carries on
with the next one. A rewrite prompt names what to fix in fixed words (``Rejection.advice``), never the gate's
reason, which may quote the tweet.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from libs.contracts.base import uuid7
from libs.contracts.events import (
    BudgetExhausted,
    Choice,
    ContentQueued,
    ContentRejected,
    LlmUsageRecorded,
    ReplyContext,
)
from libs.gates import (
    CONVERSATION_KIND,
    REVIEW_REFUSED,
    OwnPost,
    RecentPosts,
    Rejection,
    check_defamation,
    check_entities,
    check_lookalikes,
    check_repeated_tweets,
    check_shaming,
    check_solicitation,
    check_medical_safety,
    check_topic_freshness,
    check_word_overlap,
    extract,
    gate_post,
    gate_reply,
    grounding_similarity,
    grounding_threshold,
    instruction_spans,
    overlap,
    parse_review,
    parse_review_batch,
    review_batch_messages,
    review_messages,
    review_rejection,
    tweet_point,
    word_set,
)
from libs.facts import (
    Fact,
    FactBook,
    FactIndex,
    check_claims,
    drop_unsupported,
    least_stated,
    load_niche_facts,
    ungrounded_assertions,
)
from libs.gates.identity import invented_identity, owner_words, speaks_of_itself
from libs.gates.refusal import check_refusal
from libs.niche import NicheConfig
from services.planner.news import NewsItem, angle_lines, check_angle, news_angle, news_fact
from libs.text import Embedder, content_hash, max_similarity, normalise, x_length
from services.planner.budget import BudgetLedger, BudgetTier, Reservation, model_for, prompt_token_bound
from services.planner.llm import (
    Completion,
    LlmMalformedOutput,
    LlmRequestRejected,
    LlmTimedOut,
    LlmUnavailable,
    TextModel,
)
from services.planner.normalise import clean_part, fit_to_limit, malformed_reason, read_answer
from services.planner.prompts import (
    MAX_RECENT_OPENINGS, answer_schema, opening, post_messages, quoted_post, reply_messages,
)
from services.planner.replies import Opportunity, OurReply, ReplyHistory

POST_LIFETIME = timedelta(hours=6)
REPLY_LIFETIME = timedelta(hours=3)
# A reply call with the cheap model and a typical prompt (its facts included): when even that does not fit, the
# day is over.
MIN_CALL_PROMPT_BYTES = 3000
# A draft repaired by leaving out the sentences with unsupported claims keeps at least this share of each tweet it
# changes; less, and what is left is not the post that was asked for (a new call writes one).
REPAIR_KEEPS = 0.5


# One index per facts file and embedder: embedding the facts takes seconds, and drafters are made per run.
_FACT_INDEXES: dict[tuple[str, bool, int], tuple[Embedder, FactIndex]] = {}


def invented_contact(text: str) -> Rejection | None:
    """A link, handle, e-mail, phone number or wallet in a model's post: its prompt gives none, so the model made it
    up ("follow @healthacct for more" tags a stranger; "cdc.gov/sleep-tips" may be no page). The owner's own edits
    in the console may carry them: this is the planner's rule, not ``gate_post``'s."""
    found = extract(text).first(tags=False)
    return None if found is None else Rejection("entities", f"post carries a {found[0]} the model made up: "
                                                            f"{found[1]!r}")


def fact_index(config: NicheConfig, embedder: Embedder) -> FactIndex:
    """The niche's usable facts (verified ones unless the niche says otherwise), embedded once per embedder."""
    key = (str(config.facts.path), config.facts.use_unverified, id(embedder))
    cached = _FACT_INDEXES.get(key)
    if cached is None or cached[0] is not embedder:
        book = load_niche_facts(config)
        # A fact worded like a dose ("adds about 300 mL of water") would be refused by the medical gate in any
        # draft that states it: it is never offered, rather than costing a rewrite each time.
        postable = FactBook(book.path, tuple(f for f in book.facts if check_medical_safety(f.claim) is None))
        cached = (embedder, FactIndex(postable, embedder, config.facts))
        _FACT_INDEXES[key] = cached
    return cached[1]


@dataclass
class DraftOutcome:
    content_id: str
    kind: str
    queued: ContentQueued | None = None
    rejections: list[ContentRejected] = field(default_factory=list)
    usage: list[LlmUsageRecorded] = field(default_factory=list)
    malformed: int = 0
    # Why no item came out although no gate dropped it: "budget", "tier", "llm_unavailable".
    stopped: str | None = None
    # The server refused this item's request (its gate: "content_filter", "llm_request"): dropped, drafting goes on.
    dropped: str | None = None
    # Gates whose rejection was repaired without a new call (e.g. "claims": unsupported sentences left out).
    repairs: list[str] = field(default_factory=list)
    # A post or thread of a sensitive niche queued without the model review: the rule gates vouched for it
    # (review.posts "ungrounded", see Drafter.needs_review).
    review_skipped: bool = False
    budget_exhausted: BudgetExhausted | None = None
    # Why each charged call was made, in the order of ``usage``: "draft", "rewrite:<gate of the rejection before
    # it>", "timeout_retry", "review" (where the calls go: the planner benchmark reports them per cause).
    causes: list[str] = field(default_factory=list)
    # The review calls that judged this item's drafts (request ids), its own or shared with the other items of a
    # run (Drafter.draft_together: such a call is charged to one item, the first of its batch).
    reviewed_by: list[str] = field(default_factory=list)
    # A passed post not yet added to the recent posts (write_post(remember=False)): (post, parts, at).
    memory: tuple[OwnPost, list[str], datetime] | None = None

    @property
    def events(self) -> list:
        out: list = [*self.usage, *self.rejections]
        if self.queued is not None:
            out.append(self.queued)
        if self.budget_exhausted is not None:
            out.append(self.budget_exhausted)
        return out

    @property
    def tokens(self) -> int:
        return sum(u.prompt_tokens + u.completion_tokens for u in self.usage)

    @property
    def cost_usd(self) -> float:
        return sum(u.cost_usd for u in self.usage)


class Drafter:
    def __init__(
        self,
        *,
        config: NicheConfig,
        model: TextModel,
        ledger: BudgetLedger,
        embedder: Embedder,
        recent: RecentPosts | None = None,
        replies: ReplyHistory | None = None,
        rng: random.Random | None = None,
        facts: FactIndex | None = None,
        clock: Callable[[], datetime] | None = None,
        disputed: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        # Facts never offered: those a post of ours rested on when X showed a Community Note under it (readers found
        # a claim in it misleading), by fact id (FactIndex.stated_by). Its claims gate then holds any draft that
        # states one again to a fact it was not given: unsupported.
        self.disputed = disputed
        # What time it is when a draft passes its gates: drafting takes model calls (seconds to minutes; hours of
        # simulated time at a fast clock), and a reply lives from when it is queued, not from when the run began.
        self.clock = clock
        self.model = model
        self.ledger = ledger
        self.embedder = embedder
        self.recent = recent if recent is not None else RecentPosts()
        self.replies = replies if replies is not None else ReplyHistory()
        self.rng = rng or random.Random()
        self._example_vectors: np.ndarray | None = None  # the owner's example posts, embedded when first needed
        self.facts = facts if facts is not None else fact_index(config, embedder)
        # What the owner says of themselves (the voice, the voices, the example posts): a profession or health
        # history a draft claims must be among it, for the identity rule and for the review alike.
        self.described = " ".join([config.account_voice, *config.voices.values(), *config.example_posts])
        self.owner = owner_words([self.described])
        self._together: _Together | None = None  # the items being drafted together (draft_together)
        # Fails at start, naming the setting, when the niche has no grounding threshold for this embedder.
        grounding_threshold(config, embedder.kind)

    # ------------------------------------------------------------ posts and threads

    async def write_post(
        self,
        choice: Choice,
        *,
        propensity: float,
        policy_version: str,
        now: datetime,
        scheduled_for: datetime,
        insights: dict[str, list[str]] | None = None,
        content_id: str | None = None,
        best_posts: Sequence[str] = (),
        news: NewsItem | None = None,
        remember: bool = True,
    ) -> DraftOutcome:
        """One post for a slot. ``remember=False`` (a draft among several of one slot): a draft that passes is not
        added to the recent posts the duplicate gates compare with until the caller keeps it (:meth:`remember`),
        so the other drafts of the slot are not judged duplicates of a draft that may never be posted."""
        kind = "thread" if choice.format == "thread" else "post"
        out = DraftOutcome(content_id or uuid7(), kind)
        if self._together is not None and self._together.stopped:
            out.stopped = self._together.stopped  # an item before this one of the run stopped planning
            return out
        self._forget_old_tweets(now)
        if self.ledger.tier() in (BudgetTier.REPLIES_ONLY, BudgetTier.EXHAUSTED):
            out.stopped = "tier"
            return self._maybe_exhausted(out)
        g = self.config.gates
        # A rewrite cannot change the topic: when the topic is not fresh, no call is made at all.
        if stale := check_topic_freshness(choice.topic, self.recent.topics_latest_last(), window=g.topic_window_posts,
                                          max_in_window=g.topic_max_in_window):
            self._reject(out, stale, 0, "", kind, final=True)
            return out
        parts_wanted = self.rng.randint(self.config.gates.thread_min_parts, self.config.gates.thread_max_parts)
        # The same facts for every attempt (a rewrite fixes the draft), unless the draft repeated a post. Only facts
        # no post of the window states yet: a restated fact comes back as a (near-)duplicate, whatever the model.
        stated = self.recent.matrix(now, g.duplicate_window_days)
        # Posts' texts and every tweet of ours of the window (thread parts, replies): what they carry word for word.
        stated_texts = [p.text for p in self.recent.within(now, g.duplicate_window_days)] \
            + list(self.recent.tweet_texts.values())
        facts = self.facts.for_topic(choice.topic, rng=self.rng, stated=stated, stated_texts=stated_texts,
                                     fresh_only=True, exclude=self.disputed)
        if not facts and news is None and self.facts.for_topic(choice.topic, k=1, exclude=self.disputed):
            # Every fact on the topic was posted within the window: a call could only repeat one, and rewrites
            # would only repeat others. No call; the slot stays for another item (or the evergreen pool).
            self._reject(out, Rejection("facts_exhausted", f"every fact on {choice.topic!r} was stated in the "
                                        f"last {g.duplicate_window_days} days"), 0, "", kind, final=True)
            return out
        if kind == "thread" and facts:
            # A hook, a part per fact, a takeaway: more parts than that would have to repeat something. (A part per
            # fact offered, always, was tried: three-part threads come back near-duplicates twice as often as
            # longer ones, but threads stating five facts each used up the topics' fresh facts sooner, and the
            # calls per queued thread rose from 2.45 to 2.73 in a 300-item run.)
            parts_wanted = max(g.thread_min_parts, min(parts_wanted, len(facts) + 2))
        # A fresh news item on the topic is the post's angle; its fact, with the source, is the prompt's to state,
        # and the claims gate counts it among the facts given.
        news_given = [] if news is None else [news_fact(news, choice.topic)]
        angle = None if news is None else angle_lines(news, news_given[0])
        openings = self._recent_openings(choice.topic, now)
        previous: str | None = None
        reason: str | None = None
        for attempt in range(self.config.gates.max_rewrites + 1):
            messages = post_messages(choice, self.config, insights=insights, parts=parts_wanted,
                                     previous=previous, rejection_reason=reason, best_posts=best_posts,
                                     facts=facts, angle=angle, recent_openings=openings)
            completion = await self._call(out, messages, kind)
            parts = None if completion is None else self._answer(out, completion, kind, wanted=parts_wanted)
            if completion is None or parts is None:
                if out.stopped or out.dropped:
                    return out
                previous, reason = None, self._unusable_reason(out)
                continue
            if kind == "thread":
                parts = self._without_repeated_parts(parts, now)
            verdict, parts, text, vector = self._gate_post(out, parts, kind=kind, topic=choice.topic,
                                                           facts=[*facts, *news_given], now=now)
            if verdict is None and news is not None:
                verdict = check_angle(parts, news)
            if verdict is None and self.config.sensitive:
                provocative = choice.content_type == "contrarian_take" or choice.hook_style == "bold_claim"
                if self.needs_review(parts, [*facts, *news_given], news=news is not None, provocative=provocative):
                    release = self._held(OwnPost(text, content_hash(text), choice.topic, now, vector), parts)
                    verdict = await self.review(out, text, kind=kind, tweet=None)
                    release()
                    if out.stopped:
                        return out
                else:
                    out.review_skipped = True
            if verdict is None:
                out.memory = (OwnPost(text, content_hash(text), choice.topic, now, vector), list(parts), now)
                if remember:
                    self.remember(out)
                out.queued = ContentQueued(
                    content_id=out.content_id, kind=kind, parts=parts, choice=choice, policy_version=policy_version,
                    propensity=propensity, scheduled_for=scheduled_for, expires_at=scheduled_for + POST_LIFETIME,
                    model=completion.model, angle=None if news is None else news_angle(news),
                )
                return out
            self._reject(out, verdict, attempt, text, kind)
            previous, reason = text, verdict.advice
            if verdict.gate in ("duplicate", "near_duplicate"):
                # Told it repeated a post, the model gets other facts of the topic to write from: with the same
                # ones it could only restate them, so with none left the item ends here rather than paying for
                # rewrites that repeat the same post in other frames.
                others = [f for f in self.facts.for_topic(choice.topic, k=len(self.facts.facts), rng=self.rng,
                                                          stated=stated, stated_texts=stated_texts,
                                                          fresh_only=True, exclude=self.disputed)
                          if f not in facts]
                if facts and not others and not out.rejections[-1].final:
                    out.rejections[-1] = out.rejections[-1].model_copy(update={"final": True})
                    return out
                facts = others[: self.config.facts.per_prompt] or facts
        return out

    def remember(self, out: DraftOutcome) -> None:
        """The post of ``out`` is kept: the duplicate gates compare later drafts with it."""
        if out.memory is not None:
            post, parts, at = out.memory
            self.recent.add(post)
            self.recent.add_tweets(parts, at=at)
            out.memory = None

    # ------------------------------------------------------------ replies

    async def write_reply(
        self,
        opportunity: Opportunity,
        choice: Choice,
        *,
        propensity: float,
        policy_version: str,
        now: datetime,
        content_id: str | None = None,
        best_posts: Sequence[str] = (),
        reply_context: ReplyContext | None = None,
    ) -> DraftOutcome:
        out = DraftOutcome(content_id or uuid7(), "reply")
        if self._together is not None and self._together.stopped:
            out.stopped = self._together.stopped
            return out
        self._forget_old_tweets(now)
        if self.ledger.tier() is BudgetTier.EXHAUSTED:
            out.stopped = "tier"
            return self._maybe_exhausted(out)
        # What the author says, without the instructions the tweet carries to repliers (if any): the model is shown
        # it beside the tweet, and a tweet that is nothing but instructions gets no reply (a call could only obey it
        # or miss its point, and the gates refuse both).
        point = tweet_point(opportunity.text)[0] if instruction_spans(opportunity.text) else None
        if point is not None and (point == " ".join(opportunity.text.split()) or len(point.split()) < 3):
            self._reject(out, Rejection("injection", "the tweet is instructions to repliers with no point of its "
                                        "own: nothing to reply to"), 0, "", "reply", final=True)
            return out
        # A reply may state what the facts relevant to the tweet say, nothing else: the closest in meaning that no
        # tweet of ours of the window states word for word (a reply restating one comes back as a repeat of that
        # tweet, which X refuses), among all the relevant ones, not only the closest few; when every relevant fact
        # was stated, the ones our tweets stated the fewest times, the closest first among equals (``least_stated``:
        # the closest, however often stated, came back as repeats of our tweets; not replying cost three replies in
        # four: in the benchmark, where the same ten tweets are answered all run long, skipping them queued 24
        # replies of 78 instead of 69).
        # An answer in our own conversation looks for facts on the reply read after our tweet: "is there a study
        # behind this?" names no subject of its own, and the facts closest to such a reply alone were any topic's
        # (a demo answered "how long did it take before you noticed a difference?" under a sleep post with a
        # kidney-stone trial).
        about = point or opportunity.text
        if opportunity.our_tweet:
            about = f"{opportunity.our_tweet}\n{about}"
        relevant = [s.fact for s in self.facts.for_text(about, k=len(self.facts.facts), topic=opportunity.topic,
                                                        exclude=self.disputed)]
        facts = least_stated(relevant, list(self.recent.tweet_texts.values()), self.config.facts.per_prompt)
        reason: str | None = None
        quoted = quoted_post(opportunity.quoted_author, opportunity.quoted_text)
        for attempt in range(self.config.gates.max_rewrites + 1):
            # A rejected reply is never shown back to the model: it may carry what a hostile tweet put in it.
            messages = reply_messages(opportunity.text, opportunity.author, choice, self.config,
                                      previous=None, rejection_reason=reason, best_posts=best_posts,
                                      facts=facts, point=point, our_tweet=opportunity.our_tweet,
                                      quoted=quoted)
            completion = await self._call(out, messages, "reply")
            parts = None if completion is None else self._answer(out, completion, "reply")
            if completion is None or parts is None:
                if out.stopped or out.dropped:
                    return out
                reason = self._unusable_reason(out)
                continue
            text = parts[0]
            verdict = self._reply_verdict(text, opportunity, facts, now)
            if verdict is not None and verdict.gate == "claims" \
                    and (repaired := self._repair_claims([text], facts, "reply")) is not None \
                    and self._reply_verdict(repaired[0], opportunity, facts, now) is None:
                text, verdict = repaired[0], None
                out.repairs.append("claims")
            if verdict is None:
                release = self._held(None, [text])
                # An answer in our own conversation is reviewed as such: the review also judges the reply it
                # answers there (a troll the harvester's lexicon let through is left unanswered).
                kind = CONVERSATION_KIND if opportunity.kind == CONVERSATION_KIND else "reply"
                verdict = await self.review(out, text, kind=kind, tweet=opportunity.text if quoted is None else
                                            f"{opportunity.text}\n\n(It quotes {quoted})",
                                            our_tweet=opportunity.our_tweet)
                release()
                if out.stopped:
                    return out
            if verdict is None:
                queued_at = max(now, self.clock()) if self.clock is not None else now
                self.replies.add(OurReply(opportunity.tweet_id, opportunity.author, opportunity.conversation,
                                          queued_at))
                self.recent.add_tweets([text], at=queued_at)
                expires = min(queued_at + REPLY_LIFETIME, opportunity.created_at + timedelta(hours=24))
                out.queued = ContentQueued(
                    content_id=out.content_id, kind="reply", parts=[text], reply_to_tweet_id=opportunity.tweet_id,
                    reply_to_author=opportunity.author, conversation_id=opportunity.conversation_id,
                    choice=choice, policy_version=policy_version,
                    propensity=propensity, scheduled_for=queued_at,
                    expires_at=max(expires, queued_at + timedelta(minutes=5)),
                    model=completion.model, reply_context=reply_context,
                )
                return out
            # A reply the model review refused (not one whose review could not be read) is not rewritten: the
            # rewrite of a refused reply was queued in 3 of 21 items of a 1,000-item benchmark run, at 12 calls each
            # (the tweet draws what the rubric refuses).
            judged = verdict.gate == "review" and verdict.reason.startswith(REVIEW_REFUSED)
            self._reject(out, verdict, attempt, text, "reply", final=judged)
            if judged:
                return out
            reason = verdict.advice
        return out

    # ------------------------------------------------------------ the gates, and the repair before a rewrite

    def needs_review(self, parts: Sequence[str], facts: Sequence[Fact], *, news: bool = False,
                     provocative: bool = False) -> bool:
        """Whether a post or thread that passed every rule gate goes to the model review too (always with
        ``review.posts: all``). With "ungrounded", the review reads it when the rule gates cannot vouch for what
        the rubric covers: no facts were given (it speaks from the model's own knowledge); a sentence asserts a
        health effect that no provided fact says (libs.facts.ungrounded_assertions: medical misinformation is an
        asserted effect); or a conduct gate of replies flags it (promotion, defamation, contact details, look-alike
        letters: a post may carry a link, which the review judges); or a sentence speaks in the first person of
        health care, a health event or a line of work (libs.gates.identity.speaks_of_itself: a biography the
        identity rule does not know). Party politics and banned subjects are the banned gate's, doses, cures and
        medication changes the medical gate's, figures, studies and institutions the claims gate's. A post has no
        stranger's tweet to obey, but one written from a news item (``news``) has the feed's words, which the
        harvester screens for planted instructions and selling without catching every form (README, "News that is
        no news"), and which the claims gate takes as the item's fact: always read. Nor is a ``provocative`` one (a
        contrarian take, a bold claim's hook): asked to push back, models shame and belittle in more forms than the
        shaming rule reads (libs/gates/conduct.py, ``check_shaming``): always read."""
        if self.config.review.posts == "all" or not facts or news or provocative:
            return True
        text = "\n".join(parts)
        if check_solicitation(text) or check_defamation(text) or check_entities(text) or check_lookalikes(text) \
                or speaks_of_itself(text):
            return True
        return bool(ungrounded_assertions(parts, facts, self.embedder,
                                          min_similarity=self.config.facts.support_min_similarity))

    def _recent_openings(self, topic: str, now: datetime) -> list[str]:
        """The openings of the account's posts of the duplicate window, the topic's first, newest first: the
        prompt asks for a different one (a repeated hook or frame is what the duplicate gates refuse most)."""
        window = sorted(self.recent.within(now, self.config.gates.duplicate_window_days),
                        key=lambda p: (p.topic != topic, -p.at.timestamp()))
        return list(dict.fromkeys(o for p in window if (o := opening(p.text))))[:MAX_RECENT_OPENINGS]

    def _post_verdict(self, parts: list[str], *, kind: str, topic: str, facts: Sequence[Fact],
                      now: datetime) -> tuple[Rejection | None, str, np.ndarray | None]:
        text = "\n".join(parts)
        vector = self.embedder.embed_one(text) if parts else None
        verdict = gate_post(parts, kind=kind, topic=topic, config=self.config, recent=self.recent,
                            vector=vector, embedder_kind=self.embedder.kind, now=now) \
            or self._copies_an_example(text, vector) \
            or invented_contact(text) \
            or invented_identity(text, self.owner) \
            or check_shaming(text) \
            or self._unsupported_claims(parts, facts)
        return verdict, text, vector

    def _gate_post(self, out: DraftOutcome, parts: list[str], *, kind: str, topic: str, facts: Sequence[Fact],
                   now: datetime) -> tuple[Rejection | None, list[str], str, np.ndarray | None]:
        """Every post gate; a draft refused only for an unsupported claim is first repaired by leaving out the
        sentences that carry it (``_repair_claims``) and gated again from the start, instead of a new call."""
        verdict, text, vector = self._post_verdict(parts, kind=kind, topic=topic, facts=facts, now=now)
        if verdict is not None and verdict.gate == "claims" \
                and (repaired := self._repair_claims(parts, facts, kind)) is not None:
            again, fixed_text, fixed_vector = self._post_verdict(repaired, kind=kind, topic=topic, facts=facts,
                                                                 now=now)
            if again is None:
                out.repairs.append("claims")
                return None, repaired, fixed_text, fixed_vector
        return verdict, parts, text, vector

    def _reply_verdict(self, text: str, opportunity: Opportunity, facts: Sequence[Fact],
                       now: datetime) -> Rejection | None:
        similarity = grounding_similarity(self.embedder, text, opportunity.text)
        return gate_reply(text, opportunity.text, config=self.config, similarity=similarity,
                          embedder_kind=self.embedder.kind) \
            or check_repeated_tweets([text], self.recent.tweet_hashes) \
            or check_word_overlap([text], self._overlap_window(now), self.config.gates.word_overlap_max) \
            or invented_identity(text, self.owner) or check_shaming(text) or self._unsupported_claims([text], facts)

    def _overlap_window(self, now: datetime) -> list[str]:
        """Our tweets a new one must not repeat most of the words of (``check_word_overlap``)."""
        return self.recent.tweets_since(now - timedelta(days=self.config.gates.overlap_window_days))

    def _repair_claims(self, parts: list[str], facts: Sequence[Fact], kind: str) -> list[str] | None:
        """The draft without the sentences that state what no given fact supports, when it is still the item
        asked for: each changed tweet keeps at least ``REPAIR_KEEPS`` of its text (a thread's middle part may go
        instead, while the thread keeps its minimum length); None when it is not."""
        fixed = drop_unsupported(parts, facts, self.embedder, min_similarity=self.config.facts.support_min_similarity)
        # What a left-out sentence leaves may be a bullet or a label that the normaliser had taken as part of the
        # sentence before it ("… 73% of them. - Loneliness is where it starts."): the changed tweets are cleaned
        # again (a reply queued with a leading "- " was found this way).
        fixed = [after if after == before else clean_part(after, in_thread=kind == "thread")
                 for before, after in zip(parts, fixed, strict=True)]
        kept: list[str] = []
        for i, (before, after) in enumerate(zip(parts, fixed, strict=True)):
            if after == before or len(after) >= REPAIR_KEEPS * len(before):
                kept.append(after)
            elif not (kind == "thread" and 0 < i < len(parts) - 1):
                return None
        if kept == parts or (kind == "thread" and len(kept) < self.config.gates.thread_min_parts):
            return None
        return kept

    # ------------------------------------------------------------ the model review

    async def review(self, out: DraftOutcome, draft: str, *, kind: str, tweet: str | None,
                     our_tweet: str | None = None) -> Rejection | None:
        """The rubric review of a draft that passed the rule gates (libs/gates/review.py), charged to the budget.

        None when it passes. When the review cannot be paid for or the model is unavailable, ``out.stopped`` is
        set and nothing is queued: a draft is never published unreviewed. An answer the client calls malformed
        (fenced, cut off) is still read, and one that cannot be read fails the draft. Within ``draft_together``
        the draft waits for the other items' drafts and all are reviewed in one call.
        """
        if self._together is not None:
            return await self._together.review(out, draft, kind=kind, tweet=tweet, our_tweet=our_tweet)
        return (await self._review_call([(out, draft, kind, tweet, our_tweet)]))[0]

    async def draft_together(self, writes: Sequence[Callable[[], Awaitable[DraftOutcome]]], *,
                             on_done: Callable[[int, DraftOutcome], Awaitable[None]] | None = None,
                             ) -> list[DraftOutcome]:
        """The items of one planning run, each written as alone (``write_post`` / ``write_reply``), in turn and in
        order, but their model reviews asked in one call: an item whose draft awaits its review lets the next one
        draft, and when every unfinished item awaits one, the drafts are reviewed together (a refused draft's
        rewrite goes into the next round's call). A draft awaiting its review is held among the recent posts and
        tweets meanwhile, so the next items' duplicate gates compare with it (``_held``). ``on_done(i, outcome)``
        is awaited as soon as item ``i`` is finished, in its turn (the service publishes its events then, so a crash
        later in the run loses none of them). A permanent error propagates, as from a single item."""
        if len(writes) <= 1 or self._together is not None:
            outs = []
            for i, w in enumerate(writes):
                outs.append(await w())
                if on_done is not None:
                    await on_done(i, outs[-1])
            return outs
        together = _Together(self, len(writes), on_done)
        self._together = together
        try:
            return list(await asyncio.gather(*(together.run(i, w) for i, w in enumerate(writes))))
        finally:
            self._together = None

    async def _review_call(self, batch: Sequence[tuple[DraftOutcome, str, str, str | None, str | None]]
                           ) -> list[Rejection | None]:
        """One review call for ``(outcome, draft, kind, tweet, our tweet)`` entries: a verdict for each, or
        ``stopped`` set on every outcome. The call is charged once (one LlmUsageRecorded per request), to the first
        entry's item; each entry's item notes the request in ``reviewed_by``."""
        out = batch[0][0]
        outs = [b[0] for b in batch]
        drafts = [(draft, kind, tweet, ours) for _, draft, kind, tweet, ours in batch]
        model = self.config.review.model
        max_tokens = self.config.review.max_tokens * len(batch)
        messages = review_messages(drafts[0][0], kind=drafts[0][1], tweet=drafts[0][2], niche=self.config.niche,
                                   owner=self.described, our_tweet=drafts[0][3]) \
            if len(batch) == 1 else review_batch_messages(drafts, niche=self.config.niche, owner=self.described)
        reservation = self.ledger.reserve(model, prompt_token_bound(messages),
                                          self.model.completion_cap(model, max_tokens))
        if reservation is None:
            for o in outs:
                o.stopped = "budget"
                self._maybe_exhausted(o)
            return [None] * len(batch)
        charged = len(out.usage)
        try:
            completion = await self.model.complete(messages, model=model, max_tokens=max_tokens, temperature=0.0)
        except LlmMalformedOutput as err:
            if err.completion is None:
                self.ledger.release(reservation)
                return [review_rejection(parse_review(""))] * len(batch)
            completion = err.completion
        except LlmTimedOut:
            out.usage.append(self.ledger.settle_reserved(reservation, request_id=f"timeout-{uuid7()}",
                                                         purpose="review", content_id=out.content_id))
            self._note_review(outs, charged)
            for o in outs:
                o.stopped = "llm_unavailable"
            return [None] * len(batch)
        except LlmRequestRejected as err:
            # The server refused to review them (a content filter): not published unreviewed.
            self._charge_or_release(out, reservation, err.completion, "review")
            self._note_review(outs, charged)
            if len(batch) > 1:
                # A filter refuses a call for one text in it: reviewed in halves, only the drafts it flags are
                # refused (a demo's whole round of drafts was rewritten for one).
                half = len(batch) // 2
                return await self._review_call(batch[:half]) + await self._review_call(batch[half:])
            return [Rejection("review", f"the review request was refused: {err}")]
        except LlmUnavailable:
            self.ledger.release(reservation)
            for o in outs:
                o.stopped = "llm_unavailable"
            return [None] * len(batch)
        except BaseException:
            self.ledger.release(reservation)
            raise
        self._charge(out, reservation, completion, "review")
        self._note_review(outs, charged)
        if len(batch) == 1:
            return [review_rejection(parse_review(completion.text))]
        return [review_rejection(v) for v in parse_review_batch(completion.text, len(batch))]

    @staticmethod
    def _note_review(outs: Sequence[DraftOutcome], charged: int) -> None:
        first = outs[0]
        first.causes += ["review"] * (len(first.usage) - charged)
        if len(first.usage) > charged:
            for o in outs:
                o.reviewed_by.append(first.usage[-1].request_id)

    def _held(self, post: OwnPost | None, texts: Sequence[str]) -> Callable[[], None]:
        """A draft awaiting its review held among the recent posts and tweets; returns what lets it go again."""
        new = [t for t in texts if content_hash(t) not in self.recent.tweet_hashes]
        if post is not None:
            self.recent.add(post)
        self.recent.add_tweets(new)

        def release() -> None:
            if post is not None:
                self.recent.posts = [p for p in self.recent.posts if p is not post]
            self.recent.discard_tweets(new)

        return release

    # ------------------------------------------------------------ shared

    def _forget_old_tweets(self, now: datetime) -> None:
        """A drafter kept across days forgets the tweets it queued that have left the duplicate window, as the
        service's per-run query does (X takes a tweet again once the window is past)."""
        self.recent.forget_before(now - timedelta(days=self.config.gates.duplicate_window_days))

    async def _call(self, out: DraftOutcome, messages: list[dict[str, str]], kind: str) -> Completion | None:
        """One budgeted call, charged. None when there is no usable answer: ``out.stopped`` set when planning must
        stop, ``out.dropped`` when the server refused this item, else a malformed answer (recorded) to rewrite."""
        drafted = any(c != "review" for c in out.causes)
        cause = f"rewrite:{out.rejections[-1].gate}" if drafted and out.rejections else "draft"
        charged = len(out.usage)
        try:
            return await self._charged_call(out, messages, kind)
        finally:
            out.causes += [cause, *["timeout_retry"] * (len(out.usage) - charged - 1)][: len(out.usage) - charged]

    async def _charged_call(self, out: DraftOutcome, messages: list[dict[str, str]], kind: str) -> Completion | None:
        model = model_for(self.ledger.tier(), self.config)
        max_tokens = self.config.budget.max_tokens.get(kind, 300)
        cap = self.model.completion_cap(model, max_tokens) if model else 0  # what the server may bill
        # A timed-out call may have been done and billed: it is charged, and tried once more with a new reservation.
        for timeouts in range(2):
            reservation = None if model is None else self.ledger.reserve(model, prompt_token_bound(messages), cap)
            if model is None or reservation is None:
                out.stopped = "budget"
                self._maybe_exhausted(out)
                return None
            try:
                completion = await self.model.complete(messages, model=model, max_tokens=max_tokens,
                                                       schema=answer_schema(kind))
            except LlmTimedOut:
                out.usage.append(self.ledger.settle_reserved(reservation, request_id=f"timeout-{uuid7()}",
                                                             purpose=kind, content_id=out.content_id))
                if timeouts == 0:
                    continue
                out.stopped = "llm_unavailable"
                return None
            except LlmMalformedOutput as err:
                self._charge_or_release(out, reservation, err.completion, kind)
                self._unusable(out, err.gate, str(err))
                return None
            except LlmRequestRejected as err:
                self._charge_or_release(out, reservation, err.completion, kind)
                out.dropped = err.gate
                out.rejections.append(ContentRejected(content_id=out.content_id, gate=err.gate, reason=str(err),
                                                      attempt=len(out.rejections), final=True, kind=out.kind))
                return None
            except LlmUnavailable:
                self.ledger.release(reservation)
                out.stopped = "llm_unavailable"
                return None
            except BaseException:
                # Permanent errors propagate: the plan job stops and alerts.
                self.ledger.release(reservation)
                raise
            self._charge(out, reservation, completion, kind)
            return completion
        return None  # pragma: no cover - the loop returns

    def _answer(self, out: DraftOutcome, completion: Completion, kind: str, *,
                wanted: int | None = None) -> list[str] | None:
        """The parts to gate, from the answer (JSON or text) cleaned by the normaliser and shortened by whole
        sentences when a little too long; None (recorded) when it is malformed or a refusal."""
        g = self.config.gates
        limit = g.reply_max_chars if kind == "reply" else g.part_max_chars
        answer = read_answer(completion.text, thread=kind == "thread", max_parts=g.thread_max_parts, limit=limit,
                             length=x_length, wanted=wanted, titled=kind != "reply")
        parts = [fit_to_limit(p, limit, length=x_length) for p in answer.parts if p.strip()]
        for part in parts or [""]:
            if problem := malformed_reason(part, whole=kind != "thread"):
                self._unusable(out, "malformed", problem, completion.text)
                return None
            if refused := check_refusal(part):
                self._unusable(out, refused.gate, refused.reason, completion.text)
                return None
        return parts

    def _without_repeated_parts(self, parts: list[str], now: datetime) -> list[str]:
        """A middle part of a thread that repeats one of our recent tweets (or an earlier part) would be refused by
        X, and one that shares most of its words with one (``check_word_overlap``) loses reach; it is left out when
        the thread keeps its minimum length, instead of rewriting the whole thread. So is a closing takeaway that
        repeats one of ours (models reuse a handful of sign-offs): the last fact then ends the thread. The hook
        stays: without it it is another thread, which the duplicate gates send back."""
        if not parts:
            return parts
        limit = self.config.gates.word_overlap_max
        seen = set(self.recent.tweet_hashes) | {content_hash(parts[0])}
        said = [word_set(t) for t in self._overlap_window(now)] + [word_set(parts[0])]

        def repeats(part: str) -> bool:
            words = word_set(part)
            return content_hash(part) in seen or any(overlap(words, other) >= limit for other in said)

        middle = []
        for part in parts[1:-1]:
            if not repeats(part):
                middle.append(part)
                seen.add(content_hash(part))
                said.append(word_set(part))
        kept = parts[:1] + middle + parts[-1:]
        if len(parts) > 1 and repeats(parts[-1]) and len(kept) - 1 >= self.config.gates.thread_min_parts:
            kept = kept[:-1]
        return kept if len(kept) >= self.config.gates.thread_min_parts else parts

    def _unusable(self, out: DraftOutcome, gate: str, reason: str, text: str = "") -> None:
        if gate == "malformed":
            out.malformed += 1
        attempt = len(out.rejections)
        out.rejections.append(ContentRejected(content_id=out.content_id, gate=gate, reason=reason, attempt=attempt,
                                              final=attempt >= self.config.gates.max_rewrites, text=text[:1000],
                                              kind=out.kind))

    @staticmethod
    def _unusable_reason(out: DraftOutcome) -> str:
        last = out.rejections[-1] if out.rejections else None
        if last is not None and last.gate == "refusal":
            return "refusal: the answer refused the task or spoke as an AI; write the text asked for itself"
        return "the answer was not usable text" + (f" ({last.reason})" if last is not None else "")

    def _unsupported_claims(self, parts: Sequence[str], facts: Sequence[Fact]) -> Rejection | None:
        """The claims gate: a number, study or named institution that none of the facts the prompt gave supports
        (libs/facts/claims.py); the rejection names the claim."""
        found = check_claims(parts, facts, self.embedder, min_similarity=self.config.facts.support_min_similarity)
        return None if found is None else Rejection(found.gate, found.reason)

    def _copies_an_example(self, text: str, vector) -> Rejection | None:
        """The owner's example posts are shown to the model as a voice, not to be posted again."""
        if not self.config.example_posts:
            return None
        draft = normalise(text)
        if any(normalise(p) in draft for p in self.config.example_posts):
            return Rejection("duplicate", "copies one of the owner's example posts")
        if vector is None:
            return None
        if self._example_vectors is None:
            self._example_vectors = self.embedder.embed(list(self.config.example_posts))
        threshold = self.config.gates.near_duplicate_threshold.get(self.embedder.kind, 0.9)
        if self._example_vectors.shape[1] == vector.shape[0] \
                and max_similarity(vector, self._example_vectors) >= threshold:
            return Rejection("near_duplicate", "too close to one of the owner's example posts")
        return None

    def _charge_or_release(self, out: DraftOutcome, reservation: Reservation, completion: Completion | None,
                           kind: str) -> None:
        if completion is not None:
            self._charge(out, reservation, completion, kind)
        else:
            self.ledger.release(reservation)

    def _charge(self, out: DraftOutcome, reservation: Reservation, completion: Completion, kind: str) -> None:
        if not completion.usage_reported:
            # No usage in the answer: charge the worst case so such a server cannot spend past the cap unseen.
            out.usage.append(self.ledger.settle_reserved(reservation, request_id=completion.request_id or uuid7(),
                                                         purpose=kind, content_id=out.content_id))
            return
        out.usage.append(self.ledger.settle(
            reservation, request_id=completion.request_id or uuid7(), prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens, purpose=kind, content_id=out.content_id,
            model=completion.model if completion.model in self.ledger.prices.prices else reservation.model,
        ))

    def _reject(self, out: DraftOutcome, verdict: Rejection, attempt: int, text: str, kind: str, *,
                final: bool = False) -> None:
        attempt = len(out.rejections)
        out.rejections.append(ContentRejected(
            content_id=out.content_id, gate=verdict.gate, reason=verdict.reason, attempt=attempt,
            final=final or attempt >= self.config.gates.max_rewrites, text=text[:1000], kind=kind,
        ))

    def _maybe_exhausted(self, out: DraftOutcome) -> DraftOutcome:
        cheapest = self.ledger.worst_case(self.config.budget.cheap_model, MIN_CALL_PROMPT_BYTES,
                                          self.config.budget.max_tokens.get("reply", 120))
        if self.ledger.tier() is BudgetTier.EXHAUSTED or self.ledger.remaining_usd < cheapest:
            out.budget_exhausted = self.ledger.exhausted_event()
        return out


class _Together:
    """Items of one run drafted in turn (one at a time, in order) whose reviews wait for one another: when every
    unfinished item awaits its review, one call reviews them all (Drafter.draft_together)."""

    def __init__(self, drafter: Drafter, items: int,
                 on_done: Callable[[int, DraftOutcome], Awaitable[None]] | None = None) -> None:
        self.drafter = drafter
        self.on_done = on_done
        self.unfinished = items
        self.turn = asyncio.Lock()  # FIFO: the items draft in the order they were given
        self.waiting: list[tuple[DraftOutcome, str, str, str | None, str | None, asyncio.Future]] = []
        # Why planning stopped ("budget", "llm_unavailable"), once an item stopped it: the later items of the run
        # make no call (as a run drafting one item at a time breaks off). A tier that allows no posts stops posts
        # only, as alone.
        self.stopped: str | None = None

    async def run(self, i: int, write: Callable[[], Awaitable[DraftOutcome]]) -> DraftOutcome:
        await self.turn.acquire()
        try:
            out = await write()
            if out.stopped in ("budget", "llm_unavailable"):
                self.stopped = self.stopped or out.stopped
            if self.on_done is not None:
                await self.on_done(i, out)
            return out
        finally:
            self.unfinished -= 1
            self.turn.release()
            await self._review_if_all_wait()

    async def review(self, out: DraftOutcome, draft: str, *, kind: str, tweet: str | None,
                     our_tweet: str | None = None) -> Rejection | None:
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        self.waiting.append((out, draft, kind, tweet, our_tweet, done))
        self.turn.release()  # the next item drafts while this one waits
        try:
            await self._review_if_all_wait()
            return await done
        finally:
            await self.turn.acquire()

    async def _review_if_all_wait(self) -> None:
        if not self.waiting or len(self.waiting) < self.unfinished:
            return
        batch, self.waiting = self.waiting, []
        try:
            verdicts = await self.drafter._review_call([entry[:-1] for entry in batch])
        except BaseException as err:
            for *_, done in batch:
                done.set_exception(err)
            return
        for (*_, done), verdict in zip(batch, verdicts, strict=True):
            done.set_result(verdict)
