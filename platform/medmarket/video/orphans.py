"""QoS sessions a network made that we never heard of. A carrier may create the session and
answer too late (the plugin timeout gave up on it) or the answer may be lost: the session then
runs, and is paid for, with no record to close it. So after a failed or timed-out
``open_qos_session`` the core asks the provider, in the background, for the sessions its
network holds for that device (``find_qos_sessions``, CAMARA's ``POST /retrieve-sessions``)
and closes every one it has no open record of. Best effort: the call never waits for it, a
few passes catch a session the network makes late, and an instance that stops takes its
pending passes with it (the session then ends with the duration it was asked for).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from medmarket import audit
from medmarket.audit.service import SYSTEM
from medmarket.plugin_manager import PluginUnavailable
from medmarket.services import Services
from medmarket.video.interface import CallContext, QosSession

log = logging.getLogger("medmarket.video")
T = TypeVar("T")
# Seconds to wait before each pass: at once, then later for a session the network made late.
PASS_DELAYS = (0.0, 15.0, 60.0)
# Nobody waits for these calls, so a slow carrier gets longer than the plugin timeout.
PASS_TIMEOUT_SECONDS = 30.0
Participant = tuple[uuid.UUID, str]


class OrphanedSessions:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._opening: Counter[Participant] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def opening(self, participant: Participant) -> Iterator[None]:
        """Mark a session being opened for ``participant`` on this instance: passes for them
        wait until it is recorded (its session is no orphan)."""
        self._opening[participant] += 1
        try:
            yield
        finally:
            self._opening[participant] -= 1
            if not self._opening[participant]:
                del self._opening[participant]

    def reclaim(self, provider_id: str, provider: Any, call: CallContext) -> None:
        """Start looking for sessions the failed opening may have left (not awaited)."""
        if getattr(provider, "find_qos_sessions", None) is None:
            return  # the provider cannot tell: its sessions end with their duration
        participant = (uuid.UUID(call.consultation_id), call.participant_id)
        task = asyncio.create_task(
            self._passes(provider_id, provider, call, participant),
            name=f"video-qos-orphans-{call.consultation_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _passes(
        self, provider_id: str, provider: Any, call: CallContext, participant: Participant
    ) -> None:
        for delay in PASS_DELAYS:
            await asyncio.sleep(delay)
            if self._opening[participant]:
                continue  # a new opening for them is under way; look again later
            try:
                if await self._pass(provider_id, provider, call, participant):
                    return  # one failed opening leaves at most one session
            except PluginUnavailable:
                continue
            except Exception:  # the database: try again at the next pass
                log.exception("looking for orphaned QoS sessions of %s failed", participant)

    async def _pass(
        self, provider_id: str, provider: Any, call: CallContext, participant: Participant
    ) -> int:
        found: list[QosSession] = await self._guarded(
            provider_id, lambda: provider.find_qos_sessions(call)
        )
        closed = 0
        for session in found:
            if self._opening[participant] or await self._recorded(provider_id, session):
                continue
            await self._guarded(provider_id, _closing(provider, session))
            log.warning(
                "closed QoS session %s that %s made unasked", session.session_id, provider_id
            )
            async with self.services.db.transaction() as connection:
                await audit.record(
                    connection,
                    SYSTEM,
                    "video.qos_orphan_closed",
                    "consultation",
                    participant[0],
                    consultation_id=participant[0],
                    detail={
                        "provider": provider_id,
                        "session_id": session.session_id,
                        "participant_id": participant[1],
                    },
                )
            closed += 1
        return closed

    async def _recorded(self, provider_id: str, session: QosSession) -> bool:
        found = await self.services.db.fetchval(
            "SELECT 1 FROM video_qos_sessions WHERE provider_id = $1 AND session_id = $2 "
            "AND closed_at IS NULL",
            provider_id,
            session.session_id,
        )
        return found is not None

    async def _guarded(self, provider_id: str, call: Callable[[], Awaitable[T]]) -> T:
        return await self.services.plugins.guard(
            "video QoS",
            self.services.plugins.video_providers.key(provider_id),
            call,
            timeout=PASS_TIMEOUT_SECONDS,
        )


def _closing(provider: Any, session: QosSession) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await provider.close_qos_session(session)

    return close
