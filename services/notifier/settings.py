"""Settings of the notifier (``XBOT_NOTIFY_*``). Durations are ``timedelta`` (ISO 8601 or seconds), simulated
time like every schedule of xbot."""

from __future__ import annotations

import re
from datetime import timedelta

import apprise
from pydantic import Field, SecretStr, field_validator

from libs.core.settings import CommonSettings
from services.notifier.notices import KINDS


def channel_urls(raw: SecretStr) -> list[str]:
    """The Apprise URLs of ``XBOT_NOTIFY_URLS``: separated by whitespace or commas (Apprise's own config syntax)."""
    return [u for u in re.split(r"[\s,]+", raw.get_secret_value()) if u]


class NotifierSettings(CommonSettings):
    # Where notifications go: Apprise URLs (tgram://, discord://, slack://, mailto://, ntfy://, json:// …),
    # separated by spaces or commas. A secret: the URLs carry tokens and passwords. Empty: nothing is sent
    # (the notices are still kept, and shown by `xbot status`).
    notify_urls: SecretStr = SecretStr("")
    # Kinds switched off, as a JSON list (XBOT_NOTIFY_OFF='["digest","approvals"]').
    notify_off: frozenset[str] = frozenset()
    # The same news (a notice's key) goes out at most once per this interval; repeats are counted and mentioned.
    notify_repeat_after: timedelta = Field(default=timedelta(hours=1), ge=timedelta(0))
    # Notices older than this when the notify job first sees them are not sent (a notifier reading a long
    # history from the start must not page the owner about last month).
    notify_max_age: timedelta = Field(default=timedelta(hours=6), gt=timedelta(0))
    # How often the notify job batches drafts, makes the digest and sends what is pending (within the poster's
    # 30-second cycle by default).
    notify_interval: timedelta = Field(default=timedelta(seconds=15), gt=timedelta(0))
    # Drafts waiting for approval are told in one notice once the oldest has waited this long.
    notify_approval_batch: timedelta = Field(default=timedelta(minutes=15), ge=timedelta(0))
    # The daily digest of yesterday goes out at this hour (UTC, simulated clock).
    notify_digest_hour: int = Field(default=8, ge=0, le=23)
    # The notifier's own watch of dead letters and service readiness, for a deployment without Alertmanager
    # (`xbot up`); compose and k8s route Prometheus's alerts instead and switch it off.
    notify_watch: bool = True
    notify_watch_interval: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # Alertmanager's webhook (POST /alertmanager on the side port) requires `Authorization: Bearer <token>`
    # when set (alertmanager.yml: http_config.authorization.credentials_file).
    notify_webhook_token: SecretStr | None = None
    # A channel that fails a notice is tried again after notify_retry_first, the delay doubling with each failure
    # up to notify_retry_longest; it is given up for that notice after notify_max_attempts tries (the notice is
    # then `failed`: xbot_notifier_notices_total{outcome="failed"}, alert XbotNoticesFailed). With the defaults,
    # tries at 0, 1, 3, 7, 15, 31, 63 minutes, then hourly: the 12th and last about 6 hours after the first, so
    # a channel down for an hour or a few (a webhook outage, a mail server restarting) still gets the news.
    notify_max_attempts: int = Field(default=12, ge=1)
    notify_retry_first: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))
    notify_retry_longest: timedelta = Field(default=timedelta(hours=1), gt=timedelta(0))
    notify_send_timeout_s_real: float = Field(default=30.0, gt=0)
    # Apprise spaces two sends to one service by that service's own courtesy interval (5.5 s for most, none for
    # json://); a number overrides it for every channel (tests: 0). Real seconds.
    notify_spacing_s_real: float | None = Field(default=None, ge=0)

    @field_validator("notify_off")
    @classmethod
    def _known_kinds(cls, off: frozenset[str]) -> frozenset[str]:
        unknown = sorted(off - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; kinds are {', '.join(KINDS)}")
        return off

    @field_validator("notify_urls")
    @classmethod
    def _apprise_urls(cls, urls: SecretStr) -> SecretStr:
        for i, url in enumerate(channel_urls(urls)):
            if not apprise.Apprise().add(url):
                # Never the URL itself: it carries the channel's token.
                scheme = url.split("://", 1)[0] if "://" in url else "?"
                raise ValueError(f"channel {i + 1} ({scheme}://…) is not a URL Apprise can send to")
        return urls
