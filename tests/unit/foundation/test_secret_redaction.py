"""The log redaction knows every secret a process holds: each SecretStr setting (a service's own included, e.g.
the notifier's channels), the database password given apart from the URL, and one inside the URL."""

from __future__ import annotations

import json
import logging

from pydantic import SecretStr

from libs.core.logging import JsonFormatter, redact
from libs.core.settings import CommonSettings


class WithChannels(CommonSettings):
    notify_urls: SecretStr = SecretStr("")


def _line(message: str) -> str:
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, message, None, None)
    return json.loads(JsonFormatter("t").format(record))["msg"]


def test_every_secret_setting_is_masked_in_logs() -> None:
    settings = WithChannels(database_url="postgresql://xbot_poster@db:5432/xbot",
                            database_password="canary-db-pw-1", nats_password="canary-nats-pw-2",
                            notify_urls="tgram://canary-bot-token-3/42")
    assert settings.dsn == "postgresql://xbot_poster:canary-db-pw-1@db:5432/xbot"
    redact(*settings.secret_values())
    line = _line(f"connect {settings.dsn} as xbot_poster/canary-nats-pw-2 via tgram://canary-bot-token-3/42")
    assert "canary" not in line and "xbot_poster" in line
    inside = CommonSettings(database_url="postgresql://postgres:canary-in-url-4@db:5432/x")
    redact(*inside.secret_values())
    assert "canary" not in _line("failed: password canary-in-url-4 refused")
