"""Planner configuration: the niche YAML (what to write about, in which voice, under which gates and budget)
and the planner's settings (where the YAML is, which LLM endpoint, the poster's caps).

The YAML defaults live here too, so a partial file only overrides what it names.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from libs.runtime.settings import CommonSettings

DEFAULT_NICHE_PATH = Path(__file__).with_name("niche.yaml")

CONTENT_TYPES = (
    "myth_busting", "framework", "research_breakdown", "practical_tip",
    "story", "contrarian_take", "data_insight", "question",
)
TOPICS = (
    "sleep", "nutrition", "exercise", "stress", "gut_health",
    "longevity", "mental_health", "hydration", "metabolic_health", "heart_health",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HashtagPolicy(_Section):
    max_per_post: int = Field(default=1, ge=0)
    max_per_reply: int = Field(default=0, ge=0)
    banned: tuple[str, ...] = ("#fyp", "#followback", "#f4f", "#viral")


class Price(_Section):
    """USD per million tokens."""

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


class BudgetConfig(_Section):
    daily_usd: float = Field(default=5.0, gt=0)
    normal_model: str = "gpt-4o"
    cheap_model: str = "gpt-4o-mini"
    # Fractions of the daily budget left: above normal_above → normal model; above cheap_above → cheap model,
    # one item per run; below → replies only.
    normal_above: float = Field(default=0.5, gt=0, lt=1)
    cheap_above: float = Field(default=0.2, gt=0, lt=1)
    max_tokens: dict[str, int] = Field(default_factory=lambda: {"post": 300, "thread": 900, "reply": 120})

    @model_validator(mode="after")
    def _ordered(self) -> "BudgetConfig":
        if self.cheap_above >= self.normal_above:
            raise ValueError("budget.cheap_above must be below budget.normal_above")
        return self


class GateConfig(_Section):
    max_rewrites: int = Field(default=2, ge=0)
    thread_min_parts: int = Field(default=3, ge=2)
    thread_max_parts: int = Field(default=6, ge=2)
    part_max_chars: int = Field(default=280, gt=0, le=280)
    post_target_chars: int = Field(default=260, gt=0, le=280)
    reply_max_chars: int = Field(default=220, gt=0, le=280)
    duplicate_window_days: int = Field(default=30, ge=1)
    # Cosine above which a draft is a near-duplicate; the lexical fallback's scale differs from the model's.
    near_duplicate_threshold: dict[str, float] = Field(default_factory=lambda: {"minilm": 0.90, "lexical": 0.80})
    topic_window_posts: int = Field(default=10, ge=1)
    topic_max_in_window: int = Field(default=3, ge=1)
    flesch_min: float = 30.0
    max_avg_sentence_words: float = Field(default=24, gt=0)
    max_sentence_words: int = Field(default=40, gt=0)


class ReplyConfig(_Section):
    max_per_author_per_day: int = Field(default=2, ge=1)
    author_cooldown_hours: float = Field(default=12, ge=0)
    conversation_cooldown_hours: float = Field(default=24, ge=0)
    max_age_hours: float = Field(default=24, gt=0)
    min_relevance: float = 0.2
    grounding_min_similarity: dict[str, float] = Field(default_factory=lambda: {"minilm": 0.35, "lexical": 0.15})
    weights: dict[str, float] = Field(
        default_factory=lambda: {"reach": 0.25, "velocity": 0.3, "freshness": 0.2, "relevance": 0.25}
    )
    generic_openers: tuple[str, ...] = (
        "great point", "studies show", "research shows", "this is so true", "so true", "love this",
        "couldn't agree more", "great thread", "absolutely", "100%", "this!", "well said", "interesting",
        "as someone who",
    )


class NicheConfig(_Section):
    niche: str = "health and wellness"
    audience: str = "curious adults who want evidence-based, practical health advice without hype"
    account_voice: str = "Calm, precise, evidence-minded. Plain words, short sentences. Never gives medical advice."
    banned_subjects: tuple[str, ...] = ()
    banned_phrases: tuple[str, ...] = ("doctors hate this", "one weird trick", "miracle")
    hashtags: HashtagPolicy = HashtagPolicy()
    content_types: tuple[str, ...] = CONTENT_TYPES
    topics: tuple[str, ...] = TOPICS
    formats: tuple[str, ...] = ("single", "thread")
    hours: tuple[int, ...] = tuple(range(24))
    hook_styles: tuple[str, ...] = ("question", "bold_claim", "number", "myth", "story_open", "contrast")
    voices: dict[str, str] = Field(
        default_factory=lambda: {
            "data_nerd": "Leads with a number or a study.",
            "coach": "Direct, turns the idea into one action.",
            "storyteller": "Opens with a small scene, lands the lesson last.",
            "historian": "Connects the idea to what people believed before.",
        }
    )
    reply_styles: dict[str, str] = Field(
        default_factory=lambda: {
            "add_insight": "Add one fact the tweet did not mention.",
            "reframe": "Offer a more useful way to look at the point.",
            "practical_implication": "Say what the point means for tomorrow.",
            "one_sharp_line": "One short, memorable sentence.",
            "mini_framework": "A tiny 2-3 step framework.",
        }
    )
    prices: dict[str, Price] = Field(
        default_factory=lambda: {
            "gpt-4o": Price(prompt=2.5, completion=10.0),
            "gpt-4o-mini": Price(prompt=0.15, completion=0.6),
        }
    )
    budget: BudgetConfig = BudgetConfig()
    gates: GateConfig = GateConfig()
    replies: ReplyConfig = ReplyConfig()

    @model_validator(mode="after")
    def _consistent(self) -> "NicheConfig":
        for name in ("content_types", "topics", "formats", "hours", "hook_styles"):
            values = getattr(self, name)
            if not values or len(set(values)) != len(values):
                raise ValueError(f"{name} must be a non-empty list without repeats")
        if not set(self.formats) <= {"single", "thread"}:
            raise ValueError("formats may only be single and thread")
        if not all(0 <= h <= 23 for h in self.hours):
            raise ValueError("hours must be 0..23")
        if not self.voices or not self.reply_styles:
            raise ValueError("voices and reply_styles must not be empty")
        for model in (self.budget.normal_model, self.budget.cheap_model):
            if model not in self.prices:
                raise ValueError(f"no price for budget model {model!r}")
        return self


def load_niche(path: str | Path | None = None) -> NicheConfig:
    """Read the niche YAML (the packaged default when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_NICHE_PATH
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return NicheConfig.model_validate(data)


class PlannerSettings(CommonSettings):
    """``XBOT_*`` settings of the planner service."""

    planner_niche_path: Path = DEFAULT_NICHE_PATH
    # Any OpenAI-compatible server. The default is the sandbox on the gateway's default address (it serves its
    # text endpoint under /v1 beside the X look-alike); the operator points it at the sandbox actually running.
    llm_base_url: str = "http://127.0.0.1:8400/v1"
    llm_api_key: SecretStr = SecretStr("sandbox")
    llm_timeout_seconds: float = Field(default=30.0, gt=0)
    llm_max_attempts: int = Field(default=4, ge=1, le=10)
    # Overrides budget.daily_usd of the YAML when set.
    planner_daily_budget_usd: float | None = Field(default=None, gt=0)
    plan_interval_minutes: float = Field(default=30, gt=0)
    # Simulated minutes after start before the first plan run (the projections catch up first anyway).
    plan_first_run_minutes: float = Field(default=1, ge=0)
    # How many hours of replies are kept queued (posts: a day's worth, one per open hour slot).
    plan_horizon_hours: float = Field(default=3, gt=0)
    # The account's handle, the same XBOT_X_HANDLE the gateway, poster and harvester read: never replied to.
    x_handle: str = Field(default="xbot_demo", pattern=r"^[A-Za-z0-9_]{1,30}$")
    # The poster's caps, read from the poster's own variables (XBOT_POSTS_PER_HOUR ...) with the poster's
    # defaults, so the planner never queues more than the poster may post (it does not import the poster).
    posts_per_hour: int = Field(default=1, ge=0)
    posts_per_day: int = Field(default=12, ge=0)
    replies_per_hour: int = Field(default=4, ge=0)
    replies_per_day: int = Field(default=40, ge=0)

    def niche(self) -> NicheConfig:
        config = load_niche(self.planner_niche_path)
        if self.planner_daily_budget_usd is not None:
            config = config.model_copy(
                update={"budget": config.budget.model_copy(update={"daily_usd": self.planner_daily_budget_usd})}
            )
        return config
