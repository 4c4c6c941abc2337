"""Recalibrate the grounding threshold for the embedder in use: ``python -m libs.gates.calibrate``.

Reads the training half of tests/data/ordinary_replies.yaml (tweets with good replies) and prints the value for
``replies.grounding_min_similarity.<kind>`` in the niche file; tests/unit/gates/test_grounding_calibration.py
runs the same calibration and fails when the configured value has drifted from it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from libs.gates.grounding import Calibration, calibrate
from libs.text import Embedder

ORDINARY_CORPUS = Path(__file__).parents[2] / "tests" / "data" / "ordinary_replies.yaml"


def calibrate_on_corpus(embedder: Embedder, path: Path = ORDINARY_CORPUS) -> Calibration:
    items = [i for i in yaml.safe_load(path.read_text(encoding="utf-8"))["items"] if i["split"] == "train"]
    return calibrate(embedder, [(i["tweet"], i["reply"]) for i in items])


def main() -> None:
    result = calibrate_on_corpus(Embedder())
    print(f"replies.grounding_min_similarity.{result.kind}: {result.threshold:.2f}  "
          f"(good replies refused {result.good_refused:.1%}, mismatched replies passed "
          f"{result.mismatched_passed:.1%}, {result.pairs} pairs)")


if __name__ == "__main__":
    main()
