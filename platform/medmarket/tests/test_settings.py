"""A bad setting stops start-up with a message that names the environment variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from medmarket.settings import SettingsError, load_settings

GOOD = {
    "DATABASE_URL": "postgresql://localhost/x",
    "REDIS_URL": "redis://localhost:6379/0",
    "MEDMARKET_SECRET_KEY": "k" * 40,
}


def test_good_environment_loads_with_types() -> None:
    settings = load_settings(
        {**GOOD, "MEDMARKET_PORT": "8080", "MEDMARKET_DISABLED_PLUGINS": "a, b"}
    )
    assert settings.port == 8080
    assert settings.disabled_plugins == ["a", "b"]
    assert settings.database_url == GOOD["DATABASE_URL"]


def test_prescriptions_may_be_written_a_day_after_the_visit_unless_set_otherwise() -> None:
    assert load_settings(GOOD).prescription_window_hours == 24
    settings = load_settings({**GOOD, "MEDMARKET_PRESCRIPTION_WINDOW_HOURS": "0"})
    assert settings.prescription_window_hours == 0


def test_renewals_within_half_a_year_answered_within_a_day_unless_set_otherwise() -> None:
    settings = load_settings(GOOD)
    assert (settings.renewal_window_days, settings.renewal_answer_hours) == (180, 24)
    settings = load_settings(
        {**GOOD, "MEDMARKET_RENEWAL_WINDOW_DAYS": "90", "MEDMARKET_RENEWAL_ANSWER_HOURS": "48"}
    )
    assert (settings.renewal_window_days, settings.renewal_answer_hours) == (90, 48)


def test_the_platform_takes_three_percent_of_a_pharmacy_order_unless_set_otherwise() -> None:
    assert load_settings(GOOD).pharmacy_platform_rate_bp == 300
    settings = load_settings({**GOOD, "MEDMARKET_PHARMACY_PLATFORM_RATE_BP": "450"})
    assert settings.pharmacy_platform_rate_bp == 450


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"MEDMARKET_PORT": "eighty"}, "MEDMARKET_PORT"),
        ({"MEDMARKET_PORT": "70000"}, "MEDMARKET_PORT"),
        ({"MEDMARKET_SECRET_KEY": "short"}, "MEDMARKET_SECRET_KEY"),
        ({"MEDMARKET_ENVIRONMENT": "staging"}, "MEDMARKET_ENVIRONMENT"),
        ({"MEDMARKET_DEFAULT_TIME_ZONE": "Asia/Beijing"}, "MEDMARKET_DEFAULT_TIME_ZONE"),
        ({"MEDMARKET_FORWARDED_ALLOW_IPS": "proxy.local"}, "MEDMARKET_FORWARDED_ALLOW_IPS"),
        ({"MEDMARKET_PLUGIN_TIMEOUT_SECONDS": "-1"}, "MEDMARKET_PLUGIN_TIMEOUT_SECONDS"),
        ({"MEDMARKET_PRESCRIPTION_WINDOW_HOURS": "-1"}, "MEDMARKET_PRESCRIPTION_WINDOW_HOURS"),
        ({"MEDMARKET_PRESCRIPTION_WINDOW_HOURS": "a day"}, "MEDMARKET_PRESCRIPTION_WINDOW_HOURS"),
        ({"MEDMARKET_PRESCRIPTION_ACUTE_DAYS": "14"}, "MEDMARKET_PRESCRIPTION_ACUTE_DAYS"),
        ({"MEDMARKET_PRESCRIPTION_CHRONIC_DAYS": "90"}, "MEDMARKET_PRESCRIPTION_CHRONIC_DAYS"),
        (
            {"MEDMARKET_PRESCRIPTION_ACUTE_DAYS": "7", "MEDMARKET_PRESCRIPTION_CHRONIC_DAYS": "5"},
            "MEDMARKET_PRESCRIPTION_CHRONIC_DAYS",
        ),
        ({"MEDMARKET_PRESCRIPTION_MAX_ITEMS": "6"}, "MEDMARKET_PRESCRIPTION_MAX_ITEMS"),
        ({"MEDMARKET_RENEWAL_WINDOW_DAYS": "0"}, "MEDMARKET_RENEWAL_WINDOW_DAYS"),
        ({"MEDMARKET_RENEWAL_WINDOW_DAYS": "400"}, "MEDMARKET_RENEWAL_WINDOW_DAYS"),
        ({"MEDMARKET_RENEWAL_ANSWER_HOURS": "0"}, "MEDMARKET_RENEWAL_ANSWER_HOURS"),
        ({"MEDMARKET_RENEWAL_ANSWER_HOURS": "a day"}, "MEDMARKET_RENEWAL_ANSWER_HOURS"),
        ({"MEDMARKET_PHARMACY_PLATFORM_RATE_BP": "-1"}, "MEDMARKET_PHARMACY_PLATFORM_RATE_BP"),
        ({"MEDMARKET_PHARMACY_PLATFORM_RATE_BP": "10001"}, "MEDMARKET_PHARMACY_PLATFORM_RATE_BP"),
        ({"MEDMARKET_PHARMACY_PLATFORM_RATE_BP": "3%"}, "MEDMARKET_PHARMACY_PLATFORM_RATE_BP"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"MEDMARKET_SECRET_KEY": None}, "MEDMARKET_SECRET_KEY"),
        (
            {"MEDMARKET_OUTBOUND_ALLOWED_NETWORKS": "10.0.0.1/8"},
            "MEDMARKET_OUTBOUND_ALLOWED_NETWORKS",
        ),
        (
            {"MEDMARKET_OUTBOUND_ALLOWED_NETWORKS": "hospital-vpn"},
            "MEDMARKET_OUTBOUND_ALLOWED_NETWORKS",
        ),
    ],
)
def test_bad_or_missing_setting_is_named(changes: dict[str, str | None], named: str) -> None:
    environ = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert str(caught.value).startswith(named + ":")


def test_cli_refuses_to_start_and_names_the_setting() -> None:
    env = {**os.environ, **GOOD, "MEDMARKET_PORT": "eighty"}
    result = subprocess.run(
        [sys.executable, "-m", "medmarket.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "MEDMARKET_PORT" in result.stderr
    assert "Traceback" not in result.stderr
