"""The live guard decides from XBOT_X_BASE_URL, XBOT_LIVE and XBOT_X_SANDBOX_HOSTS whether the poster may start."""

from __future__ import annotations

import pytest

from libs.core.settings import SettingsError, load_settings
from libs.core.live_guard import LiveGuardRefusal, check_target, is_real_x, parse_sandbox_hosts
from services.poster.settings import PosterSettings

VARIABLES = ("XBOT_X_BASE_URL", "XBOT_LIVE", "XBOT_X_SANDBOX_HOSTS")


def refusal(url: str, **kwargs) -> str:
    with pytest.raises(LiveGuardRefusal) as err:
        check_target(url, **{"live": False, **kwargs})
    assert isinstance(err.value, SettingsError)  # the service's CLI exits 2 with the message
    return str(err.value)


class TestRealX:
    @pytest.mark.parametrize("url", ["https://x.com", "https://x.com/", "https://www.x.com", "https://X.COM:443",
                                     "https://x.com.", "https://twitter.com", "https://mobile.twitter.com/home",
                                     "http://user@x.com"])
    def test_refused_without_live_naming_the_variables(self, url):
        message = refusal(url)
        assert all(var in message for var in VARIABLES)
        assert f"XBOT_X_BASE_URL={url}" in message and "real X" in message

    def test_refused_even_when_listed_as_a_sandbox(self):
        message = refusal("https://x.com", sandbox_hosts="sandbox,x.com")
        assert "XBOT_X_SANDBOX_HOSTS" in message and "x.com" in message
        with pytest.raises(LiveGuardRefusal):
            check_target("https://x.com", live=True, sandbox_hosts=["www.twitter.com"])

    @pytest.mark.parametrize("url", ["https://x.com", "https://api.twitter.com"])
    def test_live_true_lets_it_through(self, url):
        assert check_target(url, live=True) == "live"
        assert check_target(url, live=True, sandbox_hosts="sandbox") == "live"

    @pytest.mark.parametrize("host", ["notx.com", "x.com.evil.example", "twitter.company", "xcom"])
    def test_look_alike_names_are_not_real_x_but_still_unknown(self, host):
        assert not is_real_x(host)
        assert "XBOT_X_SANDBOX_HOSTS" in refusal(f"https://{host}")


class TestSandbox:
    @pytest.mark.parametrize("url", ["http://127.0.0.1:8400", "http://localhost:9000/", "http://[::1]:80",
                                     "http://127.5.0.1", "http://sandbox.localhost:8080"])
    def test_loopback_is_the_sandbox_without_any_setting(self, url):
        assert check_target(url, live=False) == "sandbox"
        assert check_target(url, live=True) == "sandbox"

    @pytest.mark.parametrize(("url", "hosts"), [
        ("http://sandbox:8400", "sandbox"),
        ("http://sandbox:8400", " Sandbox , other "),
        ("http://SANDBOX.:8400/", "sandbox"),
        ("http://10.0.0.5:8400", "sandbox,10.0.0.5"),
        ("http://[fd00::5]:8400", "[fd00::5]"),
        ("http://sandbox:8400", ["sandbox"]),
    ])
    def test_a_listed_host_is_a_sandbox(self, url, hosts):
        assert check_target(url, live=False, sandbox_hosts=hosts) == "sandbox"

    def test_listing_is_exact_not_by_suffix(self):
        for url in ("http://sandbox.example.com", "http://my-sandbox", "http://sandbox.x.com"):
            refusal(url, sandbox_hosts="sandbox")


class TestUnknownHosts:
    @pytest.mark.parametrize("url", ["http://sandbox:8400", "http://10.0.0.5:8700", "https://proxy.example.org",
                                     "http://127.0.0.1.example.com"])
    def test_refused_without_live_naming_the_variables_and_the_host(self, url):
        message = refusal(url, sandbox_hosts="other")
        assert all(var in message for var in VARIABLES)
        assert f"XBOT_X_BASE_URL={url}" in message and "listed: other" in message

    def test_live_true_lets_it_through(self):
        assert check_target("http://10.0.0.5:8700", live=True) == "live"

    @pytest.mark.parametrize("url", ["x.com", "sandbox:8400", "ftp://127.0.0.1", "http://", "",
                                     "http://x.com\\@sandbox", "http://sandbox /", "http://[::1"])
    def test_malformed_urls_are_refused_even_when_live(self, url):
        with pytest.raises(LiveGuardRefusal) as err:
            check_target(url, live=True, sandbox_hosts="sandbox")
        assert "XBOT_X_BASE_URL" in str(err.value)


class TestSandboxHostsSetting:
    def test_parsing(self):
        assert parse_sandbox_hosts("") == ()
        assert parse_sandbox_hosts(None) == ()
        assert parse_sandbox_hosts(" sandbox ,, Sandbox,10.0.0.5,") == ("sandbox", "10.0.0.5")

    @pytest.mark.parametrize("value", ["http://sandbox:8400", "sandbox:8400", "sandbox/", "*.local", "x.com",
                                       "sandbox,www.twitter.com"])
    def test_a_url_a_port_a_wildcard_or_real_x_is_rejected(self, value):
        with pytest.raises(ValueError):
            parse_sandbox_hosts(value)
        with pytest.raises(LiveGuardRefusal, match="XBOT_X_SANDBOX_HOSTS"):
            check_target("http://127.0.0.1:8400", live=False, sandbox_hosts=value)

    def test_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("XBOT_X_BASE_URL", "http://sandbox:8400")
        monkeypatch.setenv("XBOT_X_SANDBOX_HOSTS", "sandbox")
        monkeypatch.setenv("XBOT_LIVE", "false")
        s = load_settings(PosterSettings)
        assert check_target(s.x_base_url, live=s.live, sandbox_hosts=s.x_sandbox_hosts) == "sandbox"

    def test_default_is_empty(self, monkeypatch):
        monkeypatch.delenv("XBOT_X_SANDBOX_HOSTS", raising=False)
        assert PosterSettings().x_sandbox_hosts == ""

    def test_an_invalid_value_stops_start_up_naming_the_variable(self, monkeypatch):
        monkeypatch.setenv("XBOT_X_SANDBOX_HOSTS", "sandbox,x.com")
        with pytest.raises(SettingsError, match="XBOT_X_SANDBOX_HOSTS"):
            load_settings(PosterSettings)
