"""Demo schedules: every approved doctor without a price gets one, a working week of
windows in their own time zone, and two weeks of published slots. Publishing again each
run keeps the demo's horizon two weeks ahead; nothing is duplicated."""

from __future__ import annotations

from medmarket.accounts.acting import context_of, principal_of
from medmarket.scheduling.schemas import AvailabilityIn, OfferingIn, PublishIn, WindowIn
from medmarket.scheduling.service import Schedules
from medmarket.services import Services

WEEKDAYS = [
    WindowIn(weekday=day, starts_at=start, ends_at=end)
    for day in range(1, 6)
    for start, end in (("08:30", "11:30"), ("14:00", "17:00"))
]
SATURDAY = [WindowIn(weekday=6, starts_at="09:00", ends_at="12:00")]
# Prices in fen by title: what a county patient sees on the storefront.
PRICES = {"主任医师": 8800, "副主任医师": 5800, "主治医师": 3800, "住院医师": 2000}


async def seed_schedules(services: Services) -> int:
    """Returns how many slots were added."""
    schedules = Schedules(services.db)
    doctors = await services.db.fetch(
        "SELECT d.id, d.title, d.time_zone, u.email, EXISTS (SELECT 1 FROM consult_offerings o "
        "WHERE o.doctor_id = d.id) AS priced FROM doctors d JOIN users u ON u.id = d.user_id "
        "WHERE d.status = 'approved' AND u.email LIKE '%@demo.medmarket.cn' ORDER BY u.email"
    )
    added = 0
    for index, doctor in enumerate(doctors):
        principal = await principal_of(services.db, doctor["email"])
        assert principal is not None
        context = context_of(principal)
        if not doctor["priced"]:
            await schedules.set_offering(
                principal,
                "video",
                OfferingIn(
                    price_fen=PRICES.get(doctor["title"], 3800),
                    slot_minutes=(15, 20, 30)[index % 3],
                ),
                context,
            )
            await schedules.set_availability(
                principal,
                AvailabilityIn(
                    time_zone=doctor["time_zone"], weekly=WEEKDAYS + (SATURDAY if index % 2 else [])
                ),
                context,
            )
        added += (await schedules.publish(principal, PublishIn(days=14), context)).added
    return added
