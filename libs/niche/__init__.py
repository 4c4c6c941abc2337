"""The niche: what the account writes about, in which voice, under which gates and budget, and the arms the
learner chooses among. One YAML file per niche (``health.yaml`` is the default); every service that needs part
of it (the planner, the harvester's topics, the learner's arms, the gates) reads it from here, so nothing is
declared twice.

The defaults live here too, so a partial file only overrides what it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from libs.text.kinds import EMBEDDER_KINDS

DEFAULT_NICHE_PATH = Path(__file__).with_name("health.yaml")
DEFAULT_FACTS_PATH = Path(__file__).with_name("health_facts.yaml")

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


def _one_per_embedder(value: dict[str, float], name: str) -> dict[str, float]:
    """A similarity threshold for every ``Embedder.kind``: the scales differ, so a missing or misspelt kind would
    otherwise pass silently with some default."""
    missing, unknown = set(EMBEDDER_KINDS) - set(value), set(value) - set(EMBEDDER_KINDS)
    if missing or unknown:
        raise ValueError(f"{name} needs exactly one threshold per embedder kind {list(EMBEDDER_KINDS)}; "
                         f"missing {sorted(missing)}, unknown {sorted(unknown)}")
    return value


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
    # A tweet sharing this share of its words (word-set Jaccard) with one of ours of the last ``overlap_window_days``
    # reads as the same tweet again: X shows such near-duplicates to fewer people (its rules count posting "nearly
    # identical content" repeatedly as spam), and a demo lost reach on 27 of its 97 posts' tweets so (template
    # closers, one hook frame four times a day, a fact restated under another hook). The sandbox's stand-in for
    # X's rule takes reach from 0.5 (sandbox/world.reach_penalty); X publishes none.
    word_overlap_max: float = Field(default=0.5, gt=0, le=1)
    overlap_window_days: int = Field(default=7, ge=1)
    # Cosine above which a draft is a near-duplicate, per embedder (the scales differ). minilm_int8: calibrated
    # by bench/embedders.py (at most 1% false positives on the tuning pairs); lexical: the earlier hand-set value.
    near_duplicate_threshold: dict[str, float] = Field(
        default_factory=lambda: {"minilm_int8": 0.84, "lexical": 0.80})
    topic_window_posts: int = Field(default=10, ge=1)
    topic_max_in_window: int = Field(default=3, ge=1)
    flesch_min: float = 30.0
    max_avg_sentence_words: float = Field(default=24, gt=0)
    max_sentence_words: int = Field(default=40, gt=0)

    @field_validator("near_duplicate_threshold")
    @classmethod
    def _per_embedder(cls, value: dict[str, float]) -> dict[str, float]:
        return _one_per_embedder(value, "gates.near_duplicate_threshold")


class ReviewConfig(_Section):
    """The model-based review every reply (and every post of a sensitive niche) passes (libs/gates/review.py)."""

    model: str = "gpt-4o-mini"
    max_tokens: int = Field(default=150, gt=0)
    # Which posts and threads of a sensitive niche the model reads (replies are always read: a stranger's tweet is
    # in their prompt). "ungrounded": only those the rule gates cannot vouch for — a health effect asserted in a
    # sentence no provided (verified) fact says, no facts given at all, or anything the reply-side conduct gates
    # flag (promotion, defamation, contact details, look-alike letters); a post whose every asserted effect
    # restates a provided fact, with every number, study and institution held to those facts by the claims gate,
    # is not sent to the review. "all": every post and thread, as before.
    posts: Literal["all", "ungrounded"] = "ungrounded"


class ReplyConfig(_Section):
    max_per_author_per_day: int = Field(default=2, ge=1)
    author_cooldown_hours: float = Field(default=12, ge=0)
    conversation_cooldown_hours: float = Field(default=24, ge=0)
    max_age_hours: float = Field(default=24, gt=0)
    # A tweet with less of its max age left is not answered: the reply must still be queued, wait its turn behind
    # posts (the poster's pacing) and be read while the conversation is alive. Without it the planner drafted
    # replies to 23-hour-old tweets that expired five minutes after they were queued (bench safety, guarded).
    min_hours_left: float = Field(default=2, ge=0)
    min_relevance: float = 0.2
    # Cosine of the reply to the tweet's point (libs/gates/grounding.py) below which a reply is off the point, per
    # embedder kind: each embedder has its own scale. Recalibrate with `python -m libs.gates.calibrate`.
    grounding_min_similarity: dict[str, float] = Field(default_factory=lambda: {"minilm_int8": 0.20, "lexical": 0.0})
    weights: dict[str, float] = Field(
        default_factory=lambda: {"reach": 0.25, "velocity": 0.3, "freshness": 0.2, "relevance": 0.25}
    )
    generic_openers: tuple[str, ...] = (
        "great point", "studies show", "research shows", "this is so true", "so true", "love this",
        "couldn't agree more", "great thread", "absolutely", "100%", "this!", "well said", "interesting",
        "as someone who",
    )

    @field_validator("grounding_min_similarity")
    @classmethod
    def _per_embedder(cls, value: dict[str, float]) -> dict[str, float]:
        return _one_per_embedder(value, "replies.grounding_min_similarity")


class FactsConfig(_Section):
    """The facts the account may state (libs.facts reads the file) and how they are chosen and checked."""

    # Relative to the niche file's folder. The sandbox's own facts file is the sandbox's, never this one.
    path: Path = DEFAULT_FACTS_PATH
    # Facts whose quote could not be checked against a stored copy of their source are not stated by default.
    use_unverified: bool = False
    # How many facts go into one prompt.
    per_prompt: int = Field(default=5, ge=1, le=20)
    # Cosine of a target tweet to a fact for the fact to be offered in a reply prompt, by embedder kind.
    relevance_min_similarity: dict[str, float] = Field(
        default_factory=lambda: {"minilm_int8": 0.30, "lexical": 0.15}
    )
    # Cosine of a draft's sentence to a provided fact for the fact to support that sentence's claims.
    support_min_similarity: dict[str, float] = Field(
        default_factory=lambda: {"minilm_int8": 0.67, "lexical": 0.40}
    )
    # Cosine of one of the account's posts of the duplicate window to a fact for the fact to count as stated
    # (a post that states one fact is ~0.9 from it, other facts of its topic ~0.4-0.8, minilm): a post prompt
    # offers only facts not stated yet, since a restated one can only come back as a (near-)duplicate.
    stated_min_similarity: dict[str, float] = Field(
        default_factory=lambda: {"minilm_int8": 0.85, "lexical": 0.80}
    )


class NicheConfig(_Section):
    niche: str = "health and wellness"
    audience: str = "curious adults who want evidence-based, practical health advice without hype"
    account_voice: str = "Calm, precise, evidence-minded. Plain words, short sentences. Never gives medical advice."
    banned_subjects: tuple[str, ...] = ()
    # Words that name a banned subject without its name ("Ozempic" for weight-loss drugs), per subject.
    banned_subject_terms: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # A niche where a wrong sentence can hurt a reader (health): every post is also reviewed by a model.
    sensitive: bool = False
    banned_phrases: tuple[str, ...] = ("doctors hate this", "one weird trick", "miracle")
    hashtags: HashtagPolicy = HashtagPolicy()
    content_types: tuple[str, ...] = CONTENT_TYPES
    topics: tuple[str, ...] = TOPICS
    formats: tuple[str, ...] = ("single", "thread")
    hours: tuple[int, ...] = tuple(range(24))
    hook_styles: tuple[str, ...] = ("question", "bold_claim", "number", "myth", "story_open", "contrast")
    # One voice per account by default: the owner's (account_voice and example_posts). Several voices make an
    # arm: drawn uniformly per item until the learner's model covers the "voice" dimension, then from its policy.
    voices: dict[str, str] = Field(
        default_factory=lambda: {"owner": "The account's own voice, as described and shown in the example posts."}
    )
    # Posts written by the owner, given to the model as examples of the voice (never copied: the duplicate
    # gates compare drafts with them too).
    example_posts: tuple[str, ...] = ()
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
    facts: FactsConfig = FactsConfig()
    review: ReviewConfig = ReviewConfig()

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
        unknown = set(self.banned_subject_terms) - set(self.banned_subjects)
        if unknown:
            raise ValueError(f"banned_subject_terms names subjects not in banned_subjects: {sorted(unknown)}")
        if any(not post.strip() or len(post) > 1000 for post in self.example_posts):
            raise ValueError("example_posts must be non-empty texts of at most 1000 characters")
        for model in (self.budget.normal_model, self.budget.cheap_model, self.review.model):
            if model not in self.prices:
                raise ValueError(f"no price for budget model {model!r}")
        return self


def load_niche(path: str | Path | None = None) -> NicheConfig:
    """Read the niche YAML (the packaged default when ``path`` is None)."""
    path = Path(path) if path else DEFAULT_NICHE_PATH
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    config = NicheConfig.model_validate(data)
    facts_path = config.facts.path
    if not facts_path.is_absolute():
        facts = config.facts.model_copy(update={"path": (path.parent / facts_path).resolve()})
        config = config.model_copy(update={"facts": facts})
    return config
