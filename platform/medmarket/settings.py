"""Settings: one msgspec Struct, read from the environment.

Every field maps to an environment variable ``MEDMARKET_<FIELD>`` (upper case); the two
connection strings also accept the conventional ``DATABASE_URL`` and ``REDIS_URL``.
A bad value stops start-up with a message that names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec

ENV_PREFIX = "MEDMARKET_"
_PLAIN_NAMES = {"database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}
# Fields read from one comma-separated environment variable.
_LIST_FIELDS = frozenset(
    {
        "disabled_plugins",
        "stun_urls",
        "turn_urls",
        "stripe_webhook_secrets",
        "forwarded_allow_ips",
        "outbound_allowed_networks",
    }
)
STRIPE_API = "https://api.stripe.com"


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


DEFAULT_TIME_ZONE = "Asia/Shanghai"  # the platform's calendar: licences expire on its days


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    redis_url: str
    secret_key: Annotated[str, msgspec.Meta(min_length=32)]
    environment: Literal["development", "test", "production"] = "development"
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    # The proxies (addresses or networks) whose X-Forwarded-For names the client for the
    # audit trail and the throttles. Empty: none, so no client can choose its own address.
    forwarded_allow_ips: list[str] = msgspec.field(default_factory=list)
    # The role the application works as; migrations run as the connecting user.
    database_app_role: str = "medmarket_app"
    # The user the application logs in as (migration 0003 creates it), with the host and
    # database of DATABASE_URL; empty: log in as DATABASE_URL's own user.
    database_app_user: str = "medmarket_web"
    database_app_password: str = ""
    database_pool_min: Annotated[int, msgspec.Meta(ge=0)] = 1
    database_pool_max: Annotated[int, msgspec.Meta(ge=1)] = 10
    data_dir: str = ".data"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    default_time_zone: str = DEFAULT_TIME_ZONE
    # The pages' folder (templates/, static/, locales/). Empty: the one shipped with the
    # package, else the checkout's top-level web/ (an editable install).
    web_dir: str = ""
    # Accounts
    session_ttl_seconds: Annotated[int, msgspec.Meta(ge=60)] = 14 * 24 * 3600
    # Failed sign-ins counted in a sliding window (accounts/throttle.py): per account from one
    # address (or one known device); per account from addresses and devices it never signed
    # in from; per address, for accounts that never signed in from it.
    login_failures_per_account_address: Annotated[int, msgspec.Meta(ge=1)] = 5
    login_failures_per_account: Annotated[int, msgspec.Meta(ge=1)] = 20
    login_failures_per_address: Annotated[int, msgspec.Meta(ge=1)] = 30
    login_throttle_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 15 * 60
    # Sign-ups from one address in a sliding window.
    signups_per_address: Annotated[int, msgspec.Meta(ge=1)] = 20
    signup_throttle_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 3600
    # Password resets: how long a link works; requests per address (then 429) and messages
    # per account (then silently none) in a sliding window.
    password_reset_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=24 * 3600)] = 30 * 60
    password_resets_per_address: Annotated[int, msgspec.Meta(ge=1)] = 10
    password_resets_per_account: Annotated[int, msgspec.Meta(ge=1)] = 3
    password_reset_throttle_window_seconds: Annotated[int, msgspec.Meta(ge=1)] = 3600
    # argon2id cost; the defaults follow RFC 9106's second recommended option.
    password_time_cost: Annotated[int, msgspec.Meta(ge=1)] = 3
    password_memory_kib: Annotated[int, msgspec.Meta(ge=8192)] = 65536
    # Plugins
    plugin_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    plugin_breaker_failures: Annotated[int, msgspec.Meta(ge=1)] = 5
    plugin_breaker_reset_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    disabled_plugins: list[str] = msgspec.field(default_factory=list)
    # Booking: how long a slot stays held for a patient who is paying.
    booking_hold_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 600
    # Outbox worker
    outbox_lease_seconds: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    outbox_poll_seconds: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    outbox_max_attempts: Annotated[int, msgspec.Meta(ge=1)] = 12
    webhook_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    # Connections to URLs others typed (hospitals' servers, webhooks) reach only public
    # addresses, and these networks (CIDRs, e.g. a VPN to the hospitals): see outbound.py.
    outbound_allowed_networks: list[str] = msgspec.field(default_factory=list)
    # Video: the built-in "webrtc" provider hands out these STUN/TURN servers (comma-separated
    # URLs such as turn:turn.example.org:3478?transport=udp). TURN credentials follow coturn's
    # use-auth-secret scheme with turn_secret (coturn's static-auth-secret).
    stun_urls: list[str] = msgspec.field(default_factory=list)
    turn_urls: list[str] = msgspec.field(default_factory=list)
    turn_secret: Annotated[str, msgspec.Meta(min_length=16)] | None = None
    turn_credential_ttl_seconds: Annotated[int, msgspec.Meta(ge=60)] = 3600
    # Signaling: how many people may be in one consultation's room at once.
    signaling_max_participants: Annotated[int, msgspec.Meta(ge=2, le=8)] = 8
    # Consultations: the largest file a participant may share, and how long after the slot
    # a doctor who never joined is recorded as a no-show (the patient is refunded in full).
    consultation_attachment_max_bytes: Annotated[
        int, msgspec.Meta(ge=1024, le=20 * 1024 * 1024)
    ] = 10 * 1024 * 1024
    consultation_doctor_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=24 * 3600)] = 15 * 60

    # Prescriptions: how long after a completed visit its doctor may still write (or
    # correct) a prescription, and the limits the safety rules read: an ordinary
    # prescription's supply in days (at most a week), a chronic disease's follow-up (at
    # most twelve weeks, a long prescription), and items per prescription (at most five).
    prescription_window_hours: Annotated[int, msgspec.Meta(ge=0, le=7 * 24)] = 24
    prescription_acute_days: Annotated[int, msgspec.Meta(ge=1, le=7)] = 7
    prescription_chronic_days: Annotated[int, msgspec.Meta(ge=1, le=84)] = 28
    prescription_max_items: Annotated[int, msgspec.Meta(ge=1, le=5)] = 5
    # Renewals without a call (复诊续方): a chronic follow-up prescription may be renewed up
    # to this many of the platform's days after the visit it was written in (at most a
    # year: then the doctor sees the patient again), and the doctor answers a paid request
    # within this many hours (at most three days), or the patient is refunded in full.
    renewal_window_days: Annotated[int, msgspec.Meta(ge=1, le=366)] = 180
    renewal_answer_hours: Annotated[int, msgspec.Meta(ge=1, le=72)] = 24

    # Onboarding: the largest licence scan or ID document a doctor may upload.
    document_max_bytes: Annotated[int, msgspec.Meta(ge=1024, le=20 * 1024 * 1024)] = (
        10 * 1024 * 1024
    )

    # Payments: the active gateway, the built-in Stripe gateway's account, and the rules.
    payment_gateway: str = "stripe"
    payment_currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")] = "CNY"
    stripe_api_base: str = STRIPE_API
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    # Several secrets are accepted at once, so a secret can be rotated without losing events.
    stripe_webhook_secrets: list[str] = msgspec.field(default_factory=list)
    # Where browsers load Stripe.js from; empty: derived from stripe_api_base (localstripe
    # serves a stand-in at <base>/js.stripe.com/v3/).
    stripe_js_url: str = ""
    # Shares of a charge when a hospital has no agreement of its own, in basis points.
    platform_rate_bp: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 1000
    hospital_rate_bp: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 2000
    # The platform's commission on a pharmacy's charge (a pharmacy order), in basis points;
    # the pharmacy gets the rest.
    pharmacy_platform_rate_bp: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 300
    # An unpaid attempt is closed after this long; reconciliation leaves younger rows alone.
    payment_attempt_ttl_seconds: Annotated[int, msgspec.Meta(ge=60)] = 3600
    payment_reconcile_interval_seconds: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    payment_reconcile_grace_seconds: Annotated[float, msgspec.Meta(ge=0)] = 120.0
    # Fault injection for the crash tests ("point=kill,other=kill:0.5"); test environment only.
    failpoints: str = ""

    def __post_init__(self) -> None:
        if self.failpoints and self.environment != "test":
            raise ValueError("MEDMARKET_FAILPOINTS: only allowed with MEDMARKET_ENVIRONMENT=test")
        if self.prescription_chronic_days < self.prescription_acute_days:
            raise ValueError(
                "MEDMARKET_PRESCRIPTION_CHRONIC_DAYS: shorter than "
                "MEDMARKET_PRESCRIPTION_ACUTE_DAYS"
            )
        if self.platform_rate_bp + self.hospital_rate_bp > 10000:
            raise ValueError(
                "MEDMARKET_PLATFORM_RATE_BP: plus MEDMARKET_HOSPITAL_RATE_BP exceeds 10000"
            )
        for proxy in self.forwarded_allow_ips:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"MEDMARKET_FORWARDED_ALLOW_IPS: {proxy!r} is not an address or network"
                ) from None
        try:
            zoneinfo.ZoneInfo(self.default_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"MEDMARKET_DEFAULT_TIME_ZONE: {self.default_time_zone!r} is not a time zone "
                "name like Asia/Shanghai"
            ) from None
        if self.turn_urls and not self.turn_secret:
            raise ValueError("`turn_secret` is required when TURN URLs are configured")
        for network in self.outbound_allowed_networks:
            try:
                ipaddress.ip_network(network.strip())
            except ValueError as exc:
                raise ValueError(
                    f"MEDMARKET_OUTBOUND_ALLOWED_NETWORKS: {network!r} is not a network in "
                    f"CIDR notation ({exc})"
                ) from None

    @property
    def calendar(self) -> zoneinfo.ZoneInfo:
        """The platform's time zone: the days licences expire on, the months statements
        cover, what visitors see before they choose."""
        return zoneinfo.ZoneInfo(self.default_time_zone)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def stripe_js(self) -> str:
        if self.stripe_js_url:
            return self.stripe_js_url
        if self.stripe_api_base.rstrip("/") == STRIPE_API:
            return "https://js.stripe.com/v3/"
        return self.stripe_api_base.rstrip("/") + "/js.stripe.com/v3/"


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return _PLAIN_NAMES.get(field, ENV_PREFIX + field.upper())


def _raw_from_environment(environ: Mapping[str, str]) -> dict[str, object]:
    raw: dict[str, object] = {}
    for field in Settings.__struct_fields__:
        candidates = [ENV_PREFIX + field.upper()]
        if field in _PLAIN_NAMES:
            candidates.append(_PLAIN_NAMES[field])
        for name in candidates:
            if name in environ:
                value: object = environ[name]
                if field in _LIST_FIELDS:
                    value = [part.strip() for part in str(value).split(",") if part.strip()]
                raw[field] = value
                break
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from ``environ`` (default: the process environment).

    Raises SettingsError naming the environment variable of the first bad or missing field.
    """
    raw = _raw_from_environment(os.environ if environ is None else environ)
    raw.update(overrides)
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(str(exc))) from None


def _explain(message: str) -> str:
    # msgspec reports "Object missing required field `x`" or "... - at `$.x`".
    for field in Settings.__struct_fields__:
        if f"`{field}`" in message or f"$.{field}`" in message or message.endswith(f"$.{field}"):
            return f"{env_name(field)}: {message.split(' - at ')[0]}"
    return message
