"""Fixtures for signaling and video tests: a private coturn and two app instances (separate
processes) that share this session's database and Redis, configured to hand out that
coturn's TURN credentials."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from medmarket.settings import Settings
from medmarket.signaling.tokens import ParticipantRole, mint_room_token, slot_window
from medmarket.tests.support.coturn import Coturn, running_coturn
from medmarket.tests.support.fixtures import make_settings
from medmarket.tests.support.instances import Instance, app_instances


@dataclass
class InstancePair:
    settings: Settings
    instances: list[Instance]
    coturn: Coturn

    @property
    def urls(self) -> list[str]:
        return [instance.url for instance in self.instances]

    def token(
        self,
        consultation_id: uuid.UUID,
        participant_id: str,
        role: ParticipantRole = "patient",
        **kwargs: object,
    ) -> str:
        now = dt.datetime.now(dt.UTC)
        not_before, expires_at = slot_window(now, now + dt.timedelta(minutes=30))
        return mint_room_token(
            self.settings,
            consultation_id,
            participant_id,
            role,
            not_before,
            expires_at,
            **kwargs,  # type: ignore[arg-type]
        )

    def logs(self) -> str:
        return "\n".join(instance.log() for instance in self.instances)


@pytest.fixture(scope="session")
def coturn() -> Iterator[Coturn]:
    with running_coturn() as server:
        yield server


@pytest.fixture(scope="session")
def instance_pair(database_url: str, coturn: Coturn) -> Iterator[InstancePair]:
    settings = make_settings(database_url, turn_urls=[coturn.turn_url], turn_secret=coturn.secret)
    with app_instances(settings, 2) as instances:
        yield InstancePair(settings, instances, coturn)
