"""The plugin's own settings, from ``MEDMARKET_COURIER_HTTP_*`` environment variables.

A bad value stops the plugin at start-up with a message that names the variable (the core
logs it and lists it under ``medmarket plugins``), rather than reaching the courier and being
refused on every call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

import msgspec

PREFIX = "MEDMARKET_COURIER_HTTP_"
ADAPTER_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


class ConfigError(ValueError):
    """A MEDMARKET_COURIER_HTTP_* variable is wrong; the message names it."""


class CourierHttpConfig(msgspec.Struct, frozen=True, kw_only=True):
    # The courier's API root; operations live under ``/v1``.
    url: str
    api_key: str
    # The HMAC-SHA256 secret the courier signs its call-backs with. Without it the courier
    # is not asked to call back (no ``notify_url``) and the core tracks by polling.
    callback_secret: str | None = None
    id: Annotated[str, msgspec.Meta(pattern=ADAPTER_ID)] = "courier-http"
    name: str | None = None
    # None: the platform's MEDMARKET_PLUGIN_TIMEOUT_SECONDS.
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] | None = None
    # How far a call-back's timestamp may be from our clock, either way.
    callback_tolerance_seconds: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 300

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ConfigError(f"{PREFIX}URL must be an http(s) URL")
        if not self.api_key.strip():
            raise ConfigError(f"{PREFIX}API_KEY must not be blank")
        if self.name is not None and not self.name.strip():
            raise ConfigError(f"{PREFIX}NAME must not be blank")

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")

    @property
    def display_name(self) -> str:
        return self.name or "HTTP courier"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> CourierHttpConfig | None:
        """None when the plugin is not configured (no URL); ConfigError when it is, badly."""
        if not environ.get(PREFIX + "URL"):
            return None
        raw: dict[str, object] = {}
        for field in cls.__struct_fields__:
            value = environ.get(PREFIX + field.upper())
            if value is not None and value != "":
                raw[field] = value
        if "api_key" not in raw:
            raise ConfigError(f"{PREFIX}API_KEY is required with {PREFIX}URL")
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(_explain(str(exc))) from None


def _explain(message: str) -> str:
    """msgspec's message with the variable named, as the core's settings do."""
    if PREFIX in message:
        return message
    found = re.search(r"`\$\.(\w+)`", message)
    if found and found[1] in CourierHttpConfig.__struct_fields__:
        return f"{PREFIX}{found[1].upper()}: {message.split(' - at ')[0]}"
    return f"{PREFIX}*: {message}"
