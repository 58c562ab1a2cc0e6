"""A doctor's storefront page and the filter values the storefront offers."""

from __future__ import annotations

import uuid

from medmarket.catalog.schemas import DoctorPage, Facets, HospitalBrief, Offering
from medmarket.catalog.search import SearchFilters, search_doctors
from medmarket.db import Database
from medmarket.errors import NotFound


async def doctor_page(db: Database, doctor_id: uuid.UUID) -> DoctorPage:
    """Only approved doctors of active hospitals have a page; others are simply not found."""
    row = await db.fetchrow(
        "SELECT d.bio, d.time_zone FROM doctors d JOIN hospitals h ON h.id = d.hospital_id "
        "WHERE d.id = $1 AND d.status = 'approved' AND h.status = 'active'",
        doctor_id,
    )
    if row is None:
        raise NotFound("no such doctor")
    # What is booked here; a renewal is asked for on a prescription of the doctor's instead.
    offerings = await db.fetch(
        "SELECT kind, price_fen, currency, slot_minutes, free_cancel_hours, "
        "late_cancel_refund_percent FROM consult_offerings WHERE doctor_id = $1 AND active "
        "AND kind IN ('video', 'text') ORDER BY kind DESC",
        doctor_id,
    )
    kinds = [o["kind"] for o in offerings]
    card = None
    for kind in kinds:
        page = await search_doctors(
            db, SearchFilters(kind=kind, doctor_id=doctor_id), "rating", 1, None
        )
        if page.doctors:
            card = page.doctors[0]
            break
    if card is None:
        raise NotFound("no such doctor")  # approved, but offers nothing bookable yet
    return DoctorPage(
        doctor=card,
        bio=row["bio"],
        time_zone=row["time_zone"],
        offerings=[Offering(**dict(o)) for o in offerings],
    )


async def facets(db: Database) -> Facets:
    row = await db.fetchrow(
        """
        SELECT coalesce(array_agg(DISTINCT s ORDER BY s), '{}') AS specialties
          FROM doctors d, unnest(d.specialties) s WHERE d.status = 'approved'
        """
    )
    languages = await db.fetchval(
        "SELECT coalesce(array_agg(DISTINCT l ORDER BY l), '{}') "
        "FROM doctors d, unnest(d.languages) l WHERE d.status = 'approved'"
    )
    hospitals = await db.fetch(
        "SELECT id, name, level, region FROM hospitals h WHERE status = 'active' AND EXISTS "
        "(SELECT 1 FROM doctors d WHERE d.hospital_id = h.id AND d.status = 'approved') "
        "ORDER BY region, name"
    )
    return Facets(
        specialties=list(row["specialties"]) if row else [],
        regions=sorted({h["region"] for h in hospitals}),
        languages=list(languages),
        hospitals=[HospitalBrief(**dict(h)) for h in hospitals],
    )
