"""Per-component credentials, generated once and kept in a private directory.

``.xbot/credentials/`` (mode 0700; every file 0600) holds ``credentials.json``: a NATS password per component of
ops/access.py, a PostgreSQL password per service role, the migration role's and the local cluster's
superuser's. The local ``xbot up`` runs its own servers with them (ops/infra.py); ``xbot credentials env``
prints them as ``.env`` lines for compose, ``xbot credentials k8s`` as the per-workload Secrets of deploy/k8s.
Missing entries (a new service) are added on the next load; existing ones never change, so servers already
configured keep accepting them.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ops.access import ACCESS, OPERATOR

ROUTE = "route"  # the NATS cluster's route user (k8s), not a component

CREDENTIALS_DIR_NAME = "credentials"
MIGRATOR = "migrator"
PG_ADMIN = "pg_admin"


def _password() -> str:
    # URL-safe: it goes into DSNs and NATS config strings without escaping.
    return secrets.token_urlsafe(24)


@dataclass
class Credentials:
    nats: dict[str, str]
    database: dict[str, str]

    def as_json(self) -> str:
        return json.dumps({"nats": self.nats, "database": self.database}, indent=2, sort_keys=True)

    def secrets(self) -> list[str]:
        return [*self.nats.values(), *self.database.values()]


def database_roles() -> list[str]:
    """The PostgreSQL login roles: one per service with a database, the migration role, the local superuser."""
    return [a.component for a in ACCESS if a.database and not a.admin] + [MIGRATOR, PG_ADMIN]


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, created with that mode (never world-readable for an instant)."""
    _private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def load(directory: Path) -> Credentials:
    """The credentials in ``directory``, generating whatever is missing (and saving it)."""
    path = directory / "credentials.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    nats = dict(data.get("nats", {}))
    database = dict(data.get("database", {}))
    changed = not path.exists()
    for component in (*(a.component for a in ACCESS), ROUTE):
        if component not in nats:
            nats[component], changed = _password(), True
    for role in database_roles():
        if role not in database:
            database[role], changed = _password(), True
    creds = Credentials(nats, database)
    if changed:
        write_private(path, creds.as_json())
    return creds


def env_lines(creds: Credentials) -> str:
    """``.env`` lines for docker compose (read into compose `secrets:`; never committed: .env is git-ignored)."""
    from ops.nats_auth import password_variable
    from ops.pg_roles import password_variable as pg_variable

    lines = [f"{password_variable(c)}={p}" for c, p in sorted(creds.nats.items()) if c != ROUTE]
    lines += [f"{pg_variable(r)}={p}" for r, p in sorted(creds.database.items()) if r != PG_ADMIN]
    lines.append(f"POSTGRES_PASSWORD={creds.database[PG_ADMIN]}")
    return "\n".join(lines) + "\n"


def operator_password(creds: Credentials) -> str:
    return creds.nats[OPERATOR]


def k8s_secrets(creds: Credentials, namespace: str = "xbot", *, database_host: str = "postgres",
                database: str = "xbot") -> str:
    """The Secrets deploy/k8s mounts, one per workload (each only its own credentials), as YAML for
    ``kubectl apply -f -``. The X session and the LLM key are added to the gateway's and the planner's by the
    operator (docs/operations.md), never generated here."""
    import yaml

    from ops import pg_roles
    from ops.nats_auth import password_variable, routes_config

    route_password = creds.nats.get(ROUTE) or _password()

    def secret(name: str, data: dict[str, str]) -> dict:
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "xbot"}},
                "stringData": data}

    docs = []
    for a in ACCESS:
        if a.admin:
            continue
        data = {"xbot_nats_password": creds.nats[a.component]}
        if a.database:
            data["xbot_database_password"] = creds.database[a.component]
            data["xbot_database_url"] = (f"postgresql://{pg_roles.role(a.component)}@{database_host}:5432/"
                                         f"{database}")
        docs.append(secret(f"xbot-{a.component.replace('_', '-')}", data))
    docs.append(secret("xbot-provision", {"xbot_nats_password": creds.nats[OPERATOR]}))
    roles = {pg_roles.password_variable(k).lower(): creds.database[k]
             for k in (*pg_roles.services_with_schema(), MIGRATOR)}
    docs.append(secret("xbot-db-roles", {
        "xbot_database_url": f"postgresql://postgres@{database_host}:5432/{database}",
        "xbot_database_password": creds.database[PG_ADMIN], **roles}))
    docs.append(secret("nats-users", {password_variable(c): p for c, p in sorted(creds.nats.items()) if c != ROUTE}))
    docs.append(secret("nats-routes", {"routes.conf": routes_config(route_password)}))
    return yaml.safe_dump_all(docs, sort_keys=False)
