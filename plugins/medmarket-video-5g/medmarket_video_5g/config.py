"""The plugin's own settings, from ``MEDMARKET_5G_*`` environment variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

import msgspec

PREFIX = "MEDMARKET_5G_"
_PROFILE = Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z0-9_.-]{3,256}$")]
_IPV4_OR_SUBNET = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$")


class ConfigError(ValueError):
    """A MEDMARKET_5G_* variable is wrong; the message names it."""


class CarrierConfig(msgspec.Struct, frozen=True, kw_only=True):
    qod_url: str
    application_server: str
    access_token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    qos_profile: _PROFILE = "QOS_M"
    high_throughput_profile: _PROFILE = "QOS_L"
    max_session_seconds: Annotated[int, msgspec.Meta(ge=60)] = 3 * 3600
    turn_urls: list[str] = msgspec.field(default_factory=list)
    turn_secret: str | None = None

    def __post_init__(self) -> None:
        if not self.qod_url.startswith(("https://", "http://")):
            raise ConfigError(f"{PREFIX}QOD_URL must be an http(s) URL")
        if not _IPV4_OR_SUBNET.match(self.application_server):
            raise ConfigError(f"{PREFIX}APPLICATION_SERVER must be an IPv4 address or subnet")
        if not self.access_token and not (self.token_url and self.client_id and self.client_secret):
            raise ConfigError(
                f"set {PREFIX}ACCESS_TOKEN, or {PREFIX}TOKEN_URL with {PREFIX}CLIENT_ID and "
                f"{PREFIX}CLIENT_SECRET"
            )
        if self.turn_urls and not self.turn_secret:
            raise ConfigError(f"{PREFIX}TURN_SECRET is required with {PREFIX}TURN_URLS")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> CarrierConfig | None:
        """None when the plugin is not configured (no QoD URL); ConfigError when it is, badly."""
        if not environ.get(PREFIX + "QOD_URL"):
            return None
        raw: dict[str, object] = {}
        for field in cls.__struct_fields__:
            value = environ.get(PREFIX + field.upper())
            if value is None or value == "":
                continue
            raw[field] = (
                [part.strip() for part in value.split(",") if part.strip()]
                if field == "turn_urls"
                else value
            )
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"{PREFIX}*: {exc}") from None
