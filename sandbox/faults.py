"""Failures forced through the admin API, on top of the ones the world's rules produce by themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

# Modes that refuse the next N writes; "session_expired" and "locked" act on the session instead.
WRITE_FAULTS = ("rate_limit", "automation", "daily_limit", "error", "duplicate")
SESSION_FAULTS = ("session_expired", "locked")
FAULT_MODES = WRITE_FAULTS + SESSION_FAULTS


@dataclass
class Faults:
    pending: dict[str, int] = field(default_factory=dict)
    latency_ms: int = 0
    dom_variant: int = 1
    # A timeline whose spinner shows only while it loads the next batch (after the reader nears its end), as an
    # x.com may render it; off, the spinner stands at the end while there are more (the sandbox's default).
    lazy_loader: bool = False
    locked: bool = False
    # The account's display language on X (its pages' <html lang>): an owner whose X speaks another language.
    # Only the attribute changes; the pages' words stay English (xbot refuses such pages before reading words).
    display_language: str = "en"
    # X's interstitial sheets (sandbox/sheets.py) the next logged-in page loads show, in order.
    sheets: list[str] = field(default_factory=list)
    # Logged-in page loads so far: the draw of the rate-driven sheets.
    page_loads: int = 0

    def force(self, mode: str, count: int) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {', '.join(FAULT_MODES)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if mode == "locked":
            self.locked = True
        elif mode in WRITE_FAULTS:
            self.pending[mode] = self.pending.get(mode, 0) + count

    def take_write_fault(self) -> str | None:
        """The forced refusal for this write, if any (in the order the modes are listed)."""
        for mode in WRITE_FAULTS:
            if self.pending.get(mode, 0) > 0:
                self.pending[mode] -= 1
                return mode
        return None

    def reset(self) -> None:
        self.pending.clear()
        self.latency_ms = 0
        self.dom_variant = 1
        self.lazy_loader = False
        self.locked = False
        self.display_language = "en"
        self.sheets.clear()

    def describe(self) -> dict:
        return {"pending": {k: v for k, v in self.pending.items() if v}, "latency_ms": self.latency_ms,
                "dom_variant": self.dom_variant, "lazy_loader": self.lazy_loader, "locked": self.locked,
                "display_language": self.display_language, "sheets": list(self.sheets)}
