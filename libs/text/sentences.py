"""Where a tweet's sentences end: after ``.``, ``!`` or ``?`` (and the closing quotes or brackets right after
it) followed by a space, but not after an abbreviation a sentence goes on past ("Yusuf et al. (INTERHEART)", "e.g.
walking", "Dr. Smith", "vs. 31%", "U.S. adults") or a name's initial ("J. Smith").

Cutting a text at a false end leaves half a citation: a queued post of the demo ended "(Yusuf et al." when the
over-long answer was shortened sentence by sentence.
"""

from __future__ import annotations

import re

_END = re.compile(r"[.!?][)\"'”’\]]*(?=\s)")
# Abbreviations that a sentence goes on after (lower-cased, without their last dot). Words that end sentences as
# often as not ("etc.", "No.", "min.") are left out: a missed end only leaves a cut fewer places to go.
ABBREVIATIONS = frozenset({
    "al", "e.g", "i.e", "vs", "cf", "approx", "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "fig", "vol", "u.s",
    "u.k", "e.u", "u.n", "inc", "ltd", "dept",
})
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the ``.`` at ``dot`` closes an abbreviation or an initial rather than a sentence."""
    m = _WORD_BEFORE.search(text, 0, dot)
    if m is None:
        return False
    word = m.group(1)
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper())


def sentence_ends(text: str) -> list[int]:
    """Offsets just past each sentence end of ``text`` that is followed by more text (a cut may go there)."""
    return [m.end() for m in _END.finditer(text) if text[m.start()] != "." or not _is_abbreviation(text, m.start())]


def split_sentences(text: str) -> list[str]:
    """``text``'s sentences (and lines) in order, stripped, empty ones left out."""
    out: list[str] = []
    for line in text.splitlines():
        start = 0
        for end in [*sentence_ends(line), len(line)]:
            if line[start:end].strip():
                out.append(line[start:end].strip())
            start = end
    return out


def balanced(text: str) -> bool:
    """Whether every bracket ``text`` opens is closed (a cut inside a citation is not)."""
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
    return depth == 0
