"""The ledger in the database: every transaction balances (the database refuses one that
does not), nothing booked can change, and random sequences of charges and refunds leave
every account where the arithmetic says."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from medmarket.db import Database
from medmarket.ledger.service import ChargeToBook, Rates, account, book_charge, book_refund
from medmarket.pharmacies.tests.helpers import register
from medmarket.tests.support.fixtures import Account
from medmarket.tests.support.payments import new_doctor, new_hospital

NOW = dt.datetime(2026, 3, 5, 1, 0, tzinfo=dt.UTC)


async def succeeded_payment(
    db: Database,
    payer: str,
    amount: int,
    doctor: uuid.UUID | None,
    hospital: uuid.UUID | None,
    pharmacy: uuid.UUID | None = None,
) -> uuid.UUID:
    value = await db.fetchval(
        """
        INSERT INTO payments (reference, purpose, subject_id, payer_id, amount, currency,
                              description, doctor_id, hospital_id, pharmacy_id, gateway_id,
                              external_id, status, succeeded_at)
        VALUES ($1, 'test_payable', gen_random_uuid(), $2, $3, 'CNY', 'ledger test', $4, $5,
                $6, 'stripe', $1, 'succeeded', now())
        RETURNING id
        """,
        f"pay_{secrets.token_hex(8)}",
        uuid.UUID(payer),
        amount,
        doctor,
        hospital,
        pharmacy,
    )
    return uuid.UUID(str(value))


async def succeeded_refund(db: Database, payment_id: uuid.UUID, amount: int) -> uuid.UUID:
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE payments SET refunded_amount = refunded_amount + $2 WHERE id = $1",
            payment_id,
            amount,
        )
        value = await connection.fetchval(
            """
            INSERT INTO payment_refunds (payment_id, reference, request_key, amount, reason,
                                         status, succeeded_at)
            VALUES ($1, $2, $2, $3, 'operator_decision', 'succeeded', now()) RETURNING id
            """,
            payment_id,
            f"rf_{secrets.token_hex(8)}",
            amount,
        )
    return uuid.UUID(str(value))


async def unbalanced(db: Database, payment_id: uuid.UUID) -> list[int]:
    rows = await db.fetch(
        """
        SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
         WHERE t.payment_id = $1 GROUP BY t.id
        HAVING coalesce(sum(e.amount), 0) <> 0 OR count(e.id) < 2
        """,
        payment_id,
    )
    return [row["id"] for row in rows]


async def net_by_kind(db: Database, payment_id: uuid.UUID) -> dict[str, int]:
    rows = await db.fetch(
        """
        SELECT a.kind, sum(e.amount) AS total FROM ledger_entries e
          JOIN ledger_accounts a ON a.id = e.account_id
          JOIN ledger_transactions t ON t.id = e.transaction_id
         WHERE t.payment_id = $1 GROUP BY a.kind
        """,
        payment_id,
    )
    return {row["kind"]: int(row["total"]) for row in rows}


@pytest.fixture
async def parties(
    app: Litestar, client: httpx.AsyncClient, operator: Account, sign_up: Callable[..., Any]
) -> dict[str, Any]:
    hospital = await new_hospital(app)
    doctor = await new_doctor(app, (await sign_up("doctor")).id, hospital)
    pharmacy = uuid.UUID((await register(client, operator))["id"])
    return {"payer": (await sign_up("patient")).id, "doctor": doctor, "hospital": hospital,
            "pharmacy": pharmacy}  # fmt: skip


scenario = st.tuples(
    st.integers(1, 10**8),  # amount in fen
    st.tuples(st.integers(0, 10000), st.integers(0, 10000)).filter(lambda r: sum(r) <= 10000),
    st.booleans(),  # has a doctor
    st.booleans(),  # has a hospital
    st.booleans(),  # pays a pharmacy instead (a pharmacy order: no doctor or hospital)
    st.lists(st.floats(0.0, 1.0, allow_nan=False), max_size=4),  # refunds as shares of what is left
    st.booleans(),  # refund everything in the end
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cases=st.lists(scenario, min_size=1, max_size=3))
async def test_random_charges_and_refunds_always_balance(
    app: Litestar, parties: dict[str, Any], cases: list[Any]
) -> None:
    db = app.state.services.db
    for amount, rates, has_doctor, has_hospital, has_pharmacy, shares, refund_all in cases:
        doctor = parties["doctor"] if has_doctor and not has_pharmacy else None
        hospital = parties["hospital"] if has_hospital and not has_pharmacy else None
        pharmacy = parties["pharmacy"] if has_pharmacy else None
        payment_id = await succeeded_payment(
            db, parties["payer"], amount, doctor, hospital, pharmacy
        )
        async with db.transaction() as connection:
            booked = await book_charge(
                connection,
                ChargeToBook(
                    payment_id=payment_id,
                    amount=amount,
                    currency="CNY",
                    gateway_id="stripe",
                    doctor_id=doctor,
                    hospital_id=hospital,
                    occurred_at=NOW,
                    pharmacy_id=pharmacy,
                ),
                Rates(*rates),
            )
        left = amount
        for share in shares:
            refund = max(1, int(left * share)) if left else 0
            if refund == 0:
                break
            refund_id = await succeeded_refund(db, payment_id, refund)
            async with db.transaction() as connection:
                taken = await book_refund(connection, payment_id, refund_id, refund, NOW)
            assert sum(taken.values()) == refund and all(v >= 0 for v in taken.values())
            left -= refund
        if refund_all and left:
            refund_id = await succeeded_refund(db, payment_id, left)
            async with db.transaction() as connection:
                await book_refund(connection, payment_id, refund_id, left, NOW)
            left = 0
        assert await unbalanced(db, payment_id) == []
        net = await net_by_kind(db, payment_id)
        assert net["gateway_clearing"] == left
        assert sum(net.values()) == 0
        if left == 0:
            assert set(net.values()) == {0}
        else:  # each party keeps at most its share, and within a fen of its proportion
            expected = {
                "platform_commission": booked.platform,
                "hospital_payable": booked.hospital,
                "doctor_payable": booked.doctor,
                "pharmacy_payable": booked.pharmacy,
            }
            for kind, original in expected.items():
                kept = -net.get(kind, 0)
                assert 0 <= kept <= original
                # Each rounding is under a fen, so the drift is bounded by the number of refunds.
                assert abs(kept - original * left / amount) <= len(shares) + 1


async def test_an_unbalanced_transaction_is_refused_at_commit(
    app: Litestar, parties: dict[str, Any]
) -> None:
    db = app.state.services.db
    payment_id = await succeeded_payment(db, parties["payer"], 1000, None, None)

    async def book(amounts: list[int]) -> None:
        async with db.transaction() as connection:
            clearing = await account(connection, "gateway_clearing", "CNY", gateway_id="stripe")
            platform = await account(connection, "platform_commission", "CNY")
            transaction_id = await connection.fetchval(
                "INSERT INTO ledger_transactions (kind, payment_id, currency) "
                "VALUES ('charge', $1, 'CNY') RETURNING id",
                payment_id,
            )
            for account_id, amount in zip([clearing, platform], amounts, strict=False):
                await connection.execute(
                    "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) "
                    "VALUES ($1, $2, 'CNY', $3)",
                    transaction_id,
                    account_id,
                    amount,
                )

    with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
        await book([1000, -999])
    with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
        await book([])  # a transaction with no entries
    with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
        await book([1000])
    assert (
        await db.fetchval(
            "SELECT count(*) FROM ledger_transactions WHERE payment_id = $1", payment_id
        )
        == 0
    )
    await book([1000, -1000])
    with pytest.raises(asyncpg.UniqueViolationError):
        await book([1000, -1000])  # a payment is booked once


async def test_an_entry_in_another_currency_than_its_account_is_refused(
    app: Litestar, parties: dict[str, Any]
) -> None:
    db = app.state.services.db
    payment_id = await succeeded_payment(db, parties["payer"], 1000, None, None)

    async def book_in_dollars() -> None:
        async with db.transaction() as connection:
            usd = await account(connection, "platform_commission", "USD")
            transaction_id = await connection.fetchval(
                "INSERT INTO ledger_transactions (kind, payment_id, currency) "
                "VALUES ('charge', $1, 'CNY') RETURNING id",
                payment_id,
            )
            await connection.execute(
                "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) "
                "VALUES ($1, $2, 'CNY', 5)",
                transaction_id,
                usd,
            )

    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await book_in_dollars()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = amount * 2",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_transactions SET currency = 'USD'",
        "DELETE FROM ledger_transactions",
        "DELETE FROM payments",
    ],
)
async def test_what_is_booked_cannot_be_changed_by_the_application(
    app: Litestar, statement: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app.state.services.db.execute(statement)


async def test_a_pharmacy_is_paid_alone_into_one_account_per_currency(
    app: Litestar, parties: dict[str, Any]
) -> None:
    db = app.state.services.db
    pharmacy = parties["pharmacy"]
    for doctor, hospital in [(parties["doctor"], None), (None, parties["hospital"])]:
        with pytest.raises(asyncpg.CheckViolationError, match="payments_pharmacy_alone"):
            await succeeded_payment(db, parties["payer"], 1000, doctor, hospital, pharmacy)
    async with db.transaction() as connection:
        first = await account(connection, "pharmacy_payable", "CNY", pharmacy_id=pharmacy)
        again = await account(connection, "pharmacy_payable", "CNY", pharmacy_id=pharmacy)
        dollars = await account(connection, "pharmacy_payable", "USD", pharmacy_id=pharmacy)
    assert first == again != dollars
    with pytest.raises(asyncpg.CheckViolationError, match="ledger_accounts_pharmacy_check"):
        async with db.transaction() as connection:
            await account(connection, "pharmacy_payable", "CNY")
    with pytest.raises(asyncpg.CheckViolationError, match="ledger_accounts_pharmacy_check"):
        async with db.transaction() as connection:
            await account(connection, "platform_commission", "CNY", pharmacy_id=pharmacy)
