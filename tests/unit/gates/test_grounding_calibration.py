"""The grounding threshold in the niche file is what calibration gives for the embedder in use.

Re-run when the embedder changes: ``python -m libs.gates.calibrate`` prints the value to put in
``replies.grounding_min_similarity.<kind>``; this test fails until the niche file carries it.
"""

import pytest

from libs.gates import calibrate
from libs.gates.calibrate import calibrate_on_corpus
from libs.niche import load_niche
from libs.text import Embedder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_configured_threshold_matches_a_fresh_calibration(embedder: Embedder) -> None:
    result = calibrate_on_corpus(embedder)
    configured = load_niche().replies.grounding_min_similarity.get(embedder.kind)
    assert configured is not None, f"no grounding threshold for {embedder.kind!r}: run python -m libs.gates.calibrate"
    # At or a little below the calibrated value (a margin for new replies), never above it.
    assert result.threshold - 0.03 <= configured <= result.threshold, (configured, result)
    assert result.good_refused <= 0.02


def test_meaning_separates_good_replies_from_mismatched_ones(embedder: Embedder) -> None:
    if embedder.kind == "lexical":
        pytest.fail("the grounding gate needs a sentence model; the lexical fallback cannot judge meaning")
    result = calibrate_on_corpus(embedder)
    # A reply to another niche tweet still passes sometimes (same niche, nearby topics), but mostly not.
    assert result.mismatched_passed < 0.35, result


def test_calibration_needs_enough_pairs(embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        calibrate(embedder, [("a tweet", "a reply")])
