"""The plugin host: finds plugins, collects their adapters, and guards every adapter call.

Built-in features and outside plugins are found the same way, through the entry-point group
``medmarket``. The host is built per app (never at import time), so tests and several apps in
one process each get their own.

Hooks are called through pluggy, one plugin at a time (``subset_hook_caller``), so an
implementation may take fewer arguments than the spec, pluggy's ``tryfirst``/``trylast`` and
call monitoring apply, and a plugin whose hook raises loses only what it offered. A hook
implemented as ``async def`` would hand pluggy a coroutine it never awaits: such a plugin is
refused at start-up, with an error naming it and the hook.

Every adapter has one circuit breaker, named by ``Registry.key`` (``"video provider:webrtc"``),
shared by its calls and its health checks; ``breakers()`` shows them to operators.

Prescription rules are not adapters but pure functions: ``prescription_rules`` holds each
plugin's behind an error boundary of its own (``PluginRule``), for the prescription service
to pass to ``rules.check``. There a failure blocks instead of degrading: a safety rule that
cannot run answers an error finding, so no prescription passes a check it was not given.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

import msgspec
import pluggy

from medmarket import hookspecs
from medmarket.delivery.interface import Courier
from medmarket.errors import ServiceUnavailable
from medmarket.health import HealthReport
from medmarket.hospitals.interface import HospitalAdapterType
from medmarket.notifications.interface import Notifier
from medmarket.payments.interface import PaymentGateway
from medmarket.prescriptions.interface import (
    DraftPrescription,
    Finding,
    Limits,
    PatientFacts,
    PrescriptionRule,
)
from medmarket.settings import Settings
from medmarket.video.interface import VideoProvider

log = logging.getLogger("medmarket.plugins")
T = TypeVar("T")
AdapterT = TypeVar("AdapterT")
ENTRY_POINT_GROUP = "medmarket"

# hook name -> the registry it fills
ADAPTER_HOOKS = {
    "medmarket_hospital_adapters": "hospital_adapters",
    "medmarket_video_providers": "video_providers",
    "medmarket_couriers": "couriers",
    "medmarket_payment_gateways": "payment_gateways",
    "medmarket_notifiers": "notifiers",
}
RULES_HOOK = "medmarket_prescription_rules"


class PluginUnavailable(ServiceUnavailable):
    slug, title = "plugin-unavailable", "A partner system is not answering"


class BreakerState(msgspec.Struct, kw_only=True):
    """One adapter's circuit breaker, as operators see it."""

    key: str
    open: bool
    failures: int
    retry_in_seconds: float | None = None


class PluginInfo(msgspec.Struct, kw_only=True):
    name: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    enabled: bool
    provides: list[str] = msgspec.field(default_factory=list)
    error: str | None = None


@dataclass
class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; lets one call through after ``reset``."""

    threshold: int
    reset_seconds: float
    failures: int = 0
    opened_at: float | None = None

    def allows(self, now: float) -> bool:
        if self.opened_at is None:
            return True
        return now - self.opened_at >= self.reset_seconds

    def succeeded(self) -> None:
        self.failures, self.opened_at = 0, None

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now

    def state(self, key: str, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState(key=key, open=False, failures=self.failures)
        retry_in = max(0.0, self.reset_seconds - (now - self.opened_at))
        return BreakerState(key=key, open=True, failures=self.failures, retry_in_seconds=retry_in)


@dataclass
class Registry(Generic[AdapterT]):
    """Adapters of one kind by id, with the plugin that offered each."""

    kind: str
    adapters: dict[str, AdapterT] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    def add(self, adapter_id: str, adapter: AdapterT, owner: str) -> None:
        if adapter_id in self.adapters:
            raise RuntimeError(
                f"{self.kind} id {adapter_id!r} is offered by both "
                f"{self.owners[adapter_id]!r} and {owner!r}"
            )
        self.adapters[adapter_id] = adapter
        self.owners[adapter_id] = owner

    def get(self, adapter_id: str) -> AdapterT:
        try:
            return self.adapters[adapter_id]
        except KeyError:
            raise PluginUnavailable(f"no {self.kind} with id {adapter_id!r} is installed") from None

    def key(self, adapter_id: str) -> str:
        """The adapter's circuit-breaker key, for every call and health check of it."""
        return f"{self.kind}:{adapter_id}"

    def __iter__(self) -> Iterator[tuple[str, AdapterT]]:
        return iter(self.adapters.items())

    def __len__(self) -> int:
        return len(self.adapters)


@dataclass(frozen=True)
class PluginRule:
    """One plugin's prescription rule behind an error boundary, called as a rule is.

    Its findings' ids carry the plugin's name (``"formulary.not_listed"``). A rule that
    raises, answers anything but findings of the draft's items, or was never there (the
    hook raised, offered something that is not a synchronous function: ``problem``) answers
    one error finding, ``"<plugin>.rule_failed"``, instead.
    """

    owner: str
    rule: PrescriptionRule | None
    problem: str | None = None

    @property
    def name(self) -> str:
        return f"{self.owner}.{getattr(self.rule, '__name__', 'rules')}"

    def __call__(
        self, draft: DraftPrescription, patient: PatientFacts, limits: Limits
    ) -> list[Finding]:
        if self.rule is None:
            return [self._failed()]
        try:
            answer = self.rule(draft, patient, limits)
            if inspect.isawaitable(answer):
                if inspect.iscoroutine(answer):
                    answer.close()
                raise TypeError("answered an awaitable: rules are synchronous")
            findings = list(answer or ())
            for finding in findings:
                if not isinstance(finding, Finding):
                    raise TypeError(f"answered {finding!r}, not a Finding")
                if finding.item is not None and not 0 <= finding.item < len(draft.items):
                    raise ValueError(f"answered a finding of item {finding.item}, not in the draft")
        except Exception:
            log.exception("prescription rule %s failed", self.name)
            return [self._failed()]
        prefix = f"{self.owner}."
        return [
            finding
            if finding.rule.startswith(prefix)
            else msgspec.structs.replace(finding, rule=prefix + finding.rule)
            for finding in findings
        ]

    def _failed(self) -> Finding:
        return Finding(
            rule=f"{self.owner}.rule_failed",
            severity="error",
            message_zh=(
                f"安全规则 {self.name}（插件 {self.owner}）运行出错，处方暂时无法通过检查；"
                "请稍后再试，或联系平台运营人员。"
            ),
            message_en=(
                f"The safety rule {self.name} (plugin {self.owner}) failed, so the "
                "prescription cannot pass its checks; try again later, or contact the "
                "platform's operators."
            ),
        )


class PluginHost:
    def __init__(
        self, settings: Settings, extra_plugins: Iterable[tuple[str, object]] = ()
    ) -> None:
        self.settings = settings
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        for name in settings.disabled_plugins:
            self.manager.set_blocked(name)
        self._load_errors: dict[str, str] = {}
        self._refused: set[str] = set()
        self._distributions: dict[str, tuple[str, str]] = {}
        self._load_entry_points()
        for name, plugin in extra_plugins:
            self._register(plugin, name)
        self.hospital_adapters: Registry[HospitalAdapterType] = Registry("hospital adapter")
        self.video_providers: Registry[VideoProvider] = Registry("video provider")
        self.couriers: Registry[Courier] = Registry("courier")
        self.payment_gateways: Registry[PaymentGateway] = Registry("payment gateway")
        self.notifiers: Registry[Notifier] = Registry("notifier")
        # Every installed plugin's prescription rules, for ``rules.check(extra_rules=...)``.
        self.prescription_rules: list[PluginRule] = []
        self._breakers: dict[str, CircuitBreaker] = {}
        self._collect()

    def registries(self) -> list[Registry[Any]]:
        return [getattr(self, registry_name) for registry_name in ADAPTER_HOOKS.values()]

    # -- discovery -------------------------------------------------------------------------
    def _load_entry_points(self) -> None:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.manager.is_blocked(entry_point.name) or self.manager.has_plugin(
                entry_point.name
            ):
                continue
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a broken plugin must not stop the platform
                log.exception("plugin %s failed to load", entry_point.name)
                self._load_errors[entry_point.name] = f"failed to load: {exc}"
                continue
            dist = entry_point.dist
            if dist is not None:
                self._distributions[entry_point.name] = (dist.name, dist.version)
            self._register(plugin, entry_point.name)

    def _register(self, plugin: object, name: str) -> None:
        self.manager.register(plugin, name=name)
        for caller in self.manager.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and inspect.iscoroutinefunction(impl.function):
                    self.manager.unregister(plugin, name=name)
                    problem = (
                        f"refused: its hook {caller.name} is `async def`; hooks are synchronous "
                        "and return adapters whose methods are async"
                    )
                    log.error("plugin %s %s", name, problem)
                    self._load_errors[name] = problem
                    self._refused.add(name)
                    return

    def _collect(self) -> None:
        plugins = [plugin for _, plugin in self.manager.list_name_plugin() if plugin is not None]
        for hook_name, registry_name in ADAPTER_HOOKS.items():
            registry: Registry[Any] = getattr(self, registry_name)
            hook = getattr(self.manager.hook, hook_name)
            # In the order pluggy calls them (tryfirst first, trylast last).
            for impl in reversed(hook.get_hookimpls()):
                owner = self.manager.get_name(impl.plugin) or repr(impl.plugin)
                # This plugin's implementation alone, called through pluggy.
                alone = self.manager.subset_hook_caller(
                    hook_name, remove_plugins=[p for p in plugins if p is not impl.plugin]
                )
                try:
                    for offered in alone(settings=self.settings):
                        for adapter in offered or ():
                            registry.add(str(adapter.id), adapter, owner)
                except Exception as exc:
                    log.exception("plugin %s failed in %s", owner, hook_name)
                    self._load_errors[owner] = f"{hook_name} raised: {exc}"
        self._collect_rules(plugins)

    def _collect_rules(self, plugins: list[object]) -> None:
        hook = getattr(self.manager.hook, RULES_HOOK)
        for impl in reversed(hook.get_hookimpls()):
            owner = self.manager.get_name(impl.plugin) or repr(impl.plugin)
            alone = self.manager.subset_hook_caller(
                RULES_HOOK, remove_plugins=[p for p in plugins if p is not impl.plugin]
            )
            try:
                for offered in alone(settings=self.settings):
                    for rule in offered or ():
                        if not callable(rule) or inspect.iscoroutinefunction(rule):
                            raise TypeError(f"{rule!r} is not a synchronous function")
                        self.prescription_rules.append(PluginRule(owner, rule))
            except Exception as exc:
                log.exception("plugin %s failed in %s", owner, RULES_HOOK)
                self._load_errors[owner] = f"{RULES_HOOK} raised: {exc}"
                # Whatever it meant to offer cannot run: every prescription says so.
                self.prescription_rules.append(PluginRule(owner, None, problem=str(exc)))

    # -- introspection ---------------------------------------------------------------------
    def provided_by(self, plugin_name: str) -> list[str]:
        return [
            registry.key(adapter_id)
            for registry in self.registries()
            for adapter_id, owner in registry.owners.items()
            if owner == plugin_name
        ] + [
            f"prescription rule:{rule.name}"
            for rule in self.prescription_rules
            if rule.owner == plugin_name and rule.rule is not None
        ]

    def breakers(self) -> list[BreakerState]:
        """Every breaker a call or health check has used, by key."""
        now = time.monotonic()
        return [breaker.state(key, now) for key, breaker in sorted(self._breakers.items())]

    def describe(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in sorted(self.manager.list_name_plugin(), key=lambda pair: pair[0]):
            if plugin is None:  # pluggy keeps blocked names with no plugin
                continue
            dist = self._distributions.get(name)
            hooks = sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or [])
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=dist[0] if dist else None,
                    version=dist[1] if dist else None,
                    hooks=hooks,
                    enabled=True,
                    provides=self.provided_by(name),
                    error=self._load_errors.get(name),
                )
            )
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.manager.is_blocked(entry_point.name):
                infos.append(
                    PluginInfo(
                        name=entry_point.name,
                        distribution=None,
                        version=None,
                        hooks=[],
                        enabled=False,
                    )
                )
            elif entry_point.name in self._load_errors and not self.manager.has_plugin(
                entry_point.name
            ):
                infos.append(
                    PluginInfo(
                        name=entry_point.name,
                        distribution=None,
                        version=None,
                        hooks=[],
                        enabled=entry_point.name not in self._refused,
                        error=self._load_errors[entry_point.name],
                    )
                )
        listed = {info.name for info in infos}
        for name in sorted(self._refused - listed):  # refused plugins registered by the app
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=None,
                    version=None,
                    hooks=[],
                    enabled=False,
                    error=self._load_errors[name],
                )
            )
        return infos

    # -- the error boundary ----------------------------------------------------------------
    async def guard(
        self,
        feature: str,
        adapter_key: str,
        call: Callable[[], Awaitable[T]],
        *,
        timeout: float | None = None,
    ) -> T:
        """Await ``call()`` with a timeout and a circuit breaker per adapter.

        Any failure (an exception, a timeout, an open breaker) becomes ``PluginUnavailable``
        naming the feature, so a request gets a clear 503 and the rest of the platform goes on.
        """
        breaker = self._breakers.setdefault(
            adapter_key,
            CircuitBreaker(
                self.settings.plugin_breaker_failures, self.settings.plugin_breaker_reset_seconds
            ),
        )
        now = time.monotonic()
        if not breaker.allows(now):
            raise PluginUnavailable(
                f"{feature}: {adapter_key} failed repeatedly; trying again shortly",
                feature=feature,
                adapter=adapter_key,
            )
        limit = self.settings.plugin_timeout_seconds if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                result = await call()
        except TimeoutError:
            breaker.failed(time.monotonic())
            log.warning("%s: %s did not answer within %.1fs", feature, adapter_key, limit)
            raise PluginUnavailable(
                f"{feature}: {adapter_key} did not answer within {limit:g}s",
                feature=feature,
                adapter=adapter_key,
            ) from None
        except Exception as exc:
            breaker.failed(time.monotonic())
            log.warning("%s: %s failed: %r", feature, adapter_key, exc)
            raise PluginUnavailable(
                f"{feature}: {adapter_key} failed", feature=feature, adapter=adapter_key
            ) from exc
        breaker.succeeded()
        return result

    async def aclose(self) -> None:
        """Let adapters that hold connections (an HTTP client) release them."""
        for registry in self.registries():
            for adapter_id, adapter in registry:
                closer = getattr(adapter, "aclose", None)
                if closer is None:
                    continue
                try:
                    await closer()
                except Exception:
                    log.exception("%s %s failed to close", registry.kind, adapter_id)

    async def health(self) -> dict[str, HealthReport]:
        """Ask every adapter of every kind for its health, concurrently, each guarded."""
        checks: list[tuple[str, Callable[[], Awaitable[HealthReport]]]] = []
        for registry in self.registries():
            for adapter_id, adapter in registry:
                if hasattr(adapter, "health"):
                    checks.append((registry.key(adapter_id), adapter.health))

        async def check(key: str, probe: Callable[[], Awaitable[HealthReport]]) -> HealthReport:
            try:
                return await self.guard("health check", key, probe)
            except PluginUnavailable as exc:
                return HealthReport(healthy=False, detail=exc.detail)

        reports = await asyncio.gather(*(check(key, probe) for key, probe in checks))
        return {key: report for (key, _), report in zip(checks, reports, strict=True)}
