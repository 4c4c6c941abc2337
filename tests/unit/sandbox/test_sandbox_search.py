from datetime import UTC, datetime

from sandbox.search import Candidate, parse_query

DAY = datetime(2025, 3, 3, tzinfo=UTC).timestamp()


def tweet(text="Sleep is underrated", handle="ava_sleep1", lang="en", is_reply=False, at=DAY + 3600,
          likes=2500, retweets=300, replies=250) -> Candidate:
    return Candidate(text=text, handle=handle, lang=lang, is_reply=is_reply, created_at=at, likes=likes,
                     retweets=retweets, replies=replies)


def test_operators_parse():
    q = parse_query('sleep "deep sleep" -coffee min_faves:2000 min_retweets:10 min_replies:200 lang:en '
                    'from:@Ava_Sleep1 since:2025-03-03 until:2025-03-04_12:00:00_UTC -filter:replies')
    assert q.groups == [("sleep",), ("deep sleep",)] and q.excluded == ["coffee"]
    assert (q.min_faves, q.min_retweets, q.min_replies, q.lang, q.from_handle) == (2000, 10, 200, "en", "ava_sleep1")
    assert q.since == DAY and q.until == DAY + 86400 + 12 * 3600 and q.replies is False


def test_counts_thresholds():
    q = parse_query("min_faves:2000 min_replies:200")
    assert q.matches(tweet())
    assert not q.matches(tweet(likes=1999))
    assert not q.matches(tweet(replies=199))


def test_words_are_whole_and_or_groups_and_exclusions():
    assert parse_query("sleep").matches(tweet("Sleep, then coffee"))
    assert not parse_query("sleep").matches(tweet("sleepy afternoon"))
    assert parse_query("protein OR sleep").matches(tweet("more protein"))
    assert not parse_query("sleep -coffee").matches(tweet("Sleep, then coffee"))


def test_lang_from_dates_and_replies():
    assert not parse_query("lang:es").matches(tweet())
    assert parse_query("from:AVA_SLEEP1").matches(tweet()) and not parse_query("from:ben").matches(tweet())
    assert parse_query("since:2025-03-03").matches(tweet())
    assert not parse_query("until:2025-03-03").matches(tweet())  # until is exclusive
    assert not parse_query("-filter:replies").matches(tweet(is_reply=True))
    assert parse_query("filter:replies").matches(tweet(is_reply=True))


def test_malformed_operator_is_searched_as_a_word():
    q = parse_query("min_faves:lots")
    assert q.min_faves == 0 and q.groups == [("min_faves:lots",)]
