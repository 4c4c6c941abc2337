"""Numbers as a reader understands them: the normalisation the claims gate compares with."""

import pytest

from libs.facts.numbers import is_year, quantities, supported_by, years


def values(text: str, **kw) -> list[tuple[float, bool]]:
    return [(round(q.value, 4), q.percent) for q in quantities(text, **kw)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 hours", [(7, False)]),
        ("seven hours", [(7, False)]),
        ("seven or more hours", [(7, False)]),
        ("seven to nine hours", [(7, False), (9, False)]),
        ("30%", [(30, True)]),
        ("30 percent", [(30, True)]),
        ("30 per cent", [(30, True)]),
        ("thirty percent", [(30, True)]),
        ("7-9 hours", [(7, False), (9, False)]),
        ("between 7 and 9 hours", [(7, False), (9, False)]),
        ("a 15–30% decrease", [(15, True), (30, True)]),
        ("between 15 and 30 percent", [(15, True), (30, True)]),
        ("10,000 steps", [(10000, False)]),
        ("10 000 steps", [(10000, False)]),
        ("ten thousand steps", [(10000, False)]),
        ("5·3 million", [(5.3e6, False)]),  # the Lancet's decimal point
        ("5.3 million", [(5.3e6, False)]),
        ("1.28 billion adults", [(1.28e9, False)]),
        ("1 in 3 adults", [(33.3333, True)]),
        ("one in three adults", [(33.3333, True)]),
        ("a third of adults", [(33.3333, True)]),
        ("half of adults", [(50, True)]),
        ("twenty-five grams", [(25, False)]),
    ],
)
def test_quantities_are_read_as_a_reader_reads_them(text, expected):
    assert values(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Go to bed at 10pm and get up at 6:30.",  # clock times
        "1/5 Sleep is maintenance.",  # thread numbering
        "3 habits that fix most bad nights",  # the post's own items
        "type 2 diabetes, omega-3 and COVID-19",  # numbers inside names
        "half the battle",  # a fraction of no population
        "one idea, no one else, one of the best",  # "one" in prose
        "open 24/7",
    ],
)
def test_numbers_that_are_not_claims(text):
    assert quantities(text) == []


@pytest.mark.parametrize(
    ("draft", "source"),
    [
        ("seven hours", "7 or more hours"),
        ("30 percent", "30%"),
        ("about 18 million", "17.9 million"),
        ("33%", "1 in 3 adults"),
        ("one in three adults", "33% of"),
        ("58%", "reduced the incidence by 58 percent"),
        ("5.3 million", "more than 5·3 million"),
        ("10,000 steps", "10 000 steps"),
        ("15-30%", "a 15–30% decrease"),
    ],
)
def test_a_restated_number_is_supported(draft, source):
    src = quantities(source)
    assert quantities(draft), draft
    assert all(supported_by(q, src) for q in quantities(draft))


@pytest.mark.parametrize(
    ("draft", "source"),
    [
        ("68%", "58 percent"),
        ("35%", "1 in 3"),
        ("6 hours", "7 hours"),
        ("30", "30%"),  # a percent is not a count
        ("19 million", "17.9 million"),
        ("3.9%", "3.8%"),
    ],
)
def test_a_different_number_is_not_supported(draft, source):
    assert not any(supported_by(q, quantities(source)) for q in quantities(draft))


def test_a_ratio_below_one_supports_the_percent_it_implies_only_in_ratio_context():
    hr = "adjusted hazard ratio for 8000 steps/d vs 4000 steps/d, 0.49"
    (pct,) = quantities("51% lower risk")
    assert supported_by(pct, quantities(hr, derive_ratio_complements=True))
    assert not supported_by(pct, quantities(hr))
    assert not supported_by(pct, quantities("a mean of 0.49", derive_ratio_complements=True))


def test_years():
    assert years("In 2017, 11 million deaths") == [2017]
    assert years("deaths that occurred worldwide in 2008.") == [2008]
    assert years("2008.5 and 12,017") == []
    (y,) = quantities("a 2023 study")
    assert is_year(y)
