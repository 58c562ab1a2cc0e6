"""Readings API (README.md beside this file): reading centres on ``/api/reading-centres``
(their admins open them and add readers; their readers see the queue and the turnaround),
reading requests on ``/api/readings`` (the requester sends and cancels, a reader claims,
releases and reports). Whoever may not see a request gets the 404 of one that does not
exist: a patient too, who may ask for one (its reads are open to patients) but sees none
in this increment."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, MultipartBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from medmarket.accounts.guards import allow
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.files import disposition, served
from medmarket.openapi import answers, responds_with
from medmarket.readings.centres import Centres
from medmarket.readings.desk import Desk
from medmarket.readings.dicom import MEDIA_TYPE as DICOM
from medmarket.readings.requesting import Requesting
from medmarket.readings.schemas import (
    CancelIn,
    CentreIn,
    CentreOut,
    ReaderIn,
    ReadingOut,
    ReadingUpload,
    ReportIn,
    TurnaroundOut,
)
from medmarket.readings.study_files import SERVED, StudyFiles

TAGS = ["readings"]


def provide_centres(request: Request[Any, Any, Any]) -> Centres:
    return Centres(request.app.state.services.db)


def provide_requesting(request: Request[Any, Any, Any]) -> Requesting:
    services = request.app.state.services
    return Requesting(services.db, services.settings.data_path)


def provide_desk(request: Request[Any, Any, Any]) -> Desk:
    return Desk(request.app.state.services.db)


def provide_study_files(request: Request[Any, Any, Any]) -> StudyFiles:
    services = request.app.state.services
    return StudyFiles(services.db, services.settings.data_path)


# -- reading centres -----------------------------------------------------------------------
@get("/")
async def list_centres(reading_centres: NamedDependency[Centres]) -> list[CentreOut]:
    """Every reading centre, to choose where to send a study."""
    return await reading_centres.listing()


@post("/", status_code=HTTP_201_CREATED, opt=allow("hospital_admin") | answers(404, 409))
async def create_centre(
    data: JSONBody[CentreIn],
    reading_centres: NamedDependency[Centres],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CentreOut:
    """Open a reading centre of the admin's hospital, with its turnaround targets."""
    return await reading_centres.create(principal, data, context)


@get("/{centre_id:uuid}", opt=answers(404))
async def read_centre(
    centre_id: FromPath[uuid.UUID], reading_centres: NamedDependency[Centres]
) -> CentreOut:
    return await reading_centres.read(centre_id)


@post(
    "/{centre_id:uuid}/readers",
    status_code=HTTP_200_OK,
    opt=allow("hospital_admin") | answers(404),
)
async def add_reader(
    centre_id: FromPath[uuid.UUID],
    data: JSONBody[ReaderIn],
    reading_centres: NamedDependency[Centres],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> CentreOut:
    """Add an approved doctor of the centre's hospital as a reader (again: no change)."""
    return await reading_centres.add_reader(principal, centre_id, data, context)


@get("/{centre_id:uuid}/queue", opt=allow("doctor") | answers(404))
async def centre_queue(
    centre_id: FromPath[uuid.UUID],
    reading_desk: NamedDependency[Desk],
    principal: NamedDependency[Principal],
) -> list[ReadingOut]:
    """The centre's open requests, oldest due first (due: received + the urgency's target)."""
    return await reading_desk.queue(principal, centre_id)


@get("/{centre_id:uuid}/turnaround", opt=answers(404))
async def centre_turnaround(
    centre_id: FromPath[uuid.UUID],
    reading_centres: NamedDependency[Centres],
    principal: NamedDependency[Principal],
) -> TurnaroundOut:
    """Received to reported: count, median, 90th percentile, share within target."""
    return await reading_centres.turnaround(principal, centre_id)


# -- reading requests ----------------------------------------------------------------------
@post("/", status_code=HTTP_201_CREATED, opt=allow("doctor") | answers(404, 413))
async def send_study(
    data: MultipartBody[ReadingUpload],
    reading_requests: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReadingOut:
    """Send a study of a patient of one of the doctor's visits to a reading centre, with the
    patient's recorded consent (422 naming ``consent`` without it). DICOM files are read and
    stored without the patient's identifying tags; a file that is not what it claims is
    refused, named."""
    return await reading_requests.send(principal, data, context)


@get("/", opt=allow("doctor"))
async def studies_sent(
    reading_requests: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
) -> list[ReadingOut]:
    """The studies the doctor sent, newest first, with their status and due time."""
    return await reading_requests.sent_by(principal)


@get("/{request_id:uuid}", opt=answers(404))
async def read_request(
    request_id: FromPath[uuid.UUID],
    reading_requests: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
) -> ReadingOut:
    """The request with its files, timeline and, once signed, its report."""
    return await reading_requests.read(principal, request_id)


@get("/{request_id:uuid}/files/{file_id:uuid}", opt=responds_with(*SERVED) | answers(404))
async def study_file(
    request_id: FromPath[uuid.UUID],
    file_id: FromPath[uuid.UUID],
    reading_files: NamedDependency[StudyFiles],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """A file of the study as stored (DICOM without identifying tags), as an attachment no
    browser renders as a page; every read is audited."""
    content, file = await reading_files.read(principal, request_id, file_id, context)
    if file.content_type == DICOM:
        name = f'attachment; filename="study-{str(file.id)[:8]}.dcm"'
        header = name + (f"; filename*=UTF-8''{quote(file.name, safe='')}" if file.name else "")
    else:
        header = disposition("study", file.id, file.content_type, file.name)
    return served(content, file.content_type, header)


@get(
    "/{request_id:uuid}/files/{file_id:uuid}/preview",
    opt=responds_with("image/png") | answers(404),
)
async def study_file_preview(
    request_id: FromPath[uuid.UUID],
    file_id: FromPath[uuid.UUID],
    reading_files: NamedDependency[StudyFiles],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> Response[bytes]:
    """A DICOM file's key image (its first frame, windowed) as a PNG the browser shows; 404
    for a file without an image (a PDF, an ECG waveform). Every read is audited."""
    png = await reading_files.preview(principal, request_id, file_id, context)
    return served(png, "image/png")


@post(
    "/{request_id:uuid}/claim",
    status_code=HTTP_200_OK,
    opt=allow("doctor") | answers(404, 409),
)
async def claim_request(
    request_id: FromPath[uuid.UUID],
    reading_desk: NamedDependency[Desk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReadingOut:
    """A reader of the centre takes it; when two claim at once one wins, the other gets 409."""
    return await reading_desk.claim(principal, request_id, context)


@post(
    "/{request_id:uuid}/release",
    status_code=HTTP_200_OK,
    opt=allow("doctor") | answers(404, 409),
)
async def release_request(
    request_id: FromPath[uuid.UUID],
    reading_desk: NamedDependency[Desk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReadingOut:
    """The claimant puts it back in the queue, unread."""
    return await reading_desk.release(principal, request_id, context)


@post(
    "/{request_id:uuid}/report",
    status_code=HTTP_200_OK,
    opt=allow("doctor") | answers(404, 409),
)
async def report_request(
    request_id: FromPath[uuid.UUID],
    data: JSONBody[ReportIn],
    reading_desk: NamedDependency[Desk],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReadingOut:
    """The claimant's structured report, signed as it is sent (reader, time, SHA-256); a
    critical finding tells the requester at once."""
    return await reading_desk.report(principal, request_id, data, context)


@post(
    "/{request_id:uuid}/cancel",
    status_code=HTTP_200_OK,
    opt=allow("doctor") | answers(404, 409),
)
async def cancel_request(
    request_id: FromPath[uuid.UUID],
    data: JSONBody[CancelIn],
    reading_requests: NamedDependency[Requesting],
    principal: NamedDependency[Principal],
    context: NamedDependency[AuditContext],
) -> ReadingOut:
    """The requester calls it off before it is reported."""
    return await reading_requests.cancel(principal, request_id, data, context)


ROUTES = [
    Router(
        path="/api",
        tags=TAGS,
        route_handlers=[
            Router(
                path="/reading-centres",
                opt=allow("doctor", "hospital_admin"),
                route_handlers=[
                    list_centres,
                    create_centre,
                    read_centre,
                    add_reader,
                    centre_queue,
                    centre_turnaround,
                ],
            ),
            Router(
                path="/readings",
                opt=allow("doctor", "hospital_admin", "patient"),
                route_handlers=[
                    studies_sent,
                    send_study,
                    read_request,
                    study_file,
                    study_file_preview,
                    claim_request,
                    release_request,
                    report_request,
                    cancel_request,
                ],
            ),
        ],
    )
]

DEPENDENCIES = {
    "reading_centres": Provide(provide_centres, sync_to_thread=False),
    "reading_requests": Provide(provide_requesting, sync_to_thread=False),
    "reading_desk": Provide(provide_desk, sync_to_thread=False),
    "reading_files": Provide(provide_study_files, sync_to_thread=False),
}
