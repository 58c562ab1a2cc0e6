"""What a page that takes a card needs (``_pay.html``'s ``card_form``, driven by
``static/js/pay.js``): the gateway's own script and its key, and a page policy that lets
exactly that gateway's script, frames and API run. Card numbers go from the gateway's fields
to the gateway; they never reach us."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from medmarket.pages.rendering import content_security_policy
from medmarket.payments.service import Payments


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class CardPage:
    headers: dict[str, str]
    # gateway_name, flow (None when this gateway cannot be paid from a page), gateway_params
    context: dict[str, Any]


def card_page(payments: Payments) -> CardPage:
    gateway = payments.gateway()
    setup = gateway.client_setup()
    params = dict(setup.params)
    sources = sorted(
        {_origin(url) for url in (params.get("js_url"), params.get("api_base")) if url}
    )
    policy = content_security_policy(script_src=sources, connect_src=sources, frame_src=sources)
    supported = setup.flow == "stripe.js" and gateway.supports_server_confirmation
    return CardPage(
        headers={"Content-Security-Policy": policy},
        context={
            "gateway_name": gateway.display_name,
            "flow": setup.flow if supported else None,
            "gateway_params": params,
        },
    )
