"""Built-in notifier: writes each notification to the log. It keeps development and the demo
honest about what would be sent; real channels (SMS, WeChat, e-mail) are plugins.

Like every channel it delivers a notification id once, though the outbox may hand it over
again: it remembers the ids it wrote lately (per process; a real channel asks its provider
or a table)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

from medmarket import hookimpl
from medmarket.health import HealthReport
from medmarket.notifications.interface import Notification, Notifier
from medmarket.settings import Settings

log = logging.getLogger("medmarket.notifications")


REMEMBERED = 10_000


class LogNotifier:
    id = "log"
    display_name = "Application log"

    def __init__(self) -> None:
        self._written: OrderedDict[str, None] = OrderedDict()

    async def send(self, notification: Notification) -> None:
        if notification.id in self._written:
            return
        self._written[notification.id] = None
        if len(self._written) > REMEMBERED:
            self._written.popitem(last=False)
        log.info(
            "notify %s: %s (%s) %s %s",
            notification.id,
            notification.recipient.user_id,
            notification.recipient.locale,
            notification.template,
            notification.params,
        )

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True, detail="writes to the application log")


@hookimpl
def medmarket_notifiers(settings: Settings) -> Sequence[Notifier]:
    return [LogNotifier()]
