"""Reading news feeds: RSS and Atom as the sandbox serves them, hostile markup, and which items are news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.feeds import atom, feed_items, rss
from services.harvester.news import FeedError, NewsItem, fresh_news, parse_feed

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize("render", [rss, atom])
def test_rss_and_atom_give_the_same_items_newest_first(render):
    served = feed_items(7, "journals", NOW.timestamp())
    items = parse_feed(render("journals", served).encode())
    assert [i.title for i in items] == [str(s["title"]) for s in served]
    assert [i.url for i in items] == [str(s["url"]) for s in served]
    assert [i.published_at for i in items] == [s["published"].replace(microsecond=0) for s in served]
    assert all(i.published_at <= NOW for i in items) and items == sorted(items, key=lambda i: i.published_at,
                                                                        reverse=True)


def test_markup_in_a_feed_is_text_and_an_item_without_date_or_link_is_skipped():
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>Sleep &lt;b&gt;study&lt;/b&gt; &amp;amp; you</title><link>https://a.example/1</link>
      <description>&lt;p&gt;Adults who slept &lt;script&gt;alert(1)&lt;/script&gt;7 hours&lt;/p&gt;</description>
      <pubDate>Mon, 02 Mar 2026 08:00:00 +0100</pubDate></item>
    <item><title>No date</title><link>https://a.example/2</link></item>
    <item><title>No link</title><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate></item>
    <item><title>Not http</title><link>javascript:alert(1)</link><pubDate>Mon, 02 Mar 2026 08:00:00 GMT</pubDate></item>
    </channel></rss>"""
    (item,) = parse_feed(feed)
    assert item.title == "Sleep study & you" and "<" not in item.summary and "alert" not in item.summary
    assert item.summary == "Adults who slept 7 hours"
    assert item.published_at == datetime(2026, 3, 2, 7, tzinfo=UTC)  # the feed's offset, in UTC


def test_what_is_not_a_feed_is_an_error():
    with pytest.raises(FeedError):
        parse_feed(b"<html><body>502 Bad Gateway</body></html>")


def item(n: int, title: str, hours_old: float) -> NewsItem:
    return NewsItem(item_id=f"i{n}", title=title, summary="", url=f"https://a.example/{n}",
                    published_at=NOW - timedelta(hours=hours_old))


def test_only_new_fresh_on_topic_items_are_news(relevance):
    items = [item(1, "New sleep guidance", 2), item(2, "More sleep news", 100), item(3, "Office closure", 1),
             item(4, "Sleep again", 3), item(5, "Protein targets revised", 5), item(6, "Sleep tomorrow", -1)]
    found = fresh_news(items, source="NIH", feed_url="https://nih.example/feed", now=NOW,
                       max_age=timedelta(days=3), known_ids={"i4"}, relevance=relevance, min_relevance=0.5)
    assert [(e.item_id, e.topic, e.source) for e in found] == [("i1", "sleep", "NIH"), ("i5", "nutrition", "NIH")]
    assert found[0].dedup_key() == "news:i1"
