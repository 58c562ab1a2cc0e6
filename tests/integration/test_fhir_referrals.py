"""A referral to a hospital that runs a FHIR server, through an outage: while the server is
slow, failing, or loses its answer after booking, the referral stays pending and is tried
again from the outbox (never abandoned); once the server is back it goes through, once: one
ServiceRequest at the hospital, one acceptance on the platform. Afterwards the follow-up job
reads the hospital's outcomes, the down-referral among them, from its Task."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fhir_hospital_tests.server import FHIR_JSON, FhirServer, appointment, outcome, output, task
from litestar import Litestar

from medmarket.referrals.sending import follow_up
from medmarket.referrals.tests.helpers import consent, deliver_outbox, read, refer, visit_under_way
from medmarket.testing.http_recorder import Recorded, Reply
from medmarket.tests.support.factories import hospital_with_demo_adapter

from .test_fhir_onboarding import connect_fhir

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TOMORROW = dt.datetime.now(SHANGHAI).replace(second=0, microsecond=0) + dt.timedelta(days=1)
TOMORROW_MORNING = TOMORROW.replace(hour=9, minute=30).isoformat()
SEEN_AT = TOMORROW.replace(hour=9, minute=40).isoformat()
SENT_BACK_AT = (TOMORROW + dt.timedelta(days=5)).replace(hour=10, minute=0).isoformat()


async def send_attempts(app: Litestar, referral_id: str) -> tuple[str, int, str | None]:
    row = await app.state.services.db.fetchrow(
        "SELECT status, send_attempts, last_send_error FROM referrals WHERE id = $1",
        uuid.UUID(referral_id),
    )
    return row["status"], row["send_attempts"], row["last_send_error"]


async def next_try_now(app: Litestar, referral_id: str) -> None:
    """Time passes: the next try that was queued for later is due."""
    await app.state.services.db.execute(
        "UPDATE outbox SET available_at = now() WHERE topic = 'referrals.send' "
        "AND payload->>'referral_id' = $1 AND delivered_at IS NULL",
        referral_id,
    )


def lost_after_booking(server: FhirServer) -> Any:
    """The hospital books, then its answer is lost (a 502 from its gateway)."""

    def answer(request: Recorded) -> Reply:
        server.serve(request)
        return Reply(status=502, body=outcome("bad gateway"), headers=FHIR_JSON)

    return answer


async def test_an_outage_heals_and_the_referral_goes_through_once(
    fhir_app: Litestar, fhir_server: FhirServer
) -> None:
    app = fhir_app
    hospital = await hospital_with_demo_adapter(app)
    await connect_fhir(app, hospital, fhir_server.base_url, timeout_seconds=1)
    fhir_server.decides = lambda referral: [
        task("t-1", referral["id"], "accepted"),
        appointment("a-1", referral["id"], start=TOMORROW_MORNING),
    ]
    visit = await visit_under_way(app)
    referral = await refer(app, visit, hospital)

    outages = [
        lambda request: Reply(status=200, body={}, headers=FHIR_JSON, delay=2.0),  # slow
        lambda request: Reply(status=503, body=outcome("系统维护中"), headers=FHIR_JSON),
        lost_after_booking(fhir_server),
    ]
    fhir_server.override = outages[0]
    await consent(app, visit, referral)
    for tries, outage in enumerate(outages, start=1):
        fhir_server.override = outage
        await next_try_now(app, referral["id"])
        await deliver_outbox(app)
        status, attempts, error = await send_attempts(app, referral["id"])
        assert (status, attempts) == ("pending", tries) and error
        seen = await read(app, visit.doctor, referral)
        assert seen["sending"] == {
            "attempts": tries,
            "answered": False,
            "waiting_since": seen["consented_at"],
        }
    # Nothing was abandoned: a next try waits in the outbox.
    waiting = await app.state.services.db.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'referrals.send' "
        "AND payload->>'referral_id' = $1 AND delivered_at IS NULL AND abandoned_at IS NULL",
        referral["id"],
    )
    assert waiting == 1

    fhir_server.override = None  # the hospital is back
    await next_try_now(app, referral["id"])
    await deliver_outbox(app)
    accepted = await read(app, visit.patient, referral)
    assert accepted["status"] == "accepted"
    assert accepted["appointment"]["ticket"] == "LS-20260303-0042"
    assert dt.datetime.fromisoformat(accepted["appointment"]["starts_at"]) == (
        dt.datetime.fromisoformat(TOMORROW_MORNING)
    )
    # Once: one ServiceRequest at the hospital (the lost answer's booking was found again by
    # its identifier), one acceptance on the platform.
    assert len(fhir_server.service_requests) == 1
    assert [e["status"] for e in accepted["timeline"]].count("accepted") == 1
    await next_try_now(app, referral["id"])
    await deliver_outbox(app)
    assert len(fhir_server.service_requests) == 1

    # The hospital's Task reports what happened; the follow-up job brings it to the platform.
    [service_request] = fhir_server.service_requests.values()
    fhir_server.add(
        task(
            "t-1",
            service_request["id"],
            "completed",
            outputs=(
                output("seen", "门诊接诊", SEEN_AT),
                output("referred-back", "PCI 术后，回社区随访", SENT_BACK_AT),
            ),
            version="2",
        )
    )
    await app.state.services.db.execute(
        "UPDATE referrals SET last_polled_at = NULL WHERE id = $1", uuid.UUID(referral["id"])
    )
    assert await follow_up(app.state.services) >= 1
    back = await read(app, visit.doctor, referral)
    assert back["status"] == "referred_back"
    assert back["down_referral"]["summary"] == "PCI 术后，回社区随访"
    assert back["down_referral"]["to_doctor"]["id"] == visit.doctor.id
    # Asked again, the same events change nothing.
    await app.state.services.db.execute(
        "UPDATE referrals SET last_polled_at = NULL WHERE id = $1", uuid.UUID(referral["id"])
    )
    await follow_up(app.state.services)
    again = await read(app, visit.doctor, referral)
    assert [e["status"] for e in again["timeline"]] == [
        "awaiting_consent",
        "pending",
        "accepted",
        "seen",
        "referred_back",
    ]
