"""The embedder kinds a similarity threshold is keyed by (``Embedder.kind``), apart from the embedder itself so
that reading a niche file's threshold tables needs no numpy."""

from __future__ import annotations

from typing import Literal, get_args

EmbedderKind = Literal["minilm_int8", "lexical"]
EMBEDDER_KINDS: tuple[str, ...] = get_args(EmbedderKind)
