"""Setting up a participant's call: the consultation's video provider gives ICE servers, a
media profile and (optionally) a network QoS session; the sweeper keeps QoS sessions in step
with the call (extend while it runs long, close when the participant has left).

A QoS session costs money from the moment it opens, so it opens only once the visit is in
progress (the doctor admitted the patient). Before that, in the waiting room, the setup still
answers ICE servers and the media profile (a page may test the camera and the connection
early); the client sets the call up again when it starts, and gets its QoS then.

Every provider call goes through the plugin host's guard. A provider that fails degrades,
never blocks: ICE servers fall back to the built-in provider's, the media profile to the
standard one, and a failed QoS session means the call goes ahead without QoS (and a session
the network made all the same is looked for and closed in the background: ``orphans``).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import asyncpg
import msgspec

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection
from medmarket.plugin_manager import PluginUnavailable
from medmarket.services import Services
from medmarket.signaling.rooms import RoomStore
from medmarket.signaling.tokens import LATE_GRACE, RoomGrant
from medmarket.video.interface import (
    STANDARD,
    CallContext,
    IceServer,
    MediaProfile,
    QosSession,
    VideoProvider,
)
from medmarket.video.orphans import OrphanedSessions
from medmarket.video.webrtc import PROVIDER_ID as BUILT_IN

log = logging.getLogger("medmarket.video")
T = TypeVar("T")
EXTEND_WHEN_LEFT = dt.timedelta(minutes=3)  # extend a QoS session this close to its expiry
EXTEND_BY_SECONDS = 15 * 60
CHECK_EVERY = dt.timedelta(seconds=60)
RETRY_AFTER = dt.timedelta(seconds=30)
SWEEP_BATCH = 50
CloseReason = Literal["teardown", "participant-left", "slot-over", "expired", "provider-gone"]


class CallSetup(msgspec.Struct, kw_only=True):
    provider: str
    ice_servers: list[IceServer]
    media_profile: MediaProfile
    # None: the provider offers no QoS, the visit is not in progress yet, or (see degraded)
    # the carrier failed.
    qos: QosSession | None
    # What fell back, e.g. ["qos"] when the carrier did not answer.
    degraded: list[str] = msgspec.field(default_factory=list)


def call_context(
    grant: RoomGrant,
    device_ipv4: str | None = None,
    device_public_port: int | None = None,
    device_phone_number: str | None = None,
    device_ipv6: str | None = None,
) -> CallContext:
    return CallContext(
        consultation_id=str(grant.consultation_id),
        participant_id=grant.participant_id,
        participant_role=grant.role,
        starts_at=grant.slot_starts_at,
        ends_at=grant.slot_ends_at,
        device_ipv4=device_ipv4,
        device_public_port=device_public_port,
        device_phone_number=device_phone_number,
        device_ipv6=device_ipv6,
        wants_high_throughput=grant.high_throughput,
    )


def _actor(grant: RoomGrant, context: AuditContext) -> AuditContext:
    try:
        return context.as_actor(uuid.UUID(grant.participant_id), grant.role)
    except ValueError:
        return msgspec.structs.replace(context, actor_role=grant.role)


class VideoCalls:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.plugins = services.plugins
        self.rooms = RoomStore(
            services.redis, max_participants=services.settings.signaling_max_participants
        )
        self.orphans = OrphanedSessions(services)

    async def aclose(self) -> None:
        await self.orphans.aclose()

    def _provider(self, provider_id: str) -> VideoProvider:
        return self.plugins.video_providers.get(provider_id)

    async def _guarded(self, feature: str, provider_id: str, call: Callable[[], Awaitable[T]]) -> T:
        """A provider's call behind its one breaker (shared with its health checks)."""
        return await self.plugins.guard(
            feature, self.plugins.video_providers.key(provider_id), call
        )

    async def set_up(
        self, call: CallContext, grant: RoomGrant, context: AuditContext, *, in_progress: bool
    ) -> CallSetup:
        """ICE servers and media profile for ``call``, and a QoS session when the visit is
        ``in_progress`` (never in the waiting room)."""
        degraded: list[str] = []
        provider_id = grant.video_provider
        if provider_id not in self.plugins.video_providers.adapters:
            log.warning("video provider %r is not installed; using %r", provider_id, BUILT_IN)
            provider_id, degraded = BUILT_IN, ["provider"]
        provider = self._provider(provider_id)
        try:
            ice = await self._guarded(
                "video ICE servers",
                provider_id,
                lambda: provider.ice_servers(call),
            )
        except PluginUnavailable:
            if provider_id == BUILT_IN:
                raise
            built_in = self._provider(BUILT_IN)
            ice = await self._guarded(
                "video ICE servers",
                BUILT_IN,
                lambda: built_in.ice_servers(call),
            )
            degraded.append("ice")
        try:
            profile = await self._guarded(
                "video media profile",
                provider_id,
                lambda: provider.media_profile(call),
            )
        except PluginUnavailable:
            profile, degraded = STANDARD, [*degraded, "media-profile"]
        qos: QosSession | None = None
        if in_progress:
            try:
                qos = await self._open_qos(provider_id, provider, call, grant, context)
            except PluginUnavailable:
                degraded.append("qos")
        return CallSetup(
            provider=provider_id,
            ice_servers=list(ice),
            media_profile=profile,
            qos=qos,
            degraded=degraded,
        )

    async def _open_qos(
        self,
        provider_id: str,
        provider: Any,
        call: CallContext,
        grant: RoomGrant,
        context: AuditContext,
    ) -> QosSession | None:
        existing = await self.services.db.fetchrow(
            """
            SELECT provider_id, session_id, profile, expires_at FROM video_qos_sessions
            WHERE consultation_id = $1 AND participant_id = $2 AND closed_at IS NULL
            """,
            grant.consultation_id,
            grant.participant_id,
        )
        if existing is not None:  # a reload or a second device tab: reuse, do not pay twice
            return QosSession(**dict(existing))
        try:
            with self.orphans.opening((grant.consultation_id, grant.participant_id)):
                session: QosSession | None = await self._guarded(
                    "video QoS",
                    provider_id,
                    lambda: provider.open_qos_session(call),
                )
        except PluginUnavailable:
            # The network may have made the session all the same: find it and close it.
            self.orphans.reclaim(provider_id, provider, call)
            raise
        if session is None:
            return None
        async with self.services.db.transaction() as connection:
            inserted = await connection.fetchval(
                """
                INSERT INTO video_qos_sessions (consultation_id, participant_id, provider_id,
                    session_id, profile, expires_at, slot_ends_at, next_check_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval)
                ON CONFLICT DO NOTHING
                RETURNING id
                """,
                grant.consultation_id,
                grant.participant_id,
                session.provider_id,
                session.session_id,
                session.profile,
                session.expires_at,
                grant.slot_ends_at,
                CHECK_EVERY,
            )
            if inserted is not None:
                await audit.record(
                    connection,
                    _actor(grant, context),
                    "video.qos_opened",
                    "video_qos_session",
                    inserted,
                    consultation_id=grant.consultation_id,
                    detail={"provider": session.provider_id, "profile": session.profile},
                )
        if inserted is None:
            # Another request of the same participant won the race: give this one back.
            await self._close_at_provider(provider, session)
            return await self._open_qos(provider_id, provider, call, grant, context)
        return session

    async def tear_down(self, grant: RoomGrant, context: AuditContext) -> None:
        """The participant's call ended: close their QoS session (now, or by the sweeper)."""
        await self.services.db.execute(
            """
            UPDATE video_qos_sessions SET close_requested_at = now(), next_check_at = now()
            WHERE consultation_id = $1 AND participant_id = $2 AND closed_at IS NULL
            """,
            grant.consultation_id,
            grant.participant_id,
        )
        await self.sweep(only=(grant.consultation_id, grant.participant_id))

    async def _close_at_provider(self, provider: Any, session: QosSession) -> bool:
        try:
            await self._guarded(
                "video QoS",
                session.provider_id,
                lambda: provider.close_qos_session(session),
            )
        except PluginUnavailable:
            return False
        return True

    # -- the sweeper -----------------------------------------------------------------------
    async def sweep(self, only: tuple[uuid.UUID, str] | None = None) -> int:
        """Check the QoS sessions that are due: close, extend or leave each. Instances share
        the work with SKIP LOCKED. Returns how many were checked."""
        checked = 0
        async with self.services.db.transaction() as connection:
            rows = await connection.fetch(
                """
                SELECT * FROM video_qos_sessions
                WHERE closed_at IS NULL AND next_check_at <= now()
                  AND ($1::uuid IS NULL OR (consultation_id = $1 AND participant_id = $2))
                ORDER BY next_check_at
                LIMIT $3
                FOR UPDATE SKIP LOCKED
                """,
                only[0] if only else None,
                only[1] if only else None,
                SWEEP_BATCH,
            )
            for row in rows:
                await self._check(connection, row)
                checked += 1
        return checked

    async def _check(self, connection: Connection, row: asyncpg.Record) -> None:
        now = dt.datetime.now(dt.UTC)
        session = QosSession(
            provider_id=row["provider_id"],
            session_id=row["session_id"],
            profile=row["profile"],
            expires_at=row["expires_at"],
        )
        if row["provider_id"] not in self.plugins.video_providers.adapters:
            await self._mark_closed(connection, row, "provider-gone")
            return
        provider = self._provider(row["provider_id"])
        reason = await self._close_reason(connection, row, now)
        if reason is not None:
            if await self._close_at_provider(provider, session):
                await self._mark_closed(connection, row, reason)
            else:
                await self._retry_later(connection, row, now)
            return
        if session.expires_at is not None and session.expires_at - now <= EXTEND_WHEN_LEFT:
            try:
                extended = await self._guarded(
                    "video QoS",
                    session.provider_id,
                    lambda: provider.extend_qos_session(session, EXTEND_BY_SECONDS),
                )
            except PluginUnavailable:
                await self._retry_later(connection, row, now)
                return
            await connection.execute(
                "UPDATE video_qos_sessions SET expires_at = $2, failed_attempts = 0 WHERE id = $1",
                row["id"],
                extended.expires_at,
            )
        await connection.execute(
            "UPDATE video_qos_sessions SET next_check_at = $2 WHERE id = $1",
            row["id"],
            now + CHECK_EVERY,
        )

    async def _close_reason(
        self, connection: Connection, row: asyncpg.Record, now: dt.datetime
    ) -> CloseReason | None:
        if row["close_requested_at"] is not None:
            return "teardown"
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return "expired"
        if now >= row["slot_ends_at"] + LATE_GRACE:
            return "slot-over"
        present = {p.id for p in await self.rooms.members(row["consultation_id"])}
        if row["participant_id"] in present:
            if row["absent_since"] is not None:
                await connection.execute(
                    "UPDATE video_qos_sessions SET absent_since = NULL WHERE id = $1", row["id"]
                )
            return None
        # Gone at two checks in a row: a reconnect blip does not cost the QoS session.
        if row["absent_since"] is not None:
            return "participant-left"
        await connection.execute(
            "UPDATE video_qos_sessions SET absent_since = $2 WHERE id = $1", row["id"], now
        )
        return None

    async def _mark_closed(
        self, connection: Connection, row: asyncpg.Record, reason: CloseReason
    ) -> None:
        await connection.execute(
            "UPDATE video_qos_sessions SET closed_at = now(), close_reason = $2 WHERE id = $1",
            row["id"],
            reason,
        )
        await audit.record(
            connection,
            audit.service.SYSTEM,
            "video.qos_closed",
            "video_qos_session",
            row["id"],
            consultation_id=row["consultation_id"],
            detail={"provider": row["provider_id"], "reason": reason},
        )

    async def _retry_later(
        self, connection: Connection, row: asyncpg.Record, now: dt.datetime
    ) -> None:
        await connection.execute(
            """
            UPDATE video_qos_sessions
            SET failed_attempts = failed_attempts + 1, next_check_at = $2 WHERE id = $1
            """,
            row["id"],
            now + RETRY_AFTER,
        )
