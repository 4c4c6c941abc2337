"""The authenticator's code (libs/core/totp.py): RFC 6238's own test vector, keys as services issue them."""

from __future__ import annotations

import pytest

from libs.core.totp import authenticator



def test_rfc_6238_vector() -> None:
    # RFC 6238 appendix B: the SHA-1 key "12345678901234567890" at T = 59 s gives 94287082 (8 digits).
    key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert authenticator(key).at(59) == "287082"


def test_a_16_character_key_as_services_issue_it_is_taken_and_spacing_or_case_do_not_matter() -> None:
    assert authenticator("krsx g5ct mvrx ezlu").at(1_000_000) == authenticator("KRSXG5CTMVRXEZLU").at(1_000_000)


def test_what_is_no_base32_key_names_the_variable() -> None:
    with pytest.raises(ValueError, match="XBOT_X_TOTP_SECRET"):
        authenticator("not a key!")
    with pytest.raises(ValueError, match="XBOT_X_TOTP_SECRET"):
        authenticator("KRSXG5CT")  # 40 bits
