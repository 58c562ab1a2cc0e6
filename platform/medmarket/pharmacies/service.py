"""The rules of partner pharmacies: operators register, edit and close any pharmacy; a
partner hospital's admins do the same for their hospital's own pharmacies, and any other
pharmacy answers them the same 404 as one that does not exist (the SQL function
``may_manage_pharmacy``). Everyone signed in reads the directory of open pharmacies that
dispense.

Each change and its audit event (``pharmacy.created`` with the fields, ``pharmacy.updated``
with what changed, ``pharmacy.closed`` with the pharmacists whose membership it ended)
commit in one transaction. A pharmacy is never deleted, and once closed it no longer changes
(the database refuses both): prescriptions and orders keep pointing at it.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec
import phonenumbers

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.errors import Conflict, Forbidden, InvalidInput, NotFound
from medmarket.pharmacies import hours
from medmarket.pharmacies.schemas import (
    OpeningWindow,
    PharmacistOut,
    PharmacyIn,
    PharmacyOut,
    PharmacyPublic,
    PharmacyStatus,
    PharmacyUpdate,
)

SELECT = """
    SELECT p.id, p.name_zh, p.name_en, p.kind, p.hospital_id, h.name AS hospital_name,
           p.licence_number, p.province, p.city, p.district, p.address, p.phone,
           p.reviews_prescriptions, p.dispenses, p.created_at, p.updated_at, p.closed_at
      FROM pharmacies p LEFT JOIN hospitals h ON h.id = p.hospital_id
"""
SELECT_COLUMNS = (
    *("id", "name_zh", "name_en", "kind", "hospital_id", "hospital_name", "licence_number"),
    *("province", "city", "district", "address", "phone", "reviews_prescriptions"),
    *("dispenses", "created_at", "updated_at", "closed_at"),
)
_MANAGED = SELECT + " WHERE p.id = $1 AND may_manage_pharmacy($2, $3, p.hospital_id)"
# What an edit may change, in the order the audit trail lists them.
EDITABLE = (
    "name_zh",
    "name_en",
    "licence_number",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "opening_hours",
    "reviews_prescriptions",
    "dispenses",
)
_PUBLIC = PharmacyPublic.__struct_fields__
# Text fields and the length the database allows each (the shortest is 2).
_LONGEST = {"name_zh": 100, "name_en": 200, "province": 50, "city": 50, "district": 50}
_LONGEST |= {"address": 200}


def tidy(text: str) -> str:
    """Runs of spaces (the ideographic one too) as one, none around. Not NFKC: names and
    addresses keep their full-width punctuation, 老百姓大药房（文三路店）."""
    return " ".join(text.split())


def text(value: str, field: str) -> str:
    cleaned = tidy(value)
    if not cleaned:
        raise InvalidInput(f"{field}: fill this in", field=field, code="required")
    if len(cleaned) < 2:
        raise InvalidInput(f"{field}: at least 2 characters", field=field, code="too-short")
    return cleaned


def optional_text(value: str | None, field: str) -> str | None:
    return text(value, field) if value is not None and tidy(value) else None


def licence(value: str | None) -> str | None:
    """A licence number as it is printed, without the spaces people type into it."""
    if value is None:
        return None
    cleaned = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if cleaned and not 5 <= len(cleaned) <= 40:
        raise InvalidInput(
            "licence_number: 5 to 40 letters and digits", field="licence_number", code="invalid"
        )
    return cleaned or None


def phone(raw: str) -> str:
    """A Chinese number as people write it (a landline with its area code, a mobile) or any
    number with its country code, in E.164."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput("not a phone number", field="phone", code="not-a-phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("not a valid phone number", field="phone", code="not-a-phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def pharmacist_out(row: asyncpg.Record) -> PharmacistOut:
    return PharmacistOut(**{name: row[name] for name in PharmacistOut.__struct_fields__})


def _window_text(windows: list[OpeningWindow]) -> list[str]:
    """Opening hours as the audit trail writes them: "1 08:00-12:00"."""
    return [f"{w.weekday} {w.opens}-{w.closes}" for w in windows]


async def managed_row(
    connection: Connection | asyncpg.Pool,
    principal: Principal,
    pharmacy_id: uuid.UUID,
    *,
    lock: bool = False,
) -> asyncpg.Record:
    """The pharmacy ``principal`` may manage, else the 404 of one that does not exist."""
    query = _MANAGED + (" FOR UPDATE OF p" if lock else "")
    row = await connection.fetchrow(query, pharmacy_id, principal.role, principal.user_id)
    if row is None:
        raise NotFound("no such pharmacy")
    return row


def refuse_if_closed(row: asyncpg.Record) -> None:
    if row["closed_at"] is not None:
        raise Conflict(
            "this pharmacy is closed; its record no longer changes",
            field="closed_at",
            code="closed",
        )


async def pharmacies_out(
    connection: Connection | asyncpg.Pool, rows: Sequence[asyncpg.Record | dict[str, Any]]
) -> list[PharmacyOut]:
    """Pharmacies with their opening hours and current pharmacists, in three queries
    however many."""
    ids = [row["id"] for row in rows]
    windows = await connection.fetch(
        """
        SELECT pharmacy_id, weekday, left(opens::text, 5) AS opens,
               left(closes::text, 5) AS closes
          FROM pharmacy_opening_hours WHERE pharmacy_id = ANY($1::uuid[])
         ORDER BY weekday, opens
        """,
        ids,
    )
    members = await connection.fetch(
        """
        SELECT m.pharmacy_id, m.user_id, u.email, u.display_name, m.licence_number,
               m.joined_at, m.left_at
          FROM pharmacy_pharmacists m JOIN users u ON u.id = m.user_id
         WHERE m.pharmacy_id = ANY($1::uuid[]) AND m.left_at IS NULL
         ORDER BY m.joined_at, m.id
        """,
        ids,
    )
    return [
        PharmacyOut(
            **dict(row),
            opening_hours=[
                OpeningWindow(weekday=w["weekday"], opens=w["opens"], closes=w["closes"])
                for w in windows
                if w["pharmacy_id"] == row["id"]
            ],
            pharmacists=[pharmacist_out(m) for m in members if m["pharmacy_id"] == row["id"]],
        )
        for row in rows
    ]


async def public_of(
    connection: Connection, rows: Sequence[asyncpg.Record | dict[str, Any]]
) -> list[PharmacyPublic]:
    """Rows with SELECT's columns as what anyone signed in may know of those pharmacies."""
    # SELECT's columns only: the rows may carry more (a search's prices).
    columns = set(SELECT_COLUMNS)
    full = await pharmacies_out(
        connection,
        [{name: value for name, value in row.items() if name in columns} for row in rows],
    )
    return [PharmacyPublic(**{name: getattr(p, name) for name in _PUBLIC}) for p in full]


class PharmacyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading ---------------------------------------------------------------------------
    async def directory(self) -> list[PharmacyPublic]:
        """Open pharmacies that dispense (a suspended partner hospital's own left out), by
        province, city and name: what patients choose from."""
        rows = await self.db.fetch(
            SELECT + " WHERE p.closed_at IS NULL AND p.dispenses "
            "AND (p.hospital_id IS NULL OR h.status = 'active') "
            "ORDER BY p.province, p.city, p.name_zh, p.id"
        )
        full = await self._out(self.db.pool, rows)
        return [PharmacyPublic(**{name: getattr(p, name) for name in _PUBLIC}) for p in full]

    async def managed_by(
        self, principal: Principal, status: PharmacyStatus = "open"
    ) -> list[PharmacyOut]:
        """The pharmacies ``principal`` manages (every one, for operators), by name."""
        rows = await self.db.fetch(
            SELECT + " WHERE may_manage_pharmacy($1, $2, p.hospital_id) "
            "AND ($3 = 'all' OR ($3 = 'closed') = (p.closed_at IS NOT NULL)) "
            "ORDER BY p.name_zh, p.id",
            principal.role,
            principal.user_id,
            status,
        )
        return await self._out(self.db.pool, rows)

    async def get(self, principal: Principal, pharmacy_id: uuid.UUID) -> PharmacyOut:
        row = await managed_row(self.db.pool, principal, pharmacy_id)
        [pharmacy] = await self._out(self.db.pool, [row])
        return pharmacy

    async def public(self, connection: Connection, pharmacy_id: uuid.UUID) -> PharmacyPublic:
        row = await connection.fetchrow(SELECT + " WHERE p.id = $1", pharmacy_id)
        if row is None:
            raise NotFound("no such pharmacy")
        [pharmacy] = await self._out(connection, [row])
        return PharmacyPublic(**{name: getattr(pharmacy, name) for name in _PUBLIC})

    async def _out(
        self, connection: Connection | asyncpg.Pool, rows: list[asyncpg.Record]
    ) -> list[PharmacyOut]:
        return await pharmacies_out(connection, rows)

    # -- changing --------------------------------------------------------------------------
    async def create(
        self, principal: Principal, data: PharmacyIn, context: AuditContext
    ) -> PharmacyOut:
        values = self._values(msgspec.structs.asdict(data), data.kind)
        windows = hours.checked(data.opening_hours)
        async with self.db.transaction() as connection:
            await self._check_place(connection, principal, data)
            pharmacy_id = await connection.fetchval(
                """
                INSERT INTO pharmacies (name_zh, name_en, kind, hospital_id, licence_number,
                                        province, city, district, address, phone,
                                        reviews_prescriptions, dispenses, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                RETURNING id
                """,
                values["name_zh"],
                values["name_en"],
                data.kind,
                data.hospital_id,
                values["licence_number"],
                values["province"],
                values["city"],
                values["district"],
                values["address"],
                values["phone"],
                values["reviews_prescriptions"],
                values["dispenses"],
                context.actor_id,
            )
            await self._store_hours(connection, pharmacy_id, windows)
            detail: dict[str, Any] = {"kind": data.kind, "hospital_id": data.hospital_id}
            detail |= {**values, "opening_hours": _window_text(windows)}
            await audit.record(
                connection,
                context,
                "pharmacy.created",
                "pharmacy",
                pharmacy_id,
                detail=msgspec.to_builtins(detail),
            )
            row = await managed_row(connection, principal, pharmacy_id)
            [created] = await self._out(connection, [row])
        return created

    async def update(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        data: PharmacyUpdate,
        context: AuditContext,
    ) -> PharmacyOut:
        """Change the fields given; the audit event lists each change, before and after."""
        async with self.db.transaction() as connection:
            row = await managed_row(connection, principal, pharmacy_id, lock=True)
            refuse_if_closed(row)
            [old] = await self._out(connection, [row])
            given = {
                name: value
                for name, value in msgspec.structs.asdict(data).items()
                if value is not None
            }
            values = self._values({name: getattr(old, name) for name in EDITABLE} | given, old.kind)
            windows = hours.checked(data.opening_hours) if data.opening_hours is not None else None
            await connection.execute(
                """
                UPDATE pharmacies
                   SET name_zh = $2, name_en = $3, licence_number = $4, province = $5,
                       city = $6, district = $7, address = $8, phone = $9,
                       reviews_prescriptions = $10, dispenses = $11, updated_at = now()
                 WHERE id = $1
                """,
                pharmacy_id,
                *values.values(),
            )
            if windows is not None:
                await connection.execute(
                    "DELETE FROM pharmacy_opening_hours WHERE pharmacy_id = $1", pharmacy_id
                )
                await self._store_hours(connection, pharmacy_id, windows)
            [new] = await self._out(
                connection, [await managed_row(connection, principal, pharmacy_id)]
            )
            changed = {
                name: msgspec.to_builtins([getattr(old, name), getattr(new, name)])
                for name in EDITABLE
                if getattr(old, name) != getattr(new, name)
            }
            if changed:
                await audit.record(
                    connection,
                    context,
                    "pharmacy.updated",
                    "pharmacy",
                    pharmacy_id,
                    detail={"changed": changed},
                )
        return new

    async def close(
        self, principal: Principal, pharmacy_id: uuid.UUID, context: AuditContext
    ) -> PharmacyOut:
        """Closed for good: it leaves the directory, its pharmacists' memberships end with it,
        and its record no longer changes."""
        async with self.db.transaction() as connection:
            row = await managed_row(connection, principal, pharmacy_id, lock=True)
            refuse_if_closed(row)
            await connection.execute(
                "UPDATE pharmacies SET closed_at = now(), updated_at = now() WHERE id = $1",
                pharmacy_id,
            )
            left = await connection.fetch(
                """
                UPDATE pharmacy_pharmacists SET left_at = now(), left_by = $2
                 WHERE pharmacy_id = $1 AND left_at IS NULL
                RETURNING user_id
                """,
                pharmacy_id,
                context.actor_id,
            )
            await audit.record(
                connection,
                context,
                "pharmacy.closed",
                "pharmacy",
                pharmacy_id,
                detail={"pharmacists_left": [str(r["user_id"]) for r in left]},
            )
            [closed] = await self._out(
                connection, [await managed_row(connection, principal, pharmacy_id)]
            )
        return closed

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _values(fields: Mapping[str, Any], kind: str) -> dict[str, Any]:
        """The editable fields but the opening hours as they are stored (tidied, the phone
        in E.164), or a 422 naming the first that cannot be."""
        values: dict[str, Any] = {
            "name_zh": text(fields["name_zh"], "name_zh"),
            "name_en": optional_text(fields["name_en"], "name_en"),
            "licence_number": licence(fields["licence_number"]),
            "province": text(fields["province"], "province"),
            "city": text(fields["city"], "city"),
            "district": optional_text(fields["district"], "district"),
            "address": text(fields["address"], "address"),
            "phone": phone(fields["phone"]),
            "reviews_prescriptions": bool(fields["reviews_prescriptions"]),
            "dispenses": bool(fields["dispenses"]),
        }
        for field, longest in _LONGEST.items():
            if values[field] is not None and len(values[field]) > longest:
                raise InvalidInput(
                    f"{field}: at most {longest} characters", field=field, code="too-long"
                )
        if kind == "independent" and values["licence_number"] is None:
            raise InvalidInput(
                "an independent pharmacy has a 药品经营许可证: enter its number",
                field="licence_number",
                code="required",
            )
        if not (values["reviews_prescriptions"] or values["dispenses"]):
            raise InvalidInput(
                "a pharmacy reviews prescriptions, dispenses them, or both",
                field="dispenses",
                code="does-nothing",
            )
        return values

    @staticmethod
    async def _check_place(connection: Connection, principal: Principal, data: PharmacyIn) -> None:
        """A hospital's pharmacy names a hospital the caller manages (another hospital is a
        404, as if it did not exist); only operators register independent pharmacies."""
        if data.kind == "independent":
            if principal.role != "operator":
                raise Forbidden(
                    "a hospital admin registers their own hospital's pharmacies only",
                    field="kind",
                    code="hospital-admins-own",
                )
            if data.hospital_id is not None:
                raise InvalidInput(
                    "only a hospital's own pharmacy names a hospital", field="hospital_id"
                )
            return
        if data.hospital_id is None:
            raise InvalidInput(
                "a hospital's pharmacy names its hospital", field="hospital_id", code="required"
            )
        managed = await connection.fetchval(
            "SELECT 1 FROM hospitals h WHERE h.id = $1 AND may_manage_hospital($2, $3, h.id)",
            data.hospital_id,
            principal.role,
            principal.user_id,
        )
        if not managed:
            raise NotFound("no such partner hospital", field="hospital_id")

    @staticmethod
    async def _store_hours(
        connection: Connection, pharmacy_id: uuid.UUID, windows: list[OpeningWindow]
    ) -> None:
        await connection.execute(
            """
            INSERT INTO pharmacy_opening_hours (pharmacy_id, weekday, opens, closes)
            SELECT $1, w.weekday, w.opens::time, w.closes::time
              FROM unnest($2::smallint[], $3::text[], $4::text[]) AS w (weekday, opens, closes)
            """,
            pharmacy_id,
            [w.weekday for w in windows],
            [w.opens for w in windows],
            [w.closes for w in windows],
        )
