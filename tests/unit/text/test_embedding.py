import sys

import numpy as np
import pytest

from libs.text import EMBEDDER_KINDS, Embedder, cosine, max_similarity

PARAPHRASES = (
    "Getting morning sunlight helps you fall asleep faster at night.",
    "Morning light exposure makes it easier to fall asleep in the evening.",
)
UNRELATED = "Compound interest rewards investors who start early."


@pytest.mark.parametrize("which", ["model_embedder", "lexical_embedder"])
def test_vectors_are_unit_length(which: str, request: pytest.FixtureRequest) -> None:
    emb: Embedder = request.getfixturevalue(which)
    vecs = emb.embed([*PARAPHRASES, UNRELATED])
    assert vecs.shape == (3, emb.dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_model_is_the_packaged_minilm_without_torch(model_embedder: Embedder) -> None:
    assert model_embedder.kind == "minilm_int8"
    assert model_embedder.dim == 384
    assert model_embedder.kind in EMBEDDER_KINDS and "lexical" in EMBEDDER_KINDS
    # The point of the int8 ONNX model: no PyTorch (nor sentence-transformers) in the process.
    assert "torch" not in sys.modules and "sentence_transformers" not in sys.modules


def test_lexical_kind(lexical_embedder: Embedder) -> None:
    assert lexical_embedder.kind == "lexical"


@pytest.mark.parametrize("which", ["model_embedder", "lexical_embedder"])
def test_paraphrase_is_closer_than_unrelated(which: str, request: pytest.FixtureRequest) -> None:
    emb: Embedder = request.getfixturevalue(which)
    a, b, c = emb.embed([*PARAPHRASES, UNRELATED])
    assert cosine(a, b) > cosine(a, c) + 0.1
    assert max_similarity(a, np.stack([b, c])) == pytest.approx(cosine(a, b), abs=1e-5)


def test_identical_texts_have_similarity_one(lexical_embedder: Embedder, model_embedder: Embedder) -> None:
    for emb in (lexical_embedder, model_embedder):
        a, b = emb.embed([PARAPHRASES[0], PARAPHRASES[0]])
        assert cosine(a, b) == pytest.approx(1.0, abs=1e-5)


def test_empty_inputs() -> None:
    emb = Embedder(prefer="lexical")
    assert emb.embed([]).shape == (0, emb.dim)
    assert max_similarity(emb.embed_one("x"), np.zeros((0, emb.dim))) == 0.0
    assert cosine(np.zeros(3), np.ones(3)) == 0.0


def test_an_unknown_preference_is_refused() -> None:
    with pytest.raises(ValueError, match="prefer"):
        Embedder(prefer="minilm")  # type: ignore[arg-type]


def test_batches_give_the_same_vectors_as_single_texts(model_embedder: Embedder) -> None:
    # Padding to the longest text of a batch must not change a shorter text's vector (the mask excludes it).
    import libs.text.embedding as embedding

    texts = [*PARAPHRASES, UNRELATED, "Sleep."]
    embedding._caches.clear()
    batch = model_embedder.embed(texts)
    for text, row in zip(texts, batch):
        embedding._caches.clear()  # else the text's vector would come from the batch's call
        assert np.allclose(model_embedder.embed_one(text), row, atol=1e-5)


def test_a_text_embedded_again_is_answered_from_the_cache_which_stays_bounded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import libs.text.embedding as embedding

    computed: list[str] = []
    real = embedding.lexical_vector

    def counted(text: str) -> np.ndarray:
        computed.append(text)
        return real(text)

    monkeypatch.setattr(embedding, "lexical_vector", counted)
    monkeypatch.setattr(embedding, "CACHE_BYTES", 3 * embedding.LEXICAL_DIM * 4)  # three lexical vectors
    monkeypatch.setattr(embedding, "_caches", {})
    emb = Embedder(prefer="lexical")
    first = emb.embed(["a b", "c d", "a b"])
    assert computed == ["a b", "c d"]  # a text repeated within a call is computed once
    again = emb.embed(["c d", "a b"])
    assert computed == ["a b", "c d"] and np.array_equal(again, first[[1, 0]])
    emb.embed(["e f", "g h"])  # four texts for three places: "c d", used least recently, goes
    emb.embed(["a b", "c d"])
    assert computed == ["a b", "c d", "e f", "g h", "c d"]


def test_a_bad_thread_setting_stops_instead_of_falling_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import libs.text.embedding as embedding

    monkeypatch.setattr(embedding, "_model", None)  # as in a fresh process
    monkeypatch.setenv("XBOT_EMBED_THREADS", "many")
    with pytest.raises(ValueError, match="XBOT_EMBED_THREADS"):
        Embedder()


def test_stored_embeddings_are_read_back_in_a_later_process_and_a_bad_store_only_costs_time(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import libs.text.embedding as embedding

    computed: list[str] = []
    real = embedding.lexical_vector
    monkeypatch.setattr(embedding, "lexical_vector", lambda text: computed.append(text) or real(text))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(embedding, "_caches", {})
    texts = ["Adults need 7 or more hours of sleep.", "Fibre feeds the gut's bacteria."]
    first = Embedder(prefer="lexical").embed_stored(texts)
    assert computed == texts
    [stored] = (tmp_path / "cache" / "xbot" / "embeddings").glob("lexical-*.npy")
    monkeypatch.setattr(embedding, "_caches", {})  # a new process: nothing in memory
    again = Embedder(prefer="lexical").embed_stored(texts)
    assert computed == texts and np.array_equal(again, first)
    # Read back into memory too: the gates embed the same texts again without computing them.
    Embedder(prefer="lexical").embed(texts[:1])
    assert computed == texts
    # Other texts are another file: a changed facts file is embedded afresh.
    Embedder(prefer="lexical").embed_stored(texts[:1])
    assert computed == texts  # its text is in memory already, so not computed again
    assert len(list(stored.parent.glob("lexical-*.npy"))) == 2
    # A damaged file is embedded again and replaced.
    stored.write_bytes(b"not an array")
    monkeypatch.setattr(embedding, "_caches", {})
    assert np.array_equal(Embedder(prefer="lexical").embed_stored(texts), first)
    assert computed[-2:] == texts and np.array_equal(np.load(stored), first)
    # A store that cannot be written (a read-only home in a container) still gives the vectors.
    monkeypatch.setenv("XDG_CACHE_HOME", str(stored))  # a file where a directory should be
    monkeypatch.setattr(embedding, "_caches", {})
    assert np.array_equal(Embedder(prefer="lexical").embed_stored(texts), first)
