"""The legacy system's learner, rebuilt from its documentation (seeds/000: "Select Experiment Arm", "Learning
Gates", "Bandit Arms") as the benchmark's baseline. Our reading, where the documents are vague:

- Experiment arm per post: 60% *control* ("proven patterns": the content type, topic and format with the best
  Beta posterior mean, i.e. greedy), 25% *variant A* ("moderate exploration": Thompson sampling from each
  dimension's Beta posterior), 15% *variant B* ("aggressive exploration": every dimension uniformly at random,
  hour included).
- Separate bandits per dimension with success/failure counts (Beta(1, 1) priors). A post is a success when its
  reward beats the running mean reward of the posts learned from so far. The reward is the same log heavy-ranker
  reward xbot uses, so the comparison is about the learning rule, not about the signal.
- The hour is chosen by UCB1 on the same success signal (untried hours first) in control and variant A.
- Learning gates: a post is learned from only if it matured with more than 100 views and more than 5 likes.
- It learns only from matured (24 h) metrics: no provisional signal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CONTROL_SHARE, VARIANT_A_SHARE = 0.60, 0.25  # variant B takes the remaining 15%
GATE_MIN_VIEWS, GATE_MIN_LIKES = 100, 5


class LegacyPolicy:
    def __init__(self, arm_counts: Sequence[int], rng: np.random.Generator) -> None:
        self.rng = rng
        # Dimensions 0..2 (type, topic, format) are Beta bandits; the last dimension (hour) is UCB1.
        self.alpha = [np.ones(k) for k in arm_counts[:-1]]
        self.beta = [np.ones(k) for k in arm_counts[:-1]]
        self.hours = arm_counts[-1]
        self.hour_pulls = np.zeros(self.hours)
        self.hour_wins = np.zeros(self.hours)
        self.reward_sum = 0.0
        self.learned = 0

    def _ucb_hour(self) -> int:
        untried = np.flatnonzero(self.hour_pulls == 0)
        if len(untried):
            return int(untried[0])
        total = self.hour_pulls.sum()
        ucb = self.hour_wins / self.hour_pulls + np.sqrt(2.0 * math.log(total) / self.hour_pulls)
        return int(np.argmax(ucb))

    def choose(self) -> tuple[int, ...]:
        u = self.rng.random()
        if u < CONTROL_SHARE:
            picks = [int(np.argmax(a / (a + b))) for a, b in zip(self.alpha, self.beta)]
            return (*picks, self._ucb_hour())
        if u < CONTROL_SHARE + VARIANT_A_SHARE:
            picks = [int(np.argmax(self.rng.beta(a, b))) for a, b in zip(self.alpha, self.beta)]
            return (*picks, self._ucb_hour())
        return tuple(int(self.rng.integers(len(a))) for a in self.alpha) + (int(self.rng.integers(self.hours)),)

    def learn(self, arms: Sequence[int], reward: float, *, views: int, likes: int) -> bool:
        """Learn from one matured post; returns False when the learning gates drop it."""
        if not (views > GATE_MIN_VIEWS and likes > GATE_MIN_LIKES):
            return False
        threshold = self.reward_sum / self.learned if self.learned else reward
        success = reward >= threshold
        self.reward_sum += reward
        self.learned += 1
        for d, arm in enumerate(arms[:-1]):
            if success:
                self.alpha[d][arm] += 1
            else:
                self.beta[d][arm] += 1
        self.hour_pulls[arms[-1]] += 1
        self.hour_wins[arms[-1]] += float(success)
        return True
