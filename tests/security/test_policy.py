"""The pure parts: agency access rules, the sign-in lock-out over time, API key parsing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartspaces.config.security import SecuritySettings
from smartspaces.security.errors import TooManyAttempts
from smartspaces.security.policy import access
from smartspaces.security.roles import Principal, Role
from smartspaces.security.throttle import LoginThrottle
from smartspaces.security.tokens import key_id_of, new_api_key
from tests.conftest import T0


def who(role: Role, agency: str | None = "police") -> Principal:
    return Principal(name="x", via="api_key", roles=frozenset({role}), agency=agency)


OWNERS = frozenset({"police"})


@pytest.mark.parametrize(
    ("principal", "shares", "expected"),
    [
        (who("police_operator"), {}, "act"),
        (who("city_operator", "city"), {}, None),
        (who("city_operator", "city"), {"city": "read"}, "read"),
        (who("city_operator", "city"), {"city": "act"}, "act"),
        (who("city_operator", "city"), {"fire": "act"}, None),
        (who("administrator", "it"), {}, "act"),
        (who("auditor", "audit"), {}, "read"),
        (who("auditor", "audit"), {"audit": "act"}, "act"),
        (who("device", None), {}, None),
    ],
)
def test_agency_access(principal: Principal, shares: dict[str, str], expected: str) -> None:
    assert access(principal, OWNERS, shares) == expected


def test_the_lock_out_counts_failures_in_a_window_and_lasts_a_while() -> None:
    throttle = LoginThrottle(
        SecuritySettings(login_max_failures=3, login_window_s=60, lockout_s=300)
    )
    now = T0
    for _ in range(2):
        assert not throttle.failed("ana", "10.0.0.1", now)
    now += timedelta(seconds=61)  # the first two have left the window
    assert not throttle.failed("ana", "10.0.0.1", now)
    throttle.check("ana", "10.0.0.1", now)
    assert not throttle.failed("ana", "10.0.0.2", now)
    assert throttle.failed("Ana", "10.0.0.3", now)  # three within the minute, any case
    with pytest.raises(TooManyAttempts) as locked:
        throttle.check("ana", "10.0.0.9", now + timedelta(seconds=10))
    assert locked.value.retry_after_s == 290
    throttle.check("ana", "10.0.0.9", now + timedelta(seconds=301))
    throttle.succeeded("ana")
    throttle.check("bob", "10.0.0.1", now)  # the client has 3 of its 20


@given(st.text(max_size=120))
def test_only_well_formed_keys_name_a_key(text: str) -> None:
    found = key_id_of(text)
    assert found is None or text == f"ssk_{found}_{text.split('_', 2)[2]}"


def test_a_new_key_names_its_id() -> None:
    key_id, key = new_api_key()
    assert key_id_of(key) == key_id and len(key) == 64
    assert key_id_of(key + "x") is None and key_id_of(" " + key) is None
