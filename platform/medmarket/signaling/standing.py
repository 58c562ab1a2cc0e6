"""Whether a room token's holder may still use it. The token proves who may join which room
and when; it cannot know what happened since it was minted: the visit ended, or the doctor
removed the colleague it was minted for. So the signaling socket (on connecting) and the video
setup (on every call) ask the room's authority, the consults domain, which answers from the
record. Consults provides it to ``ROOM_AUTHORITY`` (its ``domain.py``); signaling and video
ask ``services.ports.get(ROOM_AUTHORITY)``.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from medmarket.services import Port
from medmarket.signaling.tokens import RoomGrant

# open: a participant of a consultation that has not ended. ended: the consultation is over.
# not-participant: the token's person does not (or no longer) take part. no-consultation: the
# room belongs to no consultation; only the server mints tokens, and it mints them for
# consultations, so these are the rooms of signaling's own tests and of the benchmarks.
Verdict = Literal["open", "ended", "not-participant", "no-consultation"]


class RoomStanding(msgspec.Struct, frozen=True, kw_only=True):
    verdict: Verdict
    # The consultation's status ("waiting", "in_progress", ...) when it exists and the holder
    # takes part in it.
    status: str | None = None
    # The participant's phone number (E.164) where the consultation knows it (the patient's
    # account holder), for a carrier identifying the device of a QoS session.
    phone_number: str | None = None

    @property
    def admitted(self) -> bool:
        return self.verdict in ("open", "no-consultation")


class RoomAuthority(Protocol):
    async def standing(self, grant: RoomGrant) -> RoomStanding:
        """Where ``grant``'s holder stands now. Raises on a database failure."""
        ...


ROOM_AUTHORITY: Port[RoomAuthority] = Port("room authority")
