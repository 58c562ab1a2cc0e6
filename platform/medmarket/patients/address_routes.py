"""The address book API of the signed-in patient account: ``/api/me/addresses``.

Another account's entry, or a removed one, is answered as one that does not exist (404).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.patients.addresses import Addresses
from medmarket.patients.schemas import AddressIn, AddressOut, AddressPatch


def provide_addresses(request: Request[Any, Any, Any]) -> Addresses:
    return Addresses(request.app.state.services.db)


@get("/")
async def list_addresses(
    principal: NamedDependency[Principal], addresses: NamedDependency[Addresses]
) -> list[AddressOut]:
    """The account's addresses: the default first, then the newest."""
    return await addresses.list(principal)


@post("/", status_code=HTTP_201_CREATED)
async def add_address(
    data: JSONBody[AddressIn],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> AddressOut:
    """An address to deliver to (at most 20; the first becomes the default)."""
    return await addresses.add(principal, data, context)


@patch("/{address_id:uuid}")
async def change_address(
    address_id: FromPath[uuid.UUID],
    data: JSONBody[AddressPatch],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> AddressOut:
    """Change the fields given; the others keep their value."""
    return await addresses.change(principal, address_id, data, context)


@delete("/{address_id:uuid}", status_code=HTTP_204_NO_CONTENT)
async def remove_address(
    address_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> None:
    """Remove it from the book (orders sent there keep their copy); a removed default
    passes to the newest remaining address."""
    await addresses.remove(principal, address_id, context)


@post("/{address_id:uuid}/default", status_code=HTTP_200_OK)
async def make_default_address(
    address_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    addresses: NamedDependency[Addresses],
    context: NamedDependency[AuditContext],
) -> AddressOut:
    """Deliver here unless the patient chooses otherwise."""
    return await addresses.make_default(principal, address_id, context)


ROUTES = [
    Router(
        path="/api/me/addresses",
        opt=allow("patient"),
        tags=["patients"],
        route_handlers=[
            list_addresses,
            add_address,
            change_address,
            remove_address,
            make_default_address,
        ],
    )
]
DEPENDENCIES = {"addresses": Provide(provide_addresses, sync_to_thread=False)}
