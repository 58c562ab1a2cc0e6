"""Drug catalog API: signed-in doctors, pharmacists and operators search and read it as they
type; operators add, edit, retire and restore drugs (each audited)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.drugs.schemas import DrugIn, DrugOut, DrugResults
from medmarket.drugs.search import MAX_QUERY_LENGTH
from medmarket.drugs.service import DrugCatalog
from medmarket.errors import Forbidden

TAGS = ["drugs"]
READERS = allow("doctor", "pharmacist", "operator")
OPERATOR = allow("operator")


def provide_drugs(request: Request[Any, Any, Any]) -> DrugCatalog:
    return DrugCatalog(request.app.state.services.db)


@get("/", opt=READERS)
async def search_drugs(
    principal: NamedDependency[Principal],
    drugs: NamedDependency[DrugCatalog],
    q: Annotated[str, QueryParameter(min_length=1, max_length=MAX_QUERY_LENGTH)],
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
    include_retired: FromQuery[bool] = False,
) -> DrugResults:
    """Drugs matching what is typed so far, best first: Chinese (氨氯), pinyin initials
    (aldp) or spelling (anlv), English (amlo), or an ATC code (C08CA). Retired drugs only
    for operators who ask (``include_retired``)."""
    if include_retired and principal.role != "operator":
        raise Forbidden("only operators see retired drugs", field="include_retired")
    found = await drugs.search(q, limit=limit, include_retired=include_retired)
    return DrugResults(drugs=found)


@get("/{drug_id:uuid}", opt=READERS)
async def get_drug(drug_id: FromPath[uuid.UUID], drugs: NamedDependency[DrugCatalog]) -> DrugOut:
    """One drug by its id, retired or not (a prescription keeps naming it)."""
    return await drugs.get(drug_id)


@post("/", status_code=HTTP_201_CREATED)
async def create_drug(
    data: JSONBody[DrugIn],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> DrugOut:
    """Add a drug; the same generic name, form and strength twice is a 409."""
    return await drugs.create(data, context)


@put("/{drug_id:uuid}")
async def update_drug(
    drug_id: FromPath[uuid.UUID],
    data: JSONBody[DrugIn],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> DrugOut:
    """Replace a drug's fields (all of them); the audit event lists what changed."""
    return await drugs.update(drug_id, data, context)


@post("/{drug_id:uuid}/retire", status_code=HTTP_200_OK)
async def retire_drug(
    drug_id: FromPath[uuid.UUID],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> DrugOut:
    """Stop offering a drug; it is kept for whatever already names it."""
    return await drugs.retire(drug_id, context)


@post("/{drug_id:uuid}/restore", status_code=HTTP_200_OK)
async def restore_drug(
    drug_id: FromPath[uuid.UUID],
    drugs: NamedDependency[DrugCatalog],
    context: NamedDependency[AuditContext],
) -> DrugOut:
    """Offer a retired drug again."""
    return await drugs.restore(drug_id, context)


ROUTES = [
    Router(
        path="/api/drugs",
        # Operators keep the catalog; doctors and pharmacists read it.
        opt=OPERATOR,
        tags=TAGS,
        route_handlers=[
            search_drugs,
            get_drug,
            create_drug,
            update_drug,
            retire_drug,
            restore_drug,
        ],
    )
]
DEPENDENCIES = {"drugs": Provide(provide_drugs, sync_to_thread=False)}
