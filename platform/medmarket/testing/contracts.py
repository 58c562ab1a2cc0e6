"""Contract suites every adapter must pass: one per kind (payment gateway, hospital adapter,
video provider, courier, notifier). A plugin's tests subclass the suite of its kind and
provide the fixtures it names; pytest then runs every contract test against the plugin's
adapter, talking to whatever the plugin's tests stand up (a local server, an emulator).

    from medmarket.testing.contracts import CourierContract

    class TestMyCourier(CourierContract):
        @pytest.fixture
        def courier(self, my_local_courier_server): ...

        @pytest.fixture
        def request_to_deliver(self): ...

Install with ``pip install medmarket[testing]``. The suites check what the core relies on
(idempotency on the core's references, refusals as results rather than exceptions, types
at the boundary, call-backs that are not the adapter's own refused); they do not replace
the plugin's own tests of its outside system.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
import pytest

from medmarket import (
    AffiliationQuery,
    AffiliationVerification,
    CallbackEvent,
    CallbackRejected,
    CallContext,
    ClientAction,
    Courier,
    DeliveryRequest,
    Dispatch,
    GatewayPayment,
    GatewayRefund,
    HealthReport,
    HospitalAdapter,
    HospitalAdapterType,
    IceServer,
    LicenceQuery,
    LicenceVerification,
    MediaProfile,
    Money,
    Notification,
    Notifier,
    PaymentGateway,
    PaymentRequest,
    QosSession,
    Quote,
    ReferralDecision,
    ReferralRequest,
    ReferralStatus,
    RefundRequest,
    TrackingEvent,
    VideoProvider,
    WebhookAck,
    WebhookRejected,
)

ADAPTER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_UNSET = "the contract suite needs the fixture {name!r}: define it in your subclass"


def _needs(name: str) -> Any:
    pytest.fail(_UNSET.format(name=name))


def _identified(adapter: Any) -> None:
    assert isinstance(adapter.id, str) and ADAPTER_ID.match(adapter.id), (
        f"id {adapter.id!r}: lower-case letters, digits and dashes"
    )
    assert isinstance(adapter.display_name, str) and adapter.display_name.strip()


async def _healthy_report(adapter: Any) -> None:
    report = await adapter.health()
    assert isinstance(report, HealthReport)


def _json_safe(value: Any) -> None:
    msgspec.json.encode(value)  # raises when something is not JSON


# -- payment gateways ---------------------------------------------------------------------------
class PaymentGatewayContract:
    """Fixtures to provide:

    - ``gateway``: the gateway, talking to its test backend;
    - ``approve``: ``async (gateway, payment) -> GatewayPayment`` pays the attempt as a payer
      would (a server confirmation with a test card, or the client flow), returning it after;
    - ``decline``: the same with a payment the gateway declines.
    """

    currency = "CNY"

    @pytest.fixture
    def gateway(self) -> PaymentGateway:
        return _needs("gateway")  # type: ignore[no-any-return]

    @pytest.fixture
    def approve(self) -> Callable[[PaymentGateway, GatewayPayment], Awaitable[GatewayPayment]]:
        return _needs("approve")  # type: ignore[no-any-return]

    @pytest.fixture
    def decline(self) -> Callable[[PaymentGateway, GatewayPayment], Awaitable[GatewayPayment]]:
        return _needs("decline")  # type: ignore[no-any-return]

    def new_request(self, amount: int = 4200) -> PaymentRequest:
        return PaymentRequest(
            reference=f"pay_contract_{uuid.uuid4().hex}",
            amount=Money(amount, self.currency),
            description="contract test",
        )

    async def created(self, gateway: PaymentGateway, amount: int = 4200) -> GatewayPayment:
        request = self.new_request(amount)
        payment = await gateway.create_payment(request)
        assert isinstance(payment, GatewayPayment)
        assert payment.reference == request.reference
        return payment

    def test_it_is_identified(self, gateway: PaymentGateway) -> None:
        _identified(gateway)
        assert isinstance(gateway.supports_server_confirmation, bool)
        assert isinstance(gateway.webhook_ack(), WebhookAck)
        assert isinstance(gateway.client_setup(), ClientAction)

    async def test_a_created_attempt_is_open_and_found_by_its_reference(
        self, gateway: PaymentGateway
    ) -> None:
        payment = await self.created(gateway)
        assert payment.gateway_id == gateway.id
        assert payment.amount == Money(4200, self.currency)
        assert payment.status.startswith("requires_")
        found = await gateway.find_by_reference(payment.reference)
        assert [p.external_id for p in found] == [payment.external_id]
        again = await gateway.retrieve_payment(payment.external_id)
        assert (again.external_id, again.reference) == (payment.external_id, payment.reference)

    async def test_an_unknown_reference_finds_nothing(self, gateway: PaymentGateway) -> None:
        assert list(await gateway.find_by_reference(f"pay_never_{uuid.uuid4().hex}")) == []

    async def test_an_approved_payment_succeeds_once(
        self,
        gateway: PaymentGateway,
        approve: Callable[[PaymentGateway, GatewayPayment], Awaitable[GatewayPayment]],
    ) -> None:
        paid = await approve(gateway, await self.created(gateway))
        assert paid.status == "succeeded"
        assert (await gateway.retrieve_payment(paid.external_id)).status == "succeeded"
        # Closing a payment that succeeded says so rather than undoing it.
        assert (await gateway.cancel_payment(paid.external_id)).status == "succeeded"

    async def test_a_decline_is_a_failed_attempt_not_an_exception(
        self,
        gateway: PaymentGateway,
        decline: Callable[[PaymentGateway, GatewayPayment], Awaitable[GatewayPayment]],
    ) -> None:
        declined = await decline(gateway, await self.created(gateway))
        assert declined.status == "failed"
        assert (await gateway.retrieve_payment(declined.external_id)).status != "succeeded"

    async def test_an_open_attempt_can_be_closed_for_good(self, gateway: PaymentGateway) -> None:
        payment = await self.created(gateway)
        assert (await gateway.cancel_payment(payment.external_id)).status == "canceled"

    async def test_a_refund_is_found_again_by_its_reference(
        self,
        gateway: PaymentGateway,
        approve: Callable[[PaymentGateway, GatewayPayment], Awaitable[GatewayPayment]],
    ) -> None:
        paid = await approve(gateway, await self.created(gateway, 5000))
        request = RefundRequest(
            reference=f"ref_contract_{uuid.uuid4().hex}",
            external_payment_id=paid.external_id,
            amount=Money(1200, self.currency),
            reason="contract test",
            payment_reference=paid.reference,
            payment_amount=paid.amount,
        )
        refund = await gateway.refund(request)
        assert isinstance(refund, GatewayRefund)
        assert (refund.reference, refund.amount) == (request.reference, request.amount)
        assert refund.status in ("pending", "succeeded")
        found = await gateway.find_refund(paid.external_id, request.reference)
        assert found is not None and found.external_id == refund.external_id
        assert await gateway.find_refund(paid.external_id, f"ref_never_{uuid.uuid4().hex}") is None

    @pytest.mark.parametrize(
        ("headers", "body"),
        [({}, b"{}"), ({}, b"\xff not json"), ({"content-type": "application/json"}, b"")],
    )
    async def test_a_notification_that_is_not_authentic_is_rejected(
        self, gateway: PaymentGateway, headers: Mapping[str, str], body: bytes
    ) -> None:
        with pytest.raises(WebhookRejected):
            await gateway.parse_webhook(headers, body)

    async def test_it_reports_its_health(self, gateway: PaymentGateway) -> None:
        await _healthy_report(gateway)


# -- hospital adapters --------------------------------------------------------------------------
class HospitalAdapterContract:
    """Fixtures to provide:

    - ``adapter_type``: the plugin's ``HospitalAdapterType``;
    - ``config``: a configuration (a dict, as a hospital admin's form sends it) that reaches
      the plugin's test hospital;
    - ``known``: a ``LicenceQuery`` for a practitioner with a valid licence and a current
      affiliation at that hospital; ``unknown``: one the hospital has never heard of;
    - ``referral``: a ``ReferralRequest`` the test hospital accepts (or receives, to decide
      later); its ``referral_id`` is replaced by a fresh one per test.
    """

    @pytest.fixture
    def adapter_type(self) -> HospitalAdapterType:
        return _needs("adapter_type")  # type: ignore[no-any-return]

    @pytest.fixture
    def config(self) -> dict[str, Any]:
        return _needs("config")  # type: ignore[no-any-return]

    @pytest.fixture
    def known(self) -> LicenceQuery:
        return _needs("known")  # type: ignore[no-any-return]

    @pytest.fixture
    def unknown(self) -> LicenceQuery:
        return _needs("unknown")  # type: ignore[no-any-return]

    @pytest.fixture
    def referral(self) -> ReferralRequest:
        return _needs("referral")  # type: ignore[no-any-return]

    async def connected(
        self, adapter_type: HospitalAdapterType, config: dict[str, Any]
    ) -> HospitalAdapter:
        return adapter_type.create(msgspec.convert(config, adapter_type.config_type))

    def fresh(self, referral: ReferralRequest) -> ReferralRequest:
        return msgspec.structs.replace(referral, referral_id=f"rfl_contract_{uuid.uuid4().hex}")

    def test_it_is_identified_and_its_form_is_a_struct(
        self, adapter_type: HospitalAdapterType, config: dict[str, Any]
    ) -> None:
        _identified(adapter_type)
        assert issubclass(adapter_type.config_type, msgspec.Struct)
        msgspec.json.schema(adapter_type.config_type)  # the form the pages draw
        msgspec.convert(config, adapter_type.config_type)

    def test_a_bad_configuration_is_a_validation_error(
        self, adapter_type: HospitalAdapterType
    ) -> None:
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert({"no such field": object()}, adapter_type.config_type)

    async def test_a_known_licence_is_valid_with_evidence_and_no_secret(
        self, adapter_type: HospitalAdapterType, config: dict[str, Any], known: LicenceQuery
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        try:
            answer = await adapter.verify_licence(known)
        finally:
            await adapter.aclose()
        assert isinstance(answer, LicenceVerification) and answer.valid
        _json_safe(answer.evidence)
        secrets = [
            str(value)
            for name, value in config.items()
            if name.lower().endswith(("_secret", "password", "token")) and value
        ]
        shown = msgspec.json.encode(answer.evidence).decode()
        assert not any(secret in shown for secret in secrets), "evidence holds a secret"

    async def test_an_unknown_licence_is_an_answer_not_an_exception(
        self, adapter_type: HospitalAdapterType, config: dict[str, Any], unknown: LicenceQuery
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        try:
            answer = await adapter.verify_licence(unknown)
        finally:
            await adapter.aclose()
        assert isinstance(answer, LicenceVerification) and not answer.valid

    async def test_a_known_practitioner_is_affiliated(
        self, adapter_type: HospitalAdapterType, config: dict[str, Any], known: LicenceQuery
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        query = AffiliationQuery(licence_number=known.licence_number, full_name=known.full_name)
        try:
            answer = await adapter.confirm_affiliation(query)
        finally:
            await adapter.aclose()
        assert isinstance(answer, AffiliationVerification) and answer.affiliated
        _json_safe(answer.evidence)

    async def test_a_referral_is_accepted_or_received_with_a_decision(
        self,
        adapter_type: HospitalAdapterType,
        config: dict[str, Any],
        referral: ReferralRequest,
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        try:
            decision = await adapter.accept_referral(self.fresh(referral))
        finally:
            await adapter.aclose()
        assert isinstance(decision, ReferralDecision)
        assert decision.status in ("accepted", "received"), (
            f"the fixture's referral was {decision.status}: {decision.reason_code} "
            f"{decision.reason}"
        )
        if decision.status == "accepted":
            assert decision.appointment is not None, "accepted without an appointment"
            assert decision.appointment.starts_at.tzinfo is not None, "times are aware"
            assert decision.appointment.ticket.strip(), "accepted without a ticket"
        _json_safe(decision.evidence)

    async def test_a_repeated_referral_id_is_the_same_referral(
        self,
        adapter_type: HospitalAdapterType,
        config: dict[str, Any],
        referral: ReferralRequest,
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        request = self.fresh(referral)
        try:
            first = await adapter.accept_referral(request)
            again = await adapter.accept_referral(request)  # the core retries
        finally:
            await adapter.aclose()
        assert (again.status, again.hospital_reference) == (
            first.status,
            first.hospital_reference,
        ), "a retry was answered as another referral"
        assert again.appointment == first.appointment, "a retry moved the appointment"

    async def test_a_referral_status_is_a_status(
        self,
        adapter_type: HospitalAdapterType,
        config: dict[str, Any],
        referral: ReferralRequest,
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        request = self.fresh(referral)
        try:
            decision = await adapter.accept_referral(request)
            status = await adapter.referral_status(request.referral_id, decision.hospital_reference)
        finally:
            await adapter.aclose()
        assert isinstance(status, ReferralStatus)
        if status.decision is not None and decision.status != "received":
            assert status.decision.status == decision.status, "the status forgot the decision"
        assert all(outcome.at.tzinfo is not None for outcome in status.outcomes)

    async def test_a_referral_is_cancelled_twice_and_a_stranger_once_without_error(
        self,
        adapter_type: HospitalAdapterType,
        config: dict[str, Any],
        referral: ReferralRequest,
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        request = self.fresh(referral)
        try:
            decision = await adapter.accept_referral(request)
            for _ in range(2):
                await adapter.cancel_referral(
                    request.referral_id, decision.hospital_reference, "contract test"
                )
            # A referral the hospital does not know is already cancelled.
            await adapter.cancel_referral(self.fresh(referral).referral_id, None, "contract")
        finally:
            await adapter.aclose()

    async def test_it_reports_its_health_and_closes_twice(
        self, adapter_type: HospitalAdapterType, config: dict[str, Any]
    ) -> None:
        adapter = await self.connected(adapter_type, config)
        await _healthy_report(adapter)
        await adapter.aclose()
        await adapter.aclose()


# -- video providers ----------------------------------------------------------------------------
class VideoProviderContract:
    """Fixtures to provide: ``provider``, and ``call``: a ``CallContext`` the provider serves
    (for a carrier, a device on its test network)."""

    @pytest.fixture
    def provider(self) -> VideoProvider:
        return _needs("provider")  # type: ignore[no-any-return]

    @pytest.fixture
    def call(self) -> CallContext:
        return _needs("call")  # type: ignore[no-any-return]

    def test_it_is_identified(self, provider: VideoProvider) -> None:
        _identified(provider)

    async def test_ice_servers_are_what_a_browser_takes(
        self, provider: VideoProvider, call: CallContext
    ) -> None:
        servers = await provider.ice_servers(call)
        assert isinstance(servers, list)
        assert all(isinstance(server, IceServer) for server in servers)
        for server in servers:
            assert server.urls and all(
                url.startswith(("stun:", "turn:", "turns:")) for url in server.urls
            )
            if any(url.startswith("turn") for url in server.urls):
                assert server.username and server.credential, "TURN needs credentials"

    async def test_the_media_profile_is_a_set_of_positive_bounds(
        self, provider: VideoProvider, call: CallContext
    ) -> None:
        profile = await provider.media_profile(call)
        assert isinstance(profile, MediaProfile)
        assert (
            min(
                profile.max_video_kbps,
                profile.max_width,
                profile.max_height,
                profile.max_framerate,
                profile.audio_kbps,
            )
            > 0
        )

    async def test_a_qos_session_is_none_or_one_that_extends_and_closes_twice(
        self, provider: VideoProvider, call: CallContext
    ) -> None:
        session = await provider.open_qos_session(call)
        if session is None:
            return
        assert isinstance(session, QosSession) and session.provider_id == provider.id
        extended = await provider.extend_qos_session(session, 300)
        assert extended.session_id == session.session_id
        await provider.close_qos_session(extended)
        await provider.close_qos_session(extended)  # closing again is not an error

    async def test_it_reports_its_health(self, provider: VideoProvider) -> None:
        await _healthy_report(provider)


# -- couriers -----------------------------------------------------------------------------------
# ``async (dispatch) -> (headers, raw body, sent at)``: a genuine call-back about a parcel.
SignedCallbackMaker = Callable[[Dispatch], Awaitable[tuple[Mapping[str, str], bytes, dt.datetime]]]


class CourierContract:
    """Fixtures to provide:

    - ``courier``;
    - ``request_to_deliver``: a ``DeliveryRequest`` the courier serves (its ``reference`` is
      replaced by a fresh one per test);
    - ``signed_callback``: ``async (dispatch) -> (headers, body, sent_at)`` makes the
      courier's test system report an event about a dispatched parcel and returns the
      call-back it sends for it: its headers, its raw body and when it was sent; ``None``
      for a courier that never calls back (its ``read_callback`` refuses everything).
    """

    @pytest.fixture
    def courier(self) -> Courier:
        return _needs("courier")  # type: ignore[no-any-return]

    @pytest.fixture
    def request_to_deliver(self) -> DeliveryRequest:
        return _needs("request_to_deliver")  # type: ignore[no-any-return]

    @pytest.fixture
    def signed_callback(self) -> SignedCallbackMaker | None:
        return _needs("signed_callback")  # type: ignore[no-any-return]

    def fresh(self, request: DeliveryRequest) -> DeliveryRequest:
        return msgspec.structs.replace(request, reference=f"dlv_contract_{uuid.uuid4().hex}")

    async def genuine(
        self,
        courier: Courier,
        request_to_deliver: DeliveryRequest,
        signed_callback: SignedCallbackMaker | None,
    ) -> tuple[Dispatch, Mapping[str, str], bytes, dt.datetime]:
        if signed_callback is None:
            pytest.skip("this courier does not call back")
        dispatch = await courier.dispatch(self.fresh(request_to_deliver))
        headers, body, sent_at = await signed_callback(dispatch)
        # The core hands over header names in lower case.
        return dispatch, {name.lower(): value for name, value in headers.items()}, body, sent_at

    def test_it_is_identified(self, courier: Courier) -> None:
        _identified(courier)

    async def test_a_quote_is_a_price_in_minor_units(
        self, courier: Courier, request_to_deliver: DeliveryRequest
    ) -> None:
        quote = await courier.quote(self.fresh(request_to_deliver))
        assert isinstance(quote, Quote) and quote.courier_id == courier.id
        assert isinstance(quote.price.amount, int) and quote.price.amount >= 0

    async def test_a_repeated_reference_is_the_same_delivery(
        self, courier: Courier, request_to_deliver: DeliveryRequest
    ) -> None:
        request = self.fresh(request_to_deliver)
        first = await courier.dispatch(request)
        again = await courier.dispatch(request)  # the core retries dispatch
        assert isinstance(first, Dispatch) and first.courier_id == courier.id
        assert again.tracking_number == first.tracking_number
        other = await courier.dispatch(self.fresh(request_to_deliver))
        assert other.tracking_number != first.tracking_number

    async def test_a_dispatched_parcel_is_tracked_and_can_be_cancelled(
        self, courier: Courier, request_to_deliver: DeliveryRequest
    ) -> None:
        dispatch = await courier.dispatch(self.fresh(request_to_deliver))
        events = await courier.track(dispatch.tracking_number)
        assert all(isinstance(event, TrackingEvent) for event in events)
        assert all(event.at.tzinfo is not None for event in events), "times are aware"
        await courier.cancel(dispatch.tracking_number)

    @pytest.mark.parametrize(
        ("headers", "body"),
        [
            ({}, b"{}"),
            ({}, b"\xff not json"),
            ({"content-type": "application/json"}, b""),
            ({"x-signature": "0" * 64, "x-timestamp": "1"}, b'{"events": []}'),
        ],
    )
    def test_a_callback_that_is_not_authentic_is_rejected(
        self, courier: Courier, headers: Mapping[str, str], body: bytes
    ) -> None:
        with pytest.raises(CallbackRejected):
            courier.read_callback(headers, body, dt.datetime.now(dt.UTC))

    async def test_a_genuine_callback_reports_events_of_the_parcel(
        self,
        courier: Courier,
        request_to_deliver: DeliveryRequest,
        signed_callback: SignedCallbackMaker | None,
    ) -> None:
        dispatch, headers, body, sent_at = await self.genuine(
            courier, request_to_deliver, signed_callback
        )
        events = courier.read_callback(headers, body, sent_at + dt.timedelta(seconds=1))
        assert events and all(isinstance(event, CallbackEvent) for event in events)
        assert {event.tracking_number for event in events} == {dispatch.tracking_number}
        assert all(event.event.at.tzinfo is not None for event in events), "times are aware"
        # A replay reads the same (the core applies each event once, by its id or its
        # tracking number, status and time): read_callback is pure.
        assert courier.read_callback(headers, body, sent_at + dt.timedelta(seconds=2)) == events

    async def test_a_callback_changed_after_signing_or_unsigned_is_rejected(
        self,
        courier: Courier,
        request_to_deliver: DeliveryRequest,
        signed_callback: SignedCallbackMaker | None,
    ) -> None:
        _, headers, body, sent_at = await self.genuine(courier, request_to_deliver, signed_callback)
        with pytest.raises(CallbackRejected):
            courier.read_callback(headers, body + b" ", sent_at)
        with pytest.raises(CallbackRejected):
            courier.read_callback({}, body, sent_at)

    async def test_a_callback_from_long_ago_or_the_future_is_rejected(
        self,
        courier: Courier,
        request_to_deliver: DeliveryRequest,
        signed_callback: SignedCallbackMaker | None,
    ) -> None:
        _, headers, body, sent_at = await self.genuine(courier, request_to_deliver, signed_callback)
        for now in (sent_at + dt.timedelta(days=1), sent_at - dt.timedelta(days=1)):
            with pytest.raises(CallbackRejected):
                courier.read_callback(headers, body, now)

    async def test_it_reports_its_health(self, courier: Courier) -> None:
        await _healthy_report(courier)


# -- notifiers ----------------------------------------------------------------------------------
class NotifierContract:
    """Fixtures to provide:

    - ``notifier``;
    - ``notification``: a ``Notification`` to a recipient this channel reaches (its ``id`` is
      replaced by a fresh one per test);
    - ``delivered``: ``() -> list[str]``, the notification ids the outside system received,
      in order (from the test's server, or the log for the built-in one).
    """

    @pytest.fixture
    def notifier(self) -> Notifier:
        return _needs("notifier")  # type: ignore[no-any-return]

    @pytest.fixture
    def notification(self) -> Notification:
        return _needs("notification")  # type: ignore[no-any-return]

    @pytest.fixture
    def delivered(self) -> Callable[[], list[str]]:
        return _needs("delivered")  # type: ignore[no-any-return]

    def test_it_is_identified(self, notifier: Notifier) -> None:
        _identified(notifier)

    async def test_a_notification_is_delivered_once_however_often_it_is_sent(
        self,
        notifier: Notifier,
        notification: Notification,
        delivered: Callable[[], list[str]],
    ) -> None:
        fresh = msgspec.structs.replace(notification, id=f"contract:{uuid.uuid4().hex}")
        await notifier.send(fresh)
        await notifier.send(fresh)  # the outbox delivers at least once
        assert delivered().count(fresh.id) == 1

    async def test_it_reports_its_health(self, notifier: Notifier) -> None:
        await _healthy_report(notifier)


__all__ = [
    "CourierContract",
    "HospitalAdapterContract",
    "NotifierContract",
    "PaymentGatewayContract",
    "SignedCallbackMaker",
    "VideoProviderContract",
]
