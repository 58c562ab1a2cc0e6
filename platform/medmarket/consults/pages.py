"""The call page: the patient's waiting room and the video visit, the doctor's room (admit
the patient, the call, notes, ending the visit), with chat and files beside the video.

The page is rendered here; ``static/js/call.js`` does the rest against the consultations
API (enter, admit, end, chat, attachments), the signaling WebSocket and the video setup, as
``consults/README.md`` describes. Who may open it is the consultation's own rule: anyone
else gets the 404 of a consultation that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.consults.routes import ConsultDomain
from medmarket.pages.rendering import page

# The ways a doctor ends a visit (bookings.schemas.Outcome), in the order the page offers them.
OUTCOMES = ("completed", "patient_no_show", "first_visit_unsuitable")


@get("/call/{consultation_id:uuid}", opt=allow("patient", "doctor"))
async def call(
    request: Request[Any, Any, Any],
    consultation_id: FromPath[uuid.UUID],
    principal: NamedDependency[Principal],
    consults: NamedDependency[ConsultDomain],
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
        consultation=consultation,
        doctor=doctor,
        patient=patient,
        back=back,
        outcomes=OUTCOMES,
    )


ROUTES = [Router(path="/", route_handlers=[call], include_in_schema=False)]
