"""The notifier's rules, without servers: what each event tells, Alertmanager's groups, whether a notice goes out,
batches, the digest's day, secrets scrubbed, and settings refused at start naming the variable."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest

from libs.contracts.events import (AccountRiskChanged, BudgetExhausted, CommunityNoteShown, LlmHalted, SessionExpired,
                                   TweetGone, WritesHalted)
from libs.core.settings import SettingsError, load_settings
from services.notifier.channels import open_channels, secret_parts
from services.notifier.notices import (
    KINDS,
    DayFigures,
    PostFigures,
    Waiting,
    alert_notice,
    approval_batch,
    ZWSP,
    decide,
    defuse,
    digest_due,
    digest_notice,
    notice_for,
    retry_delay,
    scrub,
    with_link,
    with_repeats,
)
from services.notifier.settings import NotifierSettings

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def made(event):
    return notice_for(event, event_key="k", occurred_at=NOW)


def test_a_lock_is_one_piece_of_news_whoever_reports_it() -> None:
    by_poster = made(WritesHalted(reason="locked", halted_at=NOW))
    by_gateway = made(AccountRiskChanged(handle="a", level=3, previous_level=0, signal="locked", locked=True,
                                         changed_at=NOW))
    assert by_poster.key == by_gateway.key == "account:locked" and by_poster.kind == "account"
    assert made(WritesHalted(reason="session_expired", halted_at=NOW)).key == \
        made(SessionExpired(handle="a", operation="post_tweet", detected_at=NOW)).key == "session:expired"
    # Risk going down tells nothing; going up does.
    assert made(AccountRiskChanged(handle="a", level=1, previous_level=2, signal="decay", changed_at=NOW)) is None
    assert made(AccountRiskChanged(handle="a", level=2, previous_level=1, signal="automation_block",
                                   changed_at=NOW)).severity == "critical"
    assert made(BudgetExhausted(day="2026-03-02", budget_usd=5, spent_usd=5)).kind == "budget"
    assert made(LlmHalted(cause="auth", halted_at=NOW)).kind == "llm"


def test_a_tweet_gone_from_x_or_noted_is_told_as_news_about_the_account() -> None:
    told = made(TweetGone(tweet_id="1901", content_id="c-7", kind="post", noticed_at=NOW))
    assert told.kind == "account" and told.severity == "warning" and told.key == "tweet:gone:1901"
    assert "1901" in told.body and "removed" in told.body
    assert made(TweetGone(tweet_id="1902", content_id="c-8", noticed_at=NOW)).key != told.key  # each is news
    noted = made(CommunityNoteShown(tweet_id="1901", content_id="c-7", noticed_at=NOW))
    assert noted.kind == "account" and noted.key == "tweet:note:1901" and "misleading" in noted.body
    # Each names the posted item it is about, so the item's link can go with it; other news is about no post.
    assert told.content_id == noted.content_id == "c-7"
    assert made(BudgetExhausted(day="2026-03-02", budget_usd=5, spent_usd=5)).content_id is None
    assert with_link("Read it on X.", "https://x.com/a/status/1901") == "Read it on X.\nhttps://x.com/a/status/1901"
    assert with_link("Read it on X.", None) == "Read it on X."


def test_an_account_shown_in_another_language_is_told_as_such_not_as_a_lost_session() -> None:
    reason = ("session_expired: X shows the account in 'es': xbot reads X's English words; set the account's "
              "display language to English (X: Settings, …), then `xbot resume`")
    told = made(SessionExpired(handle="a", operation="own_timeline", detected_at=NOW, reason=reason))
    assert told.title == "X shows the account in another language" and "display language to English" in told.body
    assert "xbot login" not in told.body and told.key == "session:expired"
    assert made(SessionExpired(handle="a", operation="post_tweet", detected_at=NOW)).title == "The X session expired"


def test_decide_off_stale_repeat_send() -> None:
    n = made(WritesHalted(reason="locked", halted_at=NOW))
    rules = dict(max_age=timedelta(hours=6), repeat_after=timedelta(hours=1))
    assert decide(n, now=NOW, off={"account"}, last_sent=None, **rules).outcome == "off"
    assert decide(n, now=NOW + timedelta(hours=7), off=(), last_sent=None, **rules).outcome == "stale"
    assert decide(n, now=NOW, off=(), last_sent=NOW - timedelta(minutes=59), **rules).outcome == "repeat"
    assert decide(n, now=NOW, off=(), last_sent=NOW - timedelta(minutes=61), **rules).send
    assert with_repeats("b", 2, NOW).endswith("(2 repeats held back since 2026-03-02 12:00 UTC)")
    assert with_repeats("b", 0, None) == "b"


def test_an_alertmanager_group_is_one_notice_and_a_resend_the_same() -> None:
    body = {"groupKey": "g", "status": "firing", "groupLabels": {"alertname": "XbotServiceNotReady"},
            "commonLabels": {"severity": "critical"},
            "alerts": [{"status": "firing", "labels": {"alertname": "XbotServiceNotReady", "service": s},
                        "annotations": {"summary": f"{s} not ready"}, "startsAt": "t0", "fingerprint": s}
                       for s in ("planner", "poster")]}
    a = alert_notice(body, received_at=NOW)
    again = alert_notice(body, received_at=NOW + timedelta(minutes=5))
    assert a.id == again.id and a.kind == "service" and a.title == "Alert: XbotServiceNotReady (2)"
    assert "planner not ready" in a.body and "poster not ready" in a.body
    resolved = alert_notice({**body, "status": "resolved"}, received_at=NOW)
    assert resolved.id != a.id and resolved.severity == "info" and resolved.title.startswith("Resolved")
    assert resolved.key != a.key  # its resolution is news
    # A group that gained an alert is news; the same alerts again are a repeat.
    third = {**body, "alerts": [*body["alerts"], {**body["alerts"][0], "fingerprint": "scraper"}]}
    assert alert_notice(third, received_at=NOW).key != a.key == again.key
    # An alert that tells what an event told shares the event's key while it fires.
    locked = alert_notice({**body, "groupLabels": {"alertname": "XbotAccountLocked"}}, received_at=NOW)
    assert locked.key == made(WritesHalted(reason="locked", halted_at=NOW)).key == "account:locked"
    assert alert_notice({**body, "groupLabels": {"alertname": "XbotBudgetExhausted"}}, received_at=NOW).key == \
        made(BudgetExhausted(day="2026-03-02", budget_usd=5, spent_usd=5)).key
    with pytest.raises(ValueError):
        alert_notice({"alerts": []}, received_at=NOW)


def test_a_reply_read_as_a_crisis_tells_the_owner_without_the_strangers_words() -> None:
    """The alert rule (deploy/prometheus/alerts.yml, XbotCrisisReply) crosses the count alone; its notice is of a
    kind of its own, which the owner can switch off apart from the service alerts."""
    import yaml

    rules = yaml.safe_load((Path(__file__).parents[3] / "deploy" / "prometheus" / "alerts.yml").read_text())
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "XbotCrisisReply")
    assert 'reason="conversation_crisis"' in rule["expr"]
    body = {"groupKey": "c", "status": "firing", "groupLabels": {"alertname": "XbotCrisisReply"},
            "commonLabels": {"severity": "warning"},
            "alerts": [{"status": "firing", "labels": {"alertname": "XbotCrisisReply", **rule["labels"]},
                        "annotations": rule["annotations"], "startsAt": "t0", "fingerprint": "f"}]}
    n = alert_notice(body, received_at=NOW)
    assert n.kind == "audience" and "audience" in KINDS and "human answer" in n.body


def test_approvals_wait_for_the_window_then_go_together() -> None:
    waiting = [Waiting(f"c{i}", "post", "p", NOW + timedelta(minutes=i)) for i in range(3)]
    window = timedelta(minutes=15)
    assert approval_batch(waiting, now=NOW + timedelta(minutes=14), window=window) == []
    assert [w.content_id for w in approval_batch(waiting, now=NOW + window, window=window)] == ["c0", "c1", "c2"]


def test_the_digest_is_yesterdays_after_the_hour() -> None:
    assert digest_due(datetime(2026, 3, 2, 7, 59, tzinfo=UTC), hour=8) is None
    assert digest_due(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), hour=8) == date(2026, 3, 1)
    n = digest_notice(DayFigures(date(2026, 3, 1), [PostFigures("a", "reply", "u", "t", likes=2),
                                                    PostFigures("b", "reply", "u2", "best one", likes=9)],
                                 None, None, 0.0), at=NOW)
    assert n.body.startswith("Posted: 2 replies")
    assert "Followers: not measured" in n.body and "best one" in n.body and n.id == "digest:2026-03-01"


def test_secrets_are_scrubbed_by_value_and_by_shape() -> None:
    text = ("key sk-live0123456789abcdef, Authorization: Bearer abc123def456, json://me:hunter2pw@host/x, "
            f"cookie {'Zm9v' * 15}, the value KNOWNSECRET1")
    out = scrub(text, lambda t: t.replace("KNOWNSECRET1", "***"))
    for secret in ("sk-live0123456789abcdef", "abc123def456", "hunter2pw", "Zm9v" * 15, "KNOWNSECRET1"):
        assert secret not in out
    assert "the value" in out and "json://" in out
    assert "tgramtoken123456" in secret_parts("tgram://tgramtoken123456/12345678/")
    assert "127.0.0.1" not in secret_parts("json://127.0.0.1:8080/hook")


def test_bad_settings_stop_the_start_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("XBOT_NOTIFY_OFF", '["digest", "gossip"]')
    with pytest.raises(SettingsError, match="XBOT_NOTIFY_OFF"):
        load_settings(NotifierSettings)
    monkeypatch.delenv("XBOT_NOTIFY_OFF")
    monkeypatch.setenv("XBOT_NOTIFY_URLS", "json://ok.test/hook nosuchscheme://token-SECRET99@x")
    with pytest.raises(SettingsError, match="XBOT_NOTIFY_URLS") as err:
        load_settings(NotifierSettings)
    assert "SECRET99" not in str(err.value) and "channel 2" in str(err.value)


# What strangers and the model write reaches notices (a draft's preview, the digest's best post, a provider's error,
# an Alertmanager annotation).
HOSTILE = ("Great point @everyone and @here, ask @someone <@&123456> <@42> <!channel> <#C01> "
           "[claim your prize](https://evil.example/x) <b>hi</b> a&b owner@example.com")


def test_mentions_and_masked_links_are_defused_for_every_chat() -> None:
    out = defuse(HOSTILE)
    for ping in ("@everyone", "@here", "@someone", "<@&", "<@4", "<!channel", "<#C"):
        assert ping not in out
    assert f"@{ZWSP}everyone" in out and f"<{ZWSP}@&123456>" in out and f"<{ZWSP}!channel>" in out
    assert "[claim" not in out and "](" not in out and "claim your prize (https://evil.example/x)" in out
    # What is no mention stays as it was: an address, markup a chat shows as text.
    assert "owner@example.com" in out and "<b>hi</b> a&b" in out
    assert out.replace(ZWSP, "") == HOSTILE.replace("[claim your prize](https://evil.example/x)",
                                                    "claim your prize (https://evil.example/x)")


def sent_by_apprise(url: str) -> dict:
    """The payload a real Apprise channel posts for a notice with hostile text (the service itself answered by a
    stand-in for requests.post: Discord and Telegram cannot be reached from a test)."""
    posted = []

    class Answer:
        status_code = 200
        content = b'{"ok": true}'
        text = content.decode()
        headers: dict = {}

        def json(self) -> dict:
            return {"ok": True}

    def post(_url, *args, **kwargs):
        posted.append(json.loads(kwargs["data"]))
        return Answer()

    [channel] = open_channels([url], timeout_s=5, spacing_s=0)
    with mock.patch("requests.post", side_effect=post):
        asyncio.run(channel.send(title="[xbot] 1 draft waiting @here", body=HOSTILE, severity="info"))
    [payload] = posted
    return payload


def test_discord_gets_no_ping_nor_hidden_link_and_telegram_stays_escaped() -> None:
    content = sent_by_apprise("discord://1234567890/abcdefTOKENabcdef1234567890")["content"]
    assert "@everyone" not in content and "@here" not in content and "<@&" not in content
    assert "[claim your prize](" not in content and "claim your prize (https://evil.example/x)" in content
    # Telegram: Apprise escapes the plain text into HTML; the zero-width spaces do not undo that.
    text = sent_by_apprise("tgram://123456789:ABCdefGhIJKlmnoPQRstuVWXyz012345678/12345")["text"]
    assert f"&lt;{ZWSP}@&amp;123456&gt;" in text and "&lt;b&gt;hi&lt;/b&gt; a&amp;b" in text
    assert "@everyone" not in text


def test_a_failing_channel_rests_longer_after_each_failure_for_hours_in_all() -> None:
    first, longest = timedelta(minutes=1), timedelta(hours=1)
    delays = [retry_delay(n, first=first, longest=longest) for n in range(1, 12)]
    assert delays[:7] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)] and set(delays[6:]) == {longest}
    # The defaults: 12 tries, the last about 6 hours after the first; an outage of an hour is waited out.
    s = NotifierSettings()
    tries = s.notify_max_attempts
    horizon = sum((retry_delay(n, first=s.notify_retry_first, longest=s.notify_retry_longest)
                   for n in range(1, tries)), timedelta())
    assert timedelta(hours=5) < horizon < timedelta(hours=7)
    assert retry_delay(1000, first=first, longest=longest) == longest  # no overflow after many failures
