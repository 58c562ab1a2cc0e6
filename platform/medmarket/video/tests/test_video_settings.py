"""The video settings: TURN URLs need the shared secret, and lists come comma-separated."""

from __future__ import annotations

import pytest

from medmarket.settings import SettingsError, load_settings

BASE = {
    "DATABASE_URL": "postgresql://localhost/x",
    "REDIS_URL": "redis://localhost:6379/0",
    "MEDMARKET_SECRET_KEY": "k" * 40,
}


def test_turn_urls_are_read_as_a_list_with_their_secret() -> None:
    settings = load_settings(
        {
            **BASE,
            "MEDMARKET_TURN_URLS": "turn:a.example:3478?transport=udp, turns:a.example:5349",
            "MEDMARKET_TURN_SECRET": "x" * 24,
            "MEDMARKET_STUN_URLS": "stun:a.example:3478",
        }
    )
    assert settings.turn_urls == ["turn:a.example:3478?transport=udp", "turns:a.example:5349"]
    assert settings.stun_urls == ["stun:a.example:3478"]


def test_turn_urls_without_a_secret_stop_start_up_naming_the_secret() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, "MEDMARKET_TURN_URLS": "turn:a.example:3478"})
    assert str(caught.value).startswith("MEDMARKET_TURN_SECRET:")


@pytest.mark.parametrize("value", ["1", "9"])
def test_room_size_stays_between_two_and_eight(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, "MEDMARKET_SIGNALING_MAX_PARTICIPANTS": value})
    assert str(caught.value).startswith("MEDMARKET_SIGNALING_MAX_PARTICIPANTS:")
