"""Shared text tools: X's length counting, normal forms and hashes, sentence embeddings."""

from libs.text.embedding import (
    EMBEDDER_KINDS, Embedder, EmbedderKind, cosine, lexical_vector, max_similarity, model_available,
)
from libs.text.length import MAX_TWEET_LENGTH, URL_LENGTH, find_urls, fits_tweet, x_length
from libs.text.normalise import content_hash, normalise

__all__ = [
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
