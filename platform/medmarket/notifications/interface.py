"""What crosses between the core and a notification channel plugin (SMS, WeChat, e-mail)."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import msgspec

from medmarket.health import HealthReport


class Recipient(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    display_name: str
    email: str | None = None
    phone: str | None = None
    locale: Literal["zh-CN", "en"] = "zh-CN"


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    # Stable per message; a channel that sees an id twice must deliver once.
    id: str
    recipient: Recipient
    # A message key such as "booking.confirmed"; channels render it in the recipient's locale.
    template: str
    params: dict[str, str] = msgspec.field(default_factory=dict)
    urgency: Literal["low", "normal", "high"] = "normal"


@runtime_checkable
class Notifier(Protocol):
    id: str
    display_name: str

    async def send(self, notification: Notification) -> None:
        """Deliver or raise; the outbox retries with backoff."""
        ...

    async def health(self) -> HealthReport: ...
