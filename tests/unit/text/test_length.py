import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.text import URL_LENGTH, find_urls, fits_tweet, x_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("a" * 280, 280),
        ("café", 4),  # Latin-1 supplement weighs 1
        ("睡眠", 4),  # CJK weighs 2
        ("こんにちは", 10),
        ("👍", 2),
        ("👍🏽", 2),  # skin tone joins the emoji
        ("👨\u200d👩\u200d👧", 2),  # a ZWJ family is one emoji
        ("🇫🇷", 2),  # a flag is a pair of regional indicators
        ("1\ufe0f\u20e3", 2),  # keycap
        ("\u2014", 1),  # em dash is in the light range 0x2010-0x201F
        ("\u2026", 2),  # ellipsis is not
        ("sleep 👍 well", 13),
        ("e\u0301", 1),  # NFC composes e + combining acute into é
    ],
)
def test_weighted_characters(text: str, expected: int) -> None:
    assert x_length(text) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://a.co",
        "https://www.nih.gov/news-events/nih-research-matters/very/long/path?with=query&and=more",
        "www.example.org/sleep",
        "example.com",
        "pubmed.ncbi.nlm.nih.gov/12345678",
    ],
)
def test_every_url_counts_23(url: str) -> None:
    assert x_length(url) == URL_LENGTH
    assert x_length(f"read {url} now") == len("read ") + URL_LENGTH + len(" now")


def test_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert find_urls("see https://example.com/a.") == ["https://example.com/a"]
    assert x_length("see https://example.com/a.") == 4 + URL_LENGTH + 1


def test_abbreviations_are_not_urls() -> None:
    assert find_urls("e.g. magnesium, i.e. not a link, Dr. Walker said") == []
    assert x_length("e.g. i.e.") == 9


def test_fits_tweet_boundary() -> None:
    assert fits_tweet("a" * 280)
    assert not fits_tweet("a" * 281)
    assert fits_tweet("睡" * 140)
    assert not fits_tweet("睡" * 141)


@given(st.text(alphabet=st.characters(max_codepoint=0x10FF, exclude_categories=("Cs",)), max_size=50))
def test_latin_text_without_links_counts_code_points(text: str) -> None:
    import unicodedata

    if find_urls(text) or any(c in "0123456789#*" for c in text):
        return  # links and keycaps are weighted differently
    if any(ord(c) in (0xA9, 0xAE) for c in text):
        return
    normalised = unicodedata.normalize("NFC", text)
    if any(ord(c) > 0x10FF for c in normalised):
        return  # composition can leave the range ("<" + U+0338 is "≮", U+226E, which X weighs 2)
    assert x_length(text) == len(normalised)


@given(st.text(max_size=80), st.text(max_size=80))
def test_length_is_subadditive_over_concatenation_with_space(a: str, b: str) -> None:
    # Joining can merge a URL or an emoji sequence, never make the whole longer than its parts plus the space
    # by more than URL rewriting allows; the sum of parts is an upper bound when no link is involved.
    if find_urls(a + " " + b) or find_urls(a) or find_urls(b):
        return
    assert x_length(a + " " + b) <= x_length(a) + x_length(b) + 1
