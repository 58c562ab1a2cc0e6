"""What the consultation routes and pages (and the booking routes that end a visit through
its consultation) are given per request."""

from __future__ import annotations

from typing import Any

from litestar import Request

from medmarket.consults.chat import ConsultationChat
from medmarket.consults.colleagues import Colleagues
from medmarket.consults.notes import Notes
from medmarket.consults.room import RoomAnnouncer
from medmarket.consults.service import Consultations


class ConsultationServices:
    """The consultation services of one request, built from the app's shared resources."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        services = request.app.state.services
        hub = request.app.state.signaling
        self.consultations = Consultations(services, hub.store)
        self.colleagues = Colleagues(services, hub)
        self.notes = Notes(services.db)
        self.chat = ConsultationChat(services, RoomAnnouncer(hub.store))
        self.db = services.db
