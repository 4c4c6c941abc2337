"""Settings of the learner (``XBOT_LEARNER_*`` environment variables).

The arms must match the planner's niche configuration (services/planner/niche.yaml): an arm the learner does not
know gets no Thompson share in the planner's draw (only the floor reaches it). Arms the planner actually chose
join the configured ones automatically, so a forgotten arm is learned once the floor picks it.
Durations are ``timedelta`` (``XBOT_LEARNER_MODEL_INTERVAL=PT2H`` or seconds).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from libs.runtime.settings import CommonSettings
from services.learner.learning import LearnerConfig
from services.learner.rewards import HEAVY_RANKER_WEIGHTS


class LearnerSettings(CommonSettings):
    # How often the model job looks at the data; it builds a candidate only when one is due (below).
    learner_check_interval: timedelta = Field(default=timedelta(minutes=10), gt=timedelta(0))
    # The first check after start waits this long, so the projection catches up on a backlog first.
    learner_first_check: timedelta = Field(default=timedelta(minutes=10), ge=timedelta(0))
    # A candidate is due this long after the last version or evaluation, if the training data changed...
    learner_model_interval: timedelta = Field(default=timedelta(hours=2), gt=timedelta(0))
    # ...or as soon as this many matured rewards arrived since the policy in force was trained.
    learner_min_new_rewards: int = Field(default=5, ge=1)

    learner_content_types: tuple[str, ...] = Field(default=(
        "myth_busting", "framework", "research_breakdown", "practical_tip",
        "story", "contrarian_take", "data_insight", "question"), min_length=1)
    learner_topics: tuple[str, ...] = Field(default=(
        "sleep", "nutrition", "exercise", "stress", "gut_health",
        "longevity", "mental_health", "hydration", "metabolic_health", "heart_health"), min_length=1)
    learner_reward_weights: dict[str, float] = Field(default_factory=lambda: dict(HEAVY_RANKER_WEIGHTS))
    learner_matured_hours: float = Field(default=24.0, gt=0)
    learner_temperature: float = Field(default=0.5, gt=0, le=4)  # multiplies posterior variances (libs.policy)
    learner_discount: float = Field(default=0.99, gt=0, le=1)
    learner_floor: float = Field(default=0.05, gt=0, lt=1)

    def learner_config(self) -> LearnerConfig:
        return LearnerConfig(
            content_types=self.learner_content_types, topics=self.learner_topics,
            weights=dict(self.learner_reward_weights), matured_hours=self.learner_matured_hours,
            temperature=self.learner_temperature, discount=self.learner_discount, floor=self.learner_floor)
