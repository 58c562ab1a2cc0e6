"""The known-device cookie: signed per account, void after a password change, and any
text a client sends in its place is simply not a known device."""

from __future__ import annotations

import datetime as dt
import uuid

from hypothesis import given
from hypothesis import strategies as st

from medmarket.accounts.devices import KnownDevices

DEVICES = KnownDevices("k" * 48)


def test_an_issued_entry_names_a_place_for_its_account_only() -> None:
    mother, grandfather = uuid.uuid4(), uuid.uuid4()
    cookie = DEVICES.issue(None, mother)
    assert DEVICES.place(cookie, mother, None) is not None
    assert DEVICES.place(cookie, grandfather, None) is None
    shared = DEVICES.issue(cookie, grandfather)  # a family's phone holds both
    assert DEVICES.place(shared, mother, None) == DEVICES.place(cookie, mother, None)
    assert DEVICES.place(shared, grandfather, None) is not None


def test_a_forged_or_foreign_entry_is_no_known_place() -> None:
    user = uuid.uuid4()
    cookie = DEVICES.issue(None, user)
    user_hex, issued, signature = cookie.split(".")
    flipped = signature[:-1] + ("B" if signature[-1] == "A" else "A")
    assert DEVICES.place(f"{user_hex}.{issued}.{flipped}", user, None) is None
    assert DEVICES.place(f"{user_hex}.{int(issued) + 1}.{signature}", user, None) is None
    other_key = KnownDevices("z" * 48)
    assert other_key.place(cookie, user, None) is None


def test_a_password_change_voids_earlier_entries() -> None:
    user = uuid.uuid4()
    cookie = DEVICES.issue(None, user)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert DEVICES.place(cookie, user, later) is None
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert DEVICES.place(cookie, user, earlier) is not None


def test_a_cookie_keeps_a_few_accounts_newest_first() -> None:
    users = [uuid.uuid4() for _ in range(8)]
    cookie = None
    for user in users:
        cookie = DEVICES.issue(cookie, user)
    assert cookie is not None and cookie.count("~") == 4
    assert [DEVICES.place(cookie, user, None) is not None for user in users] == [False] * 3 + [
        True
    ] * 5


@given(st.text(max_size=600))
def test_any_text_is_read_without_error(text: str) -> None:
    user = uuid.uuid4()
    assert DEVICES.place(text, user, None) is None
    assert DEVICES.place(DEVICES.issue(text, user), user, None) is not None
