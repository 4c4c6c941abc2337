"""``python -m sandbox``: serve the X sandbox until interrupted; the first line on stdout is its URL."""

from __future__ import annotations

import asyncio

from libs.core.settings import load_settings
from sandbox.app import start_sandbox
from sandbox.settings import SandboxSettings


async def serve() -> None:
    settings = load_settings(SandboxSettings)
    runner, base_url = await start_sandbox(settings)
    print(f"sandbox listening on {base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
