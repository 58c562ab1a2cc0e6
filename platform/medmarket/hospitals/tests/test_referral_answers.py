"""The connected hospital holds a hospital's referral answers to the contract's rules a type
cannot say: an answer that breaks them is a failure of that hospital (the referral stays
pending and is asked again), never a half-applied acceptance."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from litestar import Litestar

from medmarket import (
    ReferralAppointment,
    ReferralDecision,
    ReferralOutcome,
    ReferralRequest,
    ReferralStatus,
)
from medmarket.hospitals.adapters import ConnectedHospital
from medmarket.plugin_manager import PluginUnavailable
from medmarket.testing import sample_referral

REQUEST = sample_referral()
LATER = dt.datetime(2031, 3, 3, 9, 30)  # noqa: DTZ001 - naive on purpose: what a bad hospital sends


class AnsweringHospital:
    """A hospital's system that answers whatever the test says."""

    def __init__(self, decision: ReferralDecision, status: ReferralStatus | None = None) -> None:
        self.decision = decision
        self.status = status or ReferralStatus(decision=decision)

    async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
        return self.decision

    async def referral_status(self, referral_id: str, reference: str | None) -> ReferralStatus:
        return self.status


def connected(app: Litestar, adapter: Any) -> ConnectedHospital:
    return ConnectedHospital(app.state.services.plugins, uuid.uuid4(), adapter)


@pytest.mark.parametrize(
    "appointment",
    [
        None,
        ReferralAppointment(starts_at=LATER, place="3 楼", department="心内科", ticket="GC-1"),
        ReferralAppointment(
            starts_at=LATER.replace(tzinfo=dt.UTC), place=" ", department="心内科", ticket="GC-1"
        ),
        ReferralAppointment(
            starts_at=LATER.replace(tzinfo=dt.UTC), place="3 楼", department="心内科", ticket=""
        ),
    ],
    ids=["no appointment", "no offset", "no place", "no ticket"],
)
async def test_an_acceptance_without_a_usable_appointment_is_a_failing_hospital(
    app: Litestar, appointment: ReferralAppointment | None
) -> None:
    hospital = connected(
        app, AnsweringHospital(ReferralDecision(status="accepted", appointment=appointment))
    )
    with pytest.raises(PluginUnavailable):
        await hospital.accept_referral(REQUEST)
    with pytest.raises(PluginUnavailable):
        await hospital.referral_status("r-1", None)


async def test_usable_answers_pass(app: Litestar) -> None:
    good = ReferralDecision(
        status="accepted",
        appointment=ReferralAppointment(
            starts_at=LATER.replace(tzinfo=dt.UTC), place="3 楼", department="心内科", ticket="GC-1"
        ),
    )
    hospital = connected(app, AnsweringHospital(good))
    assert await hospital.accept_referral(REQUEST) == good
    refused = ReferralDecision(status="refused", reason_code="department_full")
    assert (await connected(app, AnsweringHospital(refused)).accept_referral(REQUEST)) == refused


async def test_an_outcome_without_an_offset_is_a_failing_hospital(app: Litestar) -> None:
    status = ReferralStatus(outcomes=(ReferralOutcome(status="seen", at=LATER),))
    hospital = connected(app, AnsweringHospital(ReferralDecision(status="received"), status=status))
    with pytest.raises(PluginUnavailable):
        await hospital.referral_status("r-1", None)
