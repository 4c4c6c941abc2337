"""Who may do what: the one table of every component's rights on NATS, PostgreSQL and the secrets.

Everything that grants access is generated from :data:`ACCESS`: the NATS users and their subject permissions
(``ops/nats_auth.py``, for compose, k8s and the local ``xbot up``), the PostgreSQL roles (``ops/pg_roles.py``),
the per-service credentials and which secret files each workload gets (``ops/credentials.py``, compose
``secrets:``, the k8s Secrets), and the README's table (a test rebuilds it from here and compares). A new service
or a new secret is one more row or one more name here, and nothing else grants it anything.

The rules the table encodes (issue 19): each service publishes only its own stream's subjects and reads only the
streams it consumes, through its own durables; only the poster may request the gateway's posting operations and
only the console its ``delete_tweet`` (the owner's Delete button), and only the gateway answers
``<ns>.browser.>``; only the operator (the ``xbot`` CLI, the demo runner, provisioning) creates streams and
consumers; the operator and the owner's console (issue 22: its pause/resume switch, its dead letters page) alone
write the control bucket and read and drop the dead letters; a consuming service reads a dead letter only to
re-apply it when the console asks it to (``<ns>.ops.dlq_retry.<service>``, answered by it alone); the X session
and the X API tokens reach the gateway alone, the LLM key the planner alone.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from libs.bus.streams import ConsumerSpec
from libs.contracts.gateway import OPERATIONS
from ops.registry import CONSUMERS, SERVICES

# The gateway operations that post to the account (the poster's alone); the owner's deletion (the console's
# alone) also changes it; everything else reads.
GATEWAY_WRITES: tuple[str, ...] = ("post_tweet", "post_thread", "reply")
GATEWAY_DELETE = "delete_tweet"
GATEWAY_READS: tuple[str, ...] = tuple(op for op in OPERATIONS if op not in (*GATEWAY_WRITES, GATEWAY_DELETE))
OPERATOR = "operator"

# Secrets a component may hold, besides its own NATS password and database password (every service has those).
SESSION = "x_session"          # the signed-in X session (Playwright storage state): a full account takeover
X_API_TOKENS = "x_api_tokens"  # the X API's OAuth tokens and client secret
LLM_KEY = "llm_api_key"        # the LLM provider's key (spends money)
NOTIFY = "notify_channels"     # the owner's notification channels (Apprise URLs with their tokens) and the token
                               # Alertmanager's webhook must present

# The settings each secret travels in (as a variable, or a file of that name in lower case under
# XBOT_SECRETS_DIR): a component never receives the variables of a secret it does not hold.
SECRET_SETTINGS: dict[str, tuple[str, ...]] = {
    SESSION: ("XBOT_X_SESSION",),
    X_API_TOKENS: ("XBOT_X_API_CLIENT_SECRET", "XBOT_X_API_CONSUMER_KEY", "XBOT_X_API_CONSUMER_SECRET",
                   "XBOT_X_API_ACCESS_TOKEN", "XBOT_X_API_ACCESS_TOKEN_SECRET"),
    LLM_KEY: ("XBOT_LLM_API_KEY",),
    NOTIFY: ("XBOT_NOTIFY_URLS", "XBOT_NOTIFY_WEBHOOK_TOKEN"),
}
# Every component's own: its NATS password and its database role's password.
OWN_SECRET_SETTINGS: tuple[str, ...] = ("XBOT_NATS_PASSWORD", "XBOT_DATABASE_PASSWORD")


@dataclass(frozen=True)
class Access:
    """One component's rights. ``publishes``/``consumes`` name producers (streams); ``requests`` gateway ops."""

    component: str
    publishes: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    requests: tuple[str, ...] = ()
    answers_gateway: bool = False
    # KV buckets (libs/bus/streams.KV_BUCKETS) it writes: `services` only its own key, `leases` only its own jobs'.
    kv_writes: tuple[str, ...] = ()
    kv_reads: tuple[str, ...] = ()
    # KV buckets whose keys it lists (nats-py lists keys through an ephemeral consumer on the bucket's stream).
    kv_lists: tuple[str, ...] = ()
    # It counts the dead letters (the DLQ stream's info; never its messages).
    counts_dead_letters: bool = False
    # It reads and drops dead letters, and asks their services to re-apply them (the owner's console; re-applying
    # one stays its own service's).
    manages_dead_letters: bool = False
    secrets: tuple[str, ...] = ()
    database: bool = True
    # The operator: every subject, every JetStream API (provision, replay, pause/resume, status, dead letters).
    admin: bool = False
    why: str = ""


_RUNTIME_KV = ("services", "leases")

ACCESS: tuple[Access, ...] = (
    Access("browser_gateway", publishes=("browser_gateway",), answers_gateway=True, kv_writes=("services", "account"),
           kv_reads=("control", "services", "account"), secrets=(SESSION, X_API_TOKENS), database=False,
           why="the only Chromium and the only holder of the X session; the account's guardian (reads the kill "
               "switch, keeps its caps, budget and risk level in the account bucket)"),
    Access("planner", publishes=("planner",),
           consumes=("console", "harvester", "learner", "planner", "poster", "scraper"),
           kv_writes=_RUNTIME_KV, kv_reads=("control", *_RUNTIME_KV), secrets=(LLM_KEY,),
           why="writes with the LLM; never talks to X"),
    Access("poster", publishes=("poster",), consumes=("browser_gateway", "console", "planner", "scraper"),
           requests=(*GATEWAY_WRITES, "search", "own_timeline"),
           kv_writes=_RUNTIME_KV, kv_reads=("control", *_RUNTIME_KV),
           why="the only writer to X (read-back through search and the own timeline); of the scraper's stream, our "
               "tweets gone from X alone (the answers queued under them are withdrawn)"),
    Access("harvester", publishes=("harvester",), consumes=("console", "harvester", "poster", "scraper"),
           requests=("search", "tweet_metrics", "profile_snapshot", "tweet_replies"),
           kv_writes=_RUNTIME_KV, kv_reads=("control", *_RUNTIME_KV),
           why="reads X (through the gateway), never writes; reads the niche's news feeds; of the console's stream, "
               "the owner's deletions alone, of the scraper's our tweets gone from X alone (their replies are not read "
               "again)"),
    Access("scraper", publishes=("scraper",), consumes=("console", "poster", "scraper"),
           requests=("tweet_metrics", "profile_snapshot", "own_timeline"),
           kv_writes=_RUNTIME_KV, kv_reads=("control", *_RUNTIME_KV),
           why="reads X, never writes; stops reading a tweet the owner deleted (the console's TweetDeleted); reads "
               "the account's own timeline once for its posts from before xbot"),
    Access("learner", publishes=("learner",),
           consumes=("console", "harvester", "learner", "planner", "poster", "scraper"),
           kv_writes=_RUNTIME_KV, kv_reads=("control", *_RUNTIME_KV), why="never talks to X"),
    Access("notifier", consumes=("browser_gateway", "console", "planner", "poster", "scraper"),
           kv_writes=_RUNTIME_KV, kv_reads=("control", *_RUNTIME_KV), kv_lists=("services",),
           counts_dead_letters=True, secrets=(NOTIFY,),
           why="tells the owner through the owner's channels; never talks to X, publishes no event"),
    Access("console", publishes=("console",),
           consumes=("browser_gateway", "console", "harvester", "learner", "planner", "poster", "scraper"),
           kv_writes=("control", *_RUNTIME_KV), kv_reads=("control", "account", *_RUNTIME_KV),
           kv_lists=("services", "account"), counts_dead_letters=True, manages_dead_letters=True,
           requests=(GATEWAY_DELETE,),
           why="the owner's web console (127.0.0.1): shows every stream but the harvester's (strangers' tweets), "
               "of which it reads only the replies left to the owner and the retention's cuts, through durables "
               "filtered on those two events' subjects; "
               "publishes the owner's approvals, edits, rejections and deletions; holds the operator's right to "
               "the kill switch (pause/resume) and to read, retry (in their services) and drop dead letters; asks "
               "the gateway for one thing, the owner's deletion of a posted tweet"),
    Access(OPERATOR, admin=True, kv_writes=("control", "services", "leases", "account"),
           kv_reads=("control", "services", "leases", "account"),
           why="the xbot CLI (provision, migrate, replay, pause/resume, status, dlq), the demo runner"),
)

BY_NAME: dict[str, Access] = {a.component: a for a in ACCESS}


def access(component: str) -> Access:
    try:
        return BY_NAME[component]
    except KeyError:
        raise KeyError(f"{component!r} has no row in ops/access.py; every component needs one") from None


def components() -> tuple[str, ...]:
    return tuple(a.component for a in ACCESS)


def secret_holders(secret: str) -> tuple[str, ...]:
    return tuple(a.component for a in ACCESS if secret in a.secrets)


def withheld_settings(component: str) -> tuple[str, ...]:
    """The secret variables ``component`` must not receive (the others' secrets)."""
    mine = set(access(component).secrets)
    return tuple(v for secret, names in SECRET_SETTINGS.items() if secret not in mine for v in names)


def component_env(base: dict[str, str], component: str) -> dict[str, str]:
    """``base`` without the secrets that are not ``component``'s (and without anyone's database or NATS
    password, which each component gets from its own secret files)."""
    drop = set(withheld_settings(component)) | {"XBOT_DATABASE_PASSWORD", "XBOT_NATS_PASSWORD"}
    return {k: v for k, v in base.items() if k not in drop}


@cache
def consumer_specs(service: str) -> tuple[ConsumerSpec, ...]:
    """Every durable consumer the service reads, from its own composition (the table says which producers it
    consumes; the service's projections name the durables and their filters)."""
    if service not in CONSUMERS:
        return ()
    app = importlib.import_module(f"services.{service}.app")
    return tuple(app.build(app.Settings()).consumer_specs())


def durables(service: str, namespace: str) -> tuple[tuple[str, str], ...]:
    """``(stream, durable)`` of every durable consumer the service reads."""
    return tuple(sorted((spec.stream(namespace), spec.durable(namespace)) for spec in consumer_specs(service)))


def filtered_reads(service: str) -> dict[str, tuple[str, ...]]:
    """Producer -> the only events the service reads of it, where it reads through filtered durables (a
    projection's ``filtered``): it may not read the rest of that stream."""
    specs = consumer_specs(service)
    whole = {spec.producer for spec in specs if spec.filter_name is None}
    out: dict[str, tuple[str, ...]] = {}
    for spec in specs:
        if spec.filter_name is not None and spec.producer not in whole:
            out[spec.producer] = (*out.get(spec.producer, ()), spec.filter_name)
    return out


def check_against_registry() -> None:
    """Every service of ops/registry.py has a row, and no row names an unknown component or gateway op."""
    missing = [s for s in SERVICES if s not in BY_NAME]
    if missing:
        raise ValueError(f"services without a row in ops/access.py: {', '.join(missing)}")
    for a in ACCESS:
        unknown = [op for op in a.requests if op not in OPERATIONS]
        if unknown:
            raise ValueError(f"{a.component} requests unknown gateway operations: {unknown}")


def markdown_table() -> str:
    """The README's table of what each component may publish, consume, request and read."""
    def cell(values: list[str] | tuple[str, ...]) -> str:
        return ", ".join(f"`{v}`" for v in values) if values else "—"

    rows = ["| component | publishes | consumes (its own durables on) | gateway | KV writes | KV reads | secrets "
            "| database |", "|---|---|---|---|---|---|---|---|"]
    for a in ACCESS:
        if a.admin:
            rows.append(f"| {a.component} | everything (provisions streams and consumers, reads dead letters) | "
                        f"everything | everything | {cell(a.kv_writes)} (the kill switch: here and in the console) | "
                        f"{cell(a.kv_reads)} | NATS password, migration role's password | every schema, as the "
                        "migration role |")
            continue
        publishes = [f"<ns>.{p}.>" for p in a.publishes] + ([f"<ns>.dlq.{a.component}"] if a.consumes else [])
        gateway = cell(a.requests) if a.requests else ("answers `<ns>.browser.>`" if a.answers_gateway else "—")
        writes = [{"services": f"services/svc.{a.component}", "leases": f"leases/{a.component}.*"}.get(b, b)
                  for b in a.kv_writes]
        secrets = ["NATS password"] + (["database password"] if a.database else []) + [f"`{x}`" for x in a.secrets]
        database = f"owns schema `{a.component}`, nothing else" if a.database else "none"
        only = filtered_reads(a.component)
        consumes = ", ".join(f"`{p}`" + (f" (only {', '.join(f'`{e}`' for e in only[p])})" if p in only else "")
                             for p in a.consumes) or "—"
        rows.append(f"| {a.component} | {cell(publishes)} | {consumes} | {gateway} | {cell(writes)} | "
                    f"{cell(a.kv_reads)} | {', '.join(secrets)} | {database} |")
    return "\n".join(rows)
