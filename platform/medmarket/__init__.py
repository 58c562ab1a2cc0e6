"""MedMarket: an open telemedicine marketplace.

The public API for plugin authors is what this module exports: ``hookimpl`` to mark hook
implementations, the platform's ``Settings`` every hook receives (read-only), the contract
types each kind of adapter exchanges with the core, and ``outbound_client`` for connections
to URLs a hospital admin or partner typed. Plugins import nothing else of the package (a
test keeps them to it); their tests use the kit ``medmarket.testing`` (``pip install
medmarket[testing]``). Everything else in the package is the platform's own and may change.
"""

import pluggy

from medmarket.delivery.interface import Courier, DeliveryRequest, Dispatch, Quote, TrackingEvent
from medmarket.health import HealthReport
from medmarket.hospitals.interface import (
    AffiliationQuery,
    AffiliationVerification,
    HospitalAdapter,
    HospitalAdapterType,
    LicenceQuery,
    LicenceVerification,
    Title,
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
    "ClientAction",
    "Courier",
    "DeliveryRequest",
    "Dispatch",
    "FindsQosSessions",
    "GatewayPayment",
    "GatewayRefund",
    "HealthReport",
    "HospitalAdapter",
    "HospitalAdapterType",
    "IceServer",
    "LicenceQuery",
    "LicenceVerification",
    "MediaProfile",
    "Money",
    "Notification",
    "Notifier",
    "OutboundPolicy",
    "OutboundRefused",
    "PaymentGateway",
    "PaymentRejected",
    "PaymentRequest",
    "QosSession",
    "Quote",
    "Recipient",
    "RefundRequest",
    "Settings",
    "Title",
    "TrackingEvent",
    "VideoProvider",
    "WebhookAck",
    "WebhookEvent",
    "WebhookRejected",
    "coturn_credential",
    "hookimpl",
    "outbound_client",
]
