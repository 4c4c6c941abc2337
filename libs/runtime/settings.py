"""Settings from ``XBOT_*`` environment variables (pydantic-settings).

Every service subclasses :class:`CommonSettings`. :func:`load_settings` turns a validation error into a
:class:`SettingsError` whose message names the environment variable, so a bad value stops start-up with a
sentence a person can act on instead of a traceback.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "XBOT_"


class SettingsError(SystemExit):
    """Raised at start-up for an invalid setting; exits with status 2 and a readable message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    # Infrastructure. The defaults are the local servers; libs/runtime/infra.py starts embedded ones when absent.
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/postgres")
    # Prefix of every subject, stream, KV bucket and durable; tests use a fresh one each for isolation.
    namespace: str = Field(default="xbot", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    # Copies of every stream and KV bucket: 3 on a 3-node NATS cluster (deploy/k8s), 1 on a single server.
    stream_replicas: int = Field(default=1, ge=1, le=5)

    # One clock for the whole run (libs.runtime.clock).
    time_scale: float = Field(default=1.0, gt=0, le=100_000)
    sim_epoch: datetime | None = None
    sim_anchor: float | None = None

    # Side HTTP port for /health, /ready, /metrics; 0 picks a free one.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # OTLP/HTTP endpoint for traces; unset keeps spans in-process only.
    otlp_endpoint: str | None = None

    @property
    def dsn(self) -> str:
        return self.database_url.get_secret_value()


S = TypeVar("S", bound=BaseSettings)


def describe_error(err: ValidationError, cls: type[BaseSettings]) -> str:
    prefix = cls.model_config.get("env_prefix", "") or ""
    lines = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "?"
        var = f"{prefix}{field}".upper()
        given = e.get("input")
        info = cls.model_fields.get(str(e["loc"][0])) if e["loc"] else None
        secret = info is not None and "SecretStr" in repr(info.annotation)
        shown = "" if given is None or isinstance(given, dict) or secret or "secret" in field \
            or "password" in field or "key" in field else f" (got {given!r})"
        lines.append(f"invalid setting {var}{shown}: {e['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S], **overrides: object) -> S:
    try:
        return cls(**overrides)
    except ValidationError as err:
        raise SettingsError(describe_error(err, cls)) from None
