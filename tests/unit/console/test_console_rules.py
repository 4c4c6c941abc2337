"""The console's pure rules: the password hash, the CSRF check, the sign-in throttle, the charts, the gates on an
owner's edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.niche import load_niche
from services.console.auth import (Throttle, WeakPassword, csrf_ok, from_own_origin, hash_password,
                                   verify_password)
from services.console.charts import bar_chart, line_chart
from services.console.owner import gate_edit, split_parts
from services.console.web import age, external_link, own_path, path_segment

T0 = datetime(2026, 12, 2, 12, tzinfo=UTC)


def test_the_password_hash_verifies_the_password_only() -> None:
    stored = hash_password("a long enough password")
    assert stored.startswith("scrypt$") and "a long enough password" not in stored
    assert verify_password("a long enough password", stored)
    assert not verify_password("a long enough passworD", stored)
    assert not verify_password("anything", "not a hash")
    # A salt of its own each time: two owners with one password do not share a hash.
    assert hash_password("a long enough password") != stored


def test_a_short_password_is_refused() -> None:
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_csrf_needs_the_exact_token() -> None:
    assert csrf_ok("abc", "abc")
    assert not csrf_ok("abc", None) and not csrf_ok("abc", "") and not csrf_ok("abc", "abd")


def test_the_throttle_blocks_a_client_after_the_limit_within_the_window_and_forgets_after_it() -> None:
    t = Throttle(limit=3, window_s=60)
    for i in range(3):
        assert t.blocked("a", float(i)) is None
        t.failed("a", float(i))
    assert t.blocked("a", 10.0) == pytest.approx(50.0)
    assert t.blocked("b", 10.0) is None  # another address still may try
    assert t.blocked("a", 61.0) is None  # the first failure left the window


def test_the_throttle_caps_every_client_together() -> None:
    t = Throttle(limit=2, window_s=60)
    for i in range(8):
        t.failed(f"client{i}", 0.0)
    assert t.blocked("new", 1.0) is not None


def test_charts_say_when_there_is_no_data_and_draw_every_point_otherwise() -> None:
    assert "no data yet" in line_chart([], title="followers")
    svg = line_chart([(T0 + timedelta(hours=i), float(v)) for i, v in enumerate((100, 104, 111))], title="f")
    assert svg.count(",") >= 3 and "<polyline" in svg and ">111<" in svg
    bars = bar_chart([("practical_tip", 0.4), ("myth", -0.1)], title="<reward>")
    assert bars.count("<rect") == 2 and "&lt;reward&gt;" in bars
    # A long label's column is wide enough for it: its text ends left of the bars, which start right of it.
    long = bar_chart([("research_breakdown (0 posts)", 0.1)], title="r")
    assert 'x="202" y="50" font-size="12" text-anchor="end"' in long and '<rect x="208.0"' in long


def test_the_follower_counts_age_reads_as_the_owner_would_say_it() -> None:
    assert [age(timedelta(seconds=s)) for s in (-5, 59, 40 * 60, 3 * 3600 + 12 * 60 + 30, 2 * 86400 + 4 * 3600)] \
        == ["0 min", "0 min", "40 min", "3 h 12 min", "2 d 4 h"]


def test_an_edit_passes_the_planners_rule_gates() -> None:
    config = load_niche()
    refused = gate_edit(["Doctors hate this one weird trick for sleep."], kind="post", topic="sleep", config=config,
                        now=T0)
    assert refused is not None and refused.gate == "banned"
    assert gate_edit(["Morning light moves your sleep earlier: get outside within an hour of waking."], kind="post",
                     topic="sleep", config=config, now=T0) is None
    reply = gate_edit(["One weird trick!"], kind="reply", topic="sleep", config=config, now=T0)
    assert reply is not None and reply.gate == "banned"


def test_a_threads_parts_are_separated_by_a_dashes_line() -> None:
    assert split_parts("one\n---\ntwo\r\n---\r\nthree", "thread") == ["one", "two", "three"]
    assert split_parts("  just one\n---\nstill one  ", "post") == ["just one\n---\nstill one"]


def test_the_next_good_slot_is_the_next_start_of_the_best_hour() -> None:
    from services.console.slots import next_good_slot

    hours = {"9": {"mean": 0.2}, "18": {"mean": 0.5}, "x": {"mean": 9.0}}
    assert next_good_slot(T0, hours) == T0.replace(hour=18)  # 12:00 now: today at 18:00
    assert next_good_slot(T0.replace(hour=19), hours) == T0.replace(hour=18) + timedelta(days=1)
    assert next_good_slot(T0.replace(hour=18, minute=20), hours) == T0.replace(hour=18, minute=20)
    assert next_good_slot(T0, {}) == T0


def test_an_owners_post_may_override_style_warnings_but_never_safety() -> None:
    from services.console.owner import OVERRIDABLE, _safety_gates

    config = load_niche()
    tags = "Sleep well. #sleep #rest #health #habits #wellness #night"
    refused = gate_edit([tags], kind="post", topic="", config=config, now=T0)
    assert refused is not None and refused.gate in OVERRIDABLE
    assert _safety_gates([tags], kind="post", config=config) is None
    unsafe = _safety_gates(["Stop taking your medication, it is a scam."], kind="post", config=config)
    assert unsafe is not None and unsafe.gate not in OVERRIDABLE


def test_a_sign_in_from_another_origin_is_told_apart() -> None:
    host = "127.0.0.1:8470"
    assert from_own_origin("http://127.0.0.1:8470", None, host)
    assert from_own_origin("https://127.0.0.1:8470", None, host)  # TLS ended at a proxy: the scheme is not compared
    assert from_own_origin(None, "http://127.0.0.1:8470/login", host)
    assert from_own_origin(None, None, host)  # no browser page (curl, a script): no other site makes one
    for origin in ("http://127.0.0.1:9999", "http://localhost:8470", "null", "http://[::1"):
        assert not from_own_origin(origin, "http://127.0.0.1:8470/login", host)
    assert not from_own_origin(None, "http://evil.example/page", host)


def test_ids_go_into_a_path_as_one_segment_and_only_web_addresses_are_links() -> None:
    assert path_segment("../../switch?action=pause&x=") == "..%2F..%2Fswitch%3Faction%3Dpause%26x%3D"
    assert path_segment(17) == "17" and path_segment("1901") == "1901"
    assert external_link("https://x.com/a/status/1") == "https://x.com/a/status/1"
    assert external_link("http://127.0.0.1:8080/a/status/1") == "http://127.0.0.1:8080/a/status/1"
    for url in ("javascript:alert(6)", " JavaScript:alert(6)", "java\tscript:alert(1)", "data:text/html,x",
                "//evil.example", "https:evil", "", None, "http://[::1"):
        assert external_link(url) == ""


def test_back_is_a_path_of_the_console_only() -> None:
    assert own_path("/review") == "/review" and own_path("/posted?x=1") == "/posted?x=1"
    for back in ("", "/", "//evil.com", "/\\evil.com", "/\t/evil.com", "https://evil.com", "queue"):
        assert own_path(back) == "/queue"
