"""``xbot backup`` / ``xbot restore``: one archive with every service's schema and every stream and KV bucket.

The archive (``.tar.gz``) holds
- ``postgres.dump``: PostgreSQL's own ``pg_dump`` (custom format) of every service schema and its snapshot
  schema, one dump, so one consistent database snapshot;
- ``streams/<STREAM>.jsonl``: every stored message of every stream (sequence, subject, headers, data) read
  through JetStream's API, **after** the dump: the streams then hold at least every event the dumped tracking
  positions name, and what came later is applied again after a restore (the tracking table skips nothing twice);
- ``kv/<bucket>.json``: the KV buckets' current values (the kill switch; the others are rebuilt by the running
  services but kept for completeness);
- ``manifest.json``: namespace, time, schemas, each stream's first and last sequence and the tracking positions
  read just before the dump (the pair is consistent when every position is at most its stream's last sequence;
  checked).

``restore`` loads it into empty servers: ``pg_restore``, then each stream recreated with its original sequence
numbers (the first sequence set by a purge, a deleted message's gap kept by publishing and deleting a filler), so
the tracking positions keep meaning the same events; a message published again with its ``Nats-Msg-Id`` keeps
the duplicate window working against an outbox row re-sent after the restore.
"""

from __future__ import annotations

import asyncio
import base64
import glob
import json
import shutil
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from libs.bus.nats import connect
from libs.bus.provision import provision_streams
from libs.bus.streams import KV_BUCKETS, kv_bucket, retention_from, stream_configs
from libs.core.settings import CommonSettings

FORMAT = 1
MSG_ID = "Nats-Msg-Id"


class RestoreRefused(RuntimeError):
    """The target is not empty, or the archive does not fit it."""


def _tool(name: str) -> str:
    # The server's own major version's tools when several are installed (pg_dump refuses a newer server).
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else (shutil.which(name) or name)


async def _existing_schemas(dsn: str, services: list[str]) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        names = [r["schema_name"] for r in await conn.fetch("SELECT schema_name FROM information_schema.schemata")]
    finally:
        await conn.close()
    wanted = {s for svc in services for s in (svc, f"{svc}__snapshot")}
    return sorted(n for n in names if n in wanted)


async def _tracking(dsn: str, schemas: list[str]) -> dict[str, dict[str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        out: dict[str, dict[str, int]] = {}
        for schema in schemas:
            if schema.endswith("__snapshot"):
                continue
            rows = await conn.fetch(f'SELECT consumer, stream, stream_seq FROM "{schema}".tracking')
            out[schema] = {f"{r['consumer']}@{r['stream']}": r["stream_seq"] for r in rows}
        return out
    finally:
        await conn.close()


async def backup(settings: CommonSettings, services: list[str], archive: Path) -> dict[str, Any]:
    """Write the archive (see the module docstring); returns its manifest."""
    dsn, ns = settings.dsn, settings.namespace
    with tempfile.TemporaryDirectory(prefix="xbot-backup-") as tmp:
        root = Path(tmp)
        schemas = await _existing_schemas(dsn, services)
        # Read just before the dump: the dumped positions are these or later, and the streams, read after the
        # dump, reach at least as far (checked below).
        tracking = await _tracking(dsn, schemas)
        if schemas:
            # Owners and grants kept: with per-service roles each schema stays its service's (the roles must exist
            # on the target before a restore: `xbot credentials` / ops/pg_roles.py).
            cmd = [_tool("pg_dump"), "--format=custom", "-f",
                   str(root / "postgres.dump"), *(f"--schema={s}" for s in schemas), dsn]
            proc = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"pg_dump failed: {proc.stderr.strip()}")
        nc = await connect(settings, name="xbot-backup")
        try:
            js = nc.jetstream()
            streams = await _dump_streams(js, ns, root / "streams")
            kv = await _dump_kv(js, ns, root / "kv")
        finally:
            await nc.close()
        for schema, positions in tracking.items():
            for key, pos in positions.items():
                stream = key.rsplit("@", 1)[1]
                if pos > streams.get(stream, {}).get("last_seq", 0):
                    raise RuntimeError(f"inconsistent backup: {schema} applied {stream} up to {pos}, beyond the "
                                       "stream's last message")
        manifest = {"format": FORMAT, "namespace": ns, "created_at": datetime.now(UTC).isoformat(),
                    "schemas": schemas, "streams": streams, "kv": kv, "tracking": tracking}
        (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "w:gz") as tar:
            for item in sorted(root.iterdir()):
                tar.add(item, arcname=item.name)
    return manifest


async def _dump_streams(js: JetStreamContext, ns: str, out: Path) -> dict[str, dict[str, int]]:
    out.mkdir()
    streams = {}
    for cfg in stream_configs(ns):
        assert cfg.name is not None
        try:
            state = (await js.stream_info(cfg.name)).state
        except NotFoundError:
            continue
        count = 0
        with open(out / f"{cfg.name}.jsonl", "w") as f:
            for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                try:
                    msg = await js.get_msg(cfg.name, seq)
                except NotFoundError:  # deleted (a dropped dead letter): a gap the restore keeps
                    continue
                f.write(json.dumps({"seq": seq, "subject": msg.subject, "headers": dict(msg.headers or {}),
                                    "data": base64.b64encode(msg.data or b"").decode()}) + "\n")
                count += 1
        streams[cfg.name] = {"first_seq": state.first_seq, "last_seq": state.last_seq, "messages": count}
    return streams


async def _dump_kv(js: JetStreamContext, ns: str, out: Path) -> dict[str, int]:
    out.mkdir()
    sizes = {}
    for name in KV_BUCKETS:
        bucket = kv_bucket(ns, name)
        try:
            kv = await js.key_value(bucket)
        except Exception:  # noqa: BLE001 - not provisioned: nothing to keep
            continue
        entries = {}
        try:
            keys = await kv.keys()
        except Exception:  # noqa: BLE001 - nats-py raises NoKeysError for an empty bucket
            keys = []
        for key in keys:
            entry = await kv.get(key)
            entries[key] = base64.b64encode(entry.value or b"").decode()
        (out / f"{name}.json").write_text(json.dumps(entries))
        sizes[name] = len(entries)
    return sizes


async def restore(settings: CommonSettings, archive: Path) -> dict[str, Any]:
    """Load the archive into empty servers (refuses otherwise); the services' consumers are provisioned after."""
    with tempfile.TemporaryDirectory(prefix="xbot-restore-") as tmp:
        root = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(root, filter="data")
        manifest = json.loads((root / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise RestoreRefused(f"unknown archive format {manifest.get('format')!r}")
        ns = settings.namespace
        if manifest["namespace"] != ns:
            raise RestoreRefused(f"the archive is of namespace {manifest['namespace']!r}, XBOT_NAMESPACE is {ns!r}: "
                                 "durables and tracking rows are named by it")
        present = await _existing_schemas(settings.dsn, [s.removesuffix("__snapshot") for s in manifest["schemas"]])
        if present:
            raise RestoreRefused(f"the database already has the schemas {', '.join(present)}; restore into an "
                                 "empty one")
        nc = await connect(settings, name="xbot-restore")
        try:
            js = nc.jetstream()
            for name in manifest["streams"]:
                try:
                    if (await js.stream_info(name)).state.last_seq:
                        raise RestoreRefused(f"stream {name} already holds messages; restore into an empty server")
                except NotFoundError:
                    pass
            if (root / "postgres.dump").exists():
                cmd = [_tool("pg_restore"), "--exit-on-error", "-d", settings.dsn,
                       str(root / "postgres.dump")]
                proc = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"pg_restore failed: {proc.stderr.strip()}")
            await provision_streams(js, ns, settings.stream_replicas, retention_from(settings))
            gap_subjects = {c.name: (c.subjects or [])[0].replace(">", "restore_gap") for c in stream_configs(ns)}
            restored = {name: await _load_stream(js, name, meta, root / "streams" / f"{name}.jsonl",
                                                 gap_subjects[name])
                        for name, meta in manifest["streams"].items()}
            for name in manifest["kv"]:
                kv = await js.key_value(kv_bucket(ns, name))
                for key, value in json.loads((root / "kv" / f"{name}.json").read_text()).items():
                    await kv.put(key, base64.b64decode(value))
        finally:
            await nc.close()
    return {"namespace": ns, "schemas": manifest["schemas"], "streams": restored, "kv": manifest["kv"]}


async def _load_stream(js: JetStreamContext, name: str, meta: dict[str, int], path: Path, gap_subject: str) -> int:
    if meta["first_seq"] > 1:
        await js.purge_stream(name, seq=meta["first_seq"])  # the next message gets the original first sequence
    count = 0
    expected = meta["first_seq"] or 1

    async def keep_gap(upto: int) -> int:
        """Deleted messages (a dropped dead letter) before ``upto``: a filler published and deleted per gap."""
        at = expected
        while at < upto:
            ack = await js.publish(gap_subject, b"", stream=name)
            await js.delete_msg(name, ack.seq)
            at = ack.seq + 1
        return at

    with open(path) as f:
        for line in f:
            msg = json.loads(line)
            subject = msg["subject"]
            expected = await keep_gap(msg["seq"])
            data, headers = base64.b64decode(msg["data"]), msg["headers"] or None
            ack = await js.publish(subject, data, stream=name, headers=headers)
            if ack.duplicate and headers and MSG_ID in headers:
                # The same Nats-Msg-Id stored twice (published again past the window): store it again as it was.
                ack = await js.publish(subject, data, stream=name,
                                       headers={k: v for k, v in headers.items() if k != MSG_ID} or None)
            if ack.seq != msg["seq"]:
                raise RuntimeError(f"restoring {name}: message {msg['seq']} got sequence {ack.seq}")
            expected = ack.seq + 1
            count += 1
    await keep_gap(meta["last_seq"] + 1)
    return count
