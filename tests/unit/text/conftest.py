import pytest

from libs.text import Embedder


@pytest.fixture(scope="session")
def model_embedder() -> Embedder:
    # Loading the model takes seconds: once per session.
    return Embedder(prefer="minilm_int8")


@pytest.fixture(scope="session")
def lexical_embedder() -> Embedder:
    return Embedder(prefer="lexical")
