"""The planner's settings (where the niche file is, which LLM endpoint, the poster's caps). The niche itself is
libs.niche's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from pydantic import Field, SecretStr

from libs.core.live_guard import ApprovalSettings
from libs.core.settings import Duration, SettingsError, Unit
from libs.niche import DEFAULT_NICHE_PATH, NicheConfig, Price, load_niche

ZERO = timedelta(0)


class PlannerSettings(ApprovalSettings):
    """``XBOT_*`` settings of the planner service. Durations are ``timedelta`` (``XBOT_PLAN_INTERVAL=PT30M`` or
    seconds); the names they had as numbers (``XBOT_PLAN_INTERVAL_MINUTES`` ...) are still read."""

    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "llm_timeout": ("XBOT_LLM_TIMEOUT_SECONDS", "s"),
        "plan_interval": ("XBOT_PLAN_INTERVAL_MINUTES", "minutes"),
        "plan_first_run": ("XBOT_PLAN_FIRST_RUN_MINUTES", "minutes"),
        "plan_horizon": ("XBOT_PLAN_HORIZON_HOURS", "hours"),
    }

    # Any OpenAI-compatible server. The default is the sandbox on the gateway's default address (it serves its
    # text endpoint under /v1 beside the X look-alike); the operator points it at the sandbox actually running.
    llm_base_url: str = "http://127.0.0.1:8400/v1"
    llm_api_key: SecretStr = SecretStr("sandbox")
    llm_timeout: Duration = Field(default=timedelta(seconds=30), gt=ZERO)
    llm_max_attempts: int = Field(default=4, ge=1, le=10)
    # The models, overriding budget.normal_model / budget.cheap_model of the niche file (a local server has its
    # own names: "llama3.1:8b", "Qwen/Qwen2.5-7B-Instruct"). The cheap one also overrides review.model: the review
    # is a cheap call, and a server that has only the configured models answers 404 to the file's (an Ollama
    # planner halted on its first review asking for gpt-4o-mini).
    llm_model: str | None = Field(default=None, min_length=1)
    llm_cheap_model: str | None = Field(default=None, min_length=1)
    # Prices of models the niche file does not price, USD per million tokens, as JSON:
    # {"llama3.1:8b": {"prompt": 0, "completion": 0}}. They override the file's for the same name.
    llm_prices: dict[str, Price] = Field(default_factory=dict)
    # Overrides budget.daily_usd of the YAML when set.
    planner_daily_budget_usd: float | None = Field(default=None, gt=0)
    plan_interval: Duration = Field(default=timedelta(minutes=30), gt=ZERO)
    # Simulated time after start before the first plan run (the projections catch up first anyway).
    plan_first_run: Duration = Field(default=timedelta(minutes=1), ge=ZERO)
    # How much time of replies is kept queued (posts: a day's worth, one per open hour slot).
    plan_horizon: Duration = Field(default=timedelta(hours=3), gt=ZERO)
    # The evergreen pool (services/planner/evergreen.py): how many posts it keeps in reserve, and how many a run
    # may draft for it once the queue is full and the budget is in its normal tier. 0 turns it off.
    evergreen_target: int = Field(default=12, ge=0, le=500)
    evergreen_per_run: int = Field(default=2, ge=0, le=20)
    # Choosing among drafts (issue 24, item 3): in the budget's normal tier the planner writes this many drafts per
    # post slot and queues the one the learner's engagement predictor scores best (every draft's calls are paid).
    # 1 (default) writes one: see README "Choosing among drafts" for what more bought in the benchmark.
    plan_drafts_per_slot: int = Field(default=1, ge=1, le=5)
    # A news item (the harvester's NewsItemFound) older than this is stale: never a post's angle.
    news_max_age: Duration = Field(default=timedelta(days=3), gt=ZERO)
    # The account's handle (never replied to) and the caps (never queue more than the poster may post) are the
    # account's settings (libs.core.account), the same variables the poster reads; XBOT_APPROVAL (and XBOT_LIVE,
    # its default) are libs.core.live_guard's: evergreen posts of a kind that waits for approval are queued only
    # once the owner approved them.

    def niche(self) -> NicheConfig:
        """The niche file with the settings' overrides; a configured model without a price stops start-up with
        the variables to set (an unpriced model would make the spending cap meaningless)."""
        config = load_niche(self.niche_path)
        budget = config.budget.model_copy(update={
            k: v for k, v in (("daily_usd", self.planner_daily_budget_usd), ("normal_model", self.llm_model),
                              ("cheap_model", self.llm_cheap_model)) if v is not None
        })
        review = (config.review.model_copy(update={"model": self.llm_cheap_model}) if self.llm_cheap_model
                  else config.review)
        prices = {**config.prices, **self.llm_prices}
        for model, variable in ((budget.normal_model, "XBOT_LLM_MODEL"), (budget.cheap_model, "XBOT_LLM_CHEAP_MODEL")):
            if model not in prices:
                raise SettingsError(
                    f"invalid setting {variable}: model {model!r} has no price; add it to XBOT_LLM_PRICES "
                    f'(e.g. XBOT_LLM_PRICES=\'{{"{model}": {{"prompt": 0.15, "completion": 0.6}}}}\', USD per '
                    f"million tokens; 0 for a local server) or to prices: in {self.niche_path or DEFAULT_NICHE_PATH}")
        active = self.active_hours()
        if active is not None and not set(active.utc_hours(date(2026, 1, 1))) & set(config.hours):
            # Checked on one day: enough to catch a niche whose hours all fall in the night (a DST shift moves
            # them by an hour, not out of the day); the planner would never plan a post.
            raise SettingsError(
                f"invalid setting XBOT_ACTIVE_HOURS_START/_END: none of the niche's posting hours {list(config.hours)} "
                f"(UTC) lies in the account's active hours {self.active_hours_start}-{self.active_hours_end} "
                f"{self.account_timezone}")
        # model_copy skips validation: the prices were checked just above.
        return config.model_copy(update={"budget": budget, "review": review, "prices": prices})
