"""Tweet length as X counts it (twitter-text configuration v3).

X counts weighted code points after NFC normalisation: code points in a few Latin/punctuation ranges weigh 1,
every other code point weighs 2 (so CJK counts double), an emoji sequence (ZWJ family, skin tone, flag, keycap)
counts 2 as a whole, and every URL counts 23 whatever its length, because X rewrites it to a t.co link.
The limit is 280 weighted characters.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TWEET_LENGTH = 280
URL_LENGTH = 23
# (first, last) code points of weight 1 in config v3; everything else weighs 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

# Schemes and www. are always links; bare domains only with a TLD that X auto-links and that is common in prose
# about health (a short list keeps "e.g." or "Dr.Smith" from turning into 23 characters).
_TLDS = (
    "com|org|net|io|co|ly|gov|edu|ai|app|dev|me|info|health|uk|de|fr|ca|au|us|tv|news|blog|link|xyz|site|online"
)
URL_RE = re.compile(
    r"(?:https?://[^\s<>\"]+|www\.[^\s<>\"]+"
    r"|(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:" + _TLDS + r")\b(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?)]}'\""


def _is_pictographic(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B05 <= cp <= 0x2B55
        or cp in (0x3030, 0x303D, 0x3297, 0x3299, 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139)
        or 0x2194 <= cp <= 0x21AA
    )


def _is_emoji_component(cp: int) -> bool:
    # Skin tones, variation selector 16, keycap, tag characters: they extend the emoji before them.
    return 0x1F3FB <= cp <= 0x1F3FF or cp in (0xFE0F, 0x20E3) or 0xE0020 <= cp <= 0xE007F


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def _emoji_end(cps: list[int], i: int) -> int:
    """Index just past the emoji sequence starting at ``i``, or ``i`` when none starts there."""
    cp = cps[i]
    n = len(cps)
    if _is_regional_indicator(cp):
        return i + 2 if i + 1 < n and _is_regional_indicator(cps[i + 1]) else i + 1
    if chr(cp) in "0123456789#*":
        # A keycap: digit, optional VS16, U+20E3.
        j = i + 1
        if j < n and cps[j] == 0xFE0F:
            j += 1
        return j + 1 if j < n and cps[j] == 0x20E3 else i
    if not _is_pictographic(cp):
        return i
    # Text-default symbols below U+2000 (© ®) are emoji only with VS16; otherwise they are plain characters.
    if cp < 0x2000 and not (i + 1 < n and cps[i + 1] == 0xFE0F):
        return i
    j = i + 1
    while j < n:
        if _is_emoji_component(cps[j]):
            j += 1
        elif cps[j] == 0x200D and j + 1 < n and _is_pictographic(cps[j + 1]):
            j += 2
        else:
            break
    return j


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each emoji sequence in ``text``, as X draws each one as one image."""
    cps = [ord(c) for c in text]
    spans = []
    i = 0
    while i < len(cps):
        end = _emoji_end(cps, i)
        if end > i:
            spans.append((i, end))
        i = max(end, i + 1)
    return spans


def _text_weight(text: str) -> int:
    cps = [ord(c) for c in text]
    total = 0
    i = 0
    while i < len(cps):
        end = _emoji_end(cps, i)
        if end > i:
            total += 2
            i = end
        else:
            total += _weight(cps[i])
            i += 1
    return total


def find_urls(text: str) -> list[str]:
    """URLs in ``text`` as X would link them (trailing punctuation is not part of a link)."""
    return [m.rstrip(_TRAILING_PUNCT) for m in URL_RE.findall(text)]


def x_length(text: str) -> int:
    """Weighted length of ``text`` as X counts it against the 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for m in URL_RE.finditer(text):
        url = m.group(0).rstrip(_TRAILING_PUNCT)
        total += _text_weight(text[pos : m.start()]) + URL_LENGTH
        pos = m.start() + len(url)
    return total + _text_weight(text[pos:])


def fits_tweet(text: str, limit: int = MAX_TWEET_LENGTH) -> bool:
    return x_length(text) <= limit
