"""Consultations: the visit of a confirmed booking, from the waiting room to its end.

A consultation is made when payment confirms its booking (``opening``). Its participants are
the booking's patient account (a young child's guardian), the doctor and colleagues the doctor
invites (``access``). They enter the room with a room token (``service``), chat and share files
that are stored before they are relayed (``chat``), and the doctors keep versioned notes
(``notes``). How a visit ends, and what is refunded, is the booking's business
(``bookings.endings``): the consultation drives it and follows it. The API is described in
``README.md`` beside this file.
"""
