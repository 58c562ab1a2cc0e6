"""MedMarket: an open telemedicine marketplace.

The public API for plugin authors is what this module exports: ``hookimpl`` to mark hook
implementations, the platform's ``Settings`` every hook receives (read-only), the contract
types each kind of adapter exchanges with the core (and what a prescription rule reads and
answers), and ``outbound_client`` for connections to URLs a hospital admin or partner
typed. Plugins import nothing else of the package (a test keeps them to it); their tests
use the kit ``medmarket.testing`` (``pip install medmarket[testing]``). Everything else in
the package is the platform's own and may change.
"""

import pluggy

from medmarket.delivery.interface import (
    CallbackEvent,
    CallbackRejected,
    Courier,
    CourierRefused,
    DeliveryRequest,
    Dispatch,
    Parcel,
    PostalAddress,
    ProofOfDelivery,
    Quote,
    TrackingEvent,
)
from medmarket.health import HealthReport
from medmarket.hospitals.interface import (
    AffiliationQuery,
    AffiliationVerification,
    DecisionStatus,
    HospitalAdapter,
    HospitalAdapterType,
    LicenceQuery,
    LicenceVerification,
    OutcomeStatus,
    ReferralAppointment,
    ReferralAttachment,
    ReferralDecision,
    ReferralOutcome,
    ReferralPatient,
    ReferralRequest,
    ReferralStatus,
    ReferringDoctor,
    Title,
    Urgency,
)
from medmarket.notifications.interface import Notification, Notifier, Recipient
from medmarket.outbound import OutboundPolicy, OutboundRefused, outbound_client
from medmarket.payments.interface import (
    ClientAction,
    GatewayPayment,
    GatewayRefund,
    Money,
    PaymentGateway,
    PaymentRejected,
    PaymentRequest,
    RefundRequest,
    WebhookAck,
    WebhookEvent,
    WebhookRejected,
)
from medmarket.prescriptions.interface import (
    DraftPrescription,
    DrugFacts,
    Finding,
    ItemDraft,
    Limits,
    PatientFacts,
    PrescriptionRule,
)
from medmarket.settings import Settings
from medmarket.video.interface import (
    HIGH_THROUGHPUT,
    STANDARD,
    CallContext,
    FindsQosSessions,
    IceServer,
    MediaProfile,
    QosSession,
    VideoProvider,
)
from medmarket.video.turn import coturn_credential

hookimpl = pluggy.HookimplMarker("medmarket")

__all__ = [
    "HIGH_THROUGHPUT",
    "STANDARD",
    "AffiliationQuery",
    "AffiliationVerification",
    "CallContext",
    "CallbackEvent",
    "CallbackRejected",
    "ClientAction",
    "Courier",
    "CourierRefused",
    "DecisionStatus",
    "DeliveryRequest",
    "Dispatch",
    "DraftPrescription",
    "DrugFacts",
    "Finding",
    "FindsQosSessions",
    "GatewayPayment",
    "GatewayRefund",
    "HealthReport",
    "HospitalAdapter",
    "HospitalAdapterType",
    "IceServer",
    "ItemDraft",
    "LicenceQuery",
    "LicenceVerification",
    "Limits",
    "MediaProfile",
    "Money",
    "Notification",
    "Notifier",
    "OutboundPolicy",
    "OutboundRefused",
    "OutcomeStatus",
    "Parcel",
    "PatientFacts",
    "PaymentGateway",
    "PaymentRejected",
    "PaymentRequest",
    "PostalAddress",
    "PrescriptionRule",
    "ProofOfDelivery",
    "QosSession",
    "Quote",
    "Recipient",
    "ReferralAppointment",
    "ReferralAttachment",
    "ReferralDecision",
    "ReferralOutcome",
    "ReferralPatient",
    "ReferralRequest",
    "ReferralStatus",
    "ReferringDoctor",
    "RefundRequest",
    "Settings",
    "Title",
    "TrackingEvent",
    "Urgency",
    "VideoProvider",
    "WebhookAck",
    "WebhookEvent",
    "WebhookRejected",
    "coturn_credential",
    "hookimpl",
    "outbound_client",
]
