"""Built-in notifier: writes each notification to the log. It keeps development and the demo
honest about what would be sent; real channels (SMS, WeChat, e-mail) are plugins."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from medmarket import hookimpl
from medmarket.health import HealthReport
from medmarket.notifications.interface import Notification, Notifier
from medmarket.settings import Settings

log = logging.getLogger("medmarket.notifications")


class LogNotifier:
    id = "log"
    display_name = "Application log"

    async def send(self, notification: Notification) -> None:
        log.info(
            "notify %s (%s) %s %s",
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
