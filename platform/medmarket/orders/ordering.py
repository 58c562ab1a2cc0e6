"""The patient's side of an order: which pharmacies can fill the prescription, what it
costs, placing the order, and what the patient decides afterwards (cancelling, or taking
what a pharmacy short of an item has).

A prescription is filled once. An order may be placed for an approved prescription that has
not expired, at a pharmacy that stocks every item; the unique index of migration 0080 lets
one live order of a prescription exist, so of two placed at the same instant one is refused
(409 ``order-already-placed``). The courier's quote is asked outside any transaction, and
the order priced again in the transaction that stores it.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from decimal import Decimal

import asyncpg
import msgspec

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database
from medmarket.delivery.interface import Parcel, PostalAddress, Quote
from medmarket.delivery.service import Deliveries
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.orders import queries
from medmarket.orders.dispensing import dispense
from medmarket.orders.notices import tell_pharmacy
from medmarket.orders.schemas import LineOut, OrderIn, OrderOut, PharmacyChoice, QuoteOut
from medmarket.orders.states import SUBJECT, WrongOrderStatus, move
from medmarket.patients.addresses import live_address, postal
from medmarket.payments import refunds
from medmarket.payments.interface import Money
from medmarket.pharmacies.stock import Place, StockedPharmacy, Wanted, pharmacies_stocking
from medmarket.prescriptions.states import require_dispensable
from medmarket.services import Services

PURPOSE = "pharmacy_order"  # what the payments domain calls paying for one
# A parcel's weight as couriers price it: the packaging, and a box per item.
PACKAGING_GRAMS, GRAMS_PER_ITEM = 150, 120

# The prescription as its patient's account ($2) orders it.
_PRESCRIPTION = """
    SELECT p.id, p.status, p.expires_at, p.patient_id, p.consultation_id, d.hospital_id,
           (SELECT n.id FROM prescriptions n WHERE n.supersedes = p.id) AS replaced_by
      FROM prescriptions p
      JOIN patients pt ON pt.id = p.patient_id
      JOIN doctors d ON d.id = p.doctor_id
     WHERE p.id = $1 AND pt.account_id = $2 AND pt.removed_at IS NULL
"""
_ITEMS = """
    SELECT i.position, i.drug_id, i.quantity, i.quantity_unit, d.cold_chain,
           d.generic_name_zh || ' ' || d.strength || d.unit AS drug_name
      FROM prescription_items i JOIN drugs d ON d.id = i.drug_id
     WHERE i.prescription_id = $1
     ORDER BY i.position
"""
_PHARMACY_ADDRESS = """
    SELECT name_zh, phone, province, city, district, address FROM pharmacies WHERE id = $1
"""


class OrderAlreadyPlaced(Conflict):
    """A live order of this prescription exists: ``order_id`` names it."""

    slug, title = "order-already-placed", "This prescription has been ordered already"


class NotStocked(Conflict):
    """The pharmacy does not stock every item now (or does not dispense)."""

    slug, title = "not-stocked", "This pharmacy cannot fill the prescription"


class Priced:
    """A prescription priced at one pharmacy, for one fulfilment."""

    def __init__(
        self,
        prescription: asyncpg.Record,
        items: list[asyncpg.Record],
        stocked: StockedPharmacy,
        dropoff: PostalAddress | None,
        address_id: uuid.UUID | None,
    ) -> None:
        self.prescription, self.items, self.stocked = prescription, items, stocked
        self.dropoff, self.address_id = dropoff, address_id
        self.cold_chain = stocked.cold_chain
        self.lines = lines_out(stocked, items)

    @property
    def parcel(self) -> Parcel:
        return parcel_of(len(self.items), self.cold_chain, self.stocked.drugs_fen)


def parcel_of(items: int, cold_chain: bool, drugs_fen: int) -> Parcel:
    """The parcel couriers quote and carry: weighed as packaging and a box per item."""
    return Parcel(
        weight_grams=PACKAGING_GRAMS + GRAMS_PER_ITEM * items,
        cold_chain=cold_chain,
        description="处方药品 prescription medicine",
        declared_value=Money(drugs_fen),
    )


def lines_out(stocked: StockedPharmacy, items: list[asyncpg.Record]) -> list[LineOut]:
    """The pharmacy's priced lines, named and flagged cold from the prescription's items."""
    named = {item["position"]: item for item in items}
    return [
        LineOut(
            position=line.position,
            drug_id=line.drug_id,
            drug_name=named[line.position]["drug_name"],
            quantity=float(line.quantity),
            unit=line.unit,
            unit_price_fen=line.unit_price_fen,
            line_fen=line.line_fen,
            cold_chain=named[line.position]["cold_chain"],
        )
        for line in stocked.lines
    ]


def wanted_of(items: list[asyncpg.Record]) -> list[Wanted]:
    return [
        Wanted(
            position=item["position"],
            drug_id=item["drug_id"],
            quantity=Decimal(item["quantity"]),
            unit=item["quantity_unit"],
        )
        for item in items
    ]


def choice_out(stocked: StockedPharmacy, items: list[asyncpg.Record]) -> PharmacyChoice:
    pharmacy = stocked.pharmacy
    return PharmacyChoice(
        pharmacy_id=pharmacy.id,
        name_zh=pharmacy.name_zh,
        name_en=pharmacy.name_en,
        kind=pharmacy.kind,
        province=pharmacy.province,
        city=pharmacy.city,
        district=pharmacy.district,
        address=pharmacy.address,
        phone=pharmacy.phone,
        nearness=stocked.nearness,
        own_hospital=stocked.own_hospital,
        delivers=stocked.delivers,
        drugs_fen=stocked.drugs_fen,
        lines=lines_out(stocked, items),
    )


async def pharmacy_postal(connection: Connection, pharmacy_id: uuid.UUID) -> PostalAddress:
    row = await connection.fetchrow(_PHARMACY_ADDRESS, pharmacy_id)
    assert row is not None
    return PostalAddress(
        recipient=row["name_zh"],
        phone=row["phone"],
        province=row["province"],
        city=row["city"],
        district=row["district"],
        street=row["address"],
    )


class Ordering:
    def __init__(self, services: Services) -> None:
        self.db: Database = services.db
        self.settings = services.settings
        self.deliveries = Deliveries(services)
        self.pay_within = dt.timedelta(seconds=services.settings.payment_attempt_ttl_seconds)

    async def _prescription(
        self, connection: Connection, principal: Principal, prescription_id: uuid.UUID
    ) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
        """The account's prescription, if it may be filled now, and its items."""
        row = await connection.fetchrow(_PRESCRIPTION, prescription_id, principal.user_id)
        if row is None:
            raise NotFound("no such prescription")
        now: dt.datetime = await connection.fetchval("SELECT now()")
        require_dispensable(row["status"], row["expires_at"], row["replaced_by"], now)
        return row, list(await connection.fetch(_ITEMS, prescription_id))

    async def _dropoff(
        self, connection: Connection, principal: Principal, address_id: uuid.UUID | None
    ) -> PostalAddress:
        if address_id is None:
            raise InvalidInput("choose an address to deliver to", field="address_id")
        address = await live_address(connection, principal.user_id, address_id)
        if address is None:
            raise InvalidInput("this address is not in your address book", field="address_id")
        return postal(address)

    async def choices(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        address_id: uuid.UUID | None,
    ) -> list[PharmacyChoice]:
        """The pharmacies that stock every item, nearest first to the address (or to
        nothing in particular when none is given)."""
        async with self.db.transaction() as connection:
            prescription, items = await self._prescription(connection, principal, prescription_id)
            near = None
            if address_id is not None:
                dropoff = await self._dropoff(connection, principal, address_id)
                near = Place(
                    province=dropoff.province, city=dropoff.city, district=dropoff.district
                )
            stocked = await pharmacies_stocking(
                connection, wanted_of(items), near=near, hospital_id=prescription["hospital_id"]
            )
            return [choice_out(found, items) for found in stocked]

    async def _priced(
        self,
        connection: Connection,
        principal: Principal,
        prescription_id: uuid.UUID,
        body: OrderIn,
    ) -> Priced:
        prescription, items = await self._prescription(connection, principal, prescription_id)
        dropoff = None
        near = None
        if body.fulfilment == "delivery":
            dropoff = await self._dropoff(connection, principal, body.address_id)
            near = Place(province=dropoff.province, city=dropoff.city, district=dropoff.district)
        found = await pharmacies_stocking(
            connection,
            wanted_of(items),
            near=near,
            hospital_id=prescription["hospital_id"],
            pharmacy_id=body.pharmacy_id,
        )
        if not found:
            raise NotStocked(
                "this pharmacy does not have every item of the prescription now",
                field="pharmacy_id",
                code="not-stocked",
            )
        if body.fulfilment == "delivery" and not found[0].delivers:
            raise Conflict(
                "this pharmacy does not deliver to that address: choose self-pickup or "
                "another pharmacy",
                field="address_id",
                code="outside-delivery-area",
            )
        return Priced(prescription, items, found[0], dropoff, body.address_id)

    async def _courier_quote(self, priced: Priced) -> Quote | None:
        if priced.dropoff is None:
            return None
        async with self.db.connection() as connection:
            pickup = await pharmacy_postal(connection, priced.stocked.pharmacy.id)
        return await self.deliveries.quote(pickup, priced.dropoff, priced.parcel)

    async def quote(
        self, principal: Principal, prescription_id: uuid.UUID, body: OrderIn
    ) -> QuoteOut:
        """What the order would cost now (nothing is stored)."""
        async with self.db.transaction() as connection:
            priced = await self._priced(connection, principal, prescription_id, body)
        courier = await self._courier_quote(priced)
        return self._quote_out(priced, courier, body)

    def _quote_out(self, priced: Priced, courier: Quote | None, body: OrderIn) -> QuoteOut:
        delivery_fen = courier.price.amount if courier else 0
        return QuoteOut(
            pharmacy_id=priced.stocked.pharmacy.id,
            fulfilment=body.fulfilment,
            lines=priced.lines,
            drugs_fen=priced.stocked.drugs_fen,
            delivery_fen=delivery_fen,
            total_fen=priced.stocked.drugs_fen + delivery_fen,
            currency="CNY",
            courier_id=courier.courier_id if courier else None,
            estimated_delivery=courier.estimated_delivery if courier else None,
            cold_chain=priced.cold_chain,
        )

    async def place(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        body: OrderIn,
        context: AuditContext,
    ) -> OrderOut:
        """Order the prescription from the pharmacy; pay for it before ``pay_by``."""
        async with self.db.transaction() as connection:
            priced = await self._priced(connection, principal, prescription_id, body)
            await self._refuse_a_second(connection, prescription_id, principal)
        courier = await self._courier_quote(priced)
        async with self.db.transaction() as connection:
            priced = await self._priced(connection, principal, prescription_id, body)
            now: dt.datetime = await connection.fetchval("SELECT now()")
            try:
                async with connection.transaction():
                    order_id = await self._insert(connection, principal, priced, courier, now)
            except asyncpg.UniqueViolationError:  # ordered twice at once: the index decided
                await self._refuse_a_second(connection, prescription_id, principal)
                raise
            await connection.execute(
                "INSERT INTO pharmacy_order_events (order_id, status, actor_id) "
                "VALUES ($1, 'created', $2)",
                order_id,
                principal.user_id,
            )
            await audit.record(
                connection,
                context,
                "pharmacy_order.created",
                SUBJECT,
                order_id,
                consultation_id=priced.prescription["consultation_id"],
                detail={
                    "prescription_id": str(prescription_id),
                    "pharmacy_id": str(body.pharmacy_id),
                    "fulfilment": body.fulfilment,
                    "drugs_fen": priced.stocked.drugs_fen,
                    "delivery_fen": courier.price.amount if courier else 0,
                    "courier_id": courier.courier_id if courier else None,
                },
            )
            return await queries.order_out(
                connection,
                await queries.patients_order(connection, order_id, principal.user_id),
                for_patient=True,
            )

    async def _insert(
        self,
        connection: Connection,
        principal: Principal,
        priced: Priced,
        courier: Quote | None,
        now: dt.datetime,
    ) -> uuid.UUID:
        expires: dt.datetime = priced.prescription["expires_at"]
        order_id: uuid.UUID = await connection.fetchval(
            """
            INSERT INTO pharmacy_orders (prescription_id, patient_id, account_id, pharmacy_id,
                   fulfilment, address_id, dropoff, courier_id, quote_id, drugs_fen,
                   delivery_fen, cold_chain, handover_code, pay_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            RETURNING id
            """,
            priced.prescription["id"],
            priced.prescription["patient_id"],
            principal.user_id,
            priced.stocked.pharmacy.id,
            "delivery" if priced.dropoff else "pickup",
            priced.address_id if priced.dropoff else None,
            None if priced.dropoff is None else msgspec.to_builtins(priced.dropoff),
            courier.courier_id if courier else None,
            courier.quote_id if courier else None,
            priced.stocked.drugs_fen,
            courier.price.amount if courier else 0,
            priced.cold_chain,
            f"{secrets.randbelow(10**6):06d}",
            min(now + self.pay_within, expires),
        )
        await connection.executemany(
            """
            INSERT INTO pharmacy_order_items (order_id, position, drug_id, quantity, unit,
                   unit_price_fen, line_fen)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            [
                (
                    order_id,
                    line.position,
                    line.drug_id,
                    line.quantity,
                    line.unit,
                    line.unit_price_fen,
                    line.line_fen,
                )
                for line in priced.stocked.lines
            ],
        )
        return order_id

    async def _refuse_a_second(
        self, connection: Connection, prescription_id: uuid.UUID, principal: Principal
    ) -> None:
        live = await connection.fetchval(
            "SELECT id FROM pharmacy_orders WHERE prescription_id = $1 "
            "AND status NOT IN ('cancelled', 'rejected', 'refunded')",
            prescription_id,
        )
        if live is not None:
            raise OrderAlreadyPlaced(
                "this prescription has been ordered already: pay for or cancel that order",
                field="prescription_id",
                code="already-ordered",
                order_id=str(live),
            )

    # -- afterwards ----------------------------------------------------------------------------
    async def read(self, principal: Principal, order_id: uuid.UUID) -> OrderOut:
        async with self.db.connection() as connection:
            return await self.read_in(connection, principal, order_id)

    async def mine(self, principal: Principal) -> list[OrderOut]:
        async with self.db.connection() as connection:
            rows = await connection.fetch(
                queries.SELECT + " WHERE o.account_id = $1 ORDER BY o.created_at DESC, o.id",
                principal.user_id,
            )
            return [await queries.order_out(connection, row, for_patient=True) for row in rows]

    async def _own(
        self, connection: Connection, principal: Principal, order_id: uuid.UUID
    ) -> asyncpg.Record:
        await queries.patients_order(connection, order_id, principal.user_id)
        return await queries.locked(connection, order_id)

    async def cancel(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """Cancel before the pharmacy has accepted: an unpaid order is closed, a paid one
        refunded in full."""
        async with self.db.transaction() as connection:
            order = await self._own(connection, principal, order_id)
            paid = order["status"] == "paid"
            await move(connection, order, "cancelled", context, note="patient")
            await refunds.cancel_open_attempts(connection, PURPOSE, order_id, context)
            if paid:
                await refunds.request_refund(
                    connection,
                    purpose=PURPOSE,
                    subject_id=order_id,
                    reason="patient_cancelled",
                    key="cancel",
                    context=context,
                )
                await tell_pharmacy(connection, order, "pharmacy_order.cancelled", {})
            return await self.read_in(connection, principal, order_id)

    async def read_in(
        self, connection: Connection, principal: Principal, order_id: uuid.UUID
    ) -> OrderOut:
        row = await queries.patients_order(connection, order_id, principal.user_id)
        return await queries.order_out(connection, row, for_patient=True)

    async def decline_short(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """The patient does not take what the pharmacy has: refunded in full."""
        async with self.db.transaction() as connection:
            order = await self._own(connection, principal, order_id)
            await move(
                connection, order, "rejected", context, note="patient", reason="patient_declined"
            )
            await refunds.request_refund(
                connection,
                purpose=PURPOSE,
                subject_id=order_id,
                reason="out_of_stock",
                key="declined-short",
                context=context,
            )
            await tell_pharmacy(connection, order, "pharmacy_order.declined", {})
            return await self.read_in(connection, principal, order_id)

    async def agree_short(
        self, principal: Principal, order_id: uuid.UUID, context: AuditContext
    ) -> OrderOut:
        """The patient takes what the pharmacy has: it is dispensed, and the missing items
        refunded."""
        async with self.db.transaction() as connection:
            order = await self._own(connection, principal, order_id)
            if order["status"] != "short":
                raise WrongOrderStatus(
                    f"the order is {order['status']}; nothing is short", status_now=order["status"]
                )
            missing = await dispense(connection, order, context, note="patient agreed")
            if missing:
                await refunds.request_refund(
                    connection,
                    purpose=PURPOSE,
                    subject_id=order_id,
                    reason="out_of_stock",
                    key="short",
                    amount=missing,
                    context=context,
                )
            await tell_pharmacy(connection, order, "pharmacy_order.agreed", {})
            return await self.read_in(connection, principal, order_id)
