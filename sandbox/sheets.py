"""X's interstitial sheets: a dialog over a page, behind a mask that takes every click until it is closed (public
readers of x.com dismiss them before anything else: "Turn on notifications", "Review your phone", Premium offers,
updated terms). Which ones close on Escape and which only on their own button differ; one asks the owner to act.

A logged-in page load shows one at ``XBOT_SANDBOX_SHEET_RATE`` (drawn from the world's seed and the count of such
page loads, so a run meets the same ones), or the next ones forced with ``POST /admin/sheet``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class SheetButton:
    label: str
    aria_label: str | None = None


@dataclass(frozen=True)
class Sheet:
    heading: str
    text: str
    buttons: tuple[SheetButton, ...]
    # Whether Escape closes it (X's dialogs mostly do; an acknowledgement may not).
    escape: bool = True
    # Whether any of its buttons closes it: a sheet that asks the owner to act stays until they do.
    closable: bool = True


SHEETS = {
    "notifications": Sheet("Turn on notifications",
                           "Get the most out of X by staying up to date with what's happening.",
                           (SheetButton("Allow notifications"), SheetButton("Skip for now"))),
    "premium": Sheet("Upgrade to Premium", "Get a checkmark, longer posts and fewer ads.",
                     (SheetButton("Subscribe"), SheetButton("×", aria_label="Close"))),
    "terms": Sheet("We've updated our Terms", "By continuing to use X you agree to the updated Terms of "
                   "Service and Privacy Policy.", (SheetButton("Got it"),), escape=False),
    "verify_email": Sheet("Verify your email",
                          "To keep using X, confirm the email address on your account.",
                          (SheetButton("Send email"),), escape=False, closable=False),
}
# The kinds a page load draws at the sheet rate (the one that needs the owner only when forced).
DRAWN = ("notifications", "premium", "terms")


def drawn_sheet(seed: int, page_load: int, rate: float) -> Sheet | None:
    """The sheet the ``page_load``-th logged-in page load shows, if any."""
    if rate <= 0:
        return None
    digest = hashlib.sha256(f"{seed}|sheet|{page_load}".encode()).digest()
    if int.from_bytes(digest[:8], "big") / 2**64 >= rate:
        return None
    return SHEETS[DRAWN[digest[8] % len(DRAWN)]]
