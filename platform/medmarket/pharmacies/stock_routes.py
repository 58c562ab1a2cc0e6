"""Stock, prices and delivery areas API: everyone signed in reads what an open pharmacy
sells and where it delivers (patients choose by it); its pharmacists, operators and its
hospital's admins change them, one item at a time or as a whole list (a pharmacy's own
system syncing)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from medmarket.accounts.guards import SIGNED_IN, allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.pharmacies.schemas import (
    DeliveryArea,
    DeliveryAreas,
    StockItemIn,
    StockItemOut,
    StockSynced,
    StockSyncIn,
    StockUnit,
)
from medmarket.pharmacies.stock import StockService

EDITORS = allow("pharmacist", "operator", "hospital_admin")
TAGS = ["pharmacies"]


def provide_pharmacy_stock(request: Request[Any, Any, Any]) -> StockService:
    return StockService(request.app.state.services.db)


@get("/stock", opt=SIGNED_IN)
async def read_stock(
    pharmacy_id: FromPath[uuid.UUID],
    pharmacy_stock: NamedDependency[StockService],
    principal: NamedDependency[Principal],
) -> list[StockItemOut]:
    """What the pharmacy sells: each drug and unit with its price (fen) and on-hand count."""
    return await pharmacy_stock.stock(principal, pharmacy_id)


@put("/stock/{drug_id:uuid}/{unit:str}", status_code=HTTP_200_OK)
async def put_stock_item(
    pharmacy_id: FromPath[uuid.UUID],
    drug_id: FromPath[uuid.UUID],
    unit: FromPath[StockUnit],
    data: JSONBody[StockItemIn],
    pharmacy_stock: NamedDependency[StockService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> StockItemOut:
    """Sell the drug by this unit at this price with this much on hand (create or update).
    A retired or unknown drug is a 422; a closed pharmacy a 409."""
    return await pharmacy_stock.put_item(principal, pharmacy_id, drug_id, unit, data, context)


@put("/stock", status_code=HTTP_200_OK)
async def sync_stock(
    pharmacy_id: FromPath[uuid.UUID],
    data: JSONBody[StockSyncIn],
    pharmacy_stock: NamedDependency[StockService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> StockSynced:
    """Replace what the pharmacy sells with the list: what it leaves out is kept, at
    on_hand 0. One audit event with the counts."""
    return await pharmacy_stock.sync(principal, pharmacy_id, data.items, context)


@get("/delivery-areas", opt=SIGNED_IN)
async def read_delivery_areas(
    pharmacy_id: FromPath[uuid.UUID],
    pharmacy_stock: NamedDependency[StockService],
    principal: NamedDependency[Principal],
) -> list[DeliveryArea]:
    """Where the pharmacy delivers by courier: whole cities (district null) or districts."""
    return await pharmacy_stock.delivery_areas(principal, pharmacy_id)


@put("/delivery-areas", status_code=HTTP_200_OK)
async def replace_delivery_areas(
    pharmacy_id: FromPath[uuid.UUID],
    data: JSONBody[DeliveryAreas],
    pharmacy_stock: NamedDependency[StockService],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> list[DeliveryArea]:
    """Replace where the pharmacy delivers (an empty list: counter pickup only)."""
    return await pharmacy_stock.replace_delivery_areas(principal, pharmacy_id, data, context)


ROUTES: list[ControllerRouterHandler] = [
    Router(
        path="/api/pharmacies/{pharmacy_id:uuid}",
        tags=TAGS,
        # Its pharmacists, operators and its hospital's admins edit; reads say SIGNED_IN.
        opt=EDITORS,
        route_handlers=[
            read_stock,
            put_stock_item,
            sync_stock,
            read_delivery_areas,
            replace_delivery_areas,
        ],
    )
]
DEPENDENCIES = {"pharmacy_stock": Provide(provide_pharmacy_stock, sync_to_thread=False)}
