from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from libs.core.clock import Clock
from libs.core.account import ActiveHours
from services.poster.pacing import Caps, PacingPolicy, WriteRecord
from services.poster.risk import AccountRisk
from services.poster.scheduling import Expire, PostNow, QueuedItem, Wait, WriteBlock, next_due, write_block
from services.poster.settings import PosterSettings

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)

PACING = PacingPolicy(content=Caps(1, 12), replies=Caps(4, 40), min_spacing=8 * MIN)


class StoppedClock(Clock):
    """A Clock that moves only when told to, for the breaker."""

    def __init__(self, at: datetime) -> None:
        super().__init__(epoch=at)
        self.at = at

    def now(self) -> datetime:
        return self.at


def item(cid: str, kind: str = "post", *, at: datetime = T0, expires: timedelta = 6 * H, **kw) -> QueuedItem:
    return QueuedItem(content_id=cid, kind=kind, scheduled_for=at, expires_at=at + expires, **kw)


def test_queue_item_from_content_queued():
    from libs.contracts.events import Choice, ContentQueued

    evt = ContentQueued(content_id="c1", kind="thread", parts=["a", "b"], policy_version="v1", propensity=0.5,
                        choice=Choice(content_type="tip", topic="sleep", format="thread", hour=12),
                        scheduled_for=T0, expires_at=T0 + H)
    assert QueuedItem.from_queued(evt) == QueuedItem("c1", "thread", T0, T0 + H)


def test_empty_queue_waits_without_a_deadline():
    assert next_due([], [], T0, pacing=PACING) == Wait(None, "queue empty")


def test_a_due_item_with_free_caps_posts_now():
    assert next_due([item("a")], [], T0, pacing=PACING) == PostNow(item("a"))


def test_an_item_scheduled_later_waits_until_its_time():
    d = next_due([item("a", at=T0 + 30 * MIN)], [], T0, pacing=PACING)
    assert isinstance(d, Wait) and d.until == T0 + 30 * MIN


def test_content_goes_before_replies_when_both_are_due():
    queue = [item("r", "reply", at=T0 - 10 * MIN), item("p", "post", at=T0 - MIN)]
    assert next_due(queue, [], T0, pacing=PACING) == PostNow(queue[1])


def test_a_reply_goes_when_content_is_held_by_its_own_cap():
    history = [WriteRecord("content", T0 - 30 * MIN)]
    queue = [item("p", "post"), item("r", "reply")]
    assert next_due(queue, history, T0, pacing=PACING) == PostNow(queue[1])


def test_waits_until_the_earliest_lane_opens():
    history = [WriteRecord("content", T0 - 3 * MIN)]
    queue = [item("p", "thread")]
    d = next_due(queue, history, T0, pacing=PACING)
    assert d == Wait(T0 + 57 * MIN, "pacing (content)")


def test_oldest_due_item_of_a_lane_goes_first():
    queue = [item("late", "reply", at=T0 - MIN), item("early", "reply", at=T0 - 5 * MIN)]
    assert next_due(queue, [], T0, pacing=PACING).item.content_id == "early"


def test_retry_backoff_defers_an_item():
    queue = [item("a", attempts=1, not_before=T0 + 5 * MIN)]
    assert next_due(queue, [], T0, pacing=PACING) == Wait(T0 + 5 * MIN, "next content scheduled")


def test_an_item_past_expiry_expires_even_while_writes_are_blocked():
    queue = [item("old", at=T0 - 2 * H, expires=H), item("new")]
    block = WriteBlock("paused by operator", None)
    assert next_due(queue, [], T0, pacing=PACING, block=block) == Expire(queue[0])


def test_a_block_waits_for_its_end_or_the_next_expiry_whichever_is_first():
    queue = [item("a", expires=2 * H)]
    assert next_due(queue, [], T0, pacing=PACING, block=WriteBlock("x", T0 + H)).until == T0 + H
    assert next_due(queue, [], T0, pacing=PACING, block=WriteBlock("x", None)).until == T0 + 2 * H


def test_a_half_posted_thread_is_completed_first_ignoring_caps_and_expiry():
    history = [WriteRecord("content", T0 - MIN)]  # its own first part
    unfinished = item("t", "thread", at=T0 - 2 * H, expires=H, partially_posted=True)
    queue = [item("r", "reply", at=T0 - 3 * H), unfinished]
    assert next_due(queue, history, T0, pacing=PACING) == PostNow(unfinished)


def test_a_half_posted_thread_still_respects_a_block():
    unfinished = item("t", "thread", partially_posted=True)
    d = next_due([unfinished], [], T0, pacing=PACING, block=WriteBlock("holding after locked", None))
    assert isinstance(d, Wait) and d.reason == "holding after locked"


def test_wait_reaches_quiet_hours_end():
    pacing = PacingPolicy(content=Caps(1, 12), replies=Caps(4, 40), min_spacing=8 * MIN,
                          active_hours=ActiveHours(time(14), time(12), ZoneInfo("UTC")))
    assert next_due([item("a", expires=5 * H)], [], T0, pacing=pacing).until == T0 + 2 * H


def test_a_switched_off_lane_only_waits_for_expiry():
    pacing = PacingPolicy(content=Caps(1, 12), replies=Caps(0, 0), min_spacing=8 * MIN)
    d = next_due([item("r", "reply", expires=H)], [], T0, pacing=pacing)
    assert d == Wait(T0 + H, "next expiry")


class TestWriteBlock:
    def test_nothing_blocks_a_healthy_account(self):
        assert write_block(T0, operator_paused=False, risk=AccountRisk()) is None

    def test_operator_pause_blocks_indefinitely(self):
        assert write_block(T0, operator_paused=True, risk=AccountRisk()) == WriteBlock("paused by operator", None)

    def test_halt_blocks_until_resume(self):
        risk = AccountRisk()
        risk.record_signal("session_expired", T0)
        block = write_block(T0 + 48 * H, operator_paused=False, risk=risk)
        assert block is not None and block.until is None and "session_expired" in block.reason
        risk.resume()
        assert write_block(T0 + 48 * H, operator_paused=False, risk=risk) is None

    def test_hold_blocks_until_it_ends(self):
        risk = AccountRisk()
        risk.record_signal("automation_block", T0)
        assert write_block(T0 + 29 * MIN, operator_paused=False, risk=risk).until == T0 + 30 * MIN
        assert write_block(T0 + 30 * MIN, operator_paused=False, risk=risk) is None

    def test_breaker_opens_at_five_failures_and_closes_after_three_half_open_successes(self):
        clock = StoppedClock(T0)
        breaker = PosterSettings().breaker(clock)
        risk = AccountRisk()
        for _ in range(4):
            breaker.record_failure()
        assert write_block(T0, operator_paused=False, risk=risk, breaker=breaker) is None
        breaker.record_failure()
        assert write_block(T0, operator_paused=False, risk=risk, breaker=breaker) == WriteBlock(
            "breaker open", T0 + 60 * timedelta(seconds=1))
        # a failed probe doubles the delay: 60 -> 120 -> 240 -> 480, and no further
        for expected in (120, 240, 480, 480):
            clock.at += timedelta(seconds=breaker.retry_after())
            assert write_block(clock.at, operator_paused=False, risk=risk, breaker=breaker) is None  # half-open
            breaker.record_failure()
            assert breaker.retry_after() == expected
        clock.at += timedelta(seconds=480)
        breaker.record_success()
        breaker.record_success()
        assert breaker.current() == "half_open"
        breaker.record_success()
        assert breaker.current() == "closed"


# ---------------------------------------------------------------- the owner's approval (issue 22)


def test_an_item_waiting_for_approval_is_not_posted_but_a_reply_beside_it_is():
    held = item("a", held=True)
    assert next_due([held], [], T0, pacing=PACING) == Wait(held.expires_at, "waiting for the owner's approval")
    assert next_due([held, item("r", "reply")], [], T0, pacing=PACING) == PostNow(item("r", "reply"))


def test_an_item_waiting_for_approval_still_expires():
    held = item("a", held=True, expires=H)
    assert next_due([held], [], T0 + 2 * H, pacing=PACING) == Expire(held)


def test_a_withdrawn_item_ends_at_once_even_while_writes_are_blocked():
    block = WriteBlock("paused by operator", None)
    for withdrawal in ("rejected", "conversation_deleted"):
        withdrawn = item("a", "reply", held=True, withdrawn=withdrawal)
        assert next_due([item("b"), withdrawn], [], T0, pacing=PACING, block=block) == Expire(withdrawn)


def test_approval_kinds_default_to_all_when_live_and_none_against_the_sandbox():
    assert PosterSettings(live=False).approval_kinds() == frozenset()
    assert PosterSettings(live=True).approval_kinds() == {"post", "thread", "reply"}
    # On a live account replies wait whatever XBOT_APPROVAL says: X does not allow an app to auto-reply to posts
    # found by keyword searches, and wants its prior approval for AI-written replies.
    assert PosterSettings(live=True, approval="posts").approval_kinds() == {"post", "thread", "reply"}
    assert PosterSettings(live=True, approval="none").approval_kinds() == {"reply"}
    assert PosterSettings(live=True, approval="none").replies_wait_despite_setting()
    assert not PosterSettings(live=True).replies_wait_despite_setting()
    assert not PosterSettings(approval="none").replies_wait_despite_setting()
    assert PosterSettings(approval="all").approval_kinds() == {"post", "thread", "reply"}


def test_an_item_is_held_until_approved_when_its_kind_waits_for_approval():
    from services.poster.progress import Item

    def progress(kind: str, decision: str | None, conversation_deleted: bool = False) -> QueuedItem:
        return Item(content_id="c", kind=kind, parts=["x"], reply_to_tweet_id=None, reply_to_author=None,
                    scheduled_for=T0, expires_at=T0 + H, correlation_id=None, queued_event_id="e",
                    decision=decision, conversation_deleted=conversation_deleted,
                    ).queued_item(frozenset({"post", "thread"}))

    assert progress("post", None).held and not progress("post", "approved").held
    assert not progress("reply", None).held  # XBOT_APPROVAL=posts: replies do not wait
    assert progress("post", "rejected").withdrawn == "rejected"
    assert progress("post", None).withdrawn is None and progress("post", "approved").withdrawn is None
    # Deleting the post an answer is under withdraws it, approved or not; the owner's rejection names itself first.
    assert progress("reply", None, conversation_deleted=True).withdrawn == "conversation_deleted"
    assert progress("reply", "approved", conversation_deleted=True).withdrawn == "conversation_deleted"
    assert progress("reply", "rejected", conversation_deleted=True).withdrawn == "rejected"
