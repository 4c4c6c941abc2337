"""Prometheus metrics of the gateway (on the shared registry of libs.core.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from libs.core.metrics import registry

queue_depth = Gauge("xbot_gateway_queue_depth", "Operations waiting for a context", ["priority"], registry=registry)
queue_wait = Histogram(
    "xbot_gateway_queue_wait_seconds", "Real seconds an operation waited for a context", ["priority"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=registry,
)
op_duration = Histogram(
    "xbot_gateway_op_duration_seconds", "Real seconds an operation held a context", ["op"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60), registry=registry,
)
op_outcomes = Counter("xbot_gateway_ops_total", "Operations by outcome (ok or error code) and driver",
                      ["op", "outcome", "driver"], registry=registry)
contexts_in_use = Gauge("xbot_gateway_contexts_in_use", "Browser contexts leased to an operation",
                        registry=registry)
contexts_open = Gauge("xbot_gateway_contexts_open", "Browser contexts open", registry=registry)
browser_restarts = Counter("xbot_gateway_browser_restarts_total", "Chromium relaunches after a crash",
                           registry=registry)
# What x.com shows among and over the posts (pages.py): how often a read met each, for the owner's dashboards.
not_posts = Counter("xbot_gateway_not_posts_total",
                    "Articles a read left out as no post of its timeline: X's ads, the posts under 'Discover more' "
                    "and the notices where a post is gone", ["kind"], registry=registry)
sheets = Counter("xbot_gateway_sheets_total",
                 "X's interstitial sheets over a page as it opened: closed, or left for the owner (the op locked)",
                 ["outcome"], registry=registry)
breaker_state = Gauge("xbot_gateway_breaker_state",
                      "Breaker state per driver and error family (0 closed, 1 half-open, 2 open)",
                      ["family", "driver"], registry=registry)

# The X API driver (xapi/): what X's rate-limit headers said, and what the API cost today.
api_rate_remaining = Gauge("xbot_gateway_api_rate_limit_remaining",
                           "Requests left in the current X API rate-limit window, per endpoint", ["endpoint"],
                           registry=registry)
api_credits_depleted = Counter("xbot_gateway_api_credits_depleted_total",
                               "X API answers that the paid allowance is spent (402 CreditsDepleted, 429 "
                               "UsageCapExceeded, the app's 24-hour post limit)",
                               registry=registry)
api_spend_usd = Gauge("xbot_gateway_api_spend_usd", "X API spend today (UTC) in USD", registry=registry)
api_spend_total = Counter("xbot_gateway_api_spent_usd_total",
                          "X API spend in USD since the gateway started (across UTC days)", registry=registry)
api_charged = Counter("xbot_gateway_api_resources_charged_total",
                      "X API resources charged (each once per UTC day), by kind", ["kind"], registry=registry)

# The account's guardian (guardian.py, risk.py).
risk_level = Gauge("xbot_gateway_risk_level",
                   "The account's risk level held by the gateway (0 normal, 1 elevated, 2 high, 3 severe, 4 locked)",
                   registry=registry)
analytics_unread = Counter("xbot_gateway_analytics_unread_total",
                           "Analytics pages of own posts without a readable \"Profile visits\" count (selector "
                           "analytics_profile_visits): the metrics went out without the visits", registry=registry)
compose_fallbacks = Counter(
    "xbot_gateway_compose_fallbacks_total", "Times the side navigation's composer dialog over the compose_from page "
    "did not open (selectors compose_open, compose_dialog): posts are composed from the home timeline since, which "
    "costs a page of posts viewed each", registry=registry)
analytics_follows_unread = Counter(
    "xbot_gateway_analytics_follows_unread_total", "Analytics pages of own posts with profile visits but no readable "
    "\"New followers\" count (selector analytics_new_followers): the learner credits those posts with their share of "
    "the follower count's changes instead", registry=registry)
page_loads = Counter("xbot_gateway_page_loads_total", "Pages loaded on X (API reads count one), by op and class",
                     ["op", "budget_class"], registry=registry)
posts_viewed = Counter("xbot_gateway_posts_viewed_total", "Posts X rendered for the account (its reading limit "
                       "counts these), by op and class", ["op", "budget_class"], registry=registry)
budget_left = Gauge("xbot_gateway_budget_left_posts", "Posts each read class may still view (the tighter of the "
                    "15-minute and daily windows, at the current risk level)", ["budget_class"], registry=registry)
