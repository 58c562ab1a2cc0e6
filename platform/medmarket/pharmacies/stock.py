"""What a dispensing pharmacy sells, at what price, and where it delivers (migration 0075).

Who may change them: the pharmacy's current pharmacists, operators, and a partner hospital's
admins for their hospital's own pharmacy; anyone else is answered the 404 of a pharmacy that
does not exist. A closed pharmacy's stock and areas no longer change (409). Each change and
its audit event commit in one transaction: ``pharmacy.stock_changed`` (one item, before and
after), ``pharmacy.stock_synced`` (a whole list, as counts) and
``pharmacy.delivery_areas_changed`` (before and after).

The ordering code (a patient's order of an approved prescription) calls two functions, in
its own transaction:

``pharmacies_stocking(conn, wanted, *, near, hospital_id, pharmacy_id=None)``
    The open pharmacies that dispense (a suspended hospital's own left out) and have
    ``on_hand >= quantity`` in the wanted unit of every wanted item (items naming one drug
    and unit twice count together), each with its priced lines (``line_fen`` is
    ``ceil(quantity * unit_price_fen)``), ``drugs_fen`` their sum, ``delivers`` (whether it
    delivers to ``near``: ``pharmacy_delivers_to``), ``nearness`` (its own address compared
    with ``near``: same district, city, province, or elsewhere; every one is "elsewhere"
    when ``near`` is None), ``own_hospital`` (it is ``hospital_id``'s own pharmacy) and
    ``cold_chain`` (an item must be kept cold). Nearest first, then the prescribing
    hospital's own, then cheapest, then by name and id. ``pharmacy_id`` narrows the search
    to one pharmacy (pricing a chosen one again: an empty list when it no longer can fill
    the order). No wanted items: an empty list. Reads without locking.

``take_stock(conn, pharmacy_id, wanted)``
    Locks the wanted stock rows (in one order, so two orders never deadlock) and, when
    every item is on hand, takes them all off and returns ``[]``; when any is short it
    takes nothing and returns the short items' positions, ascending. Two orders taking
    the last box: the second waits for the first's transaction and then finds it short.
    It does not check that the pharmacy is open: the caller chose it by
    ``pharmacies_stocking`` (with ``pharmacy_id``) in the same transaction.
"""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import asyncpg
import msgspec

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.errors import InvalidInput, NotFound
from medmarket.pharmacies.schemas import (
    DeliveryArea,
    PharmacyPublic,
    StockItemIn,
    StockItemOut,
    StockLineIn,
    StockSynced,
)
from medmarket.pharmacies.service import SELECT, public_of, refuse_if_closed, text

Nearness = Literal["district", "city", "province", "elsewhere"]
NEARNESS: tuple[Nearness, ...] = ("district", "city", "province", "elsewhere")
# numeric(12, 4): up to 99,999,999.9999 units, to four decimals.
MOST_ON_HAND = decimal.Decimal("99999999.9999")


class Wanted(msgspec.Struct, frozen=True):
    """A prescription item as the order wants it: how many of which unit."""

    position: int
    drug_id: uuid.UUID
    quantity: decimal.Decimal
    unit: str


class Place(msgspec.Struct, frozen=True):
    """Where the patient is (their delivery address): 省, 市, 区/县 if any."""

    province: str
    city: str
    district: str | None


class PricedLine(msgspec.Struct):
    position: int
    drug_id: uuid.UUID
    quantity: decimal.Decimal
    unit: str
    unit_price_fen: int
    line_fen: int  # ceil(quantity * unit_price_fen)


class StockedPharmacy(msgspec.Struct):
    pharmacy: PharmacyPublic
    lines: list[PricedLine]
    drugs_fen: int
    delivers: bool
    nearness: Nearness
    own_hospital: bool
    cold_chain: bool


_STOCK = """
    SELECT s.drug_id, d.generic_name_zh, d.generic_name_en, d.dosage_form, d.strength,
           d.unit AS strength_unit, d.cold_chain, d.retired_at IS NOT NULL AS retired,
           s.unit, s.price_fen, s.on_hand, s.updated_at
      FROM pharmacy_stock s JOIN drugs d ON d.id = s.drug_id
     WHERE s.pharmacy_id = $1
     ORDER BY d.pinyin, d.id, s.unit
"""
# The pharmacy ``$2, $3`` (role, user id) may edit: they manage it or work in it now.
_EDITABLE = (
    SELECT  # noqa: S608 - constants; values are parameters
    + """
     WHERE p.id = $1
       AND (may_manage_pharmacy($2, $3, p.hospital_id)
            OR EXISTS (SELECT 1 FROM pharmacy_pharmacists m
                        WHERE m.pharmacy_id = p.id AND m.user_id = $3 AND m.left_at IS NULL))
"""
)
_WANTED = """
    wanted AS (
        SELECT * FROM unnest($1::int[], $2::uuid[], $3::numeric[], $4::text[])
                 AS w (position, drug_id, quantity, unit)
    ),
    needed AS (
        SELECT drug_id, unit, sum(quantity) AS quantity FROM wanted GROUP BY drug_id, unit
    )
"""
_STOCKING = (
    "WITH"  # noqa: S608 - constants; values are parameters
    + _WANTED
    + """,
    able AS (
        SELECT p.id FROM pharmacies p LEFT JOIN hospitals h ON h.id = p.hospital_id
         WHERE p.closed_at IS NULL AND p.dispenses
           AND (p.hospital_id IS NULL OR h.status = 'active')
           AND ($8::uuid IS NULL OR p.id = $8)
           AND NOT EXISTS (
               SELECT 1 FROM needed n
                WHERE NOT EXISTS (
                    SELECT 1 FROM pharmacy_stock s
                     WHERE s.pharmacy_id = p.id AND s.drug_id = n.drug_id AND s.unit = n.unit
                       AND s.on_hand >= n.quantity))
    ),
    priced AS (
        SELECT a.id AS pharmacy_id,
               jsonb_agg(jsonb_build_object(
                   'position', w.position, 'drug_id', w.drug_id, 'quantity', w.quantity::text,
                   'unit', w.unit, 'unit_price_fen', s.price_fen,
                   'line_fen', ceil(w.quantity * s.price_fen)::bigint)
                   ORDER BY w.position) AS lines,
               sum(ceil(w.quantity * s.price_fen))::bigint AS drugs_fen,
               bool_or(d.cold_chain) AS cold_chain
          FROM able a
          JOIN wanted w ON true
          JOIN pharmacy_stock s
            ON s.pharmacy_id = a.id AND s.drug_id = w.drug_id AND s.unit = w.unit
          JOIN drugs d ON d.id = w.drug_id
         GROUP BY a.id
    )
    SELECT q.*, pr.lines, pr.drugs_fen, pr.cold_chain,
           coalesce($5::text IS NOT NULL AND pharmacy_delivers_to(q.id, $5, $6, $7), false)
               AS delivers,
           CASE WHEN $5::text IS NULL OR q.province <> $5 THEN 3
                WHEN q.city <> $6 THEN 2
                WHEN $7::text IS NOT NULL AND q.district IS NOT DISTINCT FROM $7 THEN 0
                ELSE 1 END AS nearness,
           coalesce(q.hospital_id = $9::uuid, false) AS own_hospital
      FROM ("""
    + SELECT
    + """) q JOIN priced pr ON pr.pharmacy_id = q.id
     ORDER BY nearness, own_hospital DESC, pr.drugs_fen, q.name_zh, q.id
"""
)


def _wanted_arrays(wanted: Sequence[Wanted]) -> list[Any]:
    return [
        [w.position for w in wanted],
        [w.drug_id for w in wanted],
        [w.quantity for w in wanted],
        [w.unit for w in wanted],
    ]


async def pharmacies_stocking(
    conn: Connection,
    wanted: Sequence[Wanted],
    *,
    near: Place | None,
    hospital_id: uuid.UUID | None,
    pharmacy_id: uuid.UUID | None = None,
) -> list[StockedPharmacy]:
    """The pharmacies that can fill ``wanted``, nearest first (the module's docstring)."""
    if not wanted:
        return []
    rows = await conn.fetch(
        _STOCKING,
        *_wanted_arrays(wanted),
        near.province if near else None,
        near.city if near else None,
        near.district if near else None,
        pharmacy_id,
        hospital_id,
    )
    public = await public_of(conn, rows)
    return [
        StockedPharmacy(
            pharmacy=pharmacy,
            lines=msgspec.convert(row["lines"], list[PricedLine], strict=False),
            drugs_fen=row["drugs_fen"],
            delivers=row["delivers"],
            nearness=NEARNESS[row["nearness"]],
            own_hospital=row["own_hospital"],
            cold_chain=row["cold_chain"],
        )
        for pharmacy, row in zip(public, rows, strict=True)
    ]


async def take_stock(
    conn: Connection, pharmacy_id: uuid.UUID, wanted: Sequence[Wanted]
) -> list[int]:
    """Take ``wanted`` off the pharmacy's stock, all or nothing; the short positions, or []
    (the module's docstring)."""
    if not wanted:
        return []
    arrays = _wanted_arrays(wanted)
    async with conn.transaction():
        rows = await conn.fetch(
            "WITH"  # noqa: S608 - constants; values are parameters
            + _WANTED
            + """
            SELECT s.drug_id, s.unit, s.on_hand FROM pharmacy_stock s
              JOIN needed n ON n.drug_id = s.drug_id AND n.unit = s.unit
             WHERE s.pharmacy_id = $5
             ORDER BY s.drug_id, s.unit
               FOR UPDATE OF s
            """,
            *arrays,
            pharmacy_id,
        )
        on_hand = {(row["drug_id"], row["unit"]): row["on_hand"] for row in rows}
        needed: dict[tuple[uuid.UUID, str], decimal.Decimal] = {}
        for item in wanted:
            key = (item.drug_id, item.unit)
            needed[key] = needed.get(key, decimal.Decimal(0)) + item.quantity
        short = sorted(
            item.position
            for item in wanted
            if on_hand.get((item.drug_id, item.unit), decimal.Decimal(0))
            < needed[(item.drug_id, item.unit)]
        )
        if short:
            return short
        await conn.execute(
            "WITH"  # noqa: S608 - constants; values are parameters
            + _WANTED
            + """
            UPDATE pharmacy_stock s SET on_hand = s.on_hand - n.quantity, updated_at = now()
              FROM needed n
             WHERE s.pharmacy_id = $5 AND s.drug_id = n.drug_id AND s.unit = n.unit
            """,
            *arrays,
            pharmacy_id,
        )
    return []


def _stock_out(row: asyncpg.Record) -> StockItemOut:
    return StockItemOut(**{name: row[name] for name in StockItemOut.__struct_fields__})


def _on_hand(value: decimal.Decimal, field: str) -> decimal.Decimal:
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"{field}: zero or more", field=field, code="negative")
    if value > MOST_ON_HAND:
        raise InvalidInput(f"{field}: at most {MOST_ON_HAND}", field=field, code="too-large")
    if value != value.quantize(decimal.Decimal("0.0001")):
        raise InvalidInput(f"{field}: at most 4 decimals", field=field, code="too-precise")
    return value


async def _check_drugs(
    connection: Connection, drug_ids: Sequence[uuid.UUID], fields: list[str]
) -> None:
    """Every drug is in the catalog and not retired, or a 422 naming the first that is not."""
    rows = await connection.fetch(
        "SELECT id, retired_at FROM drugs WHERE id = ANY($1::uuid[])", list(set(drug_ids))
    )
    retired = {row["id"]: row["retired_at"] is not None for row in rows}
    for drug_id, field in zip(drug_ids, fields, strict=True):
        if drug_id not in retired:
            raise InvalidInput("no such drug in the catalog", field=field, code="unknown-drug")
        if retired[drug_id]:
            raise InvalidInput(
                "this drug is retired: it is no longer sold", field=field, code="retired-drug"
            )


def _area_text(area: DeliveryArea) -> str:
    return " ".join(part for part in (area.province, area.city, area.district) if part)


class StockService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _editable(
        self, connection: Connection, principal: Principal, pharmacy_id: uuid.UUID
    ) -> asyncpg.Record:
        """The pharmacy ``principal`` may edit, share-locked so it cannot close meanwhile;
        else a 404; a closed one a 409."""
        row = await connection.fetchrow(
            _EDITABLE + " FOR SHARE OF p", pharmacy_id, principal.role, principal.user_id
        )
        if row is None:
            raise NotFound("no such pharmacy")
        refuse_if_closed(row)
        return row

    async def _readable(
        self, connection: Connection, principal: Principal, pharmacy_id: uuid.UUID
    ) -> None:
        """Those who may edit it read any pharmacy's; everyone signed in an open one's."""
        row = await connection.fetchrow(
            _EDITABLE, pharmacy_id, principal.role, principal.user_id
        ) or await connection.fetchrow(
            SELECT + " WHERE p.id = $1 AND p.closed_at IS NULL", pharmacy_id
        )
        if row is None:
            raise NotFound("no such pharmacy")

    async def stock(self, principal: Principal, pharmacy_id: uuid.UUID) -> list[StockItemOut]:
        """What the pharmacy sells, by the drugs' pinyin."""
        async with self.db.connection() as connection:
            await self._readable(connection, principal, pharmacy_id)
            return [_stock_out(row) for row in await connection.fetch(_STOCK, pharmacy_id)]

    async def put_item(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        drug_id: uuid.UUID,
        unit: str,
        data: StockItemIn,
        context: AuditContext,
    ) -> StockItemOut:
        """Sell ``drug_id`` by ``unit`` at this price with this much on hand (create or
        update)."""
        on_hand = _on_hand(data.on_hand, "on_hand")
        async with self.db.transaction() as connection:
            await self._editable(connection, principal, pharmacy_id)
            await _check_drugs(connection, [drug_id], ["drug_id"])
            before = await connection.fetchrow(
                "SELECT price_fen, on_hand FROM pharmacy_stock "
                "WHERE pharmacy_id = $1 AND drug_id = $2 AND unit = $3 FOR UPDATE",
                pharmacy_id,
                drug_id,
                unit,
            )
            await connection.execute(
                """
                INSERT INTO pharmacy_stock (pharmacy_id, drug_id, unit, price_fen, on_hand,
                                            updated_by)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (pharmacy_id, drug_id, unit) DO UPDATE
                   SET price_fen = excluded.price_fen, on_hand = excluded.on_hand,
                       updated_at = now(), updated_by = excluded.updated_by
                """,
                pharmacy_id,
                drug_id,
                unit,
                data.price_fen,
                on_hand,
                context.actor_id,
            )
            await audit.record(
                connection,
                context,
                "pharmacy.stock_changed",
                "pharmacy",
                pharmacy_id,
                detail={
                    "drug_id": str(drug_id),
                    "unit": unit,
                    "price_fen": [before["price_fen"] if before else None, data.price_fen],
                    "on_hand": [str(before["on_hand"]) if before else None, str(on_hand)],
                },
            )
            row = next(
                row
                for row in await connection.fetch(_STOCK, pharmacy_id)
                if row["drug_id"] == drug_id and row["unit"] == unit
            )
        return _stock_out(row)

    async def sync(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        items: list[StockLineIn],
        context: AuditContext,
    ) -> StockSynced:
        """Replace what the pharmacy sells with ``items``: rows left out stay, at on_hand 0
        (an order or a report may name them). One audit event with the counts."""
        seen: set[tuple[uuid.UUID, str]] = set()
        for index, item in enumerate(items):
            _on_hand(item.on_hand, f"items[{index}].on_hand")
            if (item.drug_id, item.unit) in seen:
                raise InvalidInput(
                    "this drug and unit are listed twice",
                    field=f"items[{index}].drug_id",
                    code="duplicate",
                )
            seen.add((item.drug_id, item.unit))
        async with self.db.transaction() as connection:
            await self._editable(connection, principal, pharmacy_id)
            await _check_drugs(
                connection,
                [item.drug_id for item in items],
                [f"items[{index}].drug_id" for index in range(len(items))],
            )
            counts = await fetch_one(
                connection,
                """
                WITH given AS (
                    SELECT * FROM unnest($2::uuid[], $3::text[], $4::int[], $5::numeric[])
                             AS g (drug_id, unit, price_fen, on_hand)
                ),
                zeroed AS (
                    UPDATE pharmacy_stock s SET on_hand = 0, updated_at = now(), updated_by = $6
                     WHERE s.pharmacy_id = $1 AND s.on_hand > 0
                       AND NOT EXISTS (SELECT 1 FROM given g
                                        WHERE g.drug_id = s.drug_id AND g.unit = s.unit)
                    RETURNING 1
                ),
                stored AS (
                    INSERT INTO pharmacy_stock AS s (pharmacy_id, drug_id, unit, price_fen,
                                                     on_hand, updated_by)
                    SELECT $1, drug_id, unit, price_fen, on_hand, $6 FROM given
                    ON CONFLICT (pharmacy_id, drug_id, unit) DO UPDATE
                       SET price_fen = excluded.price_fen, on_hand = excluded.on_hand,
                           updated_at = now(), updated_by = excluded.updated_by
                     WHERE (s.price_fen, s.on_hand)
                           IS DISTINCT FROM (excluded.price_fen, excluded.on_hand)
                    RETURNING xmax = 0 AS created
                )
                SELECT (SELECT count(*) FROM stored WHERE created) AS created,
                       (SELECT count(*) FROM stored WHERE NOT created) AS updated,
                       (SELECT count(*) FROM zeroed) AS zeroed
                """,
                pharmacy_id,
                [item.drug_id for item in items],
                [item.unit for item in items],
                [item.price_fen for item in items],
                [item.on_hand for item in items],
                context.actor_id,
            )
            detail = {"items": len(items)}
            detail |= {name: counts[name] for name in ("created", "updated", "zeroed")}
            await audit.record(
                connection, context, "pharmacy.stock_synced", "pharmacy", pharmacy_id, detail=detail
            )
            stock = [_stock_out(row) for row in await connection.fetch(_STOCK, pharmacy_id)]
        return StockSynced(
            created=counts["created"],
            updated=counts["updated"],
            zeroed=counts["zeroed"],
            stock=stock,
        )

    async def delivery_areas(
        self, principal: Principal, pharmacy_id: uuid.UUID
    ) -> list[DeliveryArea]:
        async with self.db.connection() as connection:
            await self._readable(connection, principal, pharmacy_id)
            return await _areas(connection, pharmacy_id)

    async def replace_delivery_areas(
        self,
        principal: Principal,
        pharmacy_id: uuid.UUID,
        areas: list[DeliveryArea],
        context: AuditContext,
    ) -> list[DeliveryArea]:
        """Where the pharmacy delivers from now on (an empty list: counter pickup only)."""
        tidied: dict[DeliveryArea, None] = {}
        for index, area in enumerate(areas):
            district = area.district and " ".join(area.district.split())
            tidied[
                DeliveryArea(
                    province=text(area.province, f"[{index}].province"),
                    city=text(area.city, f"[{index}].city"),
                    district=text(district, f"[{index}].district") if district else None,
                )
            ] = None
        async with self.db.transaction() as connection:
            await self._editable(connection, principal, pharmacy_id)
            before = await _areas(connection, pharmacy_id)
            await connection.execute(
                "DELETE FROM pharmacy_delivery_areas WHERE pharmacy_id = $1", pharmacy_id
            )
            await connection.execute(
                """
                INSERT INTO pharmacy_delivery_areas (pharmacy_id, province, city, district)
                SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
                """,
                pharmacy_id,
                [area.province for area in tidied],
                [area.city for area in tidied],
                [area.district for area in tidied],
            )
            after = await _areas(connection, pharmacy_id)
            if after != before:
                await audit.record(
                    connection,
                    context,
                    "pharmacy.delivery_areas_changed",
                    "pharmacy",
                    pharmacy_id,
                    detail={
                        "before": [_area_text(area) for area in before],
                        "after": [_area_text(area) for area in after],
                    },
                )
        return after


async def _areas(connection: Connection, pharmacy_id: uuid.UUID) -> list[DeliveryArea]:
    rows = await connection.fetch(
        """
        SELECT province, city, district FROM pharmacy_delivery_areas WHERE pharmacy_id = $1
         ORDER BY province, city, district NULLS FIRST
        """,
        pharmacy_id,
    )
    return [DeliveryArea(**dict(row)) for row in rows]
