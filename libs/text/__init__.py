"""Shared text tools: X's length counting, normal forms and hashes, sentence embeddings.

The embedding names load ``libs.text.embedding`` (and numpy with it) on first use: most services import this
package for length and normal forms only, and numpy alone is ~10 MB resident in each of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from libs.core.lazy import lazy_names
from libs.text.kinds import EMBEDDER_KINDS, EmbedderKind
from libs.text.length import MAX_TWEET_LENGTH, URL_LENGTH, find_urls, fits_tweet, x_length
from libs.text.normalise import APOSTROPHES, content_hash, normalise

if TYPE_CHECKING:
    from libs.text.embedding import Embedder, cosine, lexical_vector, max_similarity, model_available

__getattr__ = lazy_names(__name__, {"embedding": ("Embedder", "cosine", "lexical_vector", "max_similarity",
                                                  "model_available")})

__all__ = [
    "APOSTROPHES",
    "EMBEDDER_KINDS",
    "Embedder",
    "EmbedderKind",
    "MAX_TWEET_LENGTH",
    "URL_LENGTH",
    "content_hash",
    "cosine",
    "find_urls",
    "fits_tweet",
    "lexical_vector",
    "max_similarity",
    "model_available",
    "normalise",
    "x_length",
]
