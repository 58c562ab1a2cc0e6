"""Storefront search: filters, an allow-listed sort, and keyset pagination.

The query is assembled from fixed fragments only; every value travels as a parameter.
``next_free_at`` (the doctor's next free slot) is computed for the page's doctors only,
except when sorting by it, where it must be known for every candidate.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from medmarket.catalog.schemas import DoctorCard, HospitalBrief, SearchPage, Sort
from medmarket.db import Database
from medmarket.errors import InvalidInput

# sort -> (key expression, SQL type of the key, direction)
_SORTS: dict[str, tuple[str, str, str]] = {
    "rating": (
        "CASE WHEN d.review_count > 0 THEN d.rating_sum::numeric / d.review_count ELSE 0 END",
        "numeric",
        "DESC",
    ),
    "reviews": ("d.review_count::numeric", "numeric", "DESC"),
    "price_asc": ("o.price_fen::numeric", "numeric", "ASC"),
    "price_desc": ("o.price_fen::numeric", "numeric", "DESC"),
    "soonest": ("coalesce(nf.starts_at, 'infinity'::timestamptz)", "timestamptz", "ASC"),
}

_NEXT_FREE = """
    SELECT s.starts_at FROM slots s
     WHERE s.doctor_id = d.id AND s.kind = o.kind AND s.starts_at > now()
       AND slot_is_free(s.state, s.held_until)
     ORDER BY s.starts_at LIMIT 1
"""


@dataclass(frozen=True)
class SearchFilters:
    kind: str = "video"
    doctor_id: uuid.UUID | None = None
    specialty: str | None = None
    hospital_id: uuid.UUID | None = None
    region: str | None = None
    language: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    text: str | None = None
    free_from: dt.datetime | None = None  # a day with free slots: [free_from, free_until)
    free_until: dt.datetime | None = None


def day_range(day: dt.date, zone_name: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC bounds of ``day`` as lived in ``zone_name``."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {zone_name!r}", field="tz") from None
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def search_filters(
    *,
    q: str | None = None,
    specialty: str | None = None,
    hospital_id: uuid.UUID | None = None,
    region: str | None = None,
    language: str | None = None,
    price_min: int | None = None,
    price_max: int | None = None,
    date: dt.date | None = None,
    tz: str = "Asia/Shanghai",
    kind: str = "video",
) -> SearchFilters:
    """A storefront query as filters; what cannot be searched is named by its parameter."""
    if q is not None and len(q) > 100:
        raise InvalidInput("search text is too long", field="q")
    if kind not in ("video", "text"):
        raise InvalidInput("kind is video or text", field="kind")
    for name, price in (("price_min", price_min), ("price_max", price_max)):
        if price is not None and price < 0:
            raise InvalidInput("a price cannot be negative", field=name)
    if price_min is not None and price_max is not None and price_min > price_max:
        raise InvalidInput("the lowest price is above the highest", field="price_min")
    free_from = free_until = None
    if date is not None:
        free_from, free_until = day_range(date, tz)
    return SearchFilters(
        kind=kind,
        specialty=specialty,
        hospital_id=hospital_id,
        region=region,
        language=language,
        price_min=price_min,
        price_max=price_max,
        text=q,
        free_from=free_from,
        free_until=free_until,
    )


# asyncpg reads PostgreSQL's 'infinity' as datetime.max and writes datetime.max back as it.
_INFINITY = dt.datetime.max  # noqa: DTZ901 - asyncpg's own value, naive as it returns it


def encode_cursor(key: Any, doctor_id: uuid.UUID) -> str:
    if isinstance(key, dt.datetime):
        key = "infinity" if key.replace(tzinfo=None) == _INFINITY else key.isoformat()
    raw = json.dumps([str(key), str(doctor_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: str) -> tuple[Any, uuid.UUID]:
    """The sort key (typed for the sort) and doctor id a cursor carries."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw_key, doctor_id = json.loads(base64.urlsafe_b64decode(padded))
        key: Any
        if key_type == "numeric":
            key = decimal.Decimal(raw_key)
            if not key.is_finite():
                raise ValueError(raw_key)
        elif raw_key == "infinity":
            key = _INFINITY
        else:
            key = dt.datetime.fromisoformat(raw_key)
            if key.tzinfo is None:
                raise ValueError(raw_key)
        return key, uuid.UUID(doctor_id)
    except (ValueError, TypeError, decimal.InvalidOperation):
        raise InvalidInput("this cursor is not one we gave out", field="cursor") from None


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_doctors(
    db: Database, filters: SearchFilters, sort: Sort, limit: int, cursor: str | None
) -> SearchPage:
    key_sql, key_type, direction = _SORTS[sort]
    args: list[Any] = [filters.kind]
    where = ["d.status = 'approved'", "h.status = 'active'"]

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.doctor_id:
        where.append(f"d.id = {param(filters.doctor_id)}")
    if filters.specialty:
        where.append(f"d.specialties @> ARRAY[{param(filters.specialty)}::text]")
    if filters.hospital_id:
        where.append(f"d.hospital_id = {param(filters.hospital_id)}")
    if filters.region:
        where.append(f"h.region ILIKE {param(_like(filters.region))}")
    if filters.language:
        where.append(f"d.languages @> ARRAY[{param(filters.language)}::text]")
    if filters.price_min is not None:
        where.append(f"o.price_fen >= {param(filters.price_min)}")
    if filters.price_max is not None:
        where.append(f"o.price_fen <= {param(filters.price_max)}")
    if filters.text and filters.text.strip():
        pattern = param(_like(" ".join(filters.text.split())))
        # Two index-friendly halves rather than one OR across the join.
        where.append(
            f"(d.search_text LIKE {pattern} OR d.hospital_id IN "  # noqa: S608 - a parameter
            f"(SELECT id FROM hospitals WHERE lower(name) LIKE {pattern}))"
        )
    if filters.free_from and filters.free_until:
        where.append(
            "EXISTS (SELECT 1 FROM slots s WHERE s.doctor_id = d.id AND s.kind = o.kind"  # noqa: S608
            f" AND s.starts_at >= greatest({param(filters.free_from)}, now())"
            f" AND s.starts_at < {param(filters.free_until)}"
            " AND slot_is_free(s.state, s.held_until))"
        )
    if cursor:
        after_key, after_id = decode_cursor(cursor, key_type)
        compare = "<" if direction == "DESC" else ">"
        where.append(
            f"({key_sql}, d.id) {compare} ({param(after_key)}::{key_type}, {param(after_id)}::uuid)"
        )
    limit_param = param(limit + 1)

    soonest = sort == "soonest"
    lateral = f"LEFT JOIN LATERAL ({_NEXT_FREE}) nf ON true" if soonest else ""
    query = f"""
        WITH page AS (
            SELECT d.id, d.full_name, d.title, d.department, d.specialties, d.languages,
                   d.review_count, d.rating_sum, h.id AS hospital_id, h.name AS hospital_name,
                   h.level AS hospital_level, h.region AS hospital_region, o.kind,
                   o.price_fen, o.currency, o.slot_minutes,
                   {"nf.starts_at" if soonest else "NULL::timestamptz"} AS next_free_at,
                   {key_sql} AS sort_key
              FROM doctors d
              JOIN hospitals h ON h.id = d.hospital_id
              JOIN consult_offerings o ON o.doctor_id = d.id AND o.kind = $1 AND o.active
              {lateral}
             WHERE {" AND ".join(where)}
             ORDER BY {key_sql} {direction}, d.id {direction}
             LIMIT {limit_param}
        )
        SELECT page.*,
               coalesce(page.next_free_at, (
                   SELECT s.starts_at FROM slots s
                    WHERE s.doctor_id = page.id AND s.kind = page.kind AND s.starts_at > now()
                      AND slot_is_free(s.state, s.held_until)
                    ORDER BY s.starts_at LIMIT 1)) AS next_free
          FROM page
         ORDER BY page.sort_key {direction}, page.id {direction}
    """  # noqa: S608 - assembled from the fixed fragments above; values are parameters
    rows = await db.fetch(query, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    cards = [
        DoctorCard(
            id=row["id"],
            full_name=row["full_name"],
            title=row["title"],
            department=row["department"],
            specialties=list(row["specialties"]),
            languages=list(row["languages"]),
            hospital=HospitalBrief(
                id=row["hospital_id"],
                name=row["hospital_name"],
                level=row["hospital_level"],
                region=row["hospital_region"],
            ),
            price_fen=row["price_fen"],
            currency=row["currency"],
            slot_minutes=row["slot_minutes"],
            rating=round(row["rating_sum"] / row["review_count"], 2)
            if row["review_count"]
            else None,
            review_count=row["review_count"],
            next_free_at=row["next_free"],
        )
        for row in rows
    ]
    next_cursor = None
    if more and rows:
        next_cursor = encode_cursor(rows[-1]["sort_key"], rows[-1]["id"])
    return SearchPage(doctors=cards, next_cursor=next_cursor)
