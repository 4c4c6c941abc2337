"""Normal form of a text for exact-duplicate detection.

Two posts that differ only in case, spacing, punctuation, Unicode compatibility forms or link targets are the
same post to a reader (and to X's duplicate filter), so they share one normal form and one hash.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from libs.text.length import URL_RE

# What is typed for an apostrophe: the typographic ’ that most chat models and phone keyboards write, ʼ, and a ‘
# typed for it. Rules written with ' read a text translated by this first (one character for one: offsets hold).
APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'"})

_NON_WORD = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = URL_RE.sub(" url ", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def content_hash(text: str) -> str:
    """Hex SHA-256 of the normal form: equal for texts that are duplicates of each other."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()
