"""The error boundary: a plugin that raises or hangs degrades its own feature only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest

from medmarket import hookimpl
from medmarket.app import create_app
from medmarket.hospitals.interface import LicenceQuery
from medmarket.plugin_manager import PluginHost, PluginUnavailable
from medmarket.settings import Settings
from medmarket.tests.misbehaving_plugins import MISBEHAVING, AdapterType, RaisingAdapter
from medmarket.tests.support.fixtures import (
    client_for,
    create_operator_account,
    make_settings,
    running,
)

QUERY = LicenceQuery(licence_number="110000000000001", full_name="张三")


@pytest.fixture
def quick_settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        plugin_timeout_seconds=0.3,
        plugin_breaker_failures=2,
        plugin_breaker_reset_seconds=60,
    )


def test_built_ins_are_found_through_entry_points(settings: Settings) -> None:
    host = PluginHost(settings)
    names = {info.name for info in host.describe()}
    assert "medmarket-notify-log" in names
    assert "log" in host.notifiers.adapters


def test_a_plugin_that_raises_at_start_is_reported_and_the_rest_load(
    quick_settings: Settings,
) -> None:
    host = PluginHost(quick_settings, MISBEHAVING)
    broken = next(i for i in host.describe() if i.name == "broken-at-start")
    assert broken.error is not None and "courier plugin misconfigured" in broken.error
    assert {"raising", "hanging"} <= set(host.hospital_adapters.adapters)
    assert "log" in host.notifiers.adapters


def test_disabled_plugins_are_not_loaded(database_url: str) -> None:
    host = PluginHost(make_settings(database_url, disabled_plugins=["medmarket-notify-log"]))
    assert "log" not in host.notifiers.adapters
    info = next(i for i in host.describe() if i.name == "medmarket-notify-log")
    assert info.enabled is False


async def test_raising_adapter_call_becomes_a_clear_503(quick_settings: Settings) -> None:
    host = PluginHost(quick_settings, MISBEHAVING)
    adapter = host.hospital_adapters.get("raising").create(None)
    with pytest.raises(PluginUnavailable) as caught:
        await host.guard(
            "licence check", "hospital adapter:raising", lambda: adapter.verify_licence(QUERY)
        )
    assert caught.value.status == 503
    assert caught.value.body()["feature"] == "licence check"
    assert "hospital adapter:raising failed" in caught.value.detail


async def test_hanging_adapter_call_times_out(quick_settings: Settings) -> None:
    host = PluginHost(quick_settings, MISBEHAVING)
    adapter = host.hospital_adapters.get("hanging").create(None)
    started = time.monotonic()
    with pytest.raises(PluginUnavailable) as caught:
        await host.guard(
            "licence check", "hospital adapter:hanging", lambda: adapter.verify_licence(QUERY)
        )
    assert time.monotonic() - started < 2
    assert "did not answer within 0.3s" in caught.value.detail


async def test_breaker_opens_after_repeated_failures_and_stops_calling(
    quick_settings: Settings,
) -> None:
    host = PluginHost(quick_settings, MISBEHAVING)
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        await RaisingAdapter().verify_licence(QUERY)

    for _ in range(2):
        with pytest.raises(PluginUnavailable):
            await host.guard("licence check", "hospital adapter:raising", failing)
    with pytest.raises(PluginUnavailable) as caught:
        await host.guard("licence check", "hospital adapter:raising", failing)
    assert calls == 2  # the third call never reached the plugin
    assert "failed repeatedly" in caught.value.detail
    # Another adapter's breaker is its own.
    assert (
        await host.guard("licence check", "hospital adapter:other", lambda: asyncio.sleep(0, "ok"))
        == "ok"
    )


async def test_plugin_status_answers_while_plugins_raise_and_hang(quick_settings: Settings) -> None:
    async with running(create_app(quick_settings, extra_plugins=MISBEHAVING)) as app:
        operator = await create_operator_account(app)
        async with client_for(app) as http:
            started = time.monotonic()
            response = await http.get("/api/operator/plugins", headers=operator.headers)
            elapsed = time.monotonic() - started
            assert response.status_code == 200
            adapters = response.json()["adapters"]
            assert adapters["notifier:log"]["healthy"] is True
            assert adapters["hospital adapter:raising"]["healthy"] is False
            assert adapters["hospital adapter:hanging"]["healthy"] is False
            assert "did not answer" in adapters["hospital adapter:hanging"]["detail"]
            assert elapsed < 2  # checks run concurrently, each behind the timeout
            # The rest of the platform keeps serving.
            assert (await http.get("/readyz")).status_code == 200
            assert (await http.get("/api/me", headers=operator.headers)).status_code == 200


class TakesNoArguments:
    """A hook implementation may take fewer arguments than the spec (pluggy's rule)."""

    @hookimpl
    def medmarket_hospital_adapters(self) -> Sequence[Any]:
        return [AdapterType("no-arguments", RaisingAdapter())]


class AsyncHook:
    @hookimpl
    async def medmarket_notifiers(self, settings: Any) -> Sequence[Any]:
        return []


class FirstOfTwo:
    @hookimpl(tryfirst=True)
    def medmarket_hospital_adapters(self, settings: Any) -> Sequence[Any]:
        return [AdapterType("tried-first", RaisingAdapter())]


def test_hooks_are_called_through_pluggy_one_plugin_at_a_time(quick_settings: Settings) -> None:
    host = PluginHost(
        quick_settings,
        [("no-arguments", TakesNoArguments()), ("first", FirstOfTwo()), *MISBEHAVING],
    )
    assert {"no-arguments", "tried-first", "raising", "hanging"} <= set(
        host.hospital_adapters.adapters
    )
    assert host.hospital_adapters.owners["no-arguments"] == "no-arguments"
    # pluggy's order: tryfirst before the others; the courier hook that raised costs its plugin
    # only that hook.
    assert next(iter(host.hospital_adapters.adapters)) == "tried-first"
    assert "courier plugin misconfigured" in (
        next(i for i in host.describe() if i.name == "broken-at-start").error or ""
    )


def test_an_async_hook_implementation_is_refused_at_start_naming_it(
    quick_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    host = PluginHost(quick_settings, [("async-notifier", AsyncHook())])
    refused = next(i for i in host.describe() if i.name == "async-notifier")
    assert refused.enabled is False
    assert refused.error is not None and "medmarket_notifiers" in refused.error
    assert "async def" in refused.error
    assert not host.manager.has_plugin("async-notifier")
    assert "async-notifier" in caplog.text and "medmarket_notifiers" in caplog.text
    assert "log" in host.notifiers.adapters  # the other notifiers are there


async def test_calls_and_health_checks_share_one_breaker_per_adapter(
    quick_settings: Settings,
) -> None:
    """A breaker that real calls opened is the one the health check and the page see."""
    async with running(create_app(quick_settings, extra_plugins=MISBEHAVING)) as app:
        host: PluginHost = app.state.services.plugins
        key = host.hospital_adapters.key("raising")
        assert key == "hospital adapter:raising"
        adapter = host.hospital_adapters.get("raising").create(None)
        for _ in range(2):
            with pytest.raises(PluginUnavailable):
                await host.guard("licence check", key, lambda: adapter.verify_licence(QUERY))
        [state] = [breaker for breaker in host.breakers() if breaker.key == key]
        assert state.open and state.failures == 2 and (state.retry_in_seconds or 0) > 50
        assert "failed repeatedly" in (await host.health())[key].detail
        operator = await create_operator_account(app)
        async with client_for(app) as http:
            status = await http.get("/api/operator/plugins", headers=operator.headers)
            listed = {b["key"]: b for b in status.json()["breakers"]}
            assert listed[key]["open"] is True
            assert listed["notifier:log"]["open"] is False
            page = await http.get("/operator", headers={**operator.headers, "accept": "text/html"})
        assert page.status_code == 200
        assert "hospital adapter:raising" in page.text.split('id="open-breakers"')[1]
