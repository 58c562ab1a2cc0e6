"""The pharmacy staff's "库存与价格 / Stock and prices" page: what their pharmacy sells, each
line's price (in yuan) and on-hand count edited in place, a drug search to add one, and the
delivery areas as a line per area ("浙江省 杭州市 西湖区"; no district: the whole city). Plain
forms that work without script; thin handlers over ``StockService``, which holds the rules.
A pharmacist reaches it from the desk's navigation, for the pharmacy they work in."""

from __future__ import annotations

import decimal
import uuid
from typing import Annotated, Any, get_args

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.drugs.service import DrugCatalog
from medmarket.errors import InvalidInput, NotFound, Problem
from medmarket.pages.forms import FormState, form_fields
from medmarket.pages.rendering import page, see_other, translator
from medmarket.pharmacies.members import PharmacyMembers
from medmarket.pharmacies.schemas import DeliveryArea, StockItemIn, StockUnit
from medmarket.pharmacies.stock import StockService

PHARMACIST = allow("pharmacist")
UNITS: tuple[str, ...] = get_args(StockUnit)
ITEM_FIELDS = ("drug_id", "unit", "price", "on_hand")
NOTICES = ("saved", "areas_saved")
Text = Annotated[str | None, QueryParameter(max_length=100)]


async def _pharmacy_id(members: PharmacyMembers, principal: Principal) -> uuid.UUID | None:
    mine = await members.mine(principal)
    return mine.pharmacy.id if mine else None


def _areas_text(areas: list[DeliveryArea]) -> str:
    return "\n".join(
        " ".join(part for part in (a.province, a.city, a.district) if part) for a in areas
    )


def _price_fen(typed: str) -> int:
    """Yuan as people type them ("12.5", "¥12.50") in fen."""
    try:
        yuan = decimal.Decimal(typed.strip().lstrip("¥￥").strip())
    except decimal.InvalidOperation:
        yuan = decimal.Decimal(-1)
    fen = yuan * 100
    if not yuan.is_finite() or fen != fen.to_integral_value() or fen < 1:
        raise InvalidInput(
            "price: yuan, to the fen (e.g. 12.50)", field="price_fen", code="not-a-price"
        )
    return int(fen)


def _on_hand(typed: str) -> decimal.Decimal:
    try:
        return decimal.Decimal(typed.strip() or "0")
    except decimal.InvalidOperation:
        raise InvalidInput("on_hand: a number", field="on_hand", code="not-a-number") from None


async def _stock_page(
    request: Request[Any, Any, Any],
    stock: StockService,
    drugs: DrugCatalog,
    principal: Principal,
    pharmacy_id: uuid.UUID | None,
    *,
    q: str | None = None,
    form: FormState | None = None,
    areas_form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    if pharmacy_id is None:
        return page(request, "pharmacist/stock.html", no_pharmacy=True)
    items = await stock.stock(principal, pharmacy_id)
    areas = await stock.delivery_areas(principal, pharmacy_id)
    found = await drugs.search(q, limit=10) if q else []
    return page(
        request,
        "pharmacist/stock.html",
        status=status,
        no_pharmacy=False,
        items=items,
        q=q or "",
        found=found,
        units=UNITS,
        form=form or FormState(),
        areas_form=areas_form or FormState(values={"areas": _areas_text(areas)}),
        notice=notice if notice in NOTICES else None,
    )


@get("/")
async def stock_page(
    request: Request[Any, Any, Any],
    pharmacy_stock: NamedDependency[StockService],
    pharmacy_members: NamedDependency[PharmacyMembers],
    drugs: NamedDependency[DrugCatalog],
    principal: NamedDependency[Principal],
    q: Text = None,
    done: Text = None,
) -> Template:
    pharmacy_id = await _pharmacy_id(pharmacy_members, principal)
    return await _stock_page(
        request, pharmacy_stock, drugs, principal, pharmacy_id, q=q, notice=done
    )


@post("/items")
async def save_item(
    request: Request[Any, Any, Any],
    pharmacy_stock: NamedDependency[StockService],
    pharmacy_members: NamedDependency[PharmacyMembers],
    drugs: NamedDependency[DrugCatalog],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    """Create or update one line: a drug in a unit, its price and on-hand count."""
    pharmacy_id = await _pharmacy_id(pharmacy_members, principal)
    if pharmacy_id is None:
        raise NotFound("you do not work in a pharmacy yet")
    submitted = await form_fields(request)
    values = {name: submitted.get(name, "").strip() for name in ITEM_FIELDS}
    try:
        try:
            drug_id = uuid.UUID(values["drug_id"])
        except ValueError:
            raise InvalidInput("choose a drug", field="drug_id", code="required") from None
        if values["unit"] not in UNITS:
            raise InvalidInput("choose a unit", field="unit", code="required")
        data = StockItemIn(
            price_fen=_price_fen(values["price"]), on_hand=_on_hand(values["on_hand"])
        )
        await pharmacy_stock.put_item(
            principal, pharmacy_id, drug_id, values["unit"], data, context
        )
    except NotFound:
        raise
    except Problem as problem:
        form = FormState.from_problem(
            problem,
            translator(request),
            values,
            ITEM_FIELDS,
            aliases={"price_fen": "price"},
        )
        return await _stock_page(
            request,
            pharmacy_stock,
            drugs,
            principal,
            pharmacy_id,
            form=form,
            status=problem.status,
        )
    return see_other("/pharmacy/stock?done=saved")


@post("/areas")
async def save_areas(
    request: Request[Any, Any, Any],
    pharmacy_stock: NamedDependency[StockService],
    pharmacy_members: NamedDependency[PharmacyMembers],
    drugs: NamedDependency[DrugCatalog],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    """Replace the delivery areas: a line per area, its parts separated by spaces."""
    pharmacy_id = await _pharmacy_id(pharmacy_members, principal)
    if pharmacy_id is None:
        raise NotFound("you do not work in a pharmacy yet")
    typed = (await form_fields(request)).get("areas", "")
    try:
        areas = []
        for number, line in enumerate(typed.splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if not 2 <= len(parts) <= 3:
                raise InvalidInput(
                    f"line {number}: province, city and maybe a district",
                    field="areas",
                    code="not-an-area",
                )
            province, city, *district = parts
            areas.append(
                DeliveryArea(
                    province=province, city=city, district=district[0] if district else None
                )
            )
        await pharmacy_stock.replace_delivery_areas(principal, pharmacy_id, areas, context)
    except NotFound:
        raise
    except Problem as problem:
        areas_form = FormState.from_problem(
            problem, translator(request), {"areas": typed}, ("areas",)
        )
        return await _stock_page(
            request,
            pharmacy_stock,
            drugs,
            principal,
            pharmacy_id,
            areas_form=areas_form,
            status=problem.status,
        )
    return see_other("/pharmacy/stock?done=areas_saved")


ROUTES = [
    Router(
        path="/pharmacy/stock",
        opt=PHARMACIST,
        route_handlers=[stock_page, save_item, save_areas],
        include_in_schema=False,
    )
]
