"""Today's figures for the operators' dashboard: read-only counts and sums over the records
of bookings, payments, refunds and doctors' applications, for one day in the operator's
time zone. Money is summed per currency (integer minor units)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from medmarket.db import Database


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str


@dataclass(frozen=True)
class TodayFigures:
    day: dt.date
    bookings_made: int  # bookings created today (any status)
    bookings_confirmed: int  # of those, paid and confirmed
    visits_scheduled: int  # confirmed or ended visits whose time is today
    visits_completed: int
    visits_missed: int  # no-shows
    payments: int  # successful payments today
    paid: list[Money] = field(default_factory=list)
    refunds: int = 0  # refunds that went through today
    refunded: list[Money] = field(default_factory=list)
    refunds_pending: int = 0  # asked for, not through yet (any day)
    applications_waiting: int = 0  # doctors' applications awaiting an operator
    hospitals_active: int = 0


async def today_figures(db: Database, day: dt.date, zone: dt.tzinfo) -> TodayFigures:
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    bookings = await db.fetchrow(
        """
        SELECT count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS made,
               count(*) FILTER (WHERE created_at >= $1 AND created_at < $2
                                  AND confirmed_at IS NOT NULL) AS confirmed,
               count(*) FILTER (WHERE during && tstzrange($1, $2)
                                  AND status IN ('confirmed', 'completed', 'no_show'))
                   AS scheduled,
               count(*) FILTER (WHERE during && tstzrange($1, $2) AND status = 'completed')
                   AS completed,
               count(*) FILTER (WHERE during && tstzrange($1, $2) AND status = 'no_show')
                   AS missed
          FROM bookings
         WHERE (created_at >= $1 AND created_at < $2) OR during && tstzrange($1, $2)
        """,
        start,
        end,
    )
    paid = await db.fetch(
        "SELECT currency, count(*) AS n, sum(amount) AS total FROM payments "
        "WHERE status = 'succeeded' AND NOT is_duplicate "
        "AND succeeded_at >= $1 AND succeeded_at < $2 GROUP BY currency ORDER BY currency",
        start,
        end,
    )
    refunded = await db.fetch(
        "SELECT p.currency, count(*) AS n, sum(r.amount) AS total FROM payment_refunds r "
        "JOIN payments p ON p.id = r.payment_id WHERE r.status = 'succeeded' "
        "AND r.succeeded_at >= $1 AND r.succeeded_at < $2 GROUP BY p.currency ORDER BY 1",
        start,
        end,
    )
    others = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM payment_refunds
                 WHERE status IN ('pending', 'processing')) AS refunds_pending,
               (SELECT count(*) FROM doctors WHERE status = 'needs_review') AS waiting,
               (SELECT count(*) FROM hospitals WHERE status = 'active') AS hospitals
        """
    )
    assert bookings is not None and others is not None  # aggregates always return a row
    return TodayFigures(
        day=day,
        bookings_made=bookings["made"],
        bookings_confirmed=bookings["confirmed"],
        visits_scheduled=bookings["scheduled"],
        visits_completed=bookings["completed"],
        visits_missed=bookings["missed"],
        payments=sum(row["n"] for row in paid),
        paid=[Money(int(row["total"]), row["currency"]) for row in paid],
        refunds=sum(row["n"] for row in refunded),
        refunded=[Money(int(row["total"]), row["currency"]) for row in refunded],
        refunds_pending=others["refunds_pending"],
        applications_waiting=others["waiting"],
        hospitals_active=others["hospitals"],
    )
