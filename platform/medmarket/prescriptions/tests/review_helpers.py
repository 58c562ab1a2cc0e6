"""Reviewing pharmacies as the desk's tests need them: one registered by an operator (a
hospital's own or an independent one) with a pharmacist of its own, licence recorded."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Litestar

from medmarket.pharmacies.tests.helpers import register
from medmarket.tests.support.fixtures import (
    Account,
    client_for,
    create_operator_account,
    sign_up_and_in,
    unique_email,
)


@dataclass
class Pharmacy:
    id: str
    pharmacist: Account
    operator: Account


async def lone_pharmacist(app: Litestar, operator: Account) -> Account:
    """A pharmacist's account that works in no pharmacy."""
    email = unique_email("pharmacist")
    async with client_for(app) as http:
        invited = await http.post(
            "/api/invitations",
            headers=operator.headers,
            json={"email": email, "role": "pharmacist"},
        )
        assert invited.status_code == 201, invited.text
        return await sign_up_and_in(
            http, "pharmacist", invitation=invited.json()["token"], email=email
        )


async def pharmacist_of(
    app: Litestar, operator: Account, pharmacy_id: str, *, display_name: str = "药师 测试"
) -> Account:
    """A pharmacist invited and signed up, then added to the pharmacy with a licence."""
    email = unique_email("pharmacist")
    async with client_for(app) as http:
        invited = await http.post(
            "/api/invitations",
            headers=operator.headers,
            json={"email": email, "role": "pharmacist"},
        )
        assert invited.status_code == 201, invited.text
        pharmacist = await sign_up_and_in(
            http,
            "pharmacist",
            invitation=invited.json()["token"],
            email=email,
            display_name=display_name,
        )
        added = await http.post(
            f"/api/pharmacies/{pharmacy_id}/pharmacists",
            headers=operator.headers,
            json={"email": email, "licence_number": f"ZY{uuid.uuid4().int % 10**10:010d}"},
        )
        assert added.status_code == 201, added.text
    return pharmacist


async def reviewing_pharmacy(
    app: Litestar, *, hospital_id: str | None = None, **changes: Any
) -> Pharmacy:
    """A pharmacy that reviews prescriptions: the hospital's own when ``hospital_id`` is
    given, else an independent one; with one pharmacist."""
    operator = await create_operator_account(app)
    if hospital_id is not None:
        changes |= {"kind": "hospital", "hospital_id": hospital_id, "licence_number": None}
    async with client_for(app) as http:
        pharmacy = await register(http, operator, **changes)
    pharmacist = await pharmacist_of(app, operator, pharmacy["id"])
    return Pharmacy(id=pharmacy["id"], pharmacist=pharmacist, operator=operator)


async def routed_to(app: Litestar, prescription_id: str) -> str | None:
    found = await app.state.services.db.fetchval(
        "SELECT pharmacy_id FROM prescription_reviews WHERE prescription_id = $1",
        uuid.UUID(prescription_id),
    )
    return str(found) if found else None
