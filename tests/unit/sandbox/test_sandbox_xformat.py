from sandbox.xformat import (abbreviate, action_label, focal_time, iso_time, profile_count, relative_time,
                             views_label)
from sandbox.xformat import testid as dom_testid


def test_abbreviate_truncates_like_x():
    assert [abbreviate(n) for n in (0, 999, 1000, 1234, 1299, 9999, 12_345, 123_456, 1_234_567)] == \
        ["0", "999", "1K", "1.2K", "1.2K", "9.9K", "12K", "123K", "1.2M"]


def test_profile_count_exact_below_ten_thousand():
    assert [profile_count(n) for n in (7, 1234, 9999, 12_345, 2_500_000)] == ["7", "1,234", "9,999", "12.3K", "2.5M"]


def test_action_labels_read_like_xs():
    assert action_label("like", 12) == "12 Likes. Like"
    assert action_label("like", 1) == "1 Like. Like"
    assert action_label("reply", 3) == "3 Replies. Reply"
    assert action_label("retweet", 5) == "5 reposts. Repost"
    assert action_label("reply", 0) == "Reply"
    assert views_label(1234) == "1234 views. View post analytics"


def test_times():
    assert iso_time(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
    now = 1_700_000_000.0
    assert [relative_time(now - a, now) for a in (5, 300, 7200)] == ["5s", "5m", "2h"]
    assert relative_time(now - 3 * 86400, now) == "Nov 11"
    assert relative_time(now - 400 * 86400, now) == "Oct 10, 2022"
    # Under a status page's focal post: the clock time and the full date.
    assert focal_time(now) == "10:13 PM · Nov 14, 2023"
    assert focal_time(now - 22 * 3600) == "12:13 AM · Nov 14, 2023"


def test_dom_variant_two_renames_ids():
    assert dom_testid("tweetTextarea_0", 1) == "tweetTextarea_0"
    assert dom_testid("tweetTextarea_0", 2) == "postTextarea_0"
    assert dom_testid("SideNav_AccountSwitcher_Button", 2) == "SideNav_AccountSwitcher_Btn"
    assert dom_testid("retweet", 2) == "repost"
