"""NATS users and subject permissions generated from ops/access.py.

    python -m ops.nats_auth            rewrite deploy/nats/auth.conf and deploy/k8s/nats/auth.conf
    python -m ops.nats_auth --check    exit 1 when a committed file is not what this writes

Each component gets one user (its name) with deny-by-default publish and subscribe lists:

- its own events (``<ns>.<service>.>``) and its dead letters (``<ns>.dlq.<service>``), nothing else of the
  streams' subjects; JetStream publishing is a request whose answer comes to the user's own inbox;
- for each of its durable consumers: ``$JS.API.CONSUMER.INFO|MSG.NEXT.<stream>.<durable>`` and the acks
  ``$JS.ACK.<stream>.<durable>.>``, plus ``$JS.API.STREAM.INFO`` of the streams it reads. Creating, changing or
  deleting streams and consumers is the operator's (``xbot provision``), so a service cannot add a consumer on a
  stream it should not read, nor pull from another service's durable;
- KV: reads of the buckets it reads; writes of its own key in ``services`` and its own jobs' keys in ``leases``;
  the ``control`` bucket (the kill switch) is written by the operator and the owner's console alone, and nobody
  may purge or delete in any bucket's stream;
- the gateway operations it requests (``<ns>.browser.<op>``); only the gateway subscribes to ``<ns>.browser.>``
  and may answer (``allow_responses``);
- dead letters: a consuming service answers ``<ns>.ops.dlq_retry.<service>`` (the console's Retry) and reads the
  DLQ stream's message it is asked to re-apply; the console alone may ask, and read and drop letters;
- replies come to ``_INBOX_<component>.>``, its own inbox prefix (set by libs/bus/broker.py and libs/bus/nats.py),
  so no component can read the answers meant for another (the gateway's answers to the poster, say).

Passwords are not in these files: compose and k8s read them from the server's environment
(``$XBOT_NATS_PASSWORD_<COMPONENT>``, set from secrets), the local ``xbot up`` writes its own config with the
generated passwords into its private credentials directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from libs.bus.dlq import retry_subject
from libs.bus.streams import DLQ, dlq_subject, kv_bucket, producer_subjects, stream_name
from libs.contracts.gateway import subject as gateway_subject
from ops.access import ACCESS, Access, check_against_registry, durables

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_CONF = ROOT / "deploy" / "nats" / "auth.conf"
K8S_CONF = ROOT / "deploy" / "k8s" / "nats" / "auth.conf"
DEFAULT_NAMESPACE = "xbot"


def inbox_prefix(component: str) -> str:
    """The inbox a component's requests are answered on (libs builds its connections with it)."""
    return f"_INBOX_{component}"


def password_variable(component: str) -> str:
    return f"XBOT_NATS_PASSWORD_{component.upper()}"


def _kv_read(namespace: str, bucket: str) -> list[str]:
    stream = f"KV_{kv_bucket(namespace, bucket)}"
    return [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>",
            f"$JS.API.STREAM.MSG.GET.{stream}"]


def _kv_write(namespace: str, bucket: str, component: str) -> str:
    # Keys: services/svc.<service> (libs/runtime/health.py), leases/<service>.<job> (libs/runtime/scheduler.py).
    key = {"services": f"svc.{component}", "leases": f"{component}.>"}.get(bucket, ">")
    return f"$KV.{kv_bucket(namespace, bucket)}.{key}"


def permissions(a: Access, namespace: str = DEFAULT_NAMESPACE) -> dict[str, object] | None:
    """The component's NATS permissions (None: the operator, who may do everything)."""
    if a.admin:
        return None
    publish: list[str] = []
    for producer in a.publishes:
        publish.append(producer_subjects(namespace, producer))
    if a.consumes:
        publish.append(dlq_subject(namespace, a.component))
    reads = durables(a.component, namespace)
    if sorted({s for s, _ in reads}) != sorted(stream_name(namespace, p) for p in a.consumes):
        raise ValueError(f"{a.component}: ops/access.py says it consumes {a.consumes}, its projections read "
                         f"{sorted({s for s, _ in reads})}")
    for stream in sorted({s for s, _ in reads}):
        publish.append(f"$JS.API.STREAM.INFO.{stream}")
    for stream, durable in reads:
        publish += [f"$JS.API.CONSUMER.INFO.{stream}.{durable}", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
                    f"$JS.ACK.{stream}.{durable}.>"]
    for bucket in a.kv_reads:
        publish += _kv_read(namespace, bucket)
    for bucket in a.kv_writes:
        publish.append(_kv_write(namespace, bucket, a.component))
    for bucket in a.kv_lists:
        stream = f"KV_{kv_bucket(namespace, bucket)}"
        publish += [f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>",
                    f"$JS.API.CONSUMER.DELETE.{stream}.>", f"$JS.API.CONSUMER.INFO.{stream}.>", f"$JS.FC.{stream}.>"]
    if a.counts_dead_letters:
        publish.append(f"$JS.API.STREAM.INFO.{stream_name(namespace, DLQ)}")
    if a.manages_dead_letters or a.consumes:
        # A consuming service reads the letter the console asks it to re-apply (it checks the letter is its own).
        publish.append(f"$JS.API.STREAM.MSG.GET.{stream_name(namespace, DLQ)}")
    if a.manages_dead_letters:
        publish += [f"$JS.API.STREAM.MSG.DELETE.{stream_name(namespace, DLQ)}", retry_subject(namespace, "*")]
    publish += [gateway_subject(namespace, op) for op in a.requests]
    subscribe = [f"{inbox_prefix(a.component)}.>"]
    perms: dict[str, object] = {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}
    if a.consumes:
        subscribe.append(retry_subject(namespace, a.component))
    if a.answers_gateway:
        subscribe.append(gateway_subject(namespace, ">"))
    if a.answers_gateway or a.consumes:
        perms["allow_responses"] = True
    return perms


def users(passwords: dict[str, str] | None = None, namespace: str = DEFAULT_NAMESPACE) -> list[dict[str, object]]:
    """One user per component; ``passwords`` literal (the local stack), else ``$XBOT_NATS_PASSWORD_<C>``."""
    check_against_registry()
    out = []
    for a in ACCESS:
        password = passwords[a.component] if passwords else f"${password_variable(a.component)}"
        user: dict[str, object] = {"user": a.component, "password": password}
        perms = permissions(a, namespace)
        if perms is not None:
            user["permissions"] = perms
        out.append(user)
    return out


def _value(v: object, indent: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        # A $VARIABLE stays bare so the server reads it from its environment; anything else is quoted (JSON
        # strings are valid NATS config strings).
        return v if v.startswith("$XBOT_") else json.dumps(v)
    if isinstance(v, list):
        inner = indent + "  "
        return "[\n" + "".join(f"{inner}{_value(x, inner)}\n" for x in v) + f"{indent}]"
    if isinstance(v, dict):
        inner = indent + "  "
        return "{\n" + "".join(f"{inner}{k}: {_value(x, inner)}\n" for k, x in v.items()) + f"{indent}}}"
    raise TypeError(type(v))


def authorization_block(passwords: dict[str, str] | None = None, namespace: str = DEFAULT_NAMESPACE) -> str:
    header = ("# Generated by `python -m ops.nats_auth` from ops/access.py: do not edit by hand.\n"
              f"# Users and subject permissions of namespace {namespace!r}; passwords from the server's environment.\n")
    return header + "authorization " + _value({"users": users(passwords, namespace)}, "") + "\n"


def main(argv: list[str]) -> int:
    text = authorization_block()
    stale = [p for p in (COMPOSE_CONF, K8S_CONF) if not p.exists() or p.read_text() != text]
    if "--check" in argv:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is stale: run python -m ops.nats_auth", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_text(text)
        print(p.relative_to(ROOT))
    return 0


def server_config(passwords: dict[str, str], *, namespace: str, port: int, store_dir: Path) -> str:
    """A whole single-server config with literal passwords (the local ``xbot up`` and the tests): loopback only,
    JetStream, no monitoring port."""
    return (f"listen: \"127.0.0.1:{port}\"\n"
            f"jetstream {{\n  store_dir: {json.dumps(str(store_dir))}\n}}\n"
            + authorization_block(passwords, namespace))


ROUTE_USER = "route"
CLUSTER_SIZE = 3


def routes_config(password: str, *, size: int = CLUSTER_SIZE) -> str:
    """The k8s cluster block's secret part (the Secret ``nats-routes``, included by deploy/k8s/nats/nats.conf):
    routes accept only peers with the route password and dial each other with it. A route URL cannot take a
    variable, so this lives in a mounted file rather than the server's environment."""
    urls = "".join(f'    "nats-route://{ROUTE_USER}:{password}@nats-{i}.nats-headless:6222"\n' for i in range(size))
    return (f'authorization {{\n  user: "{ROUTE_USER}"\n  password: {json.dumps(password)}\n  timeout: 2\n}}\n'
            f"routes: [\n{urls}]\n")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
