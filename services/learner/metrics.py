"""The learner's Prometheus metrics (the policy in force and the off-policy gate's verdicts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Gauge

policy_version = Gauge("xbot_learner_policy_version",
                       "Number N of the policy in force (its version is vN-<data hash>); 0 before any model")
training_size = Gauge("xbot_learner_training_size", "Matured posts the policy in force was trained on")
reward = Gauge("xbot_learner_reward", "Posterior mean reward effect of an arm under the policy in force",
               ["dimension", "choice"])
evaluations = Counter("xbot_learner_evaluations_total",
                      "Candidate models judged by the off-policy gate", ["outcome"])  # published | rejected
gate_difference = Gauge("xbot_learner_gate_difference",
                        "Doubly robust value of the last candidate minus the incumbent's (reward units)")


def show_policy(number: int, payload: Mapping[str, Any] | None) -> None:
    """Export the policy in force (a rollback included)."""
    policy_version.set(number)
    training_size.set(float((payload or {}).get("training_size", 0)))
    reward.clear()  # arms of an earlier version must not linger
    for dimension, arms in ((payload or {}).get("posteriors") or {}).items():
        for arm, moments in arms.items():
            reward.labels(dimension, arm).set(float(moments["mean"]))
