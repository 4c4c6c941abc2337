"""PostgreSQL roles from ops/access.py: one login role per service owning its schema and nothing else, a separate
migration role, no superuser at run time.

- ``<prefix>_<service>`` (LOGIN, NOSUPERUSER, NOCREATEDB, NOCREATEROLE, NOBYPASSRLS): owns schema ``<service>``
  (created here, so the service's start-up migration only adds tables to its own schema); CONNECT on the
  database and nothing else: it can neither read another service's schema nor create a schema.
- ``<prefix>_migrator`` (LOGIN, same NO- attributes): member of every service role and CREATE on the database,
  for the operator's ``xbot migrate`` and ``xbot replay`` (which builds ``<service>__replay`` and swaps it in;
  libs/store runs every migration as the schema's owner, so tables stay the service's).
- PUBLIC loses CONNECT on the database and every right on schema ``public``.

Applied by a superuser once per database and again after a new service appears (idempotent): ``xbot db-roles``
(the compose init script and the k8s Job run it), and the local ``xbot up`` on its own cluster.
"""

from __future__ import annotations

import asyncpg

from ops.access import ACCESS

MIGRATOR = "migrator"


def role(service: str, prefix: str = "xbot") -> str:
    return f"{prefix}_{service}"


def password_variable(role_key: str) -> str:
    """The compose/.env variable holding a role's password (``XBOT_DB_PASSWORD_<SERVICE>``)."""
    return f"XBOT_DB_PASSWORD_{role_key.upper()}"


def services_with_schema() -> list[str]:
    return [a.component for a in ACCESS if a.database and not a.admin]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def setup_statements(database: str, passwords: dict[str, str], prefix: str = "xbot") -> list[str]:
    """The SQL a superuser runs (idempotent). ``passwords`` maps a service name (and ``migrator``) to its
    password; a role without one gets none (it cannot log in with a password)."""
    attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION"
    out = [f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC",
           "REVOKE ALL ON SCHEMA public FROM PUBLIC"]
    migrator = role(MIGRATOR, prefix)
    for key in (*services_with_schema(), MIGRATOR):
        name = role(key, prefix)
        out.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(name)}) THEN "
                   f"CREATE ROLE {_ident(name)}; END IF; END $$")
        password = f" PASSWORD {_literal(passwords[key])}" if key in passwords else ""
        out.append(f"ALTER ROLE {_ident(name)} WITH {attrs}{password}")
        out.append(f"GRANT CONNECT ON DATABASE {_ident(database)} TO {_ident(name)}")
    for service in services_with_schema():
        name = role(service, prefix)
        out.append(f"CREATE SCHEMA IF NOT EXISTS {_ident(service)} AUTHORIZATION {_ident(name)}")
        # A schema the superuser-era deployment created: hand it and everything in it to the service's role.
        out.append(f"ALTER SCHEMA {_ident(service)} OWNER TO {_ident(name)}")
        out.append(f"DO $$ DECLARE t record; BEGIN FOR t IN SELECT c.relname, c.relkind FROM pg_class c JOIN "
                   f"pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {_literal(service)} AND c.relkind "
                   f"IN ('r', 'p', 'v', 'm', 'S') LOOP EXECUTE format('ALTER %s %I.%I OWNER TO %I', CASE "
                   f"t.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' "
                   f"ELSE 'TABLE' END, {_literal(service)}, t.relname, {_literal(name)}); END LOOP; END $$")
        out.append(f"GRANT {_ident(name)} TO {_ident(migrator)}")
    out.append(f"GRANT CREATE ON DATABASE {_ident(database)} TO {_ident(migrator)}")
    return out


async def apply(admin_dsn: str, passwords: dict[str, str], prefix: str = "xbot") -> None:
    """Create or update the roles and schemas in the admin DSN's database."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        database = await conn.fetchval("SELECT current_database()")
        async with conn.transaction():
            # Two deployments applying at once would race on CREATE ROLE; one at a time.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('xbot:db-roles'))")
            for statement in setup_statements(database, passwords, prefix):
                await conn.execute(statement)
    finally:
        await conn.close()
