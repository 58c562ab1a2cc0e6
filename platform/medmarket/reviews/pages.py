"""The doctor's reviews page: what patients wrote after their visits (rating, text, date in
the doctor's own language and time zone), newest first or only those still unanswered, and
one public reply to each, which then shows under the review on the doctor's public page.

Thin handlers over ``Reviews``: the service decides who may reply and that it is once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import NotFound, Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.rendering import page, see_other, translator
from medmarket.reviews.schemas import ReplyIn, ReviewPage
from medmarket.reviews.service import Reviews

DOCTOR = allow("doctor")
REVIEWS_PER_PAGE = 20
Cursor = Annotated[dt.datetime | None, QueryParameter()]
Text = Annotated[str | None, QueryParameter(max_length=100)]


def reviews_url(*, before: str | None = None, unanswered: bool = False) -> str:
    query = {"show": "unanswered"} if unanswered else {}
    if before:
        query["before"] = before
    return "/doctor/reviews" + (f"?{urlencode(query)}" if query else "")


async def _reviews_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    reviews: Reviews,
    *,
    before: dt.datetime | None,
    unanswered: bool,
    failed: uuid.UUID | None = None,
    form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    summary = await reviews.summary_of_own(principal)
    shown = ReviewPage(reviews=[], next_cursor=None)
    if summary is not None:
        shown = await reviews.of_doctor(
            summary.doctor_id, before, REVIEWS_PER_PAGE, unanswered=unanswered
        )
    more = reviews_url(before=shown.next_cursor, unanswered=unanswered)
    return page(
        request,
        "doctor/reviews.html",
        status=status,
        summary=summary,
        reviews=shown.reviews,
        unanswered=unanswered,
        # Each reply form says which page it was on, so a refused reply is shown there again.
        cursor=before.isoformat() if before else "",
        more_url=more if shown.next_cursor else None,
        failed=failed,
        form=form or FormState(),
        notice=notice,
    )


@get("/")
async def my_reviews(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    reviews: NamedDependency[Reviews],
    before: Cursor = None,
    show: Text = None,
    done: Text = None,
) -> Template:
    return await _reviews_page(
        request,
        principal,
        reviews,
        before=before,
        unanswered=show == "unanswered",
        notice="replied" if done == "replied" else None,
    )


@post("/{review_id:uuid}/reply")
async def reply(
    request: Request[Any, Any, Any],
    review_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    reviews: NamedDependency[Reviews],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {"reply": submitted.get("reply", "").strip()}
    unanswered = submitted.get("show") == "unanswered"
    try:
        before = dt.datetime.fromisoformat(submitted["at"]) if submitted.get("at") else None
    except ValueError:
        before = None
    if before is not None and before.tzinfo is None:
        before = None
    try:
        await reviews.reply(principal, review_id, parse_form(ReplyIn, values, ("reply",)), context)
    except NotFound:
        raise  # another doctor's review: the 404 page, as for one that does not exist
    except Problem as problem:
        form = FormState.from_problem(problem, translator(request), values, ("reply",))
        return await _reviews_page(
            request,
            principal,
            reviews,
            before=before,
            unanswered=unanswered,
            failed=review_id,
            form=form,
            status=problem.status,
        )
    # Back where the doctor was; answered reviews leave the "unanswered" list, so show all.
    back = reviews_url(before=before.isoformat() if before else None)
    separator = "&" if "?" in back else "?"
    return see_other(f"{back}{separator}done=replied#review-{review_id}")


ROUTES = [
    Router(
        path="/doctor/reviews",
        opt=DOCTOR,
        route_handlers=[my_reviews, reply],
        include_in_schema=False,
    )
]
