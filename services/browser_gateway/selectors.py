"""Loading and checking the versioned selector pack (selectors.v<N>.yaml beside this module)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from libs.contracts.gateway import RETRYABLE

PACK_DIR = Path(__file__).parent
REQUIRED_SELECTORS = frozenset({
    "account_switcher", "timeline_cell", "timeline_loading", "login_username", "login_password", "login_submit",
    "composer_textarea", "composer_add", "post_button_inline", "post_button_modal", "toast", "toast_view_link", "tweet",
    "tweet_text", "tweet_user_name", "tweet_time", "tweet_status_link", "tweet_reply_button",
    "tweet_like_button", "tweet_retweet_button", "tweet_views_link", "profile_user_name",
    "profile_description", "profile_following_link", "profile_followers_link", "analytics_profile_visits",
    "analytics_new_followers", "analytics_count", "compose_open", "compose_dialog", "timeline_empty",
})
REQUIRED_URLS = frozenset({"home", "compose_from", "session_check", "status", "analytics", "profile", "search_top",
                           "search_latest", "create_tweet", "profile_posts", "create_tweet_id_path", "login_paths",
                           "locked_paths"})
FAILURE_CODES = ("duplicate", "daily_limit", "rate_limited", "automation_block", "locked", "reply_not_allowed",
                 "timeout")


class SelectorPackError(ValueError):
    pass


@dataclass(frozen=True)
class SelectorPack:
    version: int
    selectors: dict[str, str]
    urls: dict[str, Any]
    texts: dict[str, list[str]]
    api_errors: dict[int, str]

    def css(self, name: str, **fmt: object) -> str:
        sel = self.selectors[name]
        return sel.format(**fmt) if fmt else sel

    def url(self, name: str, **fmt: object) -> str:
        return str(self.urls[name]).format(**fmt)

    def failure_in(self, text: str) -> str | None:
        """The error code whose X wording appears in ``text`` (a toast, an alert, a page), if any."""
        low = text.lower()
        for code in FAILURE_CODES:
            if any(phrase.lower() in low for phrase in self.texts.get(code, [])):
                return code
        return None

    def api_failure(self, body: Any) -> str | None:
        """The error code of X's API answer ``{"errors": [{"code": N}]}``, if it names a known one."""
        errors = body.get("errors") if isinstance(body, dict) else None
        for err in errors or []:
            number = err.get("code") if isinstance(err, dict) else None
            code = self.api_errors.get(number) if isinstance(number, int) else None
            if code:
                return code
        return None

    def says_sent(self, text: str) -> bool:
        low = text.lower()
        return any(p.lower() in low for p in self.texts.get("post_sent", []))

    def blocked_path(self, path: str) -> str | None:
        """session_expired / locked when X redirected the page there."""
        if any(path.startswith(p) for p in self.urls["locked_paths"]):
            return "locked"
        if any(path.startswith(p) for p in self.urls["login_paths"]):
            return "session_expired"
        return None


def parse_pack(data: dict[str, Any]) -> SelectorPack:
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise SelectorPackError("selector pack needs an integer 'version'")
    selectors = data.get("selectors") or {}
    urls = data.get("urls") or {}
    missing = sorted((REQUIRED_SELECTORS - selectors.keys()) | (REQUIRED_URLS - urls.keys()))
    if missing:
        raise SelectorPackError(f"selector pack v{data['version']} lacks: {', '.join(missing)}")
    empty = sorted(k for k, v in selectors.items() if not isinstance(v, str) or not v.strip())
    if empty:
        raise SelectorPackError(f"selector pack v{data['version']} has empty selectors: {', '.join(empty)}")
    texts = {k: [str(p) for p in v] for k, v in (data.get("texts") or {}).items()}
    api_errors = {int(k): str(v) for k, v in (data.get("api_errors") or {}).items()}
    unknown = sorted(set(api_errors.values()) - set(RETRYABLE))
    if unknown:
        raise SelectorPackError(f"selector pack v{data['version']} maps API errors to unknown codes: {unknown}")
    return SelectorPack(version=data["version"], selectors=dict(selectors), urls=dict(urls), texts=texts,
                        api_errors=api_errors)


def load_pack(version: int | None = None, directory: Path = PACK_DIR) -> SelectorPack:
    """The pack of ``version``, or the newest one in ``directory``."""
    if version is None:
        found = sorted(int(p.stem.split(".v")[1]) for p in directory.glob("selectors.v*.yaml"))
        if not found:
            raise SelectorPackError(f"no selector pack in {directory}")
        version = found[-1]
    path = directory / f"selectors.v{version}.yaml"
    pack = parse_pack(yaml.safe_load(path.read_text()))
    if pack.version != version:
        raise SelectorPackError(f"{path.name} declares version {pack.version}")
    return pack
