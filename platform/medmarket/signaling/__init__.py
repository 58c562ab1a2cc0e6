"""Signaling for video consultations: room tokens, the WebSocket endpoint, and the per-instance
hub that brokers messages through one Redis Stream per consultation.

The consults domain mints a room token (:func:`mint_room_token`) for a person allowed into a
consultation; with it the person's browser (or an aiortc peer) opens
``/ws/consultations/{id}/signal`` on any app instance and says hello with it (the token travels
in that first message, never in the URL). Every message goes into the
consultation's stream (``signal:{<id>}``); each instance reads the streams of the rooms its
sockets are in and forwards, so the two sides may sit on different instances, and a peer that
reconnects (anywhere) resumes from the last id it saw. A token admits its holder only while
the consultation says they still may (``standing``: the visit has not ended, they still take
part); a final status closes the room.
"""

from medmarket.signaling.tokens import (
    RoomGrant,
    RoomTokenError,
    mint_room_token,
    slot_window,
    verify_room_token,
)

__all__ = ["RoomGrant", "RoomTokenError", "mint_room_token", "slot_window", "verify_room_token"]
