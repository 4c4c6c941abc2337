import pytest
from typing import get_args
import yaml

from libs.contracts.gateway import RETRYABLE, ErrorCode
from services.browser_gateway.selectors import PACK_DIR, SelectorPackError, load_pack, parse_pack

X_SAYS = {
    "Whoops! You already said that.": "duplicate",
    "You are over the daily limit for sending posts.": "daily_limit",
    "Something went wrong. Try reloading.": "timeout",
    "Rate limit exceeded. Please wait a few moments then try again.": "rate_limited",
    "This request looks like it might be automated. To protect our users from spam and other malicious "
    "activity, we can't complete this action right now.": "automation_block",
    "Your account has been locked.": "locked",
}


def test_newest_pack_loads_and_formats_selectors() -> None:
    pack = load_pack()
    assert pack.version == 1
    assert pack.css("composer_textarea", index=2) == 'div[role="textbox"][data-testid="tweetTextarea_2"]'
    assert pack.url("status", handle="bob", tweet_id="42") == "/bob/status/42"


@pytest.mark.parametrize("text,code", X_SAYS.items())
def test_x_wording_maps_to_its_error_code(text: str, code: str) -> None:
    assert load_pack().failure_in(text) == code


def test_success_toast_is_no_failure() -> None:
    pack = load_pack()
    assert pack.failure_in("Your post was sent. View") is None
    assert pack.says_sent("Your posts were sent.")


def test_api_error_codes_and_redirects() -> None:
    pack = load_pack()
    assert pack.api_failure({"errors": [{"code": 187, "message": "dup"}]}) == "duplicate"
    assert pack.api_failure({"errors": [{"code": 326}]}) == "locked"
    assert pack.api_failure({"errors": [{"code": 9999}]}) is None
    assert pack.api_failure({"data": {}}) is None
    assert pack.blocked_path("/i/flow/login") == "session_expired"
    assert pack.blocked_path("/account/access") == "locked"
    assert pack.blocked_path("/home") is None


def test_pack_missing_a_selector_is_refused() -> None:
    data = yaml.safe_load((PACK_DIR / "selectors.v1.yaml").read_text())
    del data["selectors"]["tweet"]
    with pytest.raises(SelectorPackError, match="tweet"):
        parse_pack(data)


def test_pack_mapping_to_unknown_code_is_refused() -> None:
    data = yaml.safe_load((PACK_DIR / "selectors.v1.yaml").read_text())
    data["api_errors"][1] = "exploded"
    with pytest.raises(SelectorPackError, match="exploded"):
        parse_pack(data)


def test_version_mismatch_is_refused(tmp_path) -> None:
    text = (PACK_DIR / "selectors.v1.yaml").read_text().replace("version: 1", "version: 3", 1)
    (tmp_path / "selectors.v2.yaml").write_text(text)
    with pytest.raises(SelectorPackError, match="declares version 3"):
        load_pack(2, tmp_path)


def test_every_error_code_is_marked_retryable_or_not() -> None:
    assert set(RETRYABLE) == {"rate_limited", "daily_limit", "duplicate", "automation_block", "session_expired",
                              "locked", "dom_changed", "timeout", "browser_crashed",
                              "writes_paused", "not_live", "invalid_content", "budget_exhausted", "unreachable",
                              "reply_not_allowed", "account_gone"}
    assert set(RETRYABLE) == set(get_args(ErrorCode))
