"""Train the crisis model (libs/gates/crisis.py, ``CrisisModel``): a logistic regression on a tweet's MiniLM
embedding, the second reader beside the crisis rule.

    python -m bench.crisis_model [--out libs/gates/crisis_model.json] [--folds]

Positives: the crisis tweets of the labelled sets written blind (tests/unit/gates/corpus/crisis_tweets.yaml, every
set but ``model_held_out``); negatives: their look-alikes (hyperbole, jokes, information) and ordinary texts the
account meets, which the rule does not flag: the sandbox population's posts and replies over three days of three
seeds and the other corpora's ordinary texts (~10,000). Crisis tweets weigh 20 (a missed one is the harm; a lost
reply opportunity costs little). ``--folds`` prints the leave-one-set-out figures the settings were chosen on
(L2 3, weight 20, threshold 0.8: README, Benchmarks, "People in a crisis, read by meaning").
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import yaml

from libs.gates.crisis import MODEL_PATH, crisis
from libs.text import Embedder

ROOT = Path(__file__).resolve().parent.parent
CRISIS_CORPUS = ROOT / "tests/unit/gates/corpus/crisis_tweets.yaml"
HELD_OUT = "model_held_out"
L2 = 3.0
CRISIS_WEIGHT = 20.0
THRESHOLD = 0.8
STEPS = 300
RATE = 5.0


def _strings(node: object) -> Iterator[str]:
    """Every text in a corpus but its labels and notes, and no tweet a corpus marks as a crisis."""
    if isinstance(node, str):
        if len(node) > 15:
            yield node
    elif isinstance(node, dict):
        if node.get("crisis") is True:
            return
        for key, value in node.items():
            if key not in ("kind", "id", "why", "note", "expect"):
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def ordinary_texts() -> list[str]:
    """Texts the account meets that tell of no crisis and that the rule leaves alone."""
    from sandbox.population import CRISIS_POSTS

    # The population's own crisis posts (1 % of its posts, some in words the rule does not read) are not ordinary.
    return [t for t in everyday_texts() if crisis(t) is None and t not in CRISIS_POSTS]


def everyday_texts() -> list[str]:
    """Texts the account meets: the sandbox population's posts and replies over three days of three seeds, and the
    other corpora's texts (no tweet a corpus marks as a crisis), once each."""
    from sandbox.population import Population

    texts: list[str] = []
    corpora = [p for p in sorted(ROOT.glob("tests/unit/**/corpus/*.yaml")) if p != CRISIS_CORPUS]  # its own sets
    others = ["tests/unit/facts/claims_corpus.yaml", "libs/niche/health_facts.yaml", "sandbox/facts.yaml",
              "sandbox/review_examples.yaml"]
    for path in corpora + [ROOT / p for p in others]:
        texts += _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    for seed in (1, 2, 3):
        population = Population(seed)
        for tweet in population.tweets_between(0, 3 * 86400):
            texts.append(tweet.text)
            texts += [r.text for r in population.replies_to(tweet)]
    return list(dict.fromkeys(texts))


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted, L2-regularised logistic regression by full-batch gradient descent (deterministic): the
    coefficients, intercept last."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-(xb @ beta)))
        grad = xb.T @ (weight * (p - y)) / weight.sum() + L2 * np.r_[beta[:-1], 0.0] / len(x)
        beta -= RATE * grad
    return beta


def _probability(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ beta[:-1] + beta[-1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--folds", action="store_true", help="print the leave-one-set-out figures too")
    args = parser.parse_args()
    embedder = Embedder("minilm_int8")
    corpus = yaml.safe_load(CRISIS_CORPUS.read_text(encoding="utf-8"))
    sets = {name: tweets for name, tweets in corpus.items() if name != HELD_OUT}
    vectors = {name: embedder.embed([t["text"] for t in tweets]) for name, tweets in sets.items()}
    labels = {name: np.array([t["crisis"] for t in tweets]) for name, tweets in sets.items()}
    ordinary = ordinary_texts()
    o_vectors = embedder.embed(ordinary)

    def train(names: list[str], o_rows: np.ndarray) -> np.ndarray:
        x = np.vstack([vectors[n] for n in names] + [o_vectors[o_rows]])
        y = np.concatenate([labels[n] for n in names] + [np.zeros(int(o_rows.sum()), bool)]).astype(float)
        return fit(x, y, np.where(y == 1, CRISIS_WEIGHT, 1.0))

    if args.folds:
        fold = np.random.default_rng(0).integers(0, len(sets), len(ordinary))
        scored = []  # per set: its labels, its probabilities, the probabilities of its fold of ordinary texts
        for i, name in enumerate(sets):
            beta = train([n for n in sets if n != name], fold != i)
            scored.append((labels[name], _probability(beta, vectors[name]), _probability(beta, o_vectors[fold == i])))
        for threshold in (0.6, 0.7, 0.8, 0.85, 0.9):
            found = sum(int(((p > threshold) & y).sum()) for y, p, _ in scored)
            alike = sum(int(((p > threshold) & ~y).sum()) for y, p, _ in scored)
            plain = sum(int((o > threshold).sum()) for _, _, o in scored)
            print(f"threshold {threshold}: found {found}/{sum(int(y.sum()) for y, _, _ in scored)}, look-alikes "
                  f"flagged {alike}/{sum(int((~y).sum()) for y, _, _ in scored)}, ordinary {plain}/{len(ordinary)}")
    beta = train(list(sets), np.ones(len(ordinary), bool))
    model = {"embedder": embedder.kind, "threshold": THRESHOLD, "intercept": round(float(beta[-1]), 6),
             "weights": [round(float(w), 6) for w in beta[:-1]],
             "trained_on": {"crisis": int(sum(labels[n].sum() for n in sets)),
                            "look_alikes": int(sum((~labels[n]).sum() for n in sets)), "ordinary": len(ordinary),
                            "sets": list(sets)}}
    args.out.write_text(json.dumps(model) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {model['trained_on']}")


if __name__ == "__main__":
    main()
