"""Regret benchmark of the learner against the sandbox's hidden audience (``python -m bench.learner``).

Ground truth: ``sandbox.audience.AudienceModel`` in-process, one model per seed (paired: every policy faces the
same audience and the same per-post noise stream of its own). Posts are sampled with ``sample_engagement``
(lognormal reach, Poisson counts) at a fixed follower count (stationary problem: the benchmark measures learning,
not growth) and a fixed text, so only the choice matters.

Regret of a post = E[reward | best choice] - E[reward | chosen] from the sandbox's exact expected-reward table
(pseudo-regret, no sampling noise in the yardstick). Normalised cumulative regret at N = cumulative regret /
(N × expected per-post regret of uniform random): uniform random = 1.0 in expectation, the oracle = 0.

Timing: ~6 posts a day (one every 4 h). Without delay a post's matured reward is known before the next
decision. With the 24 h delay it is known 6 decisions later; xbot also gets provisional rewards from the 2 h and
12 h checkpoints (1 and 3 decisions later); the legacy policy learns from matured posts only, as it did.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.legacy_policy import LegacyPolicy
from sandbox.audience import FORMATS, HOURS, AudienceModel, Engagement, PostChoice
from libs.policy import thompson_draw
from services.learner.posterior import AdditiveRewardModel
from services.learner.rewards import (
    HEAVY_RANKER_WEIGHTS,
    AccountRate,
    default_calibrations,
    shrunk_weighted_engagement,
    exposure_weight,
    log_reward,
    provisional_weight,
    trailing_baseline,
)

HORIZONS = (200, 500, 1000)
POSTS_PER_DAY = 6
MATURED_HOURS = 24.0
EARLY_CHECKPOINTS = (2.0, 12.0)
FOLLOWERS = 1000
TEXT = "Most people sleep badly for one simple reason: light at night.\nDim the lights 2 hours before bed."
RESULTS = Path(__file__).parent / "results" / "learner.json"


def _counts(e: Engagement) -> dict[str, int]:
    """What the learner sees: the counts MetricsScraped carries (X shows them on a tweet). Profile clicks and
    negative feedback are in the ground truth's reward but nobody outside X's analytics sees them, so the agent
    learns without them, as the service does."""
    return {"likes": e.likes, "retweets": e.retweets, "replies": e.replies, "views": e.views,
            "bookmarks": e.bookmarks}


def _lag(hours: float) -> int:
    """Decisions made before a checkpoint at ``hours`` after a post is read (one post every 24/POSTS_PER_DAY h)."""
    return max(1, math.ceil(hours / (24.0 / POSTS_PER_DAY)))


@dataclass(frozen=True)
class XbotConfig:
    temperature: float = 0.5
    discount: float = 0.99
    floor: float = 0.05
    baseline_window: int = 50
    smooth_hours: bool = True
    prior_views: float = 300.0
    empirical_bayes: bool = True


class XbotAgent:
    """xbot's learner and policy, driven post by post with the domain modules of services/learner."""

    def __init__(self, arm_counts, rng: np.random.Generator, config: XbotConfig = XbotConfig()) -> None:
        self.config = config
        self.rng = rng
        self.model = AdditiveRewardModel(arm_counts, discount=config.discount,
                                          cyclic=(False, False, False, config.smooth_hours),
                                          empirical_bayes=config.empirical_bayes)
        self.calibrations = default_calibrations()
        self.account = AccountRate()
        self.matured: list[float] = []  # raw matured rewards in decision order (posts mature in order here)
        self.current: dict[int, tuple[tuple[int, ...], float, float]] = {}  # post -> contribution in the model
        self.noise_var = self.model.noise_prior_var
        self.decisions = 0

    def choose(self) -> tuple[int, ...]:
        post = self.model.posterior()
        self.noise_var = post.noise_var
        sds = [np.sqrt(v * self.config.temperature) for v in post.variances]
        arms = thompson_draw(post.means, sds, self.config.floor, self.rng)
        self.model.decay()
        self.decisions += 1
        return arms

    def _replace(self, post: int, arms, reward: float, weight: float) -> None:
        age = self.decisions - 1 - post
        old = self.current.get(post)
        if old is not None:
            self.model.add(old[0], old[1], -old[2], age=age)
        self.model.add(arms, reward, weight, age=age)
        self.current[post] = (arms, reward, weight)

    def _weighted(self, counts: dict[str, int]) -> float:
        return shrunk_weighted_engagement(counts, HEAVY_RANKER_WEIGHTS, account_rate=self.account.rate,
                                          prior_views=self.config.prior_views)

    def observe_early(self, post: int, arms, hours: float, counts: dict[str, int]) -> None:
        calibration = self.calibrations[hours]
        reward = calibration.provisional_reward(self._weighted(counts))
        baseline = trailing_baseline(self.matured, window=self.config.baseline_window, fallback=reward)
        weight = exposure_weight(counts["views"] / calibration.ratio) * provisional_weight(
            self.noise_var, calibration.extra_var
        )
        self._replace(post, arms, reward - baseline, weight)

    def observe_matured(self, post: int, arms, counts: dict[str, int], early: dict[float, dict[str, int]]) -> None:
        matured_weighted = self._weighted(counts)
        for hours, early_counts in early.items():
            self.calibrations[hours].observe(self._weighted(early_counts), matured_weighted)
        self.account.observe(counts, HEAVY_RANKER_WEIGHTS)
        reward = log_reward(matured_weighted)
        baseline = trailing_baseline(self.matured, window=self.config.baseline_window, fallback=reward)
        self.matured.append(reward)
        self._replace(post, arms, reward - baseline, exposure_weight(counts["views"]))


def _simulate(policy: str, audience: AudienceModel, table_gap: np.ndarray, best: tuple, seed: int, n: int,
              delayed: bool, config: XbotConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per-post regret and best-choice flags of one policy on one seed."""
    arm_counts = table_gap.shape
    rng = np.random.default_rng([seed, 7])
    noise = random.Random(f"bench:{seed}")  # engagement noise: the same stream for every policy
    regret = np.empty(n)
    hit = np.zeros(n, dtype=bool)
    if policy in ("uniform", "oracle"):
        if policy == "oracle":
            return np.zeros(n), ~hit
        picks = np.stack([rng.integers(k, size=n) for k in arm_counts], axis=1)
        regret[:] = table_gap[tuple(picks.T)]
        hit[:] = np.all(picks == np.asarray(best), axis=1)
        return regret, hit

    agent = XbotAgent(arm_counts, rng, config) if policy == "xbot" else LegacyPolicy(arm_counts, rng)
    due: dict[int, list[tuple]] = {}
    lag_matured = _lag(MATURED_HOURS) if delayed else 1
    for t in range(n):
        for event in due.pop(t, ()):
            kind, post, arms, engagement = event
            if policy == "xbot":
                if kind == "matured":
                    early = {h: _counts(engagement.at_age(h)) for h in EARLY_CHECKPOINTS} if delayed else {}
                    agent.observe_matured(post, arms, _counts(engagement.at_age(MATURED_HOURS)), early)
                else:
                    agent.observe_early(post, arms, kind, _counts(engagement.at_age(kind)))
            else:
                matured = engagement.at_age(MATURED_HOURS)
                agent.learn(arms, log_reward(matured.weighted(HEAVY_RANKER_WEIGHTS)),
                            views=matured.views, likes=matured.likes)
        arms = agent.choose()
        regret[t] = table_gap[arms]
        hit[t] = arms == best
        choice = PostChoice(audience.content_types[arms[0]], audience.topics[arms[1]], FORMATS[arms[2]],
                            HOURS[arms[3]])
        engagement = audience.sample_engagement(choice, text=TEXT, followers=FOLLOWERS, rng=noise)
        due.setdefault(t + lag_matured, []).append(("matured", t, arms, engagement))
        if delayed and policy == "xbot":
            for hours in EARLY_CHECKPOINTS:
                due.setdefault(t + _lag(hours), []).append((hours, t, arms, engagement))
    return regret, hit


POLICIES = ("xbot", "legacy", "uniform", "oracle")


def run(seeds: int, n: int, config: XbotConfig = XbotConfig(), policies=POLICIES, log=print) -> dict:
    horizons = [h for h in HORIZONS if h <= n]
    normalised = {(p, d): np.empty((seeds, len(horizons))) for p in policies for d in (False, True)}
    best_share = {(p, d): np.empty(seeds) for p in policies for d in (False, True)}
    started = time.perf_counter()
    for s in range(seeds):
        audience = AudienceModel(seed=s)
        table = audience.mean_log_reward_table(followers=FOLLOWERS, quality=audience.text_quality(TEXT))
        gap = table.max() - table
        best = tuple(int(i) for i in np.unravel_index(int(np.argmax(table)), table.shape))
        uniform_per_post = float(gap.mean())
        for p in policies:
            for delayed in (False, True):
                if p in ("uniform", "oracle") and delayed:
                    normalised[(p, True)][s] = normalised[(p, False)][s]
                    best_share[(p, True)][s] = best_share[(p, False)][s]
                    continue
                regret, hit = _simulate(p, audience, gap, best, s, n, delayed, config)
                cumulative = np.cumsum(regret)
                normalised[(p, delayed)][s] = [cumulative[h - 1] / (h * uniform_per_post) for h in horizons]
                best_share[(p, delayed)][s] = hit[-100:].mean()
        if log and (s + 1) % max(1, seeds // 10) == 0:
            log(f"  {s + 1}/{seeds} seeds, {time.perf_counter() - started:.0f}s")
    results: dict = {
        "config": {
            "seeds": seeds, "posts": n, "posts_per_day": POSTS_PER_DAY, "followers": FOLLOWERS,
            "temperature": config.temperature, "discount": config.discount, "floor": config.floor,
            "baseline_window": config.baseline_window, "delay_hours": MATURED_HOURS,
            "early_checkpoints_hours": list(EARLY_CHECKPOINTS),
        },
        "normalised_regret": {},
        "best_choice_share_last_100": {},
        "seconds": round(time.perf_counter() - started, 1),
    }
    for p in policies:
        for delayed in (False, True):
            key = f"{p}/{'delay_24h' if delayed else 'no_delay'}"
            values = normalised[(p, delayed)]
            results["normalised_regret"][key] = {
                str(h): {"median": float(np.median(values[:, i])), "p90": float(np.percentile(values[:, i], 90))}
                for i, h in enumerate(horizons)
            }
            results["best_choice_share_last_100"][key] = {
                "median": float(np.median(best_share[(p, delayed)])),
                "mean": float(np.mean(best_share[(p, delayed)])),
            }
    if "xbot" in policies and "legacy" in policies and 500 in horizons:
        reg = results["normalised_regret"]
        ours, legacy = reg["xbot/no_delay"]["500"]["median"], reg["legacy/no_delay"]["500"]["median"]
        ours_delay = reg["xbot/delay_24h"]["500"]["median"]
        results["targets"] = {
            "ratio_to_legacy_at_500": ours / legacy,
            "ratio_to_legacy_at_500_met": ours <= 0.5 * legacy,
            "ratio_to_legacy_at_500_with_delay": ours_delay / reg["legacy/delay_24h"]["500"]["median"],
            "delay_over_no_delay_at_500": ours_delay / ours,
            "delay_within_15pct_met": ours_delay <= 1.15 * ours,
        }
    return results


def table(results: dict) -> str:
    horizons = list(next(iter(results["normalised_regret"].values())).keys())
    head = f"{'policy':<20}" + "".join(f"{'N=' + h + ' med':>12}{'p90':>8}" for h in horizons) + f"{'best%':>8}"
    lines = [head, "-" * len(head)]
    for key, by_h in results["normalised_regret"].items():
        cells = "".join(f"{by_h[h]['median']:>12.3f}{by_h[h]['p90']:>8.3f}" for h in horizons)
        share = results["best_choice_share_last_100"][key]["median"]
        lines.append(f"{key:<20}{cells}{100 * share:>7.0f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--posts", type=int, default=max(HORIZONS))
    parser.add_argument("--quick", action="store_true", help="20 seeds, 500 posts: a smoke run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--temperature", type=float, default=XbotConfig.temperature)
    parser.add_argument("--discount", type=float, default=XbotConfig.discount)
    parser.add_argument("--floor", type=float, default=XbotConfig.floor)
    args = parser.parse_args(argv)
    seeds, posts = (20, 500) if args.quick else (args.seeds, args.posts)
    config = XbotConfig(temperature=args.temperature, discount=args.discount, floor=args.floor)
    results = run(seeds, posts, config)
    print(table(results))
    if "targets" in results:
        print(json.dumps(results["targets"], indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out} in {results['seconds']}s")


if __name__ == "__main__":
    main()
