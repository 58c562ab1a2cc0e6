"""What the consultations domain adds: the visit's room, its lifecycle, notes, chat and
colleagues; it follows each booking (a listener of bookings), answers for its rooms (the
signaling room authority), records who was in them (a presence observer), and ends the
visits whose doctor never came (a job)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from medmarket.bookings.listeners import BOOKING_LISTENERS
from medmarket.consults import pages, room, routes
from medmarket.consults.access import ConsultationRooms
from medmarket.consults.booking_listener import ConsultationFollowsBooking
from medmarket.consults.presence import PresenceRecorder, flag_doctor_no_shows
from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.outbox.worker import Handler
from medmarket.services import Services, provide
from medmarket.signaling.hub import PRESENCE_OBSERVERS
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.standing import ROOM_AUTHORITY


def outbox_handlers(services: Services) -> Mapping[str, Handler]:
    rooms = RoomStore(services.redis, max_participants=services.settings.signaling_max_participants)
    return {room.RELAY_TOPIC: partial(room.relay, rooms)}


DOMAIN = Domain(
    name="consults",
    routes=routes.ROUTES,
    pages=pages.ROUTES,
    dependencies=routes.DEPENDENCIES,
    outbox_handlers=outbox_handlers,
    # A doctor who never joined by the slot's end plus the grace: full refund, patient told.
    jobs=[Job("consultation doctor no-shows", 60, flag_doctor_no_shows)],
    provides=[
        provide(BOOKING_LISTENERS, lambda services: ConsultationFollowsBooking()),
        provide(ROOM_AUTHORITY, lambda services: ConsultationRooms(services.db)),
        provide(PRESENCE_OBSERVERS, lambda services: PresenceRecorder(services.db)),
    ],
)
