"""``python -m services.browser_gateway [run|login|migrate|provision]``.

run (default): serve X operations over NATS until SIGTERM. login: create the session file (mode 0600) against
XBOT_X_BASE_URL with XBOT_X_USERNAME / XBOT_X_PASSWORD (asked for when unset). The gateway keeps no tables
and reads no stream, so migrate and provision have nothing to do (they exist so `xbot` can treat every
service alike).
"""

import argparse
import asyncio
import getpass
import os
import sys

from libs.runtime.settings import SettingsError, load_settings
from services.browser_gateway.app import run
from services.browser_gateway.login import login
from services.browser_gateway.settings import GatewaySettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.browser_gateway")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "login", "migrate", "provision"])
    command = parser.parse_args().command
    try:
        settings = load_settings(GatewaySettings)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    if command in ("migrate", "provision"):
        print(f"browser_gateway: nothing to {command} (no tables, no durable consumers)")
    elif command == "login":
        username = os.environ.get("XBOT_X_USERNAME") or input("X username: ")
        password = os.environ.get("XBOT_X_PASSWORD") or getpass.getpass("X password: ")
        path = asyncio.run(login(settings, username=username, password=password))
        print(f"session saved to {path} (mode 0600)")
    else:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
