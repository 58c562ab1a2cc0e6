"""The plugin's own settings, from ``MEDMARKET_5G_*`` environment variables.

A bad value stops the plugin at start-up with a message that names the variable (the core
logs it and lists it under ``medmarket plugins``), rather than reaching the carrier and being
refused on every call."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Literal, NamedTuple

import msgspec

PREFIX = "MEDMARKET_5G_"
_PROFILE = Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z0-9_.-]{3,256}$")]
_PREFIX_LENGTH = re.compile(r"^(0|[1-9][0-9]{0,2})$")

# The Quality-On-Demand versions the plugin speaks, by the version part of their base path
# (``{apiRoot}/quality-on-demand/{version}``): 1.1.0 is the newest stable release (CAMARA
# r3.2), which carriers deploy; ``vwip`` is the project's work in progress.
QOD_VERSIONS = {"v1": "1.1.0", "vwip": "wip"}
QodVersion = Literal["v1", "vwip"]
QOD_API_NAME = "quality-on-demand"
_BASE_PATH_AT_END = re.compile(rf"/{QOD_API_NAME}/(?P<version>[^/]+)/*$")
# CAMARA's durations are int32 seconds.
INT32_MAX = 2**31 - 1


class ConfigError(ValueError):
    """A MEDMARKET_5G_* variable is wrong; the message names it."""


class ApplicationServerAddresses(NamedTuple):
    """CAMARA's ApplicationServer: an IPv4 and/or an IPv6 address or network, as written."""

    ipv4: str | None
    ipv6: str | None


def parse_application_server(text: str) -> ApplicationServerAddresses:
    """``text`` (one address or network, or an IPv4 and an IPv6 one, comma-separated) as the
    document describes them: an address, or an address with a prefix length valid for its IP
    version (0-32, 0-128: ``198.51.100.0/24``, ``2001:db8::/64``; host bits are allowed, as in
    the document's own ``1.2.3.4/24``). ValueError says what is wrong."""
    found: dict[int, str] = {}
    for part in (piece.strip() for piece in text.split(",")):
        address_text, slash, prefix = part.partition("/")
        try:
            address = ipaddress.ip_address(address_text)
        except ValueError:
            raise ValueError(f"{part!r} is not an IPv4 or IPv6 address") from None
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
            raise ValueError(f"{part!r}: an application server has no IPv6 zone (%...)")
        if slash and not (_PREFIX_LENGTH.match(prefix) and int(prefix) <= address.max_prefixlen):
            raise ValueError(
                f"{part!r}: an IPv{address.version} prefix length is 0 to {address.max_prefixlen}"
            )
        if address.version in found:
            raise ValueError(f"{part!r}: one IPv{address.version} address or network at most")
        found[address.version] = part
    return ApplicationServerAddresses(ipv4=found.get(4), ipv6=found.get(6))


class CarrierConfig(msgspec.Struct, frozen=True, kw_only=True):
    # The carrier's API root (the document's ``{apiRoot}``); the plugin adds the base path of
    # ``qod_version``. A URL that already ends in a base path must name the same version.
    qod_url: str
    application_server: str
    qod_version: QodVersion = "v1"
    access_token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    qos_profile: _PROFILE = "QOS_M"
    high_throughput_profile: _PROFILE = "QOS_L"
    max_session_seconds: Annotated[int, msgspec.Meta(ge=60, le=INT32_MAX)] = 3 * 3600
    turn_urls: list[str] = msgspec.field(default_factory=list)
    turn_secret: str | None = None

    def __post_init__(self) -> None:
        if not self.qod_url.startswith(("https://", "http://")):
            raise ConfigError(f"{PREFIX}QOD_URL must be an http(s) URL")
        at_end = _BASE_PATH_AT_END.search(self.qod_url)
        if at_end is not None and at_end["version"] != self.qod_version:
            raise ConfigError(
                f"{PREFIX}QOD_URL ends in /{QOD_API_NAME}/{at_end['version']} but "
                f"{PREFIX}QOD_VERSION is {self.qod_version}: give the carrier's API root "
                f"(the plugin adds /{QOD_API_NAME}/{self.qod_version}), or set "
                f"{PREFIX}QOD_VERSION to the version the carrier runs "
                f"({', '.join(QOD_VERSIONS)})"
            )
        try:
            parse_application_server(self.application_server)
        except ValueError as exc:
            raise ConfigError(
                f"{PREFIX}APPLICATION_SERVER must be an IPv4 address or network (prefix 0-32)"
                f" and/or an IPv6 one (prefix 0-128), comma-separated: {exc}"
            ) from None
        if not self.access_token and not (self.token_url and self.client_id and self.client_secret):
            raise ConfigError(
                f"set {PREFIX}ACCESS_TOKEN, or {PREFIX}TOKEN_URL with {PREFIX}CLIENT_ID and "
                f"{PREFIX}CLIENT_SECRET"
            )
        if self.turn_urls and not self.turn_secret:
            raise ConfigError(f"{PREFIX}TURN_SECRET is required with {PREFIX}TURN_URLS")

    @property
    def application_server_addresses(self) -> ApplicationServerAddresses:
        return parse_application_server(self.application_server)

    @property
    def qod_base_url(self) -> str:
        """Where the chosen version's operations are: the API root and its base path."""
        at_end = _BASE_PATH_AT_END.search(self.qod_url)
        root = self.qod_url[: at_end.start()] if at_end else self.qod_url.rstrip("/")
        return f"{root}/{QOD_API_NAME}/{self.qod_version}"

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
            raise ConfigError(_explain(str(exc))) from None


def _explain(message: str) -> str:
    """msgspec's message with the variable named ("... - at `$.field`" or "... `field`"),
    as the core's settings do; our own checks name theirs already."""
    if PREFIX in message:
        return message
    for field in CarrierConfig.__struct_fields__:
        if message.endswith(f"`$.{field}`") or f"`{field}`" in message:
            return f"{PREFIX}{field.upper()}: {message.split(' - at ')[0]}"
    return f"{PREFIX}*: {message}"
