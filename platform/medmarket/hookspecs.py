"""Every hook a MedMarket plugin can implement.

Hooks are synchronous and return adapters: pluggy does not await, so a hook hands back
objects whose methods are ``async``; the core awaits those behind a timeout, an error
boundary and a circuit breaker (``plugin_manager.PluginHost.guard``). A plugin that raises
or hangs degrades one feature, never the platform.

Each hook receives the platform ``settings`` (read-only) so a plugin can find the data
directory, the environment and the base URL; a plugin reads its own options from its own
environment variables or, for hospital adapters, from the configuration a hospital admin
filled in.

Every hook here must have an entry in ``docs/plugin_hooks.md`` and a test
(``tests/test_hookspecs.py`` enforces both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from medmarket.delivery.interface import Courier
    from medmarket.hospitals.interface import HospitalAdapterType
    from medmarket.notifications.interface import Notifier
    from medmarket.payments.interface import PaymentGateway
    from medmarket.prescriptions.interface import PrescriptionRule
    from medmarket.settings import Settings
    from medmarket.video.interface import VideoProvider

PROJECT = "medmarket"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def medmarket_hospital_adapters(settings: Settings) -> Sequence[HospitalAdapterType] | None:
    """Offer kinds of partner-hospital adapter.

    Called once when the platform starts (app or worker), after every plugin is registered.

    :param settings: the platform's settings.
    :return: adapter types, each with a unique ``id`` (e.g. ``"fhir-r4"``), a
        ``display_name``, a msgspec ``config_type`` describing the configuration form a
        hospital admin fills in, and ``create(config)`` returning a
        :class:`~medmarket.hospitals.interface.HospitalAdapter`. Return ``None`` or an empty
        sequence to offer none. Two plugins offering the same ``id`` is a start-up error.
    """


@hookspec
def medmarket_video_providers(settings: Settings) -> Sequence[VideoProvider] | None:
    """Offer video providers: who hands out ICE/TURN servers, media profiles and network QoS.

    Called once at start-up. A consultation is served by one provider, chosen by id when it
    is booked (the built-in ``"webrtc"`` provider when nothing else is configured).

    :param settings: the platform's settings.
    :return: providers implementing :class:`~medmarket.video.interface.VideoProvider`, each
        with a unique ``id``; ``None`` to offer none. If a provider's QoS calls fail, the call
        still goes ahead without QoS. ``open_qos_session`` is called once the visit is in
        progress; its :class:`~medmarket.video.interface.CallContext` names the device by
        what the core knows: ``device_ipv4`` with ``device_public_port`` (``None`` when
        unknown, e.g. behind a proxy), ``device_ipv6``, and ``device_phone_number`` (E.164,
        the patient account holder's; ``None`` for doctors). Return ``None`` for no QoS when
        none of them identifies the device on your network. A provider may also offer
        ``find_qos_sessions(call)`` (:class:`~medmarket.video.interface.FindsQosSessions`):
        after an ``open_qos_session`` that failed or timed out, the core closes, in the
        background, the device's sessions it has no record of.
    """


@hookspec
def medmarket_couriers(settings: Settings) -> Sequence[Courier] | None:
    """Offer couriers that deliver dispensed drugs to a patient's door.

    Called once at start-up. A patient's delivery is quoted by every courier and the
    cheapest that will carry it is chosen; the pharmacy's hand-over dispatches it (from the
    outbox when the courier does not answer at once); its events arrive by the courier's
    call-back (``POST /api/couriers/{id}/callbacks``, read by ``read_callback``) or by the
    worker's polling (``track``).

    :param settings: the platform's settings.
    :return: couriers implementing :class:`~medmarket.delivery.interface.Courier`, each with
        a unique ``id``; ``None`` to offer none. A courier must treat a repeated
        ``DeliveryRequest.reference`` as the same delivery (dispatch is retried after a
        crash), refuse what it will not carry with ``CourierRefused`` (a parcel flagged
        ``cold_chain`` it cannot keep at 2–8 °C, an address outside its area), give each
        event an ``event_id`` (each is applied once however often it arrives), and reject a
        call-back that is not its own or too old with ``CallbackRejected``.
    """


@hookspec
def medmarket_payment_gateways(settings: Settings) -> Sequence[PaymentGateway] | None:
    """Offer payment gateways (the built-in one speaks the Stripe API; WeChat Pay, Alipay
    plug in the same way).

    Called once at start-up. ``MEDMARKET_PAYMENT_GATEWAY`` names the gateway new payments
    use; older payments keep theirs.

    :param settings: the platform's settings.
    :return: gateways implementing :class:`~medmarket.payments.interface.PaymentGateway`,
        each with a unique ``id``; ``None`` to offer none. The core commits every attempt and
        refund with its own ``reference`` before calling the gateway and recovers from
        crashes by asking ``find_by_reference`` / ``find_refund``, so a gateway must store
        that reference with the payment and find it again. A declined card is a result
        (status ``"failed"``), not an exception.
    """


@hookspec
def medmarket_notifiers(settings: Settings) -> Sequence[Notifier] | None:
    """Offer notification channels (SMS, WeChat, e-mail, ...). Every channel receives every
    notification; a channel skips recipients it cannot reach (no phone number, say).

    Called once at start-up. Notifications are delivered from the outbox, at least once:
    a channel must deliver a ``Notification.id`` it has seen before only once.

    :param settings: the platform's settings.
    :return: notifiers implementing :class:`~medmarket.notifications.interface.Notifier`;
        ``None`` to offer none.
    """


@hookspec
def medmarket_prescription_rules(settings: Settings) -> Iterable[PrescriptionRule] | None:
    """Offer safety rules every prescription passes before the doctor may sign it, after
    the platform's own (a formulary, a province's limits, a hospital's antibiotic policy).

    Called once at start-up. The prescription service runs the rules whenever a draft is
    checked or signed, after the platform's rules, and shows every finding, errors first.
    Unlike other hooks this one offers no adapters: a rule is computation, not a call to a
    partner, so it is a plain synchronous function.

    :param settings: the platform's settings.
    :return: rules, each a function ``rule(draft, patient, limits)``
        (:data:`~medmarket.PrescriptionRule`) of a :class:`~medmarket.DraftPrescription`,
        the :class:`~medmarket.PatientFacts` and the platform's :class:`~medmarket.Limits`
        that returns an iterable of :class:`~medmarket.Finding`, empty when all is well;
        ``None`` or nothing to offer none. A rule is pure: it reads only its arguments (no
        database, network or clock; what it needs of its own, a formulary say, the plugin
        loads when this hook is called), so it answers at once, the same each time. Each
        finding's ``rule`` is ``"<plugin name>.<rule id>"`` (an id without the prefix is
        given it); ``item`` is the item's index or ``None``; severity ``"error"`` blocks
        signing, ``"warning"`` needs the doctor's stated reason, ``"info"`` is shown. A rule
        that raises, answers anything but findings (or an item that is not in the draft), or
        is ``async def`` answers one error finding ``"<plugin name>.rule_failed"`` instead;
        a hook that raises gives every prescription that error. A broken safety rule blocks
        prescribing rather than letting prescriptions pass unchecked, until it is fixed or
        the plugin disabled (``MEDMARKET_DISABLED_PLUGINS``).
    """
