"""The built-in log notifier passes the contract every notification channel passes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from medmarket.notifications.interface import Notification, Recipient
from medmarket.notifications.log_notifier import LogNotifier
from medmarket.testing.contracts import NotifierContract


class TestLogNotifierContract(NotifierContract):
    @pytest.fixture
    def notifier(self) -> LogNotifier:
        return LogNotifier()

    @pytest.fixture
    def notification(self) -> Notification:
        return Notification(
            id="booking.confirmed:b-1:u-1",
            recipient=Recipient(user_id="u-1", display_name="王小明"),
            template="booking.confirmed",
            params={"starts_at": "2026-12-04T09:00:00+08:00"},
        )

    @pytest.fixture
    def delivered(self, caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
        caplog.set_level("INFO", logger="medmarket.notifications")
        return lambda: [
            str(record.args[0])  # the notification's id
            for record in caplog.records
            if record.name == "medmarket.notifications"
            and record.msg.startswith("notify")
            and isinstance(record.args, tuple)
        ]
