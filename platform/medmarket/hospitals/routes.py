"""Partner-hospital API: the public directory, operators' registration, admins' adapter setup."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import PUBLIC, allow
from medmarket.accounts.schemas import InvitationOut
from medmarket.accounts.service import Accounts, Principal
from medmarket.audit import AuditContext
from medmarket.hospitals.schemas import (
    AdapterConfigIn,
    AdapterConfigOut,
    AdapterTestOut,
    AdapterTypeOut,
    AdminInvitationIn,
    HospitalCreate,
    HospitalDetail,
    HospitalOut,
    HospitalUpdate,
)
from medmarket.hospitals.service import HospitalService

MANAGERS = allow("operator", "hospital_admin")
TAGS = ["hospitals"]


def provide_hospitals(request: Request[Any, Any, Any]) -> HospitalService:
    return HospitalService(request.app.state.services)


@get("/", opt=PUBLIC)
async def list_hospitals(hospitals: NamedDependency[HospitalService]) -> list[HospitalOut]:
    """Active partner hospitals (what a doctor picks when applying, what patients see)."""
    return await hospitals.directory()


@get("/{hospital_id:uuid}", opt=PUBLIC)
async def show_hospital(
    hospital_id: FromPath[uuid.UUID], hospitals: NamedDependency[HospitalService]
) -> HospitalOut:
    return await hospitals.public(hospital_id)


@post("/", status_code=HTTP_201_CREATED)
async def register_hospital(
    data: JSONBody[HospitalCreate],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> HospitalDetail:
    """Register a partner hospital; then invite its admin."""
    return await hospitals.create(principal, data, context)


@patch("/{hospital_id:uuid}")
async def change_hospital(
    hospital_id: FromPath[uuid.UUID],
    data: JSONBody[HospitalUpdate],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> HospitalDetail:
    """Change a hospital's details, or suspend it (its doctors stop being bookable)."""
    return await hospitals.update(principal, hospital_id, data, context)


@post("/{hospital_id:uuid}/admin-invitations", status_code=HTTP_201_CREATED)
async def invite_hospital_admin(
    hospital_id: FromPath[uuid.UUID],
    data: JSONBody[AdminInvitationIn],
    hospitals: NamedDependency[HospitalService],
    accounts: NamedDependency[Accounts],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> InvitationOut:
    """Invite the hospital's admin; the token is shown once. Accepting it (signing up with
    it) makes the new account an admin of this hospital."""
    return await hospitals.invite_admin(principal, hospital_id, data, accounts, context)


@get("/{hospital_id:uuid}/settings", opt=MANAGERS)
async def hospital_settings(
    hospital_id: FromPath[uuid.UUID],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
) -> HospitalDetail:
    """Everything about the hospital its admins and operators manage (secrets held back)."""
    return await hospitals.detail(principal, hospital_id)


@get("/")
async def my_hospitals(
    hospitals: NamedDependency[HospitalService], principal: NamedDependency[Principal]
) -> list[HospitalDetail]:
    """The hospitals the caller manages (all of them, for operators)."""
    return await hospitals.managed_by(principal)


@get("/")
async def list_adapter_types(hospitals: NamedDependency[HospitalService]) -> list[AdapterTypeOut]:
    """Installed kinds of hospital adapter, each with its configuration form."""
    return hospitals.adapter_types()


@put("/", status_code=HTTP_200_OK)
async def configure_adapter(
    hospital_id: FromPath[uuid.UUID],
    data: JSONBody[AdapterConfigIn],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> AdapterConfigOut:
    """Connect the hospital's systems: pick an adapter type and fill its configuration."""
    return await hospitals.configure_adapter(principal, hospital_id, data, context)


@post("/test", status_code=HTTP_200_OK)
async def check_adapter(
    hospital_id: FromPath[uuid.UUID],
    hospitals: NamedDependency[HospitalService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> AdapterTestOut:
    """Ask the hospital's systems whether they answer with the stored configuration."""
    return await hospitals.test_adapter(principal, hospital_id, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            # Operators register and change hospitals; the directory is public.
            Router(
                path="/hospitals",
                opt=allow("operator"),
                route_handlers=[
                    list_hospitals,
                    show_hospital,
                    register_hospital,
                    change_hospital,
                    invite_hospital_admin,
                    hospital_settings,
                ],
            ),
            Router(path="/me/hospitals", opt=MANAGERS, route_handlers=[my_hospitals]),
            Router(
                path="/hospital-adapter-types", opt=MANAGERS, route_handlers=[list_adapter_types]
            ),
            Router(
                path="/hospitals/{hospital_id:uuid}/adapter",
                opt=MANAGERS,
                route_handlers=[configure_adapter, check_adapter],
            ),
        ],
    )
]
DEPENDENCIES = {"hospitals": Provide(provide_hospitals, sync_to_thread=False)}
