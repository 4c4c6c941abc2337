"""Policy quadrature benchmark: what one ``argmax_probabilities`` call costs in time and memory, row by row (today)
against the whole (i, j, grid) cube it computed before (kept here as the reference), at the sizes the services
call it with: a format's 2 arms, the 24 hours, a reply draw's 40 candidates (MAX_TARGETS), and 150 (a pool the
shortlist would cut; what an uncut pool would have cost). Then one learner model build over a simulated week of
replies drawn from pools of 40, with each of the two.

Memory is tracemalloc's peak (numpy's buffers included) during the call, deterministic on any machine; time is
the best of several timings in CPU seconds (one for a model build), both forms in the same run. Both forms give
the same probabilities bit for bit (checked here on every size, and on the build's whole payload).
``python -m bench.policy`` (or ``xbot bench policy``); writes bench/results/policy.json.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

from libs import policy
from libs.policy import MAX_TARGETS, sample_reply, target_bands
from services.learner.learning import Learner, LearnerConfig

RESULTS = Path(__file__).parent / "results" / "policy.json"
MB = 2**20


def cube_argmax_probabilities(means, variances) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The form before: every arm's grid against every other's at once, a K × K × 3,401 cube."""
    m = np.asarray(means, dtype=float)
    s = np.sqrt(np.maximum(np.asarray(variances, dtype=float), policy._MIN_VAR))
    k = len(m)
    if k == 1:
        return np.ones(1)
    x = m[:, None] + s[:, None] * policy._GRID[None, :]
    cdf = policy._norm_cdf((x[:, None, :] - m[None, :, None]) / s[None, :, None])
    cdf[np.arange(k), np.arange(k), :] = 1.0
    probs = (np.prod(cdf, axis=1) * policy._GRID_PDF[None, :]).sum(axis=1) * policy._GRID_STEP
    out: np.ndarray = probs / probs.sum()
    return out


def _peak_mb(call: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def _best_cpu_s(call: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def one_call(k: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed + k)
    means, variances = rng.normal(0.0, 0.5, k), rng.uniform(0.01, 0.5, k)
    rows, cube = policy.argmax_probabilities(means, variances), cube_argmax_probabilities(means, variances)
    repeats = 3 if k > 50 else 20
    return {"arms": k, "identical": bool(np.array_equal(rows, cube)),
            "peak_mb": {"rows": round(_peak_mb(lambda: policy.argmax_probabilities(means, variances)), 2),
                        "cube": round(_peak_mb(lambda: cube_argmax_probabilities(means, variances)), 2)},
            "cpu_ms": {"rows": round(1000 * _best_cpu_s(lambda: policy.argmax_probabilities(means, variances),
                                                        repeats), 2),
                       "cube": round(1000 * _best_cpu_s(lambda: cube_argmax_probabilities(means, variances),
                                                        repeats), 2)}}


def week_of_replies(replies: int, seed: int) -> Learner:
    """A learner holding ``replies`` replies, each drawn among MAX_TARGETS candidates, with their engagement."""
    rng = random.Random(seed)
    learner = Learner(LearnerConfig(content_types=("tip", "story"), topics=("sleep", "focus")))
    dims = {"reply_style": ("add_insight", "one_sharp_line", "reframe"), "voice": ("owner",)}
    for i in range(replies):
        pool = [target_bands(author_followers=rng.choice((300, 30_000, 3_000_000)), age_hours=rng.uniform(0, 12),
                             velocity=rng.uniform(0, 50), relevance=rng.uniform(0.3, 1.0))
                for _ in range(MAX_TARGETS)]
        choice, index, p = sample_reply(None, rng, dimensions=dims, candidates=pool)
        cid = f"r{i}"
        learner.observe_decision(cid, {**choice, "content_type": "reply", "topic": "sleep", "format": "single",
                                       "hour": 9}, p, "v0", kind="reply",
                                 reply_context={"bands": pool[index], "candidates": pool, "index": index})
        views = rng.randint(20, 800)
        learner.observe_metrics(cid, 24.0, {"views": views, "likes": views // 20, "replies": views // 200,
                                             "retweets": 0, "bookmarks": 0})
    return learner


def model_build(replies: int, seed: int) -> dict[str, object]:
    learner = week_of_replies(replies, seed)
    out: dict[str, object] = {"replies": replies, "candidates_per_draw": MAX_TARGETS}
    peaks, cpu, payloads = {}, {}, {}
    for name, form in (("rows", policy.argmax_probabilities), ("cube", cube_argmax_probabilities)):
        with mock.patch.object(policy, "argmax_probabilities", form):
            start = time.process_time()
            payloads[name] = json.dumps(learner.build_model("v1").payload(), sort_keys=True)
            cpu[name] = round(time.process_time() - start, 2)
            peaks[name] = round(_peak_mb(lambda: learner.build_model("v1")), 1)
    out.update(peak_mb=peaks, cpu_s=cpu, identical=payloads["rows"] == payloads["cube"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--replies", type=int, default=280, help="replies in the model build (a week: ~40 a day)")
    args = parser.parse_args(argv)
    calls = [one_call(k, args.seed) for k in (2, 24, MAX_TARGETS, 150)]
    for c in calls:
        print(json.dumps(c))
    build = model_build(args.replies, args.seed)
    print(json.dumps(build))
    RESULTS.write_text(json.dumps({"seed": args.seed, "calls": calls, "model_build": build}, indent=2) + "\n")


if __name__ == "__main__":
    main()
