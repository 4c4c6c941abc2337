from datetime import UTC, datetime, timedelta

import pytest

from sandbox.search import parse_query
from services.harvester.queries import harvest_queries, keyword_group, since_operator, topic_queries
from services.harvester.settings import HarvesterSettings, NicheTopic

NOW = datetime(2024, 5, 2, 12, 30, tzinfo=UTC)


def test_keyword_group_quotes_phrases_only():
    assert keyword_group(["sleep", "blood sugar", ' "VO2 max" ']) == 'sleep OR "blood sugar" OR "VO2 max"'


def test_since_is_the_oldest_acceptable_creation_time():
    assert since_operator(NOW, timedelta(hours=24)) == "since:2024-05-01_12:30:00_UTC"


def test_one_query_per_threshold_and_tab_because_x_ands_operators():
    topic = NicheTopic(name="sleep", description="d", keywords=("sleep", "insomnia"))
    queries = topic_queries(topic, now=NOW, lang="en", min_likes=2000, min_replies=200,
                            max_age=timedelta(hours=24), tabs=("latest", "top"))
    assert {(q.tab, "min_faves:2000" in q.text, "min_replies:200" in q.text) for q in queries} == {
        ("latest", True, False), ("latest", False, True), ("top", True, False), ("top", False, True)}
    for q in queries:
        assert q.topic == "sleep"
        assert q.text.startswith("sleep OR insomnia ")
        assert "lang:en" in q.text and "-filter:replies" in q.text and "since:2024-05-01_12:30:00_UTC" in q.text


def test_operators_parse_as_x_reads_them():
    # The sandbox implements X's query language; the operators must land where X would put them.
    [q] = [q for q in harvest_queries(HarvesterSettings(), now=NOW)
           if q.topic == "heart_health" and "min_replies" in q.text and q.tab == "top"]
    parsed = parse_query(q.text)
    assert parsed.min_replies == 200 and parsed.min_faves == 0
    assert parsed.lang == "en" and parsed.replies is False
    assert parsed.since == (NOW - timedelta(hours=24)).timestamp()
    assert "heart health" in {term for group in parsed.groups for term in group}


def test_every_configured_topic_is_searched_with_the_settings():
    settings = HarvesterSettings(harvest_tabs=("latest",), harvest_min_likes=500, harvest_lang="de")
    queries = harvest_queries(settings, now=NOW)
    assert [q.topic for q in queries[::2]] == [t.name for t in settings.niche_topics]
    assert len(queries) == 2 * len(settings.niche_topics)
    assert all(q.tab == "latest" and "lang:de" in q.text for q in queries)
    assert sum("min_faves:500" in q.text for q in queries) == len(settings.niche_topics)


def test_query_becomes_a_priority_one_search_request():
    [q, *_] = harvest_queries(HarvesterSettings(), now=NOW)
    req = q.request(limit=40)
    assert (req.query, req.tab, req.limit, req.OP, req.DEFAULT_PRIORITY) == (q.text, "latest", 40, "search", 1)


def test_author_query_reads_recent_originals():
    from services.harvester.queries import author_recent_query

    q = author_recent_query("@Ava_Fit", lang="en")
    parsed = parse_query(q.text)
    assert (parsed.from_handle, parsed.lang, parsed.replies, q.tab) == ("ava_fit", "en", False, "latest")
    with pytest.raises(ValueError):
        author_recent_query("ava fit", lang="en")
