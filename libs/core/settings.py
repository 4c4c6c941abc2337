"""Settings from ``XBOT_*`` environment variables (pydantic-settings).

Every service subclasses :class:`CommonSettings`. :func:`load_settings` turns a validation error into a
:class:`SettingsError` whose message names the environment variable, so a bad value stops start-up with a
sentence a person can act on instead of a traceback.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, \
    model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "XBOT_"


def _seconds(value: object) -> object:
    # A plain number is seconds (what the XBOT_*_S variables always held); anything else is pydantic's to parse
    # (ISO 8601 such as PT8M, or [-][D]D[,][HH:MM:]SS[.ffffff]).
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


# A duration setting: XBOT_X=480 (seconds, decimals allowed) or XBOT_X=PT8M.
Duration = Annotated[timedelta, BeforeValidator(_seconds)]

# The unit an old duration variable was counted in, before durations were timedelta.
Unit = Literal["s", "ms", "minutes", "hours"]  # None in a RENAMED entry: the same value under a new name
_UNIT = {"s": timedelta(seconds=1), "ms": timedelta(milliseconds=1), "minutes": timedelta(minutes=1),
         "hours": timedelta(hours=1)}


def _in_unit(value: object, unit: Unit | None) -> object:
    # A number (or a list of numbers) in the old unit becomes a timedelta; anything else goes to the field's own
    # validation, whose error then names the old variable (describe_error).
    if unit is None:
        return value
    if isinstance(value, str) and value.lstrip().startswith("["):  # a list from the environment is JSON
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return [_in_unit(v, unit) for v in value]
    if isinstance(value, (int, float, str)):
        try:
            return float(value) * _UNIT[unit]
        except ValueError:
            pass
    return value


class StreamLimit(BaseModel):
    """One stream's retention overrides (``XBOT_STREAM_LIMITS``, by producer); what is unset keeps the default."""

    model_config = ConfigDict(extra="forbid")

    max_age_real: Duration | None = Field(default=None, ge=timedelta(0))  # 0: no age limit
    max_bytes: int | None = Field(default=None, ge=-1)  # -1: no size limit
    max_msgs: int | None = Field(default=None, ge=-1)  # -1: no count limit


class SettingsError(SystemExit):
    """Raised at start-up for an invalid setting; exits with status 2 and a readable message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    # Settings renamed (most when durations became timedelta): {field: (the variable it was read from, the unit
    # of its number)}. The old variable (and the old field name, in code) is still read, so existing env files keep
    # working; when both are set the new name wins. Each class adds its own renames to its parents'.
    RENAMED: ClassVar[dict[str, tuple[str, Unit | None]]] = {
        "gateway_timeout_real": ("XBOT_GATEWAY_TIMEOUT_S_REAL", "s"),
    }

    # Infrastructure. The defaults are the local servers; ops/infra.py starts embedded ones when absent.
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    # A CA bundle to verify the NATS servers' certificates with (a tls:// URL; deploy/k8s/components/nats-tls).
    nats_tls_ca: str | None = None
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/postgres")
    # The service role's password when the URL carries none (compose and k8s mount it as a secret file, see
    # XBOT_SECRETS_DIR; the URL then names only the role).
    database_password: SecretStr | None = None
    # Prefix of every subject, stream, KV bucket and durable; tests use a fresh one each for isolation.
    namespace: str = Field(default="xbot", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    # Tries of an event whose handler keeps failing (in place, 2, 4, 8, 16 s apart) before it is dead-lettered.
    projection_max_tries: int = Field(default=5, ge=1, le=20)
    # Copies of every stream and KV bucket: 3 on a 3-node NATS cluster (deploy/k8s), 1 on a single server.
    stream_replicas: int = Field(default=1, ge=1, le=5)

    # Retention of the event streams (JetStream limits, oldest events dropped first; README "Bounded streams").
    # Real time: the server ages messages by the wall clock, whatever XBOT_TIME_SCALE says.
    stream_max_age_real: Duration = Field(default=timedelta(days=400), ge=timedelta(0))
    stream_max_bytes: int = Field(default=512 * 2**20, ge=-1)
    # Per producer ({"scraper": {"max_bytes": 268435456}, "harvester": {"max_age_real": "P10D"}}, JSON).
    stream_limits: dict[str, StreamLimit] = Field(default_factory=dict)
    # How long harvested strangers' tweets and profiles are kept (simulated time, for the harvester's tables;
    # also the harvester stream's default max age, in real time). README "Retention of personal data".
    personal_data_retention: Duration = Field(default=timedelta(days=4), gt=timedelta(0))
    # How often each service with projections snapshots them (libs.store.snapshot), simulated time: shorter than
    # any stream's max age, so a replay always finds a snapshot from before the oldest event a stream still holds.
    snapshot_interval: Duration = Field(default=timedelta(days=1), gt=timedelta(0))

    # One clock for the whole run (libs.core.clock).
    time_scale: float = Field(default=1.0, gt=0, le=100_000)
    sim_epoch: datetime | None = None
    sim_anchor: float | None = None

    # Side HTTP port for /health, /ready, /metrics; 0 picks a free one.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # OTLP/HTTP endpoint for traces; unset keeps spans in-process only.
    otlp_endpoint: str | None = None
    # Real-time limit of one browser-gateway request; it must exceed the gateway's queue timeout of the op's
    # class plus one op, else a late answer is lost.
    gateway_timeout_real: Duration = Field(default=timedelta(minutes=7), gt=timedelta(0))

    @model_validator(mode="before")
    @classmethod
    def _read_renamed(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        environ = {k.upper(): v for k, v in os.environ.items()}
        for field, (old_var, unit) in renamed(cls).items():
            if field in data:
                continue
            old_field = old_var.removeprefix(ENV_PREFIX).lower()
            if old_field in data:
                data[field] = _in_unit(data.pop(old_field), unit)
            elif old_var in environ:
                data[field] = _in_unit(environ[old_var], unit)
        return data

    @model_validator(mode="after")
    def _snapshots_before_retention(self) -> CommonSettings:
        ages = {"XBOT_STREAM_MAX_AGE_REAL": self.stream_max_age_real,
                "XBOT_PERSONAL_DATA_RETENTION": self.personal_data_retention}
        ages |= {f"XBOT_STREAM_LIMITS ({name})": limit.max_age_real for name, limit in self.stream_limits.items()
                 if limit.max_age_real is not None}
        for var, age in ages.items():
            if age and self.snapshot_interval >= age:
                raise ValueError(f"XBOT_SNAPSHOT_INTERVAL ({self.snapshot_interval}) must be shorter than {var} "
                                 f"({age}): a replay needs a snapshot taken before a stream drops its oldest events")
        return self

    def __init__(self, **values: object) -> None:
        # Secrets mounted as files (compose `secrets:`, k8s Secret volumes, mode 0400): a file per setting named
        # like its variable in lower case (xbot_nats_password, xbot_llm_api_key, …) in XBOT_SECRETS_DIR. The
        # environment still wins, so a developer's shell keeps working.
        secrets_dir = os.environ.get("XBOT_SECRETS_DIR")
        if secrets_dir and "_secrets_dir" not in values:
            if not os.path.isdir(secrets_dir):
                raise SettingsError(f"invalid setting XBOT_SECRETS_DIR (got {secrets_dir!r}): not a directory")
            values["_secrets_dir"] = secrets_dir
        super().__init__(**values)  # type: ignore[arg-type]

    @property
    def dsn(self) -> str:
        url = self.database_url.get_secret_value()
        if self.database_password is None:
            return url
        parts = urlsplit(url)
        if parts.password is not None or parts.username is None:
            return url
        host = parts.netloc.split("@", 1)[1]
        password = quote(self.database_password.get_secret_value(), safe="")
        return urlunsplit(parts._replace(netloc=f"{parts.username}:{password}@{host}"))

    def secret_values(self) -> list[str]:
        """Every secret this process holds (each SecretStr setting, the password inside the database URL), for
        the log redaction."""
        out = []
        for name in type(self).model_fields:
            value = getattr(self, name, None)
            if isinstance(value, SecretStr):
                out.append(value.get_secret_value())
        password = urlsplit(self.dsn).password
        if password:
            out += [password, unquote(password)]
        return [v for v in out if v]


def renamed(cls: type[BaseSettings]) -> dict[str, tuple[str, Unit | None]]:
    """The renames of a settings class and of its parents."""
    out: dict[str, tuple[str, Unit | None]] = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass).get("RENAMED", {}))
    return out


S = TypeVar("S", bound=BaseSettings)


def _aliases(info: FieldInfo) -> list[str]:
    alias = info.validation_alias
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasChoices):
        return [c for c in alias.choices if isinstance(c, str)]
    return []


def _field(cls: type[BaseSettings], key: str) -> tuple[FieldInfo | None, list[str]]:
    """The field an error's location names (its name, or one of its aliases: then the loc is the first alias,
    whichever variable held the value) and the variables it is read from under aliases."""
    for name, info in cls.model_fields.items():
        aliases = _aliases(info)
        if key == name or key in aliases:
            return info, aliases
    return None, []


def describe_error(err: ValidationError, cls: type[BaseSettings]) -> str:
    prefix = cls.model_config.get("env_prefix", "") or ""
    environ = {k.upper(): v for k, v in os.environ.items()}
    lines = []
    for e in err.errors():
        if not e["loc"]:  # a rule across several settings: its message names them
            lines.append(f"invalid settings: {str(e['msg']).removeprefix('Value error, ')}")
            continue
        field = ".".join(str(p) for p in e["loc"]) or "?"
        var = f"{prefix}{field}".upper()
        given = e.get("input")
        info, aliases = _field(cls, str(e["loc"][0]))
        old = renamed(cls).get(str(e["loc"][0])) if issubclass(cls, CommonSettings) else None
        if old is not None and var.split(".")[0] not in environ and old[0] in environ:
            # The value came from the variable's old name: name that one, with the text it held.
            var = old[0] + "".join(f".{p}" for p in e["loc"][1:])
            given = environ[old[0]]
        elif var.split(".")[0] in environ and not isinstance(given, str):
            given = environ[var.split(".")[0]]  # the text set, not the value pydantic had converted it to
        elif aliases:
            # Read under several names (a renamed setting): name the one that was set, the first winning, with
            # the text it held (the input pydantic reports may already be converted).
            var = next((a.upper() for a in aliases if a.upper() in environ), aliases[0].upper())
            given = environ.get(var, given)
            var += "".join(f".{p}" for p in e["loc"][1:])
        secret = info is not None and "SecretStr" in repr(info.annotation)
        shown = "" if given is None or isinstance(given, dict) or secret or "secret" in field \
            or "password" in field or "key" in field else f" (got {given!r})"
        lines.append(f"invalid setting {var}{shown}: {e['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S], **overrides: Any) -> S:
    try:
        return cls(**overrides)
    except ValidationError as err:
        raise SettingsError(describe_error(err, cls)) from None
