import pytest

from libs.facts import FactBook, load_niche_facts
from libs.niche import load_niche
from libs.text import Embedder


@pytest.fixture(scope="session")
def book() -> FactBook:
    return load_niche_facts(load_niche())


@pytest.fixture(scope="session")
def lexical_embedder() -> Embedder:
    return Embedder(prefer="lexical")


@pytest.fixture(scope="session")
def model_embedder() -> Embedder:
    # Loading the model takes seconds: once per session.
    return Embedder(prefer="minilm_int8")


@pytest.fixture(scope="session", params=["lexical", "minilm_int8"])
def embedder(request, lexical_embedder, model_embedder) -> Embedder:
    return lexical_embedder if request.param == "lexical" else model_embedder
