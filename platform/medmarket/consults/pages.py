"""The call page: the patient's waiting room and the video visit, the doctor's room (admit
the patient, the call, notes, ending the visit, inviting colleagues), with chat and files
beside the video and the list of who takes part and who is in the room.

The page is rendered here; ``static/js/call.js`` does the rest against the consultations
API (enter, admit, end, colleagues, chat, attachments), the signaling WebSocket and the video
setup, as ``consults/README.md`` describes. Who may open it is the consultation's own rule:
anyone else gets the 404 of a consultation that does not exist. Inviting and removing a
colleague are forms that also work without script (script calls the API in place).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.dependencies import ConsultationServices
from medmarket.errors import FieldError, InvalidInput, Problem
from medmarket.pages.forms import FormState, form_fields
from medmarket.pages.rendering import page, see_other, translator
from medmarket.prescriptions.pages import CHOICES
from medmarket.prescriptions.service import Prescribing
from medmarket.signaling.messages import CloseCode

# The ways a doctor ends a visit (bookings.schemas.Outcome), in the order the page offers them.
OUTCOMES = ("completed", "patient_no_show", "first_visit_unsuitable")
INVITE_FIELDS = ("colleague",)
NOTICES = ("invited", "removed")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_DOCTOR_LINK = re.compile(rf"/doctors/({_UUID})(?![0-9a-fA-F-])")
_DOCTOR_ID = re.compile(rf"^{_UUID}$")


def colleague_doctor_id(typed: str) -> uuid.UUID:
    """The doctor id in what the doctor typed: the id itself, or a link to the colleague's
    doctor page (``.../doctors/<id>``). The same rule as ``static/js/call-people.js``."""
    text = typed.strip()
    link = _DOCTOR_LINK.search(text)
    found = link[1] if link else text if _DOCTOR_ID.match(text) else None
    if found is None:
        code = "invalid" if text else "required"
        raise InvalidInput(errors=[FieldError(field="colleague", message=code, code=code)])
    return uuid.UUID(found)


async def _call_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    consults: ConsultationServices,
    prescribing: Prescribing,
    consultation_id: uuid.UUID,
    *,
    invite_form: FormState | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Template:
    consultation = await consults.consultations.get(principal, consultation_id)
    doctor = next((p for p in consultation.participants if p.role == "doctor"), None)
    patient = next((p for p in consultation.participants if p.role == "patient"), None)
    back = (
        f"/visits/{consultation.booking_id}"
        if consultation.my_role == "patient"
        else f"/doctor/visits/{consultation.booking_id}"
    )
    return page(
        request,
        "call.html",
        status=status,
        consultation=consultation,
        doctor=doctor,
        patient=patient,
        me=principal.user_id,
        back=back,
        outcomes=OUTCOMES,
        invite_form=invite_form or FormState(),
        close_codes={code.name: int(code) for code in CloseCode},
        notice=translator(request)(f"call.notice_{notice}") if notice in NOTICES else None,
        # The doctor prescribes from the call (the prescriptions API, prescribe.js).
        prescriptions=await prescribing.listing(principal, consultation_id)
        if consultation.my_role == "doctor"
        else [],
        choices=CHOICES,
    )


@get("/")
async def call(
    request: Request[Any, Any, Any],
    consultation_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    consults: NamedDependency[ConsultationServices],
    prescribing: NamedDependency[Prescribing],
    done: Annotated[str | None, QueryParameter(max_length=20)] = None,
) -> Template:
    return await _call_page(request, principal, consults, prescribing, consultation_id, notice=done)


@post("/colleagues", opt=allow("doctor"))
async def invite_colleague(
    request: Request[Any, Any, Any],
    consultation_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    consults: NamedDependency[ConsultationServices],
    prescribing: NamedDependency[Prescribing],
    context: NamedDependency[AuditContext],
) -> Template | Redirect:
    submitted = await form_fields(request)
    values = {"colleague": submitted.get("colleague", "").strip()}
    try:
        doctor_id = colleague_doctor_id(values["colleague"])
        await consults.colleagues.invite(principal, consultation_id, doctor_id, context)
    except Problem as problem:
        form = FormState.from_problem(
            problem,
            translator(request),
            values,
            INVITE_FIELDS,
            aliases={"doctor_id": "colleague"},
        )
        return await _call_page(
            request,
            principal,
            consults,
            prescribing,
            consultation_id,
            invite_form=form,
            status=problem.status,
        )
    return see_other(f"/call/{consultation_id}?done=invited#people")


@post("/colleagues/{doctor_id:uuid}/remove", opt=allow("doctor"))
async def remove_colleague(
    consultation_id: FromPath[uuid.UUID],
    doctor_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    consults: NamedDependency[ConsultationServices],
    context: NamedDependency[AuditContext],
) -> Redirect:
    await consults.colleagues.remove(principal, consultation_id, doctor_id, context)
    return see_other(f"/call/{consultation_id}?done=removed#people")


ROUTES = [
    Router(
        path="/call/{consultation_id:uuid}",
        opt=allow("patient", "doctor"),
        route_handlers=[call, invite_colleague, remove_colleague],
        include_in_schema=False,
    )
]
