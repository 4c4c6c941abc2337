"""``python -m services.browser_gateway [run|login|migrate|provision]``.

run (default): serve X operations over NATS until SIGTERM. login: create the session file (mode 0600) against
XBOT_X_BASE_URL with XBOT_X_USERNAME / XBOT_X_PASSWORD (asked for when unset); when X checks who is signing in
it is answered with XBOT_X_LOGIN_IDENTIFIER (the account's e-mail or phone; else the username), and its two-factor
code comes from XBOT_X_TOTP_SECRET (else it is asked for at a terminal). login --api: sign in to the X API
(OAuth 2.0 with PKCE; XBOT_X_API_CLIENT_ID, ...) and store its tokens (mode 0600). The gateway keeps no tables
and reads no stream, so migrate and provision have nothing to do (they exist so `xbot` can treat every
service alike).
"""

import argparse
import asyncio
import getpass
import os
import sys

from libs.contracts.gateway import GatewayError
from libs.core.clock import Clock
from libs.core.settings import SettingsError, load_settings
from libs.core.totp import authenticator
from services.browser_gateway.app import run
from services.browser_gateway.login import login
from services.browser_gateway.settings import GatewaySettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.browser_gateway")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "login", "migrate", "provision"])
    parser.add_argument("--api", action="store_true", help="login: sign in to the X API instead of the web")
    args = parser.parse_args()
    command = args.command
    try:
        settings = load_settings(GatewaySettings)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    if command in ("migrate", "provision"):
        print(f"browser_gateway: nothing to {command} (no tables, no durable consumers)")
    elif command == "login" and args.api:
        from services.browser_gateway.xapi.login import sign_in  # oauthlib: only for this command

        try:
            path = asyncio.run(sign_in(settings, Clock.from_settings(settings)))
        except (ValueError, GatewayError) as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(1) from None
        print(f"X API tokens saved to {path} (mode 0600)")
    elif command == "login":
        username = os.environ.get("XBOT_X_USERNAME") or input("X username: ")
        password = os.environ.get("XBOT_X_PASSWORD") or getpass.getpass("X password: ")
        totp_secret = os.environ.get("XBOT_X_TOTP_SECRET") or None
        try:
            if totp_secret:
                authenticator(totp_secret)  # a key that is no key stops here, naming the variable
            path = asyncio.run(login(
                settings, username=username, password=password, totp_secret=totp_secret,
                identifier=os.environ.get("XBOT_X_LOGIN_IDENTIFIER") or None,
                # Without a key, the owner at a terminal types the code X asks for.
                ask_code=(lambda said: input(f"{said}\nCode: ")) if sys.stdin.isatty() else None))
        except (ValueError, GatewayError) as err:
            print(f"error: {err}", file=sys.stderr)
            raise SystemExit(1) from None
        print(f"session saved to {path} (mode 0600)")
    else:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
