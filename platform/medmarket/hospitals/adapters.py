"""A partner hospital's adapter: its configuration (validated by the plugin's ``config_type``,
secrets kept back from every answer) and a guarded connection to it.

The core never calls an adapter directly: ``connect`` builds one from the hospital's stored
configuration and every call goes through ``PluginHost.guard`` under the key
``hospital:<id>``, so one hospital's failing system opens only its own circuit breaker.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import msgspec

from medmarket.errors import FieldError, InvalidInput
from medmarket.health import HealthReport
from medmarket.hospitals.interface import (
    AffiliationQuery,
    AffiliationVerification,
    HospitalAdapter,
    HospitalAdapterType,
    LicenceQuery,
    LicenceVerification,
    ReferralDecision,
    ReferralRequest,
    ReferralStatus,
)
from medmarket.plugin_manager import PluginHost, PluginUnavailable
from medmarket.sealed import Sealer

log = logging.getLogger("medmarket.hospitals")
T = TypeVar("T")

SECRET_SUFFIXES = ("_secret", "password", "token")
CLOSE_TIMEOUT_SECONDS = 5.0


class HospitalNotConnected(PluginUnavailable):
    """The hospital has no adapter configured, or its adapter type is not installed."""

    slug, title = "hospital-not-connected", "The hospital's systems are not connected"


def secret_fields(config_type: type[Any]) -> list[str]:
    """Configuration fields that hold secrets, by the naming rule of the adapter contract."""
    fields = getattr(config_type, "__struct_fields__", ())
    return [name for name in fields if name.lower().endswith(SECRET_SUFFIXES)]


def config_schema(config_type: type[Any]) -> dict[str, Any]:
    """The configuration form as JSON Schema, for the admin's page."""
    return msgspec.json.schema(config_type)


_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED_FIELD = re.compile(r"field `(?P<name>[^`]+)`")


def _config_field(message: str) -> str:
    """``config.<path>`` for msgspec's "... - at `$.a[0].b`" or "missing field `x`"."""
    at = _AT_PATH.search(message)
    path = at["path"] if at else ""
    named = _NAMED_FIELD.search(message)
    if named:
        path = f"{path}.{named['name']}"
    return "config" + path if path.startswith((".", "[")) else "config"


def validate_config(adapter_type: HospitalAdapterType, raw: dict[str, Any]) -> Any:
    """The configuration as the plugin's ``config_type``; InvalidInput names the bad field."""
    try:
        return msgspec.convert(raw, adapter_type.config_type, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = _config_field(message)
        reason = _AT_PATH.sub("", message)
        raise InvalidInput(
            f"{field}: {reason}", errors=[FieldError(field=field, message=reason)]
        ) from None


def merge_kept_secrets(
    adapter_type: HospitalAdapterType, submitted: dict[str, Any], stored: dict[str, Any] | None
) -> dict[str, Any]:
    """A secret left out of ``submitted`` keeps its stored value."""
    merged = dict(submitted)
    for name in secret_fields(adapter_type.config_type):
        if name not in merged and stored and stored.get(name) is not None:
            merged[name] = stored[name]
    return merged


def _each_secret(
    adapter_type: HospitalAdapterType, config: dict[str, Any], change: Callable[[str], str]
) -> dict[str, Any]:
    changed = dict(config)
    for name in secret_fields(adapter_type.config_type):
        if isinstance(changed.get(name), str) and changed[name]:
            changed[name] = change(changed[name])
    return changed


def seal_secrets(
    adapter_type: HospitalAdapterType, config: dict[str, Any], sealer: Sealer
) -> dict[str, Any]:
    """The configuration as stored: its secrets sealed (``medmarket.sealed``)."""
    return _each_secret(adapter_type, config, sealer.seal)


def unseal_secrets(
    adapter_type: HospitalAdapterType, stored: dict[str, Any], sealer: Sealer
) -> dict[str, Any]:
    """The stored configuration with its secrets opened, for the plugin (raises SealError)."""
    return _each_secret(adapter_type, stored, sealer.unseal)


def without_secrets(
    adapter_type: HospitalAdapterType | None, stored: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """(config safe to show, names of the secrets that are set). Without the type (plugin no
    longer installed) every field that looks secret by name is held back too."""
    names = (
        set(secret_fields(adapter_type.config_type))
        if adapter_type is not None
        else {key for key in stored if key.lower().endswith(SECRET_SUFFIXES)}
    )
    shown = {key: value for key, value in stored.items() if key not in names}
    secrets_set = sorted(key for key in names if stored.get(key) not in (None, ""))
    return shown, secrets_set


def adapter_key(hospital_id: uuid.UUID) -> str:
    return f"hospital:{hospital_id}"


class ConnectedHospital:
    """One hospital's adapter, every call guarded and every answer type-checked: a plugin
    that returns something else than the contract says has failed, like one that raised."""

    def __init__(self, plugins: PluginHost, hospital_id: uuid.UUID, adapter: HospitalAdapter):
        self.plugins = plugins
        self.hospital_id = hospital_id
        self.adapter = adapter
        self.key = adapter_key(hospital_id)

    async def _call(self, feature: str, call: Callable[[], Awaitable[Any]], answer: type[T]) -> T:
        async def checked() -> T:
            result = await call()
            if not isinstance(result, answer):
                raise TypeError(f"adapter answered {type(result).__name__}, not {answer.__name__}")
            return result

        return await self.plugins.guard(feature, self.key, checked)

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        return await self._call(
            "licence check", lambda: self.adapter.verify_licence(query), LicenceVerification
        )

    async def confirm_affiliation(self, query: AffiliationQuery) -> AffiliationVerification:
        return await self._call(
            "affiliation check",
            lambda: self.adapter.confirm_affiliation(query),
            AffiliationVerification,
        )

    async def end_affiliation(self, query: AffiliationQuery, reason: str) -> None:
        await self.plugins.guard(
            "end affiliation", self.key, lambda: self.adapter.end_affiliation(query, reason)
        )

    async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
        async def asked() -> ReferralDecision:
            decision = await self.adapter.accept_referral(request)
            if isinstance(decision, ReferralDecision):
                _check_decision(decision)
            return decision

        return await self._call("referral", asked, ReferralDecision)

    async def referral_status(
        self, referral_id: str, hospital_reference: str | None
    ) -> ReferralStatus:
        async def asked() -> ReferralStatus:
            status = await self.adapter.referral_status(referral_id, hospital_reference)
            if isinstance(status, ReferralStatus):
                if status.decision is not None:
                    _check_decision(status.decision)
                if any(outcome.at.tzinfo is None for outcome in status.outcomes):
                    raise TypeError("an outcome's time has no offset")
            return status

        return await self._call("referral status", asked, ReferralStatus)

    async def cancel_referral(
        self, referral_id: str, hospital_reference: str | None, reason: str
    ) -> None:
        await self.plugins.guard(
            "cancel referral",
            self.key,
            lambda: self.adapter.cancel_referral(referral_id, hospital_reference, reason),
        )

    async def health(self) -> HealthReport:
        return await self._call("hospital health", self.adapter.health, HealthReport)


def _check_decision(decision: ReferralDecision) -> None:
    """The contract's rules a type cannot say: an acceptance carries its appointment, at a
    time with its offset, with a ticket and a place."""
    if decision.status != "accepted":
        return
    appointment = decision.appointment
    if appointment is None:
        raise TypeError("the hospital accepted without an appointment")
    if appointment.starts_at.tzinfo is None:
        raise TypeError("the appointment's time has no offset")
    if not appointment.ticket.strip() or not appointment.place.strip():
        raise TypeError("the appointment has no ticket or no place")


@asynccontextmanager
async def connect(
    plugins: PluginHost,
    hospital_id: uuid.UUID,
    type_id: str | None,
    stored_config: dict[str, Any] | None,
) -> AsyncIterator[ConnectedHospital]:
    """Build the hospital's adapter from its stored configuration, and close it afterwards.

    Raises HospitalNotConnected when nothing is configured, the type is not installed, or
    the plugin refuses its own stored configuration.
    """
    if type_id is None or stored_config is None:
        raise HospitalNotConnected(
            "the hospital has not connected its systems yet", hospital_id=str(hospital_id)
        )
    if type_id not in plugins.hospital_adapters.adapters:
        raise HospitalNotConnected(
            f"the hospital's adapter {type_id!r} is not installed", hospital_id=str(hospital_id)
        )
    adapter_type: HospitalAdapterType = plugins.hospital_adapters.get(type_id)
    try:
        opened = unseal_secrets(adapter_type, stored_config, Sealer(plugins.settings.secret_key))
        config = msgspec.convert(opened, adapter_type.config_type, strict=False)
        adapter = adapter_type.create(config)
    except Exception as exc:  # the plugin's own code: its failure must stay its own
        log.warning("hospital %s: adapter %s could not be created: %r", hospital_id, type_id, exc)
        raise HospitalNotConnected(
            f"the hospital's adapter {type_id!r} could not start with its configuration",
            hospital_id=str(hospital_id),
        ) from exc
    try:
        yield ConnectedHospital(plugins, hospital_id, adapter)
    finally:
        # Closing bypasses the circuit breaker: an open breaker must not leak connections.
        closer = getattr(adapter, "aclose", None)
        if closer is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                    await closer()
            except Exception as exc:
                log.warning("hospital %s: adapter did not close cleanly: %r", hospital_id, exc)
