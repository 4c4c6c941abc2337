import random

import pytest

from libs.core.clock import Clock
from services.browser_gateway.pacer import Pacer
from libs.contracts.gateway import TweetCard
from services.browser_gateway.parse import (dig, handle_in, parse_count, read_count, replies_below, same_text,
                                            status_ref, views_read)


@pytest.mark.parametrize("label,count", [
    ("12 Likes. Like", 12), ("1 Reply. Reply", 1), ("Like", 0), (None, 0), ("1,234 views. View post analytics", 1234),
    ("1.2K Followers", 1200), ("12K Following", 12000), ("3.4M", 3_400_000), ("5 reposts. Repost", 5),
])
def test_counts_as_x_writes_them(label: str | None, count: int) -> None:
    assert parse_count(label) == count


def test_a_count_shown_as_text_is_none_when_it_holds_no_number() -> None:
    # A focal post's views as X writes them under it; the word before "Views" not a number is no count read.
    assert [read_count(t) for t in ("61.7M", "7,154", "1.2K", "0", "·", None)] == [61_700_000, 7154, 1200, 0, None,
                                                                                  None]
    assert views_read(TweetCard(tweet_id="1", author="a", text="", views=0))
    assert not views_read(TweetCard(tweet_id="1", author="a", text=""))


def test_a_status_page_s_replies_are_the_cards_below_its_tweet_not_the_ancestors_above() -> None:
    def card(tweet_id: str, author: str) -> TweetCard:
        return TweetCard(tweet_id=tweet_id, author=author, text="...")
    # A reply of ours (2) under a stranger's tweet (1): X shows the tweet it answered above it.
    page = [card("1", "stranger"), card("2", "xbot"), card("3", "ana"), card("4", "ben")]
    assert [c.tweet_id for c in replies_below(page, "2") or []] == ["3", "4"]
    assert replies_below(page[1:], "2") == page[2:] and replies_below(page[:2], "2") == []
    assert replies_below(page, "9") is None  # the page does not show the tweet


def test_links_and_handles() -> None:
    assert status_ref("/bob_1/status/123/analytics") == ("bob_1", "123")
    assert status_ref("https://x.com/alice/status/99") == ("alice", "99")
    assert status_ref("/alice") is None
    assert handle_in("Alice A\n@alice_a\n·") == "alice_a"
    assert dig({"a": {"b": {"c": "7"}}}, ["a", "b", "c"]) == "7"
    assert dig({"a": {}}, ["a", "b", "c"]) is None
    assert same_text("one  two\nthree", "one two three")


def test_writes_keep_min_spacing_plus_jitter() -> None:
    pacer = Pacer(Clock(), min_spacing_s=90, jitter_s=30, rng=random.Random(7))
    assert pacer.wait_before_write(1000.0) == 0.0
    pacer.mark_write(1000.0)
    gap = pacer.wait_before_write(1000.0)
    assert 90 <= gap <= 120
    assert pacer.wait_before_write(1000.0 + gap) == 0.0
    assert pacer.wait_before_write(1010.0) == pytest.approx(gap - 10)


def test_jitter_varies_between_writes() -> None:
    pacer = Pacer(Clock(), min_spacing_s=10, jitter_s=30, rng=random.Random(1))
    gaps = set()
    for i in range(5):
        pacer.mark_write(i * 1000.0)
        gaps.add(round(pacer.wait_before_write(i * 1000.0), 6))
    assert len(gaps) == 5


def test_typing_delays_follow_the_clock_scale() -> None:
    real = Pacer(Clock(scale=1), typing_delay_ms=(50, 150), rng=random.Random(3))
    fast = Pacer(Clock(scale=50), typing_delay_ms=(50, 150), rng=random.Random(3))
    for _ in range(20):
        slow_ms, fast_ms = real.keystroke_delay_ms(), fast.keystroke_delay_ms()
        assert 50 <= slow_ms <= 150
        assert fast_ms == pytest.approx(slow_ms / 50)
