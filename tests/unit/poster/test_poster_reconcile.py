from datetime import UTC, datetime, timedelta

from libs.contracts.gateway import TweetCard
from services.poster.reconcile import Readback, TimelineTweet, judge_duplicate, match_parts, normal_text

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
S = timedelta(seconds=1)

THREAD = ["Sleep is a skill. 1/3", "Keep the room cool & dark. 2/3", "Same wake time daily. 3/3"]


def tw(tid: str, text: str, at: datetime | None = T0 + 10 * S, reply_to: str | None = None) -> TimelineTweet:
    return TimelineTweet(tweet_id=tid, text=text, created_at=at, in_reply_to=reply_to)


def test_normal_text_ignores_case_spacing_entities_and_link_targets():
    assert normal_text("Keep the room  cool &amp; dark. https://t.co/abc") == normal_text(
        "keep the room cool & dark https://example.com/very/long/path"
    )
    assert normal_text("Sleep more") != normal_text("Sleep less")


def test_single_post_found():
    timeline = [tw("900", "other"), tw("901", "Protein at breakfast keeps you full.")]
    rb = match_parts(["Protein at breakfast keeps you full."], timeline, since=T0)
    assert rb.status == "posted"
    assert rb.tweet_ids == ["901"]
    assert rb.next_part is None


def test_not_found():
    rb = match_parts(["Protein at breakfast keeps you full."], [tw("900", "other")], since=T0)
    assert rb.status == "not_posted"
    assert rb.tweet_ids == []
    assert rb.next_part == 0
    assert rb.reply_to_for_next("555") == "555"


def test_an_older_post_with_the_same_text_is_not_this_attempt():
    old = tw("100", "Drink water.", at=T0 - timedelta(days=3))
    assert match_parts(["Drink water."], [old], since=T0).status == "not_posted"
    # but a timestamp slightly before the attempt (clock skew) still counts
    skewed = tw("101", "Drink water.", at=T0 - 30 * S)
    assert match_parts(["Drink water."], [skewed], since=T0).tweet_ids == ["101"]


def test_thread_found_part_by_part_in_order_whatever_the_timeline_order():
    timeline = [  # profile timelines are newest first
        tw("12", THREAD[2], T0 + 3 * S, reply_to="11"),
        tw("11", THREAD[1], T0 + 2 * S, reply_to="10"),
        tw("10", THREAD[0], T0 + 1 * S),
    ]
    rb = match_parts(THREAD, timeline, since=T0)
    assert rb.parts == ("10", "11", "12")
    assert rb.status == "posted"


def test_half_posted_thread_is_completed_from_the_first_missing_part():
    timeline = [tw("11", THREAD[1], T0 + 2 * S), tw("10", THREAD[0], T0 + 1 * S)]
    rb = match_parts(THREAD, timeline, since=T0)
    assert rb.status == "partial"
    assert rb.tweet_ids == ["10", "11"]
    assert rb.next_part == 2
    assert rb.reply_to_for_next(None) == "11"  # the third part answers the last posted one


def test_a_later_part_without_an_earlier_one_is_inconsistent():
    rb = match_parts(THREAD, [tw("12", THREAD[2])], since=T0)
    assert rb.status == "inconsistent"


def test_repeated_part_texts_match_distinct_tweets_in_order():
    parts = ["Same line.", "Same line."]
    rb = match_parts(parts, [tw("21", "Same line.", T0 + 2 * S), tw("20", "Same line.", T0 + S)], since=T0)
    assert rb.parts == ("20", "21")
    rb = match_parts(parts, [tw("20", "Same line.", T0 + S)], since=T0)
    assert rb.parts == ("20", None) and rb.status == "partial"


def test_a_part_posted_before_the_previous_part_is_not_a_continuation():
    timeline = [tw("10", THREAD[1], T0 + S), tw("11", THREAD[0], T0 + 2 * S)]
    assert match_parts(THREAD[:2], timeline, since=T0).parts == ("11", None)


def test_reply_must_answer_the_intended_tweet_when_the_timeline_says_what_it_answers():
    text = "Great point, and magnesium helps too."
    elsewhere = tw("30", text, reply_to="777")
    assert match_parts([text], [elsewhere], since=T0, reply_to="555").status == "not_posted"
    here = tw("31", text, reply_to="555")
    assert match_parts([text], [elsewhere, here], since=T0, reply_to="555").tweet_ids == ["31"]


def test_tweets_without_timestamps_are_ordered_by_snowflake_id():
    timeline = [tw("1002", THREAD[1], at=None), tw("1001", THREAD[0], at=None)]
    assert match_parts(THREAD[:2], timeline, since=T0).parts == ("1001", "1002")


def test_from_gateway_card():
    card = TweetCard(tweet_id="5", author="me", text="hi", created_at="2025-03-03T12:00:05.000Z")
    assert TimelineTweet.from_card(card).created_at == T0 + 5 * S
    naive = TweetCard(tweet_id="5", author="me", text="hi", created_at="2025-03-03T12:00:05")
    assert TimelineTweet.from_card(naive).created_at == T0 + 5 * S
    garbled = TweetCard(tweet_id="5", author="me", text="hi", created_at="3h")
    assert TimelineTweet.from_card(garbled).created_at is None


class TestWhoopsDuplicate:
    def test_counts_as_posted_only_when_the_readback_finds_it(self):
        found = judge_duplicate(Readback(("40",)))
        assert found.found and found.readback.tweet_ids == ["40"]
        assert not judge_duplicate(Readback((None,))).found

    def test_per_part_for_threads(self):
        # X refused part 2 as a duplicate; the read-back shows parts 1 and 2: the thread continues at part 3
        verdict = judge_duplicate(Readback(("10", "11", None)), failed_part=1)
        assert verdict.found and verdict.readback.next_part == 2
        assert not judge_duplicate(Readback(("10", None, None)), failed_part=1).found
