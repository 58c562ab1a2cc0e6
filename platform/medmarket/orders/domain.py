"""What the orders domain adds: patients turning approved prescriptions into pharmacy
orders, paid as the "pharmacy_order" payment purpose; the pharmacies' order desk; what
couriers' events do to an order (a delivery listener); and the job that cancels orders not
paid in time."""

from __future__ import annotations

from medmarket.delivery.listeners import DELIVERY_LISTENERS
from medmarket.domain import Domain
from medmarket.jobs import Job
from medmarket.orders import desk_pages, expiry, pages, routes
from medmarket.orders.fulfilment import OrderDeliveries
from medmarket.orders.payments import OrderPayments
from medmarket.payments.purposes import PAYMENT_PURPOSES
from medmarket.services import Services, provide


async def cancel_unpaid_orders(services: Services) -> int:
    return await expiry.cancel_unpaid(services.db)


DOMAIN = Domain(
    name="orders",
    routes=routes.ROUTES,
    pages=[*pages.ROUTES, *desk_pages.ROUTES],
    dependencies=routes.DEPENDENCIES,
    jobs=[Job("cancel unpaid pharmacy orders", 30.0, cancel_unpaid_orders)],
    provides=[
        provide(PAYMENT_PURPOSES, lambda services: OrderPayments()),
        provide(DELIVERY_LISTENERS, lambda services: OrderDeliveries()),
    ],
)
