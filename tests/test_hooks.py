"""Each hook: a plugin implementing it is found, its adapter registered, and the core reaches
the adapter through the guarded call path. Domain tests exercise the same adapters through
their features (onboarding, booking, payments, video, delivery)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from medmarket import (
    CallContext,
    DeliveryRequest,
    Dispatch,
    DraftPrescription,
    DrugFacts,
    Finding,
    HealthReport,
    IceServer,
    ItemDraft,
    LicenceQuery,
    LicenceVerification,
    Limits,
    Money,
    Notification,
    PatientFacts,
    PaymentRequest,
    Quote,
    Recipient,
    hookimpl,
)
from medmarket.app import create_app
from medmarket.delivery.interface import Parcel, PostalAddress
from medmarket.domains import DOMAINS, outbox_handlers
from medmarket.outbox import enqueue
from medmarket.outbox.worker import OutboxWorker
from medmarket.payments.interface import GatewayPayment
from medmarket.plugin_manager import PluginHost
from medmarket.prescriptions import rules
from medmarket.settings import Settings
from medmarket.tests.support.fixtures import running


class Config(msgspec.Struct):
    base_url: str


class EchoHospital:
    def __init__(self, config: Config) -> None:
        self.config = config

    async def verify_licence(self, query: LicenceQuery) -> LicenceVerification:
        return LicenceVerification(
            valid=True, title="主治医师", evidence={"source": self.config.base_url}
        )


class EchoHospitalType:
    id, display_name, config_type = "echo", "Echo hospital", Config

    def create(self, config: Config) -> EchoHospital:
        return EchoHospital(config)


class EchoVideo:
    id, display_name = "echo-video", "Echo video"

    async def ice_servers(self, call: CallContext) -> list[IceServer]:
        return [IceServer(urls=("stun:127.0.0.1:3478",))]


class EchoCourier:
    id, display_name = "echo-courier", "Echo courier"

    async def quote(self, request: DeliveryRequest) -> Quote:
        return Quote(courier_id=self.id, price=Money(1200))

    async def dispatch(self, request: DeliveryRequest) -> Dispatch:
        return Dispatch(courier_id=self.id, tracking_number="T-" + request.reference)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=False, detail="depot closed")


class EchoGateway:
    id, display_name = "echo-pay", "Echo pay"

    async def create_payment(self, request: PaymentRequest) -> GatewayPayment:
        return GatewayPayment(
            gateway_id=self.id,
            external_id="pay_1",
            reference=request.reference,
            status="requires_payment_method",
            amount=request.amount,
        )


class RecordingNotifier:
    id, display_name = "recording", "Recording"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, notification: Notification) -> None:
        self.sent.append(notification)

    async def health(self) -> HealthReport:
        return HealthReport(healthy=True)


def echo_antibiotics_need_a_culture(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterator[Finding]:
    for index, item in enumerate(draft.items):
        if item.drug.atc_code.startswith("J01"):
            yield Finding(
                rule="antibiotics_need_a_culture",
                severity="warning",
                message_zh="抗菌药物：请说明是否已做病原学检查。",
                message_en="An antibacterial: say whether a culture was taken.",
                item=index,
                field=f"items[{index}].drug_id",
            )


class EchoPlugin:
    def __init__(self) -> None:
        self.notifier = RecordingNotifier()

    @hookimpl
    def medmarket_hospital_adapters(self, settings: Settings) -> Sequence[Any]:
        return [EchoHospitalType()]

    @hookimpl
    def medmarket_video_providers(self, settings: Settings) -> Sequence[Any]:
        return [EchoVideo()]

    @hookimpl
    def medmarket_couriers(self, settings: Settings) -> Sequence[Any]:
        return [EchoCourier()]

    @hookimpl
    def medmarket_payment_gateways(self, settings: Settings) -> Sequence[Any]:
        return [EchoGateway()]

    @hookimpl
    def medmarket_notifiers(self, settings: Settings) -> Sequence[Any]:
        return [self.notifier]

    @hookimpl
    def medmarket_prescription_rules(self, settings: Settings) -> Sequence[Any]:
        return [echo_antibiotics_need_a_culture]


@pytest.fixture
async def host(settings: Settings) -> AsyncIterator[PluginHost]:
    plugins = PluginHost(settings, [("echo", EchoPlugin())])
    yield plugins
    await plugins.aclose()


async def test_hook_medmarket_hospital_adapters(host: PluginHost) -> None:
    adapter_type = host.hospital_adapters.get("echo")
    config = msgspec.convert({"base_url": "https://his.example"}, adapter_type.config_type)
    adapter = adapter_type.create(config)
    answer = await host.guard(
        "licence check",
        host.hospital_adapters.key("echo"),
        lambda: adapter.verify_licence(LicenceQuery(licence_number="1", full_name="张三")),
    )
    assert answer.valid and answer.evidence == {"source": "https://his.example"}
    assert host.hospital_adapters.owners["echo"] == "echo"


async def test_hook_medmarket_video_providers(host: PluginHost) -> None:
    provider = host.video_providers.get("echo-video")
    now = dt.datetime.now(dt.UTC)
    call = CallContext(
        consultation_id="c1",
        participant_id="p1",
        participant_role="patient",
        starts_at=now,
        ends_at=now + dt.timedelta(minutes=15),
    )
    servers = await host.guard(
        "ice servers", host.video_providers.key("echo-video"), lambda: provider.ice_servers(call)
    )
    assert servers[0].urls == ("stun:127.0.0.1:3478",)


async def test_hook_medmarket_couriers(host: PluginHost) -> None:
    """The host registers the courier under its id and plugin, and the core asks it for its
    health behind its breaker key (delivery itself lands with the pharmacy domain)."""
    assert host.couriers.owners["echo-courier"] == "echo"
    assert "courier:echo-courier" in host.provided_by("echo")
    report = (await host.health())[host.couriers.key("echo-courier")]
    assert (report.healthy, report.detail) == (False, "depot closed")
    place = PostalAddress(
        recipient="王",
        phone="13800000000",
        province="浙江",
        city="杭州",
        district="西湖",
        street="1号",
    )
    request = DeliveryRequest(
        reference="d-1", pickup=place, dropoff=place, parcel=Parcel(weight_grams=300)
    )
    courier = host.couriers.get("echo-courier")
    dispatch = await host.guard(
        "dispatch", host.couriers.key("echo-courier"), lambda: courier.dispatch(request)
    )
    assert dispatch.tracking_number == "T-d-1"


async def test_hook_medmarket_payment_gateways(host: PluginHost) -> None:
    gateway = host.payment_gateways.get("echo-pay")
    payment = await host.guard(
        "payment",
        host.payment_gateways.key("echo-pay"),
        lambda: gateway.create_payment(
            PaymentRequest(reference="pay-ref-1", amount=Money(5000), description="visit")
        ),
    )
    assert payment.reference == "pay-ref-1" and payment.amount == Money(5000, "CNY")


async def test_hook_medmarket_notifiers(settings: Settings) -> None:
    plugin = EchoPlugin()
    async with running(create_app(settings, extra_plugins=[("echo", plugin)])) as app:
        services = app.state.services
        notification = Notification(
            id=f"n-{uuid.uuid4()}",
            template="booking.confirmed",
            params={"when": "明天 9:00"},
            recipient=Recipient(user_id="u1", display_name="王小明"),
        )
        async with services.db.transaction() as connection:
            await enqueue(connection, "notification.send", msgspec.to_builtins(notification))
        worker = OutboxWorker(
            services.db, outbox_handlers(DOMAINS, services), lease_seconds=30, max_attempts=3
        )
        # Other tests' notifications may still wait in the shared outbox: deliver until ours.
        for _ in range(500):
            if notification in plugin.notifier.sent:
                break
            await worker.run_once()
        assert plugin.notifier.sent.count(notification) == 1


def test_hook_medmarket_prescription_rules(host: PluginHost) -> None:
    """The host collects the plugin's rule under the plugin's name, and the core's check runs
    it after the platform's rules, its finding's id prefixed with the plugin's name."""
    assert [rule.name for rule in host.prescription_rules if rule.owner == "echo"] == [
        "echo.echo_antibiotics_need_a_culture"
    ]
    assert "prescription rule:echo.echo_antibiotics_need_a_culture" in host.provided_by("echo")
    amoxicillin = DrugFacts(
        id=uuid.uuid4(),
        generic_name_zh="阿莫西林",
        generic_name_en="amoxicillin",
        aliases=(),
        dosage_form="capsule",
        strength="0.25",
        unit="g",
        route="oral",
        atc_code="J01CA04",
        prescription_only=True,
        special_class=None,
        retired=False,
    )
    draft = DraftPrescription(
        diagnosis="急性扁桃体炎",
        items=(
            ItemDraft(
                drug=amoxicillin,
                dose=Decimal("0.5"),
                dose_unit="g",
                route="oral",
                frequency="tid",
                duration_days=7,
                quantity=Decimal(42),
                quantity_unit="capsule",
            ),
        ),
        chronic_follow_up=False,
        written_on=dt.date(2026, 12, 3),
    )
    patient = PatientFacts(
        date_of_birth=dt.date(1990, 1, 1),
        allergies=("青霉素",),
        chronic_conditions=(),
        current_medications=(),
        guardian_present=False,
    )
    findings = rules.check(draft, patient, Limits(), extra_rules=host.prescription_rules)
    assert [(f.rule, f.severity, f.item) for f in findings] == [
        ("allergy", "error", 0),
        ("echo.antibiotics_need_a_culture", "warning", 0),
    ]
