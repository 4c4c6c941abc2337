"""The code of an authenticator app (RFC 6238 TOTP, pyotp): what X asks for at sign-in when the account has
two-factor authentication, computed by ``xbot login`` and checked by the sandbox."""

from __future__ import annotations

import binascii

import pyotp


class _Key(pyotp.TOTP):
    # pyotp refuses keys under 112 bits, NIST's advice for keys one makes; services issue 80-bit ones (16 base32
    # characters: Facebook's, GitHub's), and a key X issued is to be used as it is.
    min_secret_length_bits = 80


def authenticator(secret: str) -> pyotp.TOTP:
    """The authenticator set up with ``secret``: base32 as a service shows it (case and spaces do not matter).
    ValueError naming XBOT_X_TOTP_SECRET when it is no such key."""
    try:
        return _Key(secret.replace(" ", "").upper())
    except (ValueError, binascii.Error) as err:
        raise ValueError(f"XBOT_X_TOTP_SECRET is not the base32 key X showed at two-factor set-up: {err}") from None
