"""Booking money in the ledger, inside the caller's transaction.

A succeeded payment becomes one ``charge`` transaction: the gateway's clearing account is
debited with what the patient paid; the platform's commission, the hospital's share and the
doctor's share are credited, or for a pharmacy's charge (a pharmacy order) the platform's
commission and the pharmacy's share. A succeeded refund becomes one ``refund`` transaction that
credits the clearing account and takes the refund back from each party in proportion to
what it still holds from that payment. The database refuses any transaction that does not
sum to zero and a second booking of the same payment or refund.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from medmarket.db import Connection
from medmarket.ledger.split import Shares, allocate, split_charge, split_pharmacy_charge

AccountKind = Literal[
    "gateway_clearing",
    "platform_commission",
    "doctor_payable",
    "hospital_payable",
    "pharmacy_payable",
]


@dataclass(frozen=True)
class Rates:
    """The shares of a charge; for a pharmacy's charge only ``platform_rate_bp`` counts."""

    platform_rate_bp: int
    hospital_rate_bp: int


@dataclass(frozen=True)
class ChargeToBook:
    """What the ledger needs of a succeeded payment."""

    payment_id: uuid.UUID
    amount: int
    currency: str
    gateway_id: str
    doctor_id: uuid.UUID | None
    hospital_id: uuid.UUID | None
    occurred_at: dt.datetime
    pharmacy_id: uuid.UUID | None = None  # then there is no doctor or hospital


async def account(
    connection: Connection,
    kind: AccountKind,
    currency: str,
    *,
    gateway_id: str | None = None,
    doctor_id: uuid.UUID | None = None,
    hospital_id: uuid.UUID | None = None,
    pharmacy_id: uuid.UUID | None = None,
) -> int:
    """The id of an account, opened on first use."""
    found = await connection.fetchval(
        """
        INSERT INTO ledger_accounts (kind, gateway_id, doctor_id, hospital_id, pharmacy_id,
                                     currency)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT ON CONSTRAINT ledger_accounts_identity DO NOTHING
        RETURNING id
        """,
        kind,
        gateway_id,
        doctor_id,
        hospital_id,
        pharmacy_id,
        currency,
    )
    if found is None:
        found = await connection.fetchval(
            """
            SELECT id FROM ledger_accounts
             WHERE kind = $1 AND gateway_id IS NOT DISTINCT FROM $2
               AND doctor_id IS NOT DISTINCT FROM $3 AND hospital_id IS NOT DISTINCT FROM $4
               AND pharmacy_id IS NOT DISTINCT FROM $5 AND currency = $6
            """,
            kind,
            gateway_id,
            doctor_id,
            hospital_id,
            pharmacy_id,
            currency,
        )
    return int(found)


async def rates_for(
    connection: Connection, hospital_id: uuid.UUID | None, at: dt.datetime, default: Rates
) -> Rates:
    """The hospital's agreement in force at ``at``, or the platform's default."""
    if hospital_id is None:
        return default
    row = await connection.fetchrow(
        """
        SELECT platform_rate_bp, hospital_rate_bp FROM hospital_agreements
         WHERE hospital_id = $1 AND effective_from <= $2
         ORDER BY effective_from DESC LIMIT 1
        """,
        hospital_id,
        at,
    )
    return Rates(row["platform_rate_bp"], row["hospital_rate_bp"]) if row else default


async def _write(
    connection: Connection,
    kind: Literal["charge", "refund"],
    payment_id: uuid.UUID,
    refund_id: uuid.UUID | None,
    currency: str,
    occurred_at: dt.datetime,
    entries: dict[int, int],
) -> int:
    transaction_id = await connection.fetchval(
        """
        INSERT INTO ledger_transactions (kind, payment_id, refund_id, currency, occurred_at)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        kind,
        payment_id,
        refund_id,
        currency,
        occurred_at,
    )
    await connection.executemany(
        "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) "
        "VALUES ($1, $2, $3, $4)",
        [(transaction_id, acc, currency, amount) for acc, amount in entries.items() if amount],
    )
    return int(transaction_id)


async def book_charge(connection: Connection, charge: ChargeToBook, rates: Rates) -> Shares:
    if charge.pharmacy_id is not None:
        if charge.doctor_id is not None or charge.hospital_id is not None:
            raise ValueError("a pharmacy's charge has no doctor's or hospital's share")
        shares = split_pharmacy_charge(charge.amount, platform_rate_bp=rates.platform_rate_bp)
    else:
        shares = split_charge(
            charge.amount,
            platform_rate_bp=rates.platform_rate_bp,
            hospital_rate_bp=rates.hospital_rate_bp,
            has_hospital=charge.hospital_id is not None,
            has_doctor=charge.doctor_id is not None,
        )
    currency = charge.currency
    clearing = await account(connection, "gateway_clearing", currency, gateway_id=charge.gateway_id)
    entries = {clearing: charge.amount}
    platform = await account(connection, "platform_commission", currency)
    entries[platform] = -shares.platform
    if charge.hospital_id is not None:
        hospital = await account(
            connection, "hospital_payable", currency, hospital_id=charge.hospital_id
        )
        entries[hospital] = -shares.hospital
    if charge.doctor_id is not None:
        doctor = await account(connection, "doctor_payable", currency, doctor_id=charge.doctor_id)
        entries[doctor] = -shares.doctor
    if charge.pharmacy_id is not None:
        pharmacy = await account(
            connection, "pharmacy_payable", currency, pharmacy_id=charge.pharmacy_id
        )
        entries[pharmacy] = -shares.pharmacy
    await _write(
        connection, "charge", charge.payment_id, None, currency, charge.occurred_at, entries
    )
    return shares


async def book_refund(
    connection: Connection,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
    amount: int,
    occurred_at: dt.datetime,
) -> dict[int, int]:
    """Reverse ``amount`` of the payment; returns account id → amount taken back."""
    rows = await connection.fetch(
        """
        SELECT e.account_id, a.kind, t.currency, sum(e.amount) AS balance
          FROM ledger_entries e
          JOIN ledger_transactions t ON t.id = e.transaction_id
          JOIN ledger_accounts a ON a.id = e.account_id
         WHERE t.payment_id = $1
         GROUP BY e.account_id, a.kind, t.currency
         ORDER BY e.account_id
        """,
        payment_id,
    )
    if not rows:
        raise LookupError(f"payment {payment_id} was never booked")
    currency = rows[0]["currency"]
    clearing = next(row["account_id"] for row in rows if row["kind"] == "gateway_clearing")
    # What each party still holds from this payment (credits, so negated).
    holdings = {
        row["account_id"]: -int(row["balance"]) for row in rows if row["kind"] != "gateway_clearing"
    }
    taken = allocate(amount, holdings)
    entries = {clearing: -amount, **taken}
    await _write(connection, "refund", payment_id, refund_id, currency, occurred_at, entries)
    return taken
