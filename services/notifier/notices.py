"""What the owner is told, and when: pure functions from events, Alertmanager alerts and the day's figures to
notices, and the rules that decide whether a notice goes out (kind switched off, too old, a repeat).

No I/O here: the projections store what these functions make, the notify job sends what they allow.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from libs.contracts.base import Event
from libs.contracts.events import (
    AccountRiskChanged,
    BudgetExhausted,
    CommunityNoteShown,
    LlmHalted,
    SessionExpired,
    TweetGone,
    WritesHalted,
    XMark,
)

# Every kind of notice; each can be switched off (XBOT_NOTIFY_OFF).
KINDS: tuple[str, ...] = ("account", "session", "budget", "llm", "service", "dead_letters", "approvals", "digest",
                          "audience", "alert")

# Prometheus alerts (deploy/prometheus/alerts.yml) by the kind of notice they are; any other alert is "alert".
ALERT_KINDS: Mapping[str, str] = {
    "XbotAccountLocked": "account", "XbotAccountRiskHigh": "account", "XbotAutomationBlock": "account",
    "XbotWriteLimitsHit": "account", "XbotBreakerOpen": "account",
    "XbotSessionExpired": "session",
    "XbotBudgetExhausted": "budget", "XbotXApiCreditsDepleted": "budget",
    "XbotLlmHalted": "llm",
    "XbotServiceDown": "service", "XbotServiceNotReady": "service", "XbotConsumerStalled": "service",
    "XbotConsumerLagHigh": "service", "XbotJobLate": "service", "XbotJobNeverSucceeded": "service",
    "XbotDeadLettersGrowing": "dead_letters", "XbotMetricCheckpointsMissed": "service",
    "XbotAnalyticsUnread": "service", "XbotCrisisReply": "audience",
    "XbotNotifyChannelFailing": "service", "XbotNoticesFailed": "service",
}

# Alerts that tell what an event already told (or will): while firing they share the event's key, so a lock
# reported by the poster and by Prometheus is one notification within the repeat interval. Their resolution is
# news of its own.
ALERT_NEWS: Mapping[str, str] = {
    "XbotAccountLocked": "account:locked", "XbotSessionExpired": "session:expired", "XbotLlmHalted": "llm:halted",
    "XbotBudgetExhausted": "budget:exhausted",
}


@dataclass(frozen=True)
class Notice:
    """One thing to tell the owner. ``id`` makes it once (an event's natural key); ``key`` groups repeats of
    the same news (a lock announced by the poster and by the gateway is one ``account:locked``)."""

    id: str
    kind: str
    key: str
    title: str
    body: str
    severity: str  # "critical", "warning", "info" (Apprise's failure / warning / info)
    occurred_at: datetime
    # The posted item the notice is about (a tweet of ours X removed or noted): its link goes with the notice.
    content_id: str | None = None


# ---------------------------------------------------------------------- from events


def notice_for(event: Event, *, event_key: str, occurred_at: datetime) -> Notice | None:
    """The notice an event makes, or None when it tells the owner nothing (a risk level going down)."""
    made = _FROM_EVENT.get(type(event))
    if made is None:
        return None
    out = made(event)
    if out is None:
        return None
    kind, key, severity, title, body = out
    return Notice(id=event_key, kind=kind, key=key, title=title, body=body, severity=severity,
                  occurred_at=occurred_at, content_id=event.content_id if isinstance(event, XMark) else None)


def with_link(body: str, url: str | None) -> str:
    """A notice's body with the link of the post it is about, when the post is known (TweetPosted read)."""
    return f"{body}\n{url}" if url else body


def _writes_halted(e: WritesHalted) -> tuple[str, str, str, str, str]:
    if e.reason == "locked":
        return ("account", "account:locked", "critical", "X locked the account",
                "X answered `locked` to a write. Every write is stopped. Unlock the account on X (it asks for a "
                "challenge), then run `xbot resume`.")
    if e.reason == "session_expired":
        return ("session", "session:expired", "critical", "The X session expired",
                "X sent the poster to the login page. Writes are stopped: run `xbot login` (or update "
                "XBOT_X_SESSION), then `xbot resume`.")
    return ("account", f"account:halted:{e.reason}", "critical", f"Writes halted ({e.reason})",
            f"{e.message or 'The poster stopped every write.'} Check the account, then run `xbot resume`.")


def _session_expired(e: SessionExpired) -> tuple[str, str, str, str, str]:
    if "display language" in (e.reason or ""):
        # The session is fine; X speaks another language than the words the gateway reads (pages.check_language).
        return ("session", "session:expired", "critical", "X shows the account in another language",
                f"The gateway stopped during `{e.operation}`: {e.reason}.")
    return ("session", "session:expired", "critical", "The X session expired",
            f"The gateway was sent to the login page during `{e.operation}` ({e.reason}). Run `xbot login` (or "
            "update XBOT_X_SESSION).")


def _risk_changed(e: AccountRiskChanged) -> tuple[str, str, str, str, str] | None:
    if e.locked:
        return ("account", "account:locked", "critical", "X locked the account",
                f"The account @{e.handle} is locked ({e.signal}). Everything but a periodic login check stops. "
                "Unlock it on X, then run `xbot resume`.")
    if e.level <= e.previous_level:
        return None  # decaying: good news needs no one
    return ("account", f"account:risk:{e.level}", "critical" if e.level >= 2 else "warning",
            f"Account risk raised to {e.level}",
            f"X warned the account @{e.handle} ({e.signal}): risk level {e.previous_level} -> {e.level}. Every "
            "activity budget shrinks until it decays.")


def _budget_exhausted(e: BudgetExhausted) -> tuple[str, str, str, str, str]:
    return ("budget", "budget:exhausted", "warning", "LLM budget exhausted",
            f"The planner spent ${e.spent_usd:.2f} of its ${e.budget_usd:.2f} budget for {e.day}: no new content "
            "until the next day (XBOT_PLANNER_DAILY_BUDGET_USD sets the budget).")


def _llm_halted(e: LlmHalted) -> tuple[str, str, str, str, str]:
    status = f" (HTTP {e.status})" if e.status else ""
    return ("llm", "llm:halted", "critical", "The planner stopped calling the LLM",
            f"A permanent error{status}: {e.message or e.cause}. Fix it (XBOT_LLM_API_KEY, the model names), then "
            "restart the planner.")


def _tweet_gone(e: TweetGone) -> tuple[str, str, str, str, str]:
    return ("account", f"tweet:gone:{e.tweet_id}", "warning", "One of the account's tweets is gone from X",
            f"X no longer shows tweet {e.tweet_id} (our {e.kind}, content {e.content_id}), and nobody deleted it in "
            "the console. If you did not delete it on X, X may have removed it: check the account's notifications "
            "on X. xbot reads it no more, answers no reply under it and no longer shows it to the model as an "
            "example of the account's voice.")


def _community_note(e: CommunityNoteShown) -> tuple[str, str, str, str, str]:
    return ("account", f"tweet:note:{e.tweet_id}", "warning",
            "X shows a Community Note under one of the account's tweets",
            f"Readers added context to tweet {e.tweet_id} (our {e.kind}, content {e.content_id}): they found a claim "
            "in it misleading, and everyone who sees it now reads their note. Read it on X; consider deleting the "
            "post in the console (Posted) or answering with a correction. xbot no longer shows it to the model as an "
            "example of the account's voice.")


_FROM_EVENT: dict[type[Event], Callable[[Any], tuple[str, str, str, str, str] | None]] = {
    WritesHalted: _writes_halted, SessionExpired: _session_expired, AccountRiskChanged: _risk_changed,
    BudgetExhausted: _budget_exhausted, LlmHalted: _llm_halted, TweetGone: _tweet_gone,
    CommunityNoteShown: _community_note,
}
EVENTS_NOTICED: tuple[type[Event], ...] = tuple(_FROM_EVENT)


# ---------------------------------------------------------------------- from Alertmanager


class BadAlert(ValueError):
    """A webhook body that is not Alertmanager's (version 4)."""


def alert_notice(body: Mapping[str, Any], *, received_at: datetime) -> Notice:
    """One notice per Alertmanager notification (a group of alerts, as Alertmanager grouped them)."""
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts or not all(isinstance(a, dict) for a in alerts):
        raise BadAlert("no alerts in the body")
    status = str(body.get("status", "firing"))
    group = body.get("groupLabels") or {}
    name = str(group.get("alertname") or (alerts[0].get("labels") or {}).get("alertname") or "alert")
    kind = ALERT_KINDS.get(name, "alert")
    severity = str((body.get("commonLabels") or {}).get("severity") or "warning")
    if status == "resolved":
        severity = "info"
    lines = []
    for a in alerts[:20]:
        ann = a.get("annotations") or {}
        labels = a.get("labels") or {}
        what = ann.get("summary") or labels.get("alertname") or "alert"
        mark = "resolved" if a.get("status") == "resolved" else "firing"
        lines.append(f"- [{mark}] {what}")
        if ann.get("description"):
            lines.append(f"  {ann['description']}")
    if len(alerts) > 20:
        lines.append(f"- and {len(alerts) - 20} more")
    # The same group re-sent (Alertmanager's repeat_interval) carries the same alerts and starts: one notice id.
    ident = "|".join(sorted(f"{a.get('fingerprint', '')}@{a.get('startsAt', '')}:{a.get('status', '')}"
                            for a in alerts))
    digest = hashlib.sha256(f"{body.get('groupKey', '')}|{status}|{ident}".encode()).hexdigest()[:24]
    count = len(alerts)
    title = f"{'Resolved' if status == 'resolved' else 'Alert'}: {name}" + (f" ({count})" if count > 1 else "")
    # Repeats are the same alerts in the same state (Alertmanager re-sending a group); a group that gained or
    # lost an alert (a second service not ready) is news.
    members = hashlib.sha256("|".join(sorted(str(a.get("fingerprint", "")) for a in alerts)).encode()).hexdigest()
    key = ALERT_NEWS[name] if status == "firing" and name in ALERT_NEWS else f"alert:{name}:{status}:{members[:16]}"
    return Notice(id=f"alert:{digest}", kind=kind, key=key, title=title,
                  body="\n".join(lines), severity=severity, occurred_at=received_at)


# ---------------------------------------------------------------------- from the notifier's own watch


def dead_letters_notice(new: int, total: int, *, at: datetime) -> Notice:
    return Notice(id=f"dlq:{total}:{at.isoformat()}", kind="dead_letters", key="dead_letters:growing",
                  title="Dead letters are growing",
                  body=f"{new} message(s) went to the dead letters since the last look ({total} in all). Inspect "
                       "them with `xbot dlq list`, fix the cause, then `xbot dlq retry`.",
                  severity="warning", occurred_at=at)


def not_ready_notice(service: str, detail: str, *, at: datetime) -> Notice:
    return Notice(id=f"ready:{service}:{at.isoformat()}", kind="service", key=f"service:not_ready:{service}",
                  title=f"{service} is not ready", body=f"{service} reports not ready: {detail}",
                  severity="critical", occurred_at=at)


# ---------------------------------------------------------------------- batches and the digest


@dataclass(frozen=True)
class Waiting:
    content_id: str
    kind: str
    preview: str
    requested_at: datetime


def approvals_notice(waiting: Sequence[Waiting], *, at: datetime) -> Notice:
    """All drafts that came in during one batch window, as one notice."""
    lines = [f"- {w.kind}: {_clip(w.preview, 120)}" for w in waiting[:10]]
    if len(waiting) > 10:
        lines.append(f"- and {len(waiting) - 10} more")
    n = len(waiting)
    return Notice(id=f"approvals:{waiting[0].content_id}", kind="approvals", key=f"approvals:{waiting[0].content_id}",
                  title=f"{n} draft{'s' if n != 1 else ''} waiting for your approval",
                  body="\n".join(lines) + "\nApprove, edit or reject them in the console.", severity="info",
                  occurred_at=at)


def approval_batch(waiting: Sequence[Waiting], *, now: datetime, window: timedelta) -> list[Waiting]:
    """The drafts to announce now: once the oldest has waited a whole window, it and every later one (a batch);
    until then nothing, so drafts arriving together make one notice."""
    if not waiting:
        return []
    ordered = sorted(waiting, key=lambda w: w.requested_at)
    return ordered if now - ordered[0].requested_at >= window else []


@dataclass(frozen=True)
class PostFigures:
    content_id: str
    kind: str
    url: str
    text: str
    likes: int = 0
    retweets: int = 0
    replies: int = 0
    views: int = 0

    @property
    def engagement(self) -> int:
        return self.likes + self.retweets + self.replies


@dataclass(frozen=True)
class DayFigures:
    day: date
    posts: Sequence[PostFigures]
    followers_start: int | None
    followers_end: int | None
    spend_usd: float


_PLURAL = {"reply": "replies"}


def digest_notice(f: DayFigures, *, at: datetime) -> Notice:
    by_kind: dict[str, int] = {}
    for p in f.posts:
        by_kind[p.kind] = by_kind.get(p.kind, 0) + 1
    posted = ", ".join(f"{n} {_PLURAL.get(k, k + 's') if n != 1 else k}" for k, n in sorted(by_kind.items())) \
        or "nothing"
    if f.followers_start is not None and f.followers_end is not None:
        gained = f.followers_end - f.followers_start
        followers = f"{gained:+d} (now {f.followers_end})"
    else:
        followers = "not measured"
    lines = [f"Posted: {posted}", f"Followers: {followers}", f"LLM spend: ${f.spend_usd:.2f}"]
    best = max(f.posts, key=lambda p: (p.engagement, p.views), default=None)
    if best is not None:
        lines.append(f"Best post ({best.likes} likes, {best.retweets} reposts, {best.replies} replies, "
                     f"{best.views} views): {_clip(best.text, 200)} {best.url}")
    return Notice(id=f"digest:{f.day.isoformat()}", kind="digest", key=f"digest:{f.day.isoformat()}",
                  title=f"Daily digest for {f.day.isoformat()}", body="\n".join(lines), severity="info",
                  occurred_at=at)


def digest_due(now: datetime, *, hour: int) -> date | None:
    """The day whose digest is due at ``now``: yesterday, once today's digest hour has come."""
    if now.hour < hour:
        return None
    return now.date() - timedelta(days=1)


# ---------------------------------------------------------------------- whether it goes out


@dataclass(frozen=True)
class Verdict:
    send: bool
    outcome: str  # "send", "off", "stale", "repeat"


def decide(notice: Notice, *, now: datetime, off: Iterable[str], max_age: timedelta,
           last_sent: datetime | None, repeat_after: timedelta) -> Verdict:
    """Whether a notice goes out now: not when its kind is switched off, not when it is older than ``max_age``
    (a new notifier reading a long history must not page the owner about last month), not when the same news
    (its key) went out less than ``repeat_after`` ago."""
    if notice.kind in set(off):
        return Verdict(False, "off")
    if now - notice.occurred_at > max_age:
        return Verdict(False, "stale")
    if last_sent is not None and now - last_sent < repeat_after:
        return Verdict(False, "repeat")
    return Verdict(True, "send")


def retry_delay(failures: int, *, first: timedelta, longest: timedelta) -> timedelta:
    """How long a channel rests after its ``failures``-th failed send of a notice: ``first``, doubling with each
    failure, never more than ``longest`` (a channel down for an hour is tried a few times, not 240)."""
    return min(first * (1 << min(max(failures - 1, 0), 30)), longest)


def with_repeats(body: str, suppressed: int, since: datetime | None) -> str:
    if suppressed <= 0 or since is None:
        return body
    return f"{body}\n({suppressed} repeat{'s' if suppressed != 1 else ''} held back since {since:%Y-%m-%d %H:%M} UTC)"


# ---------------------------------------------------------------------- secrets

# Shapes of secrets whoever wrote the text may not have known about: API keys, bearer tokens, credentials in
# URLs, long opaque blobs (session cookies, base64 storage states). The known values (this process's settings)
# are masked first by libs.core.logging.mask.
_SECRET_SHAPES = (
    re.compile(r"\b(?:sk|pk|rk|xox[abpr])-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)\b(bearer|token|key|password|secret|auth_token)( +|[ ]*[=:][ ]*)(?=[^\s,;\"']*\d)[^\s,;\"']{6,}"),
    re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@"),
    re.compile(r"[A-Za-z0-9+_\-]{40,}={0,2}"),
)


def scrub(text: str, mask: Callable[[str], str]) -> str:
    """``text`` without secrets: known values masked, then anything shaped like a secret."""
    text = mask(text)
    text = _SECRET_SHAPES[0].sub("***", text)
    text = _SECRET_SHAPES[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _SECRET_SHAPES[2].sub(lambda m: f"{m.group(1)}***@", text)
    return _SECRET_SHAPES[3].sub("***", text)


# ---------------------------------------------------------------------- chat markup

# A zero-width space: invisible where the text is read, and it breaks what chat services read as a ping or a link.
ZWSP = "\u200b"
# Text from outside the owner's control reaches notices (drafts written by the model, the digest's best post,
# a provider's error text, an Alertmanager annotation), and Apprise sends it as is: Discord and Slack would ping
# a whole server on "@everyone", "@here", "<@&role>" or "<!channel>", and show "[claim your prize](https://…)"
# as a link whose address is hidden.
_MENTION = re.compile(r"(?<![\w.+-])@(?=\w)")  # @everyone, @here, @handle; not the @ of owner@example.com
_ANGLE = re.compile(r"<(?=[@!#])")  # <@123>, <@&role>, <!channel>, <#channel>: Discord's and Slack's mentions
_MASKED_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?\s*\)")


def defuse(text: str) -> str:
    """``text`` without anything a chat service reads as a mention or a hidden link: a zero-width space after
    the "@" of a mention and after the "<" of "<@", "<!", "<#"; a Markdown link "[text](url)" as "text (url)",
    its address in plain sight. Telegram's and e-mail's escaping is left to Apprise (it escapes plain text)."""
    text = _MASKED_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _ANGLE.sub("<" + ZWSP, text)
    return _MENTION.sub("@" + ZWSP, text)


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
