"""The one query that reads bookings with the names people see, and its conversion."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import asyncpg

from medmarket.bookings.cancellation import actions_for
from medmarket.bookings.schemas import BookingOut, PriorDiagnosis

BOOKING_SELECT = """
    SELECT b.id, b.status, b.kind, lower(b.during) AS starts_at, upper(b.during) AS ends_at,
           b.doctor_id, d.full_name AS doctor_name, h.name AS hospital_name, b.patient_id,
           p.real_name AS patient_name, b.price_fen, b.currency, b.hold_expires_at,
           b.guardian_required, b.prior_institution, b.prior_diagnosed_on, b.prior_diagnosis,
           b.prior_document_id, b.free_cancel_hours, b.late_cancel_refund_percent,
           b.created_at, b.confirmed_at, b.ended_at, b.end_reason, b.refund_percent,
           b.flagged_reason, c.id AS consultation_id
      FROM bookings b
      JOIN doctors d ON d.id = b.doctor_id
      JOIN hospitals h ON h.id = d.hospital_id
      JOIN patients p ON p.id = b.patient_id
      LEFT JOIN consultations c ON c.booking_id = b.id
"""


def booking_out(
    row: asyncpg.Record, viewer: Literal["patient", "doctor"] | None = None
) -> BookingOut:
    """The booking as ``viewer`` (its patient account or its doctor) sees it, with what they
    may do now; operators and other readers get no actions."""
    values = dict(row)
    prior = PriorDiagnosis(
        institution=values.pop("prior_institution"),
        diagnosed_on=values.pop("prior_diagnosed_on"),
        diagnosis=values.pop("prior_diagnosis"),
        document_id=values.pop("prior_document_id"),
    )
    booking = BookingOut(prior_diagnosis=prior, **values)
    booking.actions = actions_for(booking, viewer, dt.datetime.now(dt.UTC))
    return booking
