"""Reviews API: patients review completed visits, doctors reply, anyone reads them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import PUBLIC, allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.reviews.schemas import ReplyIn, ReviewIn, ReviewOut, ReviewPage
from medmarket.reviews.service import Reviews

TAGS = ["reviews"]


def provide_reviews(request: Request[Any, Any, Any]) -> Reviews:
    return Reviews(request.app.state.services.db)


@post("/", status_code=HTTP_201_CREATED)
async def write_review(
    booking_id: FromPath[uuid.UUID],
    data: JSONBody[ReviewIn],
    principal: NamedDependency[Principal],
    reviews: NamedDependency[Reviews],
    context: NamedDependency[AuditContext],
) -> ReviewOut:
    """Review a completed visit (once)."""
    return await reviews.write(principal, booking_id, data, context)


@post("/{review_id:uuid}/reply", status_code=HTTP_200_OK)
async def reply_to_review(
    review_id: FromPath[uuid.UUID],
    data: JSONBody[ReplyIn],
    principal: NamedDependency[Principal],
    reviews: NamedDependency[Reviews],
    context: NamedDependency[AuditContext],
) -> ReviewOut:
    return await reviews.reply(principal, review_id, data, context)


@get("/")
async def doctor_reviews(
    doctor_id: FromPath[uuid.UUID],
    reviews: NamedDependency[Reviews],
    before: FromQuery[dt.datetime | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
) -> ReviewPage:
    return await reviews.of_doctor(doctor_id, before, limit)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/bookings/{booking_id:uuid}/review",
                opt=allow("patient"),
                route_handlers=[write_review],
            ),
            Router(path="/doctor/reviews", opt=allow("doctor"), route_handlers=[reply_to_review]),
            Router(
                path="/doctors/{doctor_id:uuid}/reviews",
                opt=PUBLIC,
                route_handlers=[doctor_reviews],
            ),
        ],
    )
]
DEPENDENCIES = {"reviews": Provide(provide_reviews, sync_to_thread=False)}
