"""A transparent embedding for the harvester's unit tests: one axis per marker word.

A text's vector counts the marker words it contains, so similarity to a topic description is 1 when the text
shares only that topic's marker, 0 when it shares none, in between for mixed texts: relevance is known exactly
without loading a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest

from services.harvester.selection import TopicRelevance
from services.harvester.settings import NicheTopic

MARKERS = ("sleep", "protein", "bitcoin", "football")


def marker_embed(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), len(MARKERS)), dtype=np.float32)
    for i, text in enumerate(texts):
        words = re.findall(r"\w+", text.lower())
        for j, marker in enumerate(MARKERS):
            out[i, j] = words.count(marker)
        norm = np.linalg.norm(out[i])
        if norm:
            out[i] /= norm
    return out


TOPICS = (
    NicheTopic(name="sleep", description="all about sleep", keywords=("sleep",)),
    NicheTopic(name="nutrition", description="protein and meals", keywords=("protein",)),
)


# Module scope: stateless, and hypothesis refuses function-scoped fixtures.
@pytest.fixture(scope="module")
def relevance() -> TopicRelevance:
    return TopicRelevance(TOPICS, marker_embed)
