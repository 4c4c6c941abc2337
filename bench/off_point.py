"""What the reply gates read of an answer that misses the reply it answers (review category ``off_point``).

    python -m bench.off_point

On tests/unit/gates/corpus/conversation_answers.yaml (answers in our own conversations, labelled on_point or
off_point; sets a and b written blind), per set: what the rule gates (libs/gates/replies.gate_reply, the
grounding at the niche's threshold included) do with each label, and how well the grounding similarity alone
ranks on_point above off_point (AUC: 0.5 is chance). The figures say why the model review is the reader of this
(README, Learner, "Answering our own conversations", "Answers that miss the reply"): no threshold of the
similarity lets few off-point answers through without refusing many good ones.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import yaml

from libs.gates.grounding import grounding_similarity
from libs.gates.replies import gate_reply
from libs.niche import load_niche
from libs.text import Embedder

CORPUS = Path(__file__).resolve().parent.parent / "tests/unit/gates/corpus/conversation_answers.yaml"


def auc(on_point: np.ndarray, off_point: np.ndarray) -> float:
    """The chance that an on-point answer scores above an off-point one (ties count half)."""
    above = (on_point[:, None] > off_point[None, :]).mean()
    ties = (on_point[:, None] == off_point[None, :]).mean()
    return float(above + ties / 2)


def main() -> None:
    config, embedder = load_niche(), Embedder("minilm_int8")
    for name, items in yaml.safe_load(CORPUS.read_text(encoding="utf-8")).items():
        verdicts: Counter[tuple[str, str]] = Counter()
        similarity: dict[str, list[float]] = {"on_point": [], "off_point": []}
        for item in items:
            sim = grounding_similarity(embedder, item["answer"], item["reply"])
            similarity[item["label"]].append(sim)
            verdict = gate_reply(item["answer"], item["reply"], config=config, similarity=sim,
                                 embedder_kind=embedder.kind)
            verdicts[(item["label"], verdict.gate if verdict else "passed")] += 1
        print(f"set {name}: {len(items)} answers")
        for label in ("on_point", "off_point"):
            n = len(similarity[label])
            counts = ", ".join(f"{gate} {k}" for (lab, gate), k in sorted(verdicts.items()) if lab == label)
            print(f"  {label} ({n}): {counts}")
        print(f"  grounding similarity, AUC on_point over off_point: "
              f"{auc(np.array(similarity['on_point']), np.array(similarity['off_point'])):.3f}")


if __name__ == "__main__":
    main()
