"""Partner-pharmacy API: operators (any pharmacy) and a partner hospital's admins (their
hospital's own) register, edit and close pharmacies and place pharmacists in them; everyone
signed in reads the pharmacies that dispense; a pharmacist reads their own."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from medmarket.accounts.guards import SIGNED_IN, allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import NotFound
from medmarket.openapi import answers
from medmarket.pharmacies.members import PharmacyMembers
from medmarket.pharmacies.schemas import (
    MyPharmacy,
    PharmacistIn,
    PharmacistLicenceIn,
    PharmacistOut,
    PharmacyIn,
    PharmacyOut,
    PharmacyPublic,
    PharmacyStatus,
    PharmacyUpdate,
)
from medmarket.pharmacies.service import PharmacyService

MANAGERS = allow("operator", "hospital_admin")
TAGS = ["pharmacies"]


def provide_pharmacies(request: Request[Any, Any, Any]) -> PharmacyService:
    return PharmacyService(request.app.state.services.db)


def provide_pharmacy_members(request: Request[Any, Any, Any]) -> PharmacyMembers:
    return PharmacyMembers(request.app.state.services.db)


@get("/")
async def list_pharmacies(
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    status: FromQuery[PharmacyStatus] = "open",
) -> list[PharmacyOut]:
    """The pharmacies the caller manages (every one, for operators): open, closed or all."""
    return await pharmacies.managed_by(principal, status)


@post("/", status_code=HTTP_201_CREATED)
async def register_pharmacy(
    data: JSONBody[PharmacyIn],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PharmacyOut:
    """Register a pharmacy: a hospital's own (its admins may, for their hospital) or an
    independent one (operators only)."""
    return await pharmacies.create(principal, data, context)


@get("/dispensing", opt=SIGNED_IN)
async def dispensing_pharmacies(
    pharmacies: NamedDependency[PharmacyService],
) -> list[PharmacyPublic]:
    """Open pharmacies that dispense, by province, city and name: where a prescription can
    be filled."""
    return await pharmacies.directory()


@get("/{pharmacy_id:uuid}")
async def show_pharmacy(
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
) -> PharmacyOut:
    return await pharmacies.get(principal, pharmacy_id)


@patch("/{pharmacy_id:uuid}")
async def change_pharmacy(
    pharmacy_id: FromPath[uuid.UUID],
    data: JSONBody[PharmacyUpdate],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PharmacyOut:
    """Change the fields given; ``opening_hours`` replaces the week. A closed pharmacy no
    longer changes (409)."""
    return await pharmacies.update(principal, pharmacy_id, data, context)


@post("/{pharmacy_id:uuid}/close", status_code=HTTP_200_OK)
async def close_pharmacy(
    pharmacy_id: FromPath[uuid.UUID],
    pharmacies: NamedDependency[PharmacyService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PharmacyOut:
    """Close the pharmacy for good; its pharmacists' memberships end with it."""
    return await pharmacies.close(principal, pharmacy_id, context)


@post("/{pharmacy_id:uuid}/pharmacists", status_code=HTTP_201_CREATED)
async def add_pharmacist(
    pharmacy_id: FromPath[uuid.UUID],
    data: JSONBody[PharmacistIn],
    pharmacy_members: NamedDependency[PharmacyMembers],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PharmacistOut:
    """An existing pharmacist's account joins the pharmacy, by its e-mail address (one who
    has none yet is invited with ``pharmacy_id``). One pharmacy at a time: 409 otherwise."""
    return await pharmacy_members.add(principal, pharmacy_id, data, context)


@put("/{pharmacy_id:uuid}/pharmacists/{user_id:uuid}/licence", status_code=HTTP_200_OK)
async def record_pharmacist_licence(
    pharmacy_id: FromPath[uuid.UUID],
    user_id: FromPath[uuid.UUID],
    data: JSONBody[PharmacistLicenceIn],
    pharmacy_members: NamedDependency[PharmacyMembers],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PharmacistOut:
    """Record the licence number (执业药师注册证号) of a pharmacist working here."""
    return await pharmacy_members.record_licence(principal, pharmacy_id, user_id, data, context)


@post("/{pharmacy_id:uuid}/pharmacists/{user_id:uuid}/end", status_code=HTTP_200_OK)
async def end_membership(
    pharmacy_id: FromPath[uuid.UUID],
    user_id: FromPath[uuid.UUID],
    pharmacy_members: NamedDependency[PharmacyMembers],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> PharmacistOut:
    """The pharmacist no longer works here; the membership is kept, ended."""
    return await pharmacy_members.end(principal, pharmacy_id, user_id, context)


@get("/", opt=answers(404))
async def my_pharmacy(
    pharmacy_members: NamedDependency[PharmacyMembers], principal: NamedDependency[Principal]
) -> MyPharmacy:
    """The pharmacy you work in, and your membership of it; 404 while you work in none."""
    mine = await pharmacy_members.mine(principal)
    if mine is None:
        raise NotFound(
            "you do not work in a pharmacy yet: an operator or your hospital's admin adds you"
        )
    return mine


ROUTES: list[ControllerRouterHandler] = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            # Operators and the hospital's admins manage pharmacies.
            Router(
                path="/pharmacies",
                opt=MANAGERS,
                route_handlers=[
                    list_pharmacies,
                    register_pharmacy,
                    dispensing_pharmacies,
                    show_pharmacy,
                    change_pharmacy,
                    close_pharmacy,
                    add_pharmacist,
                    record_pharmacist_licence,
                    end_membership,
                ],
            ),
            Router(path="/me/pharmacy", opt=allow("pharmacist"), route_handlers=[my_pharmacy]),
        ],
    )
]
DEPENDENCIES = {
    "pharmacies": Provide(provide_pharmacies, sync_to_thread=False),
    "pharmacy_members": Provide(provide_pharmacy_members, sync_to_thread=False),
}
