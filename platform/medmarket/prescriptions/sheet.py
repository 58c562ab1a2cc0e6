"""The printed prescription (处方笺) as the reader reads it: what the printable page and the
PDF both show, worded once, in the reader's language and time zone.

Laid out as Chinese prescriptions are (处方管理办法, 处方标准): the heading and the hospital, the
patient's name, sex and age, the date, the diagnosis, the Rp items each with its 用法用量
(route, dose, frequency, days), the prescribing doctor, how long it holds and where it
stands, and the address that verifies it (its QR code). The words come from the page
catalogs (``t``) and the dates from the reader's formatter (``fmt``), which the pages pass
in: this module knows the layout, not the catalogs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import msgspec

from medmarket.prescriptions.document import PrescribedItem
from medmarket.prescriptions.schemas import PrescriptionOut


class Words(Protocol):
    """The page catalog's translator (``pages.i18n.Translator``)."""

    locale: str

    def __call__(self, key: str, /, **params: Any) -> str: ...

    def get(self, key: str, /, **params: Any) -> str | None: ...


class Dates(Protocol):
    """The reader's formatter (``pages.formatting.Formatter``)."""

    def date(self, value: dt.datetime | dt.date) -> str: ...

    def datetime(self, value: dt.datetime) -> str: ...


class Fact(msgspec.Struct, frozen=True):
    label: str
    value: str


class SheetItem(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    # The drug as the catalog named it, its form and strength: 氨氯地平 片剂 5 mg.
    name: str
    # How much is handed over: × 7 片.
    quantity: str
    # 用法用量: 口服，每次 5 mg，每日一次，共 7 天.
    usage: str
    instructions: str


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    hospital: str
    number: str
    patient: tuple[Fact, ...]
    diagnosis: Fact
    chronic_follow_up: str | None
    items: tuple[SheetItem, ...]
    doctor: Fact
    issued: Fact
    validity: Fact
    standing: Fact
    # What the status means for the reader ("replaced: use version 2"), or None.
    standing_note: str | None
    verify_label: str
    verify_url: str
    digest: Fact
    # The doctor's electronic signature: its algorithm and key (the verification page
    # checks it); None only for a prescription issued before prescriptions were signed.
    signature: Fact | None


def verify_url(base_url: str, prescription_id: object) -> str:
    return f"{base_url.rstrip('/')}/prescriptions/{prescription_id}/verify"


def unit(t: Words, name: str) -> str:
    return t.get(f"rx_unit.{name}") or name


def item_lines(t: Words, number: int, item: PrescribedItem) -> SheetItem:
    drug = item.drug
    form = t.get(f"drug_form.{drug.dosage_form}") or drug.dosage_form
    # A pharmacy in China reads the Chinese name: an English sheet shows it too.
    generic = (
        drug.generic_name_zh
        if t.locale.startswith("zh")
        else f"{drug.generic_name_en} ({drug.generic_name_zh})"
    )
    return SheetItem(
        number=number,
        name=f"{generic} {form} {drug.strength} {drug.unit}",
        quantity=f"× {item.quantity} {unit(t, item.quantity_unit)}",
        usage=t(
            "rx_print.usage_line",
            route=t.get(f"drug_route.{item.route}") or item.route,
            dose=f"{item.dose} {unit(t, item.dose_unit)}",
            frequency=t(f"rx_frequency.{item.frequency}"),
            days=item.duration_days,
        ),
        instructions=item.instructions,
    )


def sheet(prescription: PrescriptionOut, t: Words, fmt: Dates, base_url: str) -> Sheet:
    patient = prescription.patient
    doctor = prescription.doctor
    title = t.get(f"doctor_title.{doctor.title}") or doctor.title
    note: str | None = None
    if prescription.standing == "replaced":
        note = t("rx_print.note_replaced")
    elif prescription.standing in ("voided", "rejected", "expired"):
        note = t(f"rx_print.note_{prescription.standing}")
    if prescription.void_reason and note:
        note = f"{note} {t('rx_print.reason', reason=prescription.void_reason)}"
    valid = (
        fmt.date(prescription.valid_from)
        if prescription.valid_from == prescription.valid_until
        else t(
            "rx_print.valid_range",
            start=fmt.date(prescription.valid_from),
            end=fmt.date(prescription.valid_until),
        )
    )
    return Sheet(
        title=t("rx_print.title"),
        hospital=doctor.hospital,
        number=t(
            "rx_print.number",
            number=str(prescription.id)[:8].upper(),
            version=prescription.version,
        ),
        patient=(
            Fact(t("rx_print.patient"), patient.name),
            Fact(t("rx_print.sex"), t(f"sex.{patient.sex}") if patient.sex else "—"),
            Fact(t("rx_print.age"), t("rx_print.age_years", years=patient.age_years)),
            Fact(t("rx_print.date"), fmt.date(prescription.written_at)),
        ),
        diagnosis=Fact(t("rx_print.diagnosis"), prescription.diagnosis),
        chronic_follow_up=t("rx_print.chronic") if prescription.chronic_follow_up else None,
        items=tuple(
            item_lines(t, number, item) for number, item in enumerate(prescription.items, 1)
        ),
        doctor=Fact(t("rx_print.doctor"), f"{doctor.name} · {title}"),
        issued=Fact(t("rx_print.issued"), fmt.datetime(prescription.written_at)),
        validity=Fact(t("rx_print.validity"), valid),
        standing=Fact(t("rx_print.status"), t(f"rx_standing.{prescription.standing}")),
        standing_note=note,
        verify_label=t("rx_print.verify"),
        verify_url=verify_url(base_url, prescription.id),
        digest=Fact(t("rx_print.digest"), prescription.document_sha256),
        signature=(
            Fact(
                t("rx_print.signature"),
                t("rx_print.signature_value", key=prescription.signature.key_id),
            )
            if prescription.signature
            else None
        ),
    )
