"""Numbers as a reader understands them, so a draft's "seven hours" can be matched to a source's "7 hours".

Every quantity is reduced to a value and the precision it was stated with: "30%", "30 percent" and "30 per cent"
are the percent 30; "1 in 3", "one in three" and "a third of adults" are the percent 33.3…; "5·3 million"
(the Lancet's decimal point), "5.3 million" and "5,300,000" are 5 300 000; "7-9 hours", "7 to 9 hours" and
"between 7 and 9 hours" are the two quantities 7 and 9. A draft's number is supported by a source's when the
source's value lies within half a step of the draft's, the step being the precision the draft stated:
"about 18 million" restates "17.9 million", "33%" restates "one in three", "58%" does not restate "31%".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words that name numbers. "one" alone is too common in prose ("one idea", "no one") to be a claim; a number
# word counts only with a scale, before a unit or "percent", or inside a ratio (see the patterns below).
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9,
    "trillion": 1e12, "k": 1e3, "bn": 1e9,
}
_FRACTIONS = {
    "half": 1 / 2, "a half": 1 / 2, "one half": 1 / 2, "a third": 1 / 3, "one third": 1 / 3,
    "one-third": 1 / 3, "two thirds": 2 / 3, "two-thirds": 2 / 3, "a quarter": 1 / 4, "one quarter": 1 / 4,
    "one-quarter": 1 / 4, "three quarters": 3 / 4, "three-quarters": 3 / 4, "a fifth": 1 / 5,
    "one fifth": 1 / 5, "one-fifth": 1 / 5, "a tenth": 1 / 10, "one tenth": 1 / 10,
}

# Units a number word must precede to be a quantity ("seven hours", "ten thousand steps", "five percent").
MEASURE_NOUNS = (
    "percent", "per cent", "hours", "hour", "minutes", "minute", "seconds", "days", "day", "nights", "night",
    "weeks", "week", "months", "month", "years", "year", "times", "steps", "grams", "gram", "kilograms",
    "kg", "calories", "kcal", "litres", "liters", "litre", "liter", "glasses", "cups", "servings", "portions",
    "people", "adults", "americans", "deaths", "participants", "men", "women", "children",
    "teaspoons", "ounces", "pounds", "lbs", "milligrams", "mg", "countries", "studies", "trials",
    "cohorts", "fold",
)
# The people a fraction is of: "half of adults" is a statistic, "half the battle" is not.
_POPULATION = (
    r"(?:all\s+|the\s+|us\s+|u\.s\.\s+|american\s+|british\s+|uk\s+)?"
    r"(?:adults|people|americans|britons|brits|men|women|children|kids|teens|adolescents|participants|"
    r"patients|deaths|cases|us|the\s+population|the\s+world|the\s+world's\s+population|"
    r"population|workers|students|seniors|older\s+adults|young\s+adults|those)"
)

_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
_WORD_NUMBER = rf"(?:(?:{_NUMBER_WORD})(?:[\s-](?:{_NUMBER_WORD}))?(?:\s+(?:hundred|thousand|million|billion))?)"
_FRACTION_WORD = "|".join(re.escape(f) for f in sorted(_FRACTIONS, key=len, reverse=True))

# Digits with thousands separators (comma, space, thin space; the Lancet writes "10 000") and a decimal point
# that may be the Lancet's middle dot. Separators only between groups of exactly three digits.
_DIGITS = r"(?:\d{1,3}(?:(?:,|[ \u2009\u202f\u00a0])\d{3})+|\d+)(?:[.\u00b7]\d+)?"
_PERCENT = r"(?:\s?%|\s?(?:percent|per\s+cent)\b|\s?percentage\s+points?\b)"
_SCALE = r"(?:\s?(?:hundred|thousand|million|millions|billion|billions|trillion)\b|(?<=\d)(?:k|bn)\b)"

_DIGIT_QUANTITY = re.compile(
    rf"(?<![\w.\u00b7])(?<![A-Za-z]-)(?P<num>{_DIGITS})(?P<scale>{_SCALE})?(?P<pct>{_PERCENT})?",
    re.IGNORECASE,
)
# "1/3 of the salt", "2/3 of adults": a fraction in digits, which a thread's "1/3" numbering is not (no "of").
_SLASH_FRACTION = re.compile(r"(?<![\w/])(?P<a>\d)\s?/\s?(?P<b>\d{1,2})(?=\s+of\b)")
_RATIO = re.compile(
    rf"\b(?P<a>\d+|{_NUMBER_WORD})\s+(?:in|out\s+of)\s+(?:every\s+)?(?P<b>\d+|{_NUMBER_WORD})\b",
    re.IGNORECASE,
)
_FRACTION_OF = re.compile(
    # "half of all heart attacks": a share of all of anything is a statistic
    rf"\b(?P<frac>{_FRACTION_WORD})(?:\s+of)?\s+(?:{_POPULATION}|all\s+(?!the\b|of\b|that\b)[a-z][a-z-]+)\b",
    re.IGNORECASE,
)
# An effect stated as a fraction: "cuts blood sugar spikes in half", "risk drops by a third" (a change of 50%,
# 33%). Said of what something does (a verb's third person or past), not told to the reader: "cut the recipe in
# half" is an instruction; "in half an hour" a time.
_CHANGE_VERB = (r"(?:cuts|halves|slashes|slashed|reduces|reduced|lowers|lowered|drops|dropped|falls|fell|rises|rose|"
                r"increases|increased|boosts|boosted|raises|raised|decreases|decreased|improves|improved|shrinks|"
                r"shrank|grows|grew|jumps|jumped|declines|declined|goes down|went down|goes up|went up)")
# "by almost half", "by nearly a third": still a claim, restating a source's figure within five points.
_HEDGE = r"(?P<hedge>(?:almost|nearly|about|roughly|around|over|up\s+to|more\s+than|close\s+to)\s+)?"
HEDGED_STEP = 10.0
_FRACTION_EFFECT = re.compile(
    rf"\b{_CHANGE_VERB}\b[^.!?\n]{{0,40}}?\b(?P<effect>(?:in|by)\s+{_HEDGE}(?P<frac>{_FRACTION_WORD}))\b"
    rf"(?!\s+(?:an?|the)\b|\s+of\b)",
    re.IGNORECASE,
)
# A number word is a quantity before "percent" or a unit, allowing "or more" and ranges between them ("seven
# hours", "seven or more hours", "seven to nine hours"); or with a scale ("ten thousand", below).
_MEASURE = "|".join(re.escape(n) for n in MEASURE_NOUNS)
_WORD_BEFORE_MEASURE = re.compile(
    rf"\b(?P<num>{_WORD_NUMBER})"
    rf"(?:(?P<pct>\s+(?:percent|per\s+cent)\b)"
    rf"|(?=(?:\s+or\s+(?:more|fewer|less)|\s*(?:-|–|to)\s*(?:{_NUMBER_WORD}))?[\s-]+(?:{_MEASURE})\b))",
    re.IGNORECASE,
)
_WORD_WITH_SCALE = re.compile(
    rf"\b(?:{_NUMBER_WORD})(?:[\s-](?:{_NUMBER_WORD}))?\s+(?:hundred|thousand|million|billion)s?\b", re.IGNORECASE
)

# Numbers that are not claims: clock times, thread numbering, list markers, "24/7".
_CLOCK = re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:a\.?m\.?|p\.?m\.?)(?!\w)|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
_THREAD_NUMBER = re.compile(r"(?<![\w/])\(?\d{1,2}\s?/\s?\d{1,2}\)?(?![\w/])")
# A list marker; alone when the sentence splitter has cut it from its item ("1." of "1. apple + peanut butter").
_LIST_MARKER = re.compile(r"(?m)^\s*\d{1,2}[.)](?:\s|$)")
_TWENTY_FOUR_SEVEN = re.compile(r"\b24/7\b")
# Numbers inside names: "type 2 diabetes", "omega 3", "vitamin B12", "COVID-19".
_NAMES = re.compile(r"\btype\s?[12]\b|\bomega[\s-]?[369]\b|\bvitamin\s+[a-k]\d*\b|\bcovid[\s-]?19\b", re.IGNORECASE)
# Counts of the post's own items ("3 habits", "5 simple swaps") describe the post, not the world.
_POST_ITEMS = (
    "tips", "ways", "habits", "things", "reasons", "ideas", "questions", "rules", "signs", "mistakes", "myths",
    "lessons", "swaps", "tricks", "takeaways", "points", "parts", "principles", "hacks", "strategies",
    "rituals", "changes", "facts", "truths", "steps to", "foods to", "books", "quotes", "examples",
)
_POST_COUNT = re.compile(
    rf"\b(?:\d{{1,2}}|{_NUMBER_WORD})\s+(?:\w+\s+){{0,2}}(?:{'|'.join(re.escape(w) for w in _POST_ITEMS)})\b",
    re.IGNORECASE,
)
_HR_CONTEXT = re.compile(
    r"(?:hazard\s+ratio|odds\s+ratio|relative\s+risk|risk\s+ratio|\bHR\b|\bOR\b|\bRR\b)[^;]{0,150}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    """One number as stated: its value (percent values in percent), whether it is a percent, and the step it
    was stated to ("18 million" → 1e6, "3.8%" → 0.1)."""

    value: float
    percent: bool
    step: float
    text: str
    start: int
    end: int

    def restates(self, source: "Quantity") -> bool:
        """True when ``source``'s value is within half of this quantity's stated step of its value."""
        if self.percent != source.percent:
            return False
        return abs(source.value - self.value) <= self.step / 2 + 1e-9 * max(1.0, abs(self.value))


def _clean(text: str) -> str:
    # NFKC maps the many Unicode digit and space forms to plain ones; the middle dot survives and is handled.
    return unicodedata.normalize("NFKC", text)


def _word_value(words: str) -> float | None:
    total, current = 0.0, 0.0
    for token in re.split(r"[\s-]+", words.lower().strip()):
        if not token:
            continue
        if token in _UNITS:
            current += _UNITS[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token in _SCALES:
            scale = _SCALES[token]
            current = max(current, 1.0) * scale
            if scale >= 1e3:
                total, current = total + current, 0.0
        else:
            return None
    return total + current


def _digit_value(num: str) -> tuple[float, float]:
    """Value and step of a digit string: '10 000' → (10000, 1), '5·3' → (5.3, 0.1)."""
    num = re.sub(r"[,\s\u2009\u202f\u00a0]", "", num).replace("\u00b7", ".")
    if "." in num:
        decimals = len(num.split(".", 1)[1])
        return float(num), 10.0 ** -decimals
    return float(num), 1.0


def _scale_of(scale: str | None) -> float:
    if not scale:
        return 1.0
    return _SCALES[scale.strip().lower()]


def _exempt_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for pattern in (_CLOCK, _THREAD_NUMBER, _LIST_MARKER, _TWENTY_FOUR_SEVEN, _NAMES, _POST_COUNT):
        spans.extend(m.span() for m in pattern.finditer(text))
    return spans


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in spans)


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def quantities(text: str, *, derive_ratio_complements: bool = False) -> list[Quantity]:
    """Every quantity a reader would take as a stated number, in order of appearance.

    ``derive_ratio_complements`` (for source text) adds, for a hazard, odds or risk ratio r below 1, the
    percent 100·(1−r): a source's "hazard ratio 0.49" supports a draft's "51% lower risk".
    """
    text = _clean(text)
    exempt = _exempt_spans(text)
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []

    def add(q: Quantity) -> None:
        found.append(q)
        taken.append((q.start, q.end))

    for m in _RATIO.finditer(text):
        a, b = (_word_value(x) if not x.isdigit() else float(x) for x in (m.group("a"), m.group("b")))
        if a is None or not b or b > 1000 or a > b or _inside(m.span(), exempt):
            continue
        # "1 in 3" is a rounded statement: it restates 33% or 33.3%, not 35%.
        add(Quantity(100 * a / b, True, 1.0, m.group(0), *m.span()))
    for m in _SLASH_FRACTION.finditer(text):
        a, b = int(m.group("a")), int(m.group("b"))
        if 0 < a < b:
            add(Quantity(100 * a / b, True, 1.0, m.group(0), *m.span()))
    for pattern, group in ((_FRACTION_OF, 0), (_FRACTION_EFFECT, "effect")):
        for m in pattern.finditer(text):
            if _overlaps(m.span(group), taken):
                continue
            value = 100 * _FRACTIONS[m.group("frac").lower()]
            step = HEDGED_STEP if "hedge" in pattern.groupindex and m.group("hedge") else 1.0
            add(Quantity(value, True, step, m.group(group), *m.span(group)))
    for m in _DIGIT_QUANTITY.finditer(text):
        span = m.span("num")
        if _overlaps(span, taken) or _inside(span, exempt):
            continue
        value, step = _digit_value(m.group("num"))
        scale = _scale_of(m.group("scale"))
        pct = m.group("pct") is not None
        add(Quantity(value * scale, pct, step * scale, m.group(0).strip(), m.start(), m.end()))
        if derive_ratio_complements and not pct and 0 < value < 1 and _HR_CONTEXT.search(text[: m.start()]):
            complement = round(100 * (1 - value), 6)
            add(Quantity(complement, True, step * 100, f"{m.group(0)} (1−ratio)", m.start(), m.end()))
    for pattern in (_WORD_WITH_SCALE, _WORD_BEFORE_MEASURE):
        for m in pattern.finditer(text):
            span = m.span("num") if "num" in pattern.groupindex else m.span()
            if _overlaps(span, taken) or _inside(span, exempt):
                continue
            words = m.group("num") if "num" in pattern.groupindex else m.group(0)
            word_value = _word_value(words)
            if word_value is None:
                continue
            pct = "pct" in pattern.groupindex and m.group("pct") is not None
            add(Quantity(word_value, pct, 1.0, m.group(0).strip(), *span))
    found.sort(key=lambda q: q.start)
    return _percent_ranges(text, found)


_RANGE_JOIN = re.compile(r"^\s*(?:-|–|—|to|and)\s*$")


def _percent_ranges(text: str, found: list[Quantity]) -> list[Quantity]:
    """In "15–30%" or "between 15 and 30 percent" the first number is a percent too."""
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        first, second = out[i], out[i + 1]
        if is_year(first):
            continue
        if not first.percent and second.percent and _RANGE_JOIN.match(text[first.end:second.start]):
            out[i] = Quantity(first.value, True, first.step, first.text, first.start, first.end)
    return out


def years(text: str) -> list[int]:
    """Four-digit years (1900-2099) named in a text, e.g. the "2023" of "a 2023 study"."""
    pattern = r"(?<!\d)(?<!\d[.,\u00b7])(19\d{2}|20\d{2})(?!\d|[.,\u00b7]\d|\s?%)"
    return [int(y) for y in re.findall(pattern, _clean(text))]


def is_year(q: Quantity) -> bool:
    return not q.percent and q.step == 1.0 and 1900 <= q.value <= 2099 and q.value == int(q.value)


def supported_by(q: Quantity, sources: list[Quantity]) -> bool:
    return any(q.restates(s) for s in sources)


__all__ = ["Quantity", "is_year", "quantities", "supported_by", "years"]

