"""What the gates' tests share: the packaged MiniLM the readers by meaning were trained on."""

from __future__ import annotations

import pytest

from libs.text import Embedder


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return Embedder("minilm_int8")
