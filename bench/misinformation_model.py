"""Train the misinformation model (libs/gates/misinformation.py, the reader by meaning beside the rule): a logistic
regression on a tweet's MiniLM embedding.

    python -m bench.misinformation_model [--out libs/gates/misinformation_model.json] [--folds]

Positives: the false claims of the labelled sets written blind (tests/unit/gates/misinformation_corpus.yaml, every
set but ``held_out``); negatives: their look-alikes (debunks, medication taken as prescribed) and the ordinary
texts the account meets which the rule leaves alone (bench.crisis_model.everyday_texts, ~10,000; not the sandbox
population's own misinformation posts). False claims weigh ``WEIGHT``. ``--folds`` prints the figures the settings
were chosen on (train on one set, read the other; README, Benchmarks, "Misinformation in the posts we answer"):
the most false claims found with at most 10 % of look-alikes flagged.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from bench.crisis_model import _probability, everyday_texts, fit
from libs.gates.misinformation import MODEL_PATH, misinformation
from libs.text import Embedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests/unit/gates/misinformation_corpus.yaml"
HELD_OUT = "held_out"
WEIGHT = 20.0
THRESHOLD = 0.7


def main() -> None:
    from sandbox.population import MISINFORMATION_POSTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--folds", action="store_true", help="print the train-on-one, read-the-other figures too")
    args = parser.parse_args()
    embedder = Embedder("minilm_int8")
    corpus = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    sets = {name: part for name, part in corpus.items() if name != HELD_OUT}
    vectors, labels = {}, {}
    for name, part in sets.items():
        texts = [e["tweet"] for e in part["misinformation"]] + [e["tweet"] for e in part["ordinary"]]
        vectors[name] = embedder.embed(texts)
        labels[name] = np.r_[np.ones(len(part["misinformation"])), np.zeros(len(part["ordinary"]))]
    ordinary = [t for t in everyday_texts() if misinformation(t) is None and t not in MISINFORMATION_POSTS]
    o_vectors = embedder.embed(ordinary)

    def train(names: list[str], o_rows: np.ndarray, weight: float = WEIGHT) -> np.ndarray:
        x = np.vstack([vectors[n] for n in names] + [o_vectors[o_rows]])
        y = np.concatenate([labels[n] for n in names] + [np.zeros(int(o_rows.sum()))])
        return fit(x, y, np.where(y == 1, weight, 1.0))

    if args.folds:
        fold = np.random.default_rng(0).integers(0, len(sets), len(ordinary))
        for weight in (5.0, 10.0, 20.0, 40.0):
            scored = []
            for i, name in enumerate(sets):
                beta = train([n for n in sets if n != name], fold != i, weight)
                scored.append((labels[name], _probability(beta, vectors[name]),
                               _probability(beta, o_vectors[fold == i])))
            for threshold in (0.5, 0.6, 0.7, 0.8):
                found = sum(int(((p > threshold) & (y == 1)).sum()) for y, p, _ in scored)
                alike = sum(int(((p > threshold) & (y == 0)).sum()) for y, p, _ in scored)
                plain = sum(int((o > threshold).sum()) for _, _, o in scored)
                print(f"weight {weight} threshold {threshold}: found {found}/{sum(int(y.sum()) for y, _, _ in scored)}"
                      f", look-alikes flagged {alike}/{sum(int((y == 0).sum()) for y, _, _ in scored)}, ordinary "
                      f"{plain}/{len(ordinary)}")
    beta = train(list(sets), np.ones(len(ordinary), bool))
    model = {"embedder": embedder.kind, "threshold": THRESHOLD, "intercept": round(float(beta[-1]), 6),
             "weights": [round(float(w), 6) for w in beta[:-1]],
             "trained_on": {"false_claims": int(sum(labels[n].sum() for n in sets)),
                            "look_alikes": int(sum((labels[n] == 0).sum() for n in sets)), "ordinary": len(ordinary),
                            "sets": list(sets)}}
    args.out.write_text(json.dumps(model) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {model['trained_on']}")


if __name__ == "__main__":
    main()
