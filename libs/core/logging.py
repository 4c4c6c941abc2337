"""JSON-lines logging. Secrets never reach a log: settings hold them as SecretStr, and known secret values
registered with :func:`redact` are masked in every record as a second line of defence."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_SECRETS: set[str] = set()


def redact(*values: str | None) -> None:
    """Register secret values (API keys, passwords, session blobs) to mask in every log line."""
    for v in values:
        if v and len(v) >= 6:
            _SECRETS.add(v)


def mask(text: str) -> str:
    """``text`` with every registered secret value replaced by ``***`` (logs, and what the notifier sends)."""
    for s in _SECRETS:
        if s in text:
            text = text.replace(s, "***")
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask(json.dumps(entry, default=str))


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # FastStream logs every message at INFO; keep its warnings and errors only.
    logging.getLogger("faststream").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def log(logger: logging.Logger, level: int, msg: str, **fields: object) -> None:
    """Log with structured fields that land as top-level JSON keys."""
    logger.log(level, msg, extra={"fields": fields})
