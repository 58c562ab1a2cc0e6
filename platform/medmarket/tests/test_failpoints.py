"""Failpoints: named crash points for tests, inert everywhere else."""

from __future__ import annotations

import subprocess
import sys

import pytest

from medmarket.failpoints import Failpoints, FailpointSyntaxError, InjectedFault, parse
from medmarket.settings import SettingsError, load_settings

GOOD = {
    "DATABASE_URL": "postgresql://localhost/x",
    "REDIS_URL": "redis://localhost:6379/0",
    "MEDMARKET_SECRET_KEY": "k" * 40,
}


def test_parse() -> None:
    assert parse("a=kill, b=kill:0.25,c=error") == {
        "a": ("kill", 1.0),
        "b": ("kill", 0.25),
        "c": ("error", 1.0),
    }
    assert parse("") == {}
    for bad in ("a", "a=explode", "=kill", "a=kill:often"):
        with pytest.raises(FailpointSyntaxError):
            parse(bad)


def test_settings_refuse_failpoints_outside_tests() -> None:
    with pytest.raises(SettingsError, match="MEDMARKET_FAILPOINTS"):
        load_settings({**GOOD, "MEDMARKET_FAILPOINTS": "a=kill"})
    for environment in ("development", "production"):
        with pytest.raises(SettingsError):
            load_settings(
                {**GOOD, "MEDMARKET_FAILPOINTS": "a=kill", "MEDMARKET_ENVIRONMENT": environment}
            )


def test_an_error_failpoint_raises_only_at_its_point() -> None:
    settings = load_settings(
        {**GOOD, "MEDMARKET_ENVIRONMENT": "test", "MEDMARKET_FAILPOINTS": "x=error"}
    )
    points = Failpoints(settings)
    points.hit("y")
    with pytest.raises(InjectedFault, match="x"):
        points.hit("x")


def test_a_kill_failpoint_kills_the_process_on_the_spot() -> None:
    code = (
        "from medmarket.failpoints import Failpoints\n"
        "from medmarket.settings import load_settings\n"
        "points = Failpoints(load_settings())\n"
        "print('before', flush=True)\n"
        "points.hit('here')\n"
        "print('after')\n"
    )
    env = {**GOOD, "MEDMARKET_ENVIRONMENT": "test", "MEDMARKET_FAILPOINTS": "here=kill"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == -9
    assert result.stdout == "before\n"
