"""The contract suites (``medmarket.testing.contracts``) can fail: each is run here against an
adapter that breaks one promise the core relies on, and must say so. (Every real adapter runs
its suite in its own tests: the Stripe gateway, the WebRTC provider, the log notifier, the
hospital and 5G plugins.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import pytest

from medmarket import (
    CallbackEvent,
    CallbackRejected,
    CallContext,
    ClientAction,
    DeliveryRequest,
    Dispatch,
    GatewayPayment,
    HealthReport,
    IceServer,
    LicenceQuery,
    LicenceVerification,
    MediaProfile,
    Money,
    Notification,
    PaymentRequest,
    Quote,
    Recipient,
    ReferralAppointment,
    ReferralDecision,
    ReferralRequest,
    TrackingEvent,
    WebhookAck,
    WebhookEvent,
)
from medmarket.delivery.interface import Parcel, PostalAddress
from medmarket.testing import sample_referral
from medmarket.testing.contracts import (
    CourierContract,
    HospitalAdapterContract,
    NotifierContract,
    PaymentGatewayContract,
    VideoProviderContract,
)

PLACE = PostalAddress(
    recipient="王", phone="13800000000", province="浙江", city="杭州", district="西湖", street="1号"
)
DELIVERY = DeliveryRequest(
    reference="d-1", pickup=PLACE, dropoff=PLACE, parcel=Parcel(weight_grams=300)
)
NOW = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
CALL = CallContext(
    consultation_id="c",
    participant_id="p",
    participant_role="patient",
    starts_at=NOW,
    ends_at=NOW + dt.timedelta(minutes=30),
)


class ForgetfulCourier:
    """Treats a repeated reference as a new parcel: the core's retry would send two."""

    id, display_name = "forgetful", "Forgetful courier"
    numbers = itertools.count(1)

    async def quote(self, request: DeliveryRequest) -> Quote:
        return Quote(courier_id=self.id, price=Money(800))

    async def dispatch(self, request: DeliveryRequest) -> Dispatch:
        return Dispatch(courier_id=self.id, tracking_number=f"T{next(self.numbers)}")

    async def track(self, tracking_number: str) -> list[TrackingEvent]:
        return [TrackingEvent(status="created", at=NOW)]

    async def cancel(self, tracking_number: str) -> None:
        return None

    def read_callback(
        self, headers: Mapping[str, str], body: bytes, now: dt.datetime
    ) -> list[CallbackEvent]:
        raise CallbackRejected("this courier does not call back")

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True)


class KeepingCourier(ForgetfulCourier):
    """What the contract asks: one tracking number per reference."""

    id = "keeping"

    def __init__(self) -> None:
        self.by_reference: dict[str, Dispatch] = {}

    async def dispatch(self, request: DeliveryRequest) -> Dispatch:
        if request.reference not in self.by_reference:
            self.by_reference[request.reference] = await super().dispatch(request)
        return self.by_reference[request.reference]


class TestAKeepingCourierPassesTheContract(CourierContract):
    @pytest.fixture
    def courier(self) -> KeepingCourier:
        return KeepingCourier()

    @pytest.fixture
    def request_to_deliver(self) -> DeliveryRequest:
        return DELIVERY

    @pytest.fixture
    def signed_callback(self) -> None:
        return None  # it never calls back


async def test_a_courier_that_forgets_references_fails_the_contract() -> None:
    with pytest.raises(AssertionError):
        await CourierContract().test_a_repeated_reference_is_the_same_delivery(
            ForgetfulCourier(), DELIVERY
        )


async def test_naive_tracking_times_fail_the_contract() -> None:
    class NaiveClock(KeepingCourier):
        async def track(self, tracking_number: str) -> list[TrackingEvent]:
            return [TrackingEvent(status="created", at=NOW.replace(tzinfo=None))]

    with pytest.raises(AssertionError, match="aware"):
        await CourierContract().test_a_dispatched_parcel_is_tracked_and_can_be_cancelled(
            NaiveClock(), DELIVERY
        )


async def test_a_courier_that_trusts_any_callback_fails_the_contract() -> None:
    class Trusting(KeepingCourier):
        def read_callback(
            self, headers: Mapping[str, str], body: bytes, now: dt.datetime
        ) -> list[CallbackEvent]:
            return []  # not rejected: anyone could report a parcel delivered

    with pytest.raises(pytest.fail.Exception):
        CourierContract().test_a_callback_that_is_not_authentic_is_rejected(Trusting(), {}, b"{}")


async def test_a_courier_that_takes_a_stale_callback_fails_the_contract() -> None:
    class Timeless(KeepingCourier):
        """Checks the signature (the body's hash), never the timestamp."""

        def read_callback(
            self, headers: Mapping[str, str], body: bytes, now: dt.datetime
        ) -> list[CallbackEvent]:
            if headers.get("x-sig") != hashlib.sha256(body).hexdigest():
                raise CallbackRejected("signature")
            number = body.decode()
            return [
                CallbackEvent(tracking_number=number, event=TrackingEvent(status="created", at=NOW))
            ]

    async def signed(dispatch: Dispatch) -> tuple[Mapping[str, str], bytes, dt.datetime]:
        body = dispatch.tracking_number.encode()
        return {"x-sig": hashlib.sha256(body).hexdigest()}, body, NOW

    contract = CourierContract()
    await contract.test_a_genuine_callback_reports_events_of_the_parcel(
        Timeless(), DELIVERY, signed
    )
    with pytest.raises(pytest.fail.Exception):
        await contract.test_a_callback_from_long_ago_or_the_future_is_rejected(
            Timeless(), DELIVERY, signed
        )


async def test_a_notifier_that_sends_a_repeat_twice_fails_the_contract() -> None:
    sent: list[str] = []

    class Repeating:
        id, display_name = "repeating", "Repeating"

        async def send(self, notification: Notification) -> None:
            sent.append(notification.id)

        async def health(self) -> HealthReport:
            return HealthReport(healthy=True)

    notification = Notification(
        id="n", recipient=Recipient(user_id="u", display_name="王"), template="booking.new"
    )
    with pytest.raises(AssertionError):
        await NotifierContract().test_a_notification_is_delivered_once_however_often_it_is_sent(
            Repeating(), notification, lambda: sent
        )


async def test_a_gateway_that_raises_on_a_decline_fails_the_contract() -> None:
    class Raising:
        id, display_name, supports_server_confirmation = "raising", "Raising", True

        async def create_payment(self, request: PaymentRequest) -> GatewayPayment:
            return GatewayPayment(
                gateway_id=self.id,
                external_id="x",
                reference=request.reference,
                status="requires_payment_method",
                amount=request.amount,
            )

        async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
            raise KeyError("signature")  # not WebhookRejected: the core would answer 500

        def webhook_ack(self) -> WebhookAck:
            return WebhookAck()

        def client_setup(self) -> ClientAction:
            return ClientAction(flow="redirect")

    async def decline(gateway: Any, payment: GatewayPayment) -> GatewayPayment:
        raise RuntimeError("card declined")

    contract = PaymentGatewayContract()
    with pytest.raises(RuntimeError, match="declined"):
        await contract.test_a_decline_is_a_failed_attempt_not_an_exception(Raising(), decline)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        await contract.test_a_notification_that_is_not_authentic_is_rejected(Raising(), {}, b"{}")  # type: ignore[arg-type]


async def test_a_hospital_that_raises_for_a_stranger_fails_the_contract() -> None:
    class Config(msgspec.Struct, forbid_unknown_fields=True):
        registry: str

    class Adapter:
        async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
            raise LookupError(query.licence_number)

        async def aclose(self) -> None:
            return None

    class AdapterType:
        id, display_name, config_type = "raising", "Raising", Config

        def create(self, config: Config) -> Adapter:
            return Adapter()

    stranger = LicenceQuery(licence_number="000", full_name="无名")
    with pytest.raises(LookupError):
        await HospitalAdapterContract().test_an_unknown_licence_is_an_answer_not_an_exception(
            AdapterType(),  # type: ignore[arg-type]
            {"registry": "x"},
            stranger,
        )


REFERRAL = sample_referral(referral_id="r-1", requested_at=NOW)


class _ReferralConfig(msgspec.Struct, forbid_unknown_fields=True):
    registry: str


class _ForgetfulHospital:
    """Books every retry of a referral as a new one: the patient would hold two places."""

    numbers = itertools.count(1)

    async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
        n = next(self.numbers)
        appointment = ReferralAppointment(
            starts_at=NOW + dt.timedelta(hours=n), place="3F", department="心内科", ticket=f"GC-{n}"
        )
        return ReferralDecision(
            status="accepted", appointment=appointment, hospital_reference=f"SR/{n}"
        )

    async def aclose(self) -> None:
        return None


class _ForgetfulHospitalType:
    id, display_name, config_type = "forgetful-hospital", "Forgetful", _ReferralConfig

    def create(self, config: _ReferralConfig) -> _ForgetfulHospital:
        return _ForgetfulHospital()


async def test_a_hospital_that_books_a_retried_referral_again_fails_the_contract() -> None:
    contract = HospitalAdapterContract()
    # Its decision alone is fine ...
    await contract.test_a_referral_is_accepted_or_received_with_a_decision(
        _ForgetfulHospitalType(),  # type: ignore[arg-type]
        {"registry": "x"},
        REFERRAL,
    )
    # ... but a retry is another referral.
    with pytest.raises(AssertionError, match="another referral"):
        await contract.test_a_repeated_referral_id_is_the_same_referral(
            _ForgetfulHospitalType(),  # type: ignore[arg-type]
            {"registry": "x"},
            REFERRAL,
        )


async def test_a_hospital_that_accepts_without_an_appointment_fails_the_contract() -> None:
    class Vague(_ForgetfulHospital):
        async def accept_referral(self, request: ReferralRequest) -> ReferralDecision:
            return ReferralDecision(status="accepted")

    class VagueType(_ForgetfulHospitalType):
        def create(self, config: _ReferralConfig) -> Vague:
            return Vague()

    with pytest.raises(AssertionError, match="without an appointment"):
        await HospitalAdapterContract().test_a_referral_is_accepted_or_received_with_a_decision(
            VagueType(),  # type: ignore[arg-type]
            {"registry": "x"},
            REFERRAL,
        )


async def test_turn_without_credentials_fails_the_contract() -> None:
    class Bare:
        id, display_name = "bare", "Bare"

        async def ice_servers(self, call: CallContext) -> Sequence[IceServer]:
            return [IceServer(urls=("turn:turn.example.org:3478",))]

        async def media_profile(self, call: CallContext) -> MediaProfile:
            return MediaProfile()

    with pytest.raises(AssertionError, match="TURN needs credentials"):
        await VideoProviderContract().test_ice_servers_are_what_a_browser_takes(Bare(), CALL)  # type: ignore[arg-type]
