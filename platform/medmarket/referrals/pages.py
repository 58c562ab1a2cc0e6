"""The patient's referral pages, "转诊 / Referrals": the referrals of the account's
patients, and one referral with where and when to go, the green-channel ticket to show at
the department, what to bring, an emergency's advice first; agreeing to share the record
with the hospital (or declining) while it waits for that, cancelling with a reason while
the hospital has it, the refusal, the timeline in the reader's time zone, and the
discharge summary once the hospital sent the patient back. Thin handlers over
``Referring``, which holds the rules; the doctor's pages (``doctor_pages``) and the
hospital's (``desk_pages``) use this module's timeline."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.errors import Problem
from medmarket.pages.forms import FormState, form_fields, parse_form
from medmarket.pages.i18n import Translator
from medmarket.pages.rendering import page, see_other, translator
from medmarket.referrals.referring import Referring
from medmarket.referrals.schemas import CancelIn, DeclineIn, EventOut, ReferralOut
from medmarket.referrals.states import AT_HOSPITAL

# What every patient brings to the hospital (catalog keys ``referral.bring_<item>``); the
# hospital's own instructions come after.
TO_BRING = ("id_card", "insurance_card", "ticket", "reports", "medicines")
NOTICES = ("consented", "declined", "cancelled")
Done = Annotated[str | None, QueryParameter(max_length=20)]


@dataclass(frozen=True)
class TimelineLine:
    label: str
    by: str
    note: str
    at: Any


def timeline(t: Translator, events: list[EventOut]) -> list[TimelineLine]:
    """A referral's events as the reader reads them, newest first: what happened (the
    status it reached, told as an event), who said so (the doctor, the patient, the hospital
    or its system), and their note."""
    return [
        TimelineLine(
            label=t.get(f"referral_event.{event.status}") or event.status,
            by=t(f"referral_source.{event.source}"),
            note=event.note,
            at=event.at,
        )
        for event in reversed(events)
    ]


def may_cancel(referral: ReferralOut) -> bool:
    """The patient may call it off while the hospital has it and has not seen them."""
    return referral.status in AT_HOSPITAL


async def _referral_page(
    request: Request[Any, Any, Any],
    referral: ReferralOut,
    *,
    notice: str | None = None,
    message: str | None = None,
    cancel_form: FormState | None = None,
    decline_form: FormState | None = None,
    status: int = 200,
) -> Template:
    return page(
        request,
        "patient/referral.html",
        status=status,
        referral=referral,
        timeline=timeline(translator(request), referral.timeline),
        to_bring=TO_BRING,
        may_cancel=may_cancel(referral),
        cancel_form=cancel_form or FormState(),
        decline_form=decline_form or FormState(),
        notice=notice,
        message=message,
    )


@get("/")
async def my_referrals(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
) -> Template:
    return page(request, "patient/referrals.html", referrals=await referring.list(principal))


@get("/{referral_id:uuid}")
async def referral_page(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    done: Done = None,
) -> Template:
    referral = await referring.read(principal, referral_id)
    return await _referral_page(request, referral, notice=done if done in NOTICES else None)


async def _act(
    request: Request[Any, Any, Any],
    principal: Principal,
    referring: Referring,
    referral_id: uuid.UUID,
    done: str,
    action: Callable[[], Awaitable[ReferralOut]],
    *,
    form: str = "",
    values: dict[str, str] | None = None,
    fields: tuple[str, ...] = (),
    aliases: dict[str, str] | None = None,
) -> Template | Redirect:
    """Run the patient's action; a refusal is shown on the referral's page, beside the
    field of ``form`` (the cancel or the decline form) when it names one."""
    try:
        await action()
    except Problem as problem:
        referral = await referring.read(principal, referral_id)
        state = FormState.from_problem(
            problem, translator(request), values or {}, fields, aliases=aliases
        )
        # A message about no field (the referral moved on meanwhile) tops the page: the
        # form it came from may no longer be shown.
        message, state.message = state.message, None
        return await _referral_page(
            request,
            referral,
            message=message,
            status=problem.status,
            cancel_form=state if form == "cancel" else None,
            decline_form=state if form == "decline" else None,
        )
    return see_other(f"/referrals/{referral_id}?done={done}")


@post("/{referral_id:uuid}/consent")
async def consent(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    async def action() -> ReferralOut:
        return await referring.consent(principal, referral_id, context)

    return await _act(request, principal, referring, referral_id, "consented", action)


@post("/{referral_id:uuid}/decline")
async def decline(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    reason = (await form_fields(request)).get("decline_reason", "").strip()

    async def action() -> ReferralOut:
        body = parse_form(DeclineIn, {"reason": reason})
        return await referring.decline(principal, referral_id, body, context)

    return await _act(
        request,
        principal,
        referring,
        referral_id,
        "declined",
        action,
        form="decline",
        values={"decline_reason": reason},
        fields=("decline_reason",),
        aliases={"reason": "decline_reason"},
    )


@post("/{referral_id:uuid}/cancel")
async def cancel(
    request: Request[Any, Any, Any],
    referral_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    referring: NamedDependency[Referring],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    reason = (await form_fields(request)).get("reason", "").strip()

    async def action() -> ReferralOut:
        body = parse_form(CancelIn, {"reason": reason}, required=("reason",))
        return await referring.cancel(principal, referral_id, body, context)

    return await _act(
        request,
        principal,
        referring,
        referral_id,
        "cancelled",
        action,
        form="cancel",
        values={"reason": reason},
        fields=("reason",),
    )


ROUTES = [
    Router(
        path="/referrals",
        opt=allow("patient"),
        include_in_schema=False,
        route_handlers=[my_referrals, referral_page, consent, decline, cancel],
    )
]
