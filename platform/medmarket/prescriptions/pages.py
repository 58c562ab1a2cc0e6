"""Prescription pages: the printable prescription (处方笺, for a phone and for A5 paper) for
whoever may read it, and the verification page its QR code opens, for anyone holding it.

The printable page and the PDF (``GET /api/prescriptions/{id}/pdf``) show the same
``sheet.Sheet``. The verification page says whether the prescription stands and shows the
digest of the document that was issued; it names neither the diagnosis nor the drugs, and
the patient only masked (``Prescribing.verification``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, get_args

import segno
from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from medmarket.accounts.guards import PUBLIC, allow
from medmarket.accounts.service import Principal
from medmarket.drugs.schemas import Route
from medmarket.pages.rendering import formatter, page, settings_of, translator
from medmarket.prescriptions.model import DoseUnit, Frequency, QuantityUnit
from medmarket.prescriptions.service import Prescribing
from medmarket.prescriptions.sheet import sheet, verify_url
from medmarket.prescriptions.states import Standing


@dataclass(frozen=True)
class PrescribeChoices:
    """What the prescribing panel (``_prescriptions.html`` ``prescribe``) offers: the
    service's own values, so the form never offers one the API refuses."""

    dose_units: list[str] = field(default_factory=lambda: list(get_args(DoseUnit)))
    quantity_units: list[str] = field(default_factory=lambda: list(get_args(QuantityUnit)))
    routes: list[str] = field(default_factory=lambda: list(get_args(Route)))
    frequencies: list[str] = field(default_factory=lambda: list(get_args(Frequency)))
    standings: list[str] = field(default_factory=lambda: list(get_args(Standing)))


CHOICES = PrescribeChoices()


def qr_svg(url: str, title: str) -> str:
    """The QR code of ``url`` as inline SVG (no style attributes: the pages' policy)."""
    return str(
        segno.make(url, error="m").svg_inline(
            scale=4, svgclass="qr", lineclass=None, title=title, omitsize=True
        )
    )


@get("/print")
async def printable(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
    principal: NamedDependency[Principal],
) -> Template:
    prescription = await prescribing.read(principal, prescription_id)  # 404 for strangers
    printed = sheet(
        prescription, translator(request), formatter(request), settings_of(request).base_url
    )
    return page(
        request,
        "prescription/print.html",
        prescription=prescription,
        sheet=printed,
        qr=qr_svg(printed.verify_url, printed.verify_label),
    )


@get("/verify", opt=PUBLIC)
async def verify(
    request: Request[Any, Any, Any],
    prescription_id: FromPath[uuid.UUID],
    prescribing: NamedDependency[Prescribing],
) -> Template:
    found = await prescribing.verification(prescription_id)
    return page(
        request,
        "prescription/verify.html",
        found=found,
        url=verify_url(settings_of(request).base_url, found.id),
    )


ROUTES = [
    Router(
        path="/prescriptions/{prescription_id:uuid}",
        opt=allow("patient", "doctor"),
        route_handlers=[printable, verify],
        include_in_schema=False,
    )
]
