"""Our tweet length (libs/text/length.py) against twitter-text's parse_tweet (the PyPI port twitter-text-parser
3.0.0 of X's official library, configuration v3), on the texts the planner writes: words, typographic
punctuation, accented letters, CJK, emoji of every shape X joins (skin tones, ZWJ sequences, flags, keycaps) and
links. README "Tweet length" says why we keep our own counter and where the two differ (malformed sequences only:
a lone zero-width joiner or skin tone, half a flag)."""

from __future__ import annotations

import random

import pytest
from twitter_text import parse_tweet

from libs.text import MAX_TWEET_LENGTH, x_length

WORDS = ("sleep protein fibre walk stress cortisol zone cardio study trial meta-analysis habit morning light gut "
         "microbiome hydration glucose insulin heart rate VO2max strength café naïve résumé "
         "睡眠 こんにちは 건강").split()
EMOJI = ("🌅", "👍🏽", "❤️", "☕", "🧠", "💪", "🥦", "😴",
         "🚶‍♀️", "👨‍⚕️", "👨‍👩‍👧‍👦", "🇬🇧", "🇩🇪",
         "✅", "⚠️", "1️⃣", "#️⃣", "🔥", "🏳️‍🌈")
PUNCTUATION = ("—", "–", "…", "“", "”", "’", "→", "★", "♥", "°", "₂", ":", "(", ")", "!", "?", "%")
LINKS = ("https://pubmed.ncbi.nlm.nih.gov/12345678/", "www.cdc.gov/sleep", "nih.gov", "https://example.com/a?b=c#d",
         "http://bit.ly/x", "https://www.who.int/news-room/fact-sheets/detail/physical-activity")


def tweet_like(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 60)):
        r = rng.random()
        pool = EMOJI if r < 0.1 else LINKS if r < 0.13 else PUNCTUATION if r < 0.25 else WORDS
        parts.append(rng.choice(pool))
    return " ".join(parts)


@pytest.mark.parametrize("seed", range(2))
def test_our_length_is_twitter_texts_on_tweet_like_texts(seed: int) -> None:
    rng = random.Random(seed)
    texts = [tweet_like(rng) for _ in range(200)]
    counted = [(t, x_length(t), parse_tweet(t).weightedLength) for t in texts]
    differ = [c for c in counted if c[1] != c[2]]
    assert not differ, differ[:3]
    # The texts span the limit, so the 280 verdict is exercised on both sides.
    assert {ours > MAX_TWEET_LENGTH for _, ours, _ in counted} == {True, False}


@pytest.mark.parametrize("text", [
    "a" * 280, "é" * 280, "睡" * 140, "👍🏽" * 140, "https://example.com/" + "x" * 300,
    "Zone 2 cardio: 150 min/week → better VO₂max.", "It's 2°C… brr ❄️", "🇫🇷🇩🇪 flags", "1️⃣ keycap",
])
def test_edge_texts_agree(text: str) -> None:
    assert x_length(text) == parse_tweet(text).weightedLength
