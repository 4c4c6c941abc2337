"""Settings of the learner (``XBOT_LEARNER_*`` environment variables).

The arms (content types and topics) are the niche file's (``XBOT_NICHE_PATH``, libs.niche), the same file the
planner chooses from, so they are declared once; ``XBOT_LEARNER_CONTENT_TYPES``/``XBOT_LEARNER_TOPICS`` override
them. Arms the planner actually chose join them automatically, so an arm missing here is learned once the floor
picks it. Durations are ``timedelta`` (``XBOT_LEARNER_MODEL_INTERVAL=PT2H`` or seconds).
"""

from __future__ import annotations

from datetime import timedelta

from typing import ClassVar, Literal

from pydantic import Field

from libs.core.account import AccountSettings
from libs.core.settings import Duration, Unit
from libs.niche import load_niche
from services.learner.learning import LearnerConfig
from services.learner.rewards import HEAVY_RANKER_WEIGHTS


class LearnerSettings(AccountSettings):
    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "learner_matured": ("XBOT_LEARNER_MATURED_HOURS", "hours"),
    }

    # How often the model job looks at the data; it builds a candidate only when one is due (below).
    learner_check_interval: Duration = Field(default=timedelta(minutes=10), gt=timedelta(0))
    # The first check after start waits this long, so the projection catches up on a backlog first.
    learner_first_check: Duration = Field(default=timedelta(minutes=10), ge=timedelta(0))
    # A candidate is due this long after the last version or evaluation, if the training data changed...
    learner_model_interval: Duration = Field(default=timedelta(hours=2), gt=timedelta(0))
    # ...or as soon as this many matured rewards arrived since the policy in force was trained.
    learner_min_new_rewards: int = Field(default=5, ge=1)

    # Unset: the niche file's arms.
    learner_content_types: tuple[str, ...] | None = Field(default=None, min_length=1)
    learner_topics: tuple[str, ...] | None = Field(default=None, min_length=1)
    learner_reward_weights: dict[str, float] = Field(default_factory=lambda: dict(HEAVY_RANKER_WEIGHTS))
    # A post's reward is final at this age (before it, the learner shrinks the partial reward towards the prior).
    learner_matured: Duration = Field(default=timedelta(hours=24), gt=timedelta(0))
    # Multiplies posterior variances (libs.policy).
    learner_temperature: float = Field(default=LearnerConfig.temperature, gt=0, le=4)
    learner_discount: float = Field(default=LearnerConfig.discount, gt=0, le=1)
    # The reply policy's discount per reply (replies are ~7× as many as posts: the same forgetting per day).
    learner_reply_discount: float = Field(default=0.9985, gt=0, le=1)
    # The follow-rate model's discount per post (follows are rare: it keeps more posts than the reward model).
    learner_follow_discount: float = Field(default=LearnerConfig.follow_discount, gt=0, le=1)
    learner_floor: float = Field(default=0.05, gt=0, lt=1)
    # The posts' floor falls from learner_floor towards this, halfway after learner_floor_posts matured posts
    # (0: the floor stays learner_floor); replies keep learner_floor.
    learner_floor_min: float = Field(default=LearnerConfig.floor_min, gt=0, lt=1)
    learner_floor_posts: float = Field(default=LearnerConfig.floor_posts, ge=0)
    # Change detection on the posts' matured residuals (services/learner/drift.py; README, Learner): a one-sided
    # CUSUM with this drift and threshold in predictive sds, and at an alarm every earlier post's weight is
    # multiplied by learner_change_shrink. A threshold of 0 switches it off.
    learner_change_drift: float = Field(default=LearnerConfig.change_drift, ge=0)
    learner_change_threshold: float = Field(default=LearnerConfig.change_threshold, ge=0)
    learner_change_shrink: float = Field(default=LearnerConfig.change_shrink, gt=0, le=1)
    # What the bandit maximises (README, learner): "composite" = engagement plus the followers attributed to a post
    # within 48 h, priced at the exchange rate learned from the account's history; "engagement" = engagement only.
    learner_objective: Literal["composite", "engagement"] = "composite"

    def learner_config(self) -> LearnerConfig:
        niche = load_niche(self.niche_path) if None in (self.learner_content_types, self.learner_topics) else None
        return LearnerConfig(
            content_types=self.learner_content_types or (niche.content_types if niche else ()),
            topics=self.learner_topics or (niche.topics if niche else ()),
            weights=dict(self.learner_reward_weights), matured_hours=self.learner_matured / timedelta(hours=1),
            temperature=self.learner_temperature, discount=self.learner_discount,
            reply_discount=self.learner_reply_discount, follow_discount=self.learner_follow_discount,
            floor=self.learner_floor, floor_min=self.learner_floor_min, floor_posts=self.learner_floor_posts,
            change_drift=self.learner_change_drift, change_threshold=self.learner_change_threshold,
            change_shrink=self.learner_change_shrink,
            objective=self.learner_objective)
