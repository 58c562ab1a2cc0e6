"""Video API for a participant holding a room token: ICE servers, media profile and QoS for
their call (``setup``), and the end of their call (``teardown``). The room token in the body
is the credential, so the routes are public to the access guard. ``setup`` also asks the
consultation whether the token still holds: an ended consultation's token is refused like a
bad one, and someone who no longer takes part (a removed colleague) gets the 404 of a
consultation that does not exist. ``teardown`` only releases, so a genuine token suffices."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Router, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from medmarket.accounts.guards import PUBLIC, client_address
from medmarket.audit import AuditContext
from medmarket.errors import NotFound, Problem
from medmarket.openapi import answers
from medmarket.services import Services
from medmarket.signaling.standing import ROOM_AUTHORITY, RoomStanding
from medmarket.signaling.tokens import RoomGrant, RoomTokenError, verify_room_token
from medmarket.video.service import CallSetup, VideoCalls, call_context

log = logging.getLogger("medmarket.video")
SWEEP_EVERY_SECONDS = 30.0


class RoomTokenRefused(Problem):
    status, slug, title = 401, "room-token-refused", "The room token was refused"


class TokenBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


def provide_video_calls(request: Request[Any, Any, Any]) -> VideoCalls:
    return request.app.state.video_calls  # type: ignore[no-any-return]


def _grant(request: Request[Any, Any, Any], token: str, consultation_id: uuid.UUID) -> RoomGrant:
    try:
        return verify_room_token(request.app.state.settings, token, consultation_id)
    except RoomTokenError as exc:
        raise RoomTokenRefused(exc.message, field="token", code=exc.code) from None


def device_address(request: Request[Any, Any, Any]) -> tuple[str | None, int | None, str | None]:
    """(IPv4 address, its source port, IPv6 address) of the caller's device as this request
    shows it. The port is None when unknown: a proxy (``--forwarded-allow-ips``) passes the
    client's address on but not its port, which uvicorn then reports as 0."""
    text = client_address(request)
    if text is None:
        return None, None, None
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return None, None, str(address)
        address = address.ipv4_mapped  # ::ffff:a.b.c.d is an IPv4 client
    port = request.client.port if request.client else 0
    return str(address), port if 0 < port < 65536 else None, None


async def _standing(request: Request[Any, Any, Any], grant: RoomGrant) -> RoomStanding:
    services: Services = request.app.state.services
    authority = services.ports.get(ROOM_AUTHORITY)
    standing = await authority.standing(grant)
    if standing.verdict == "not-participant":
        raise NotFound("no such consultation")
    if standing.verdict == "ended":
        raise RoomTokenRefused("this consultation has ended", field="token", code="ended")
    return standing


@post("/setup", status_code=HTTP_200_OK)
async def set_up_call(
    request: Request[Any, Any, Any],
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[TokenBody],
    video_calls: NamedDependency[VideoCalls],
    context: NamedDependency[AuditContext],
) -> CallSetup:
    """ICE servers (with time-limited TURN credentials), the media profile, and a network QoS
    session where the consultation's provider offers one, once the visit is in progress (in
    the waiting room ``qos`` is null: set the call up again when it starts). Call it when
    joining the call; calling it again (a reload) reuses the open QoS session."""
    grant = _grant(request, data.token, consultation_id)
    standing = await _standing(request, grant)
    ipv4, port, ipv6 = device_address(request)
    call = call_context(
        grant,
        device_ipv4=ipv4,
        device_public_port=port,
        device_phone_number=standing.phone_number,
        device_ipv6=ipv6,
    )
    return await video_calls.set_up(
        call, grant, context, in_progress=standing.status == "in_progress"
    )


@post("/teardown", status_code=HTTP_204_NO_CONTENT)
async def tear_down_call(
    request: Request[Any, Any, Any],
    consultation_id: FromPath[uuid.UUID],
    data: JSONBody[TokenBody],
    video_calls: NamedDependency[VideoCalls],
    context: NamedDependency[AuditContext],
) -> None:
    """The participant left the call: release their QoS session now."""
    grant = _grant(request, data.token, consultation_id)
    await video_calls.tear_down(grant, context)


async def _sweep_forever(video_calls: VideoCalls) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_SECONDS)
        try:
            await video_calls.sweep()
        except Exception:
            log.exception("QoS sweep failed; trying again later")


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Each instance sweeps QoS sessions (they share the work through SKIP LOCKED)."""
    video_calls = VideoCalls(app.state.services)
    app.state.video_calls = video_calls
    sweeper = asyncio.create_task(_sweep_forever(video_calls), name="video-qos-sweeper")
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await video_calls.aclose()


ROUTES = [
    Router(
        path="/api/consultations/{consultation_id:uuid}/video",
        opt={**PUBLIC, **answers(RoomTokenRefused.status)},
        tags=["video"],
        route_handlers=[set_up_call, tear_down_call],
    )
]
DEPENDENCIES = {"video_calls": Provide(provide_video_calls, sync_to_thread=False)}
LIFESPAN = lifespan
