"""The shipped facts file of the default health niche, and the loader's refusal of bad files."""

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from libs.facts import UNDATED, FactsFileError, load_facts, load_niche_facts, parse_facts
from libs.niche import DEFAULT_FACTS_PATH, TOPICS, load_niche


def test_the_shipped_facts_file(book, record_property):
    assert book.path == DEFAULT_FACTS_PATH
    assert len(book.facts) >= 100
    ids = [f.id for f in book.facts]
    assert len(ids) == len(set(ids))
    for fact in book.facts:
        assert fact.topic in TOPICS, fact.id
        for url in filter(None, (fact.url, fact.checked_against)):
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and "." in parts.netloc, (fact.id, url)
        assert fact.claim and fact.quote and fact.source, fact.id
        assert fact.date == UNDATED or fact.date[:4].isdigit(), fact.id
        if fact.verified:
            assert fact.check in ("source_page", "copy") and fact.checked_against, fact.id
        else:
            assert fact.note, fact.id
    # Every topic of the niche has facts a post may rest on.
    verified_topics = Counter(f.topic for f in book.facts if f.verified)
    assert set(verified_topics) == set(TOPICS), verified_topics
    checks = Counter(f.check or "unverified" for f in book.facts)
    record_property("facts", len(book.facts))
    record_property("verified", book.verified_count)
    record_property("checks", dict(checks))
    print(f"\n{len(book.facts)} facts, {book.verified_count} verified ({dict(checks)}); "
          f"verified by topic: {dict(sorted(verified_topics.items()))}")


# What only a reader of the fact before it understands: a demo replied "The same meta-analysis found long sleepers had a
# higher risk of death too" to a stranger (2026-12-07). A claim is said alone, in a post or a reply.
_LEANS_ON_ANOTHER = re.compile(
    r"^(?:The same|In the same|This|That|These|Those|It|They|Its|Their)\b|\bthe same (?:study|trial|meta-analysis|"
    r"review|analysis|survey|cohort)\b|^In the (?!\w*[A-Z])\w+ (?:study|trial|review|survey|analysis)\b|\bthe national "
    r"survey\b")


def test_every_claim_stands_alone(book):
    assert [f.id for f in book.facts if _LEANS_ON_ANOTHER.search(f.claim)] == []
    assert _LEANS_ON_ANOTHER.search("In the nature study, it didn't matter …")  # the rule reads what it is for
    assert not _LEANS_ON_ANOTHER.search("In the DiRECT trial, 46% of people …")


def test_quotes_are_not_repeated_across_sources(book):
    # The same sentence may back several claims (one per topic), but always with the same source.
    sources: dict[str, set[str]] = {}
    for fact in book.facts:
        sources.setdefault(fact.quote, set()).add(fact.source)
    assert all(len(s) == 1 for s in sources.values())


def test_the_niche_names_its_own_facts_file_not_the_sandboxes():
    config = load_niche()
    assert config.facts.path == DEFAULT_FACTS_PATH
    assert "sandbox" not in config.facts.path.parts
    assert config.facts.use_unverified is False


def test_a_relative_facts_path_is_read_beside_the_niche_file(tmp_path):
    (tmp_path / "mine.yaml").write_text(Path(DEFAULT_FACTS_PATH).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "niche.yaml").write_text("facts: {path: mine.yaml}\n", encoding="utf-8")
    config = load_niche(tmp_path / "niche.yaml")
    assert config.facts.path == (tmp_path / "mine.yaml").resolve()
    assert len(load_niche_facts(config).facts) >= 100


GOOD = {
    "id": "sleep-x",
    "topic": "sleep",
    "claim": "Adults should sleep 7 or more hours a night.",
    "quote": "Adults should sleep 7 or more hours per night on a regular basis to promote optimal health.",
    "source": "AASM",
    "url": "https://sleepeducation.org/x",
    "date": "2015-06",
    "verified": True,
    "check": "source_page",
    "checked_against": "https://sleepeducation.org/x",
}


def write(tmp_path, entries) -> Path:
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump({"facts": entries}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topic": "sleeep"}, "topic 'sleeep' is not one of the niche's topics"),
        ({"url": "sleepeducation.org/x"}, "url must be an http(s) address"),
        ({"date": "June 2015"}, "date must be YYYY"),
        ({"claim": "Adults should sleep 8 or more hours a night."}, "claim states '8', which the quote does not"),
        ({"check": None}, "a verified fact needs check"),
        ({"verified": False, "check": None, "checked_against": None}, "an unverified fact needs a note"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_entry_stops_loading_naming_the_file_and_entry(tmp_path, change, message):
    bad = {**GOOD, "id": "sleep-bad", **change}
    path = write(tmp_path, [GOOD, bad])
    with pytest.raises(FactsFileError) as err:
        load_facts(path)
    text = str(err.value)
    assert str(path) in text and "entry 2 (id 'sleep-bad')" in text and message in text, text


def test_a_missing_field_is_named(tmp_path):
    bad = {k: v for k, v in GOOD.items() if k != "quote"}
    with pytest.raises(FactsFileError, match=r"entry 1 \(id 'sleep-x'\): quote: Field required"):
        load_facts(write(tmp_path, [bad]))


def test_repeated_ids_unreadable_files_and_bad_yaml_are_refused(tmp_path):
    with pytest.raises(FactsFileError, match=r"entry 2 \(id 'sleep-x'\): id 'sleep-x' repeats entry 1"):
        load_facts(write(tmp_path, [GOOD, GOOD]))
    with pytest.raises(FactsFileError, match="cannot read the facts file"):
        load_facts(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("facts:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(FactsFileError, match="broken.yaml: not valid YAML"):
        load_facts(broken)
    with pytest.raises(FactsFileError, match="the facts list is empty"):
        parse_facts({"facts": []}, path=Path("x.yaml"))
    with pytest.raises(FactsFileError, match="expected a mapping with a 'facts' list"):
        parse_facts(["not", "a", "mapping"], path=Path("x.yaml"))


def test_the_niche_topics_are_the_ones_checked(tmp_path):
    path = write(tmp_path, [{**GOOD, "topic": "sleep"}])
    with pytest.raises(FactsFileError, match="not one of the niche's topics \\(cooking\\)"):
        load_facts(path, topics=("cooking",))
