"""hypothesis strategies for prescriptions: drugs (the seed catalog's and made-up ones),
items, patients, drafts and limits. The rules' tests use them, and so can the service's.

``drafts()`` and ``patients()`` are what the service would build from a request it accepts
(positive doses and quantities, a supply of at least a day, real ATC codes); ``wild_drafts()``
is anything the types allow (NaN, negative numbers, empty names, codes that are not ATC),
for "a rule never raises".
"""

from __future__ import annotations

import datetime as dt
import functools
import typing
import uuid
from decimal import Decimal

from hypothesis import strategies as st

from medmarket.drugs.schemas import DosageForm, Route, SpecialClass, Unit
from medmarket.drugs.seed import read_seed
from medmarket.prescriptions.interface import (
    DoseUnit,
    DraftPrescription,
    DrugFacts,
    Frequency,
    ItemDraft,
    Limits,
    PatientFacts,
    QuantityUnit,
)

FREQUENCIES: tuple[Frequency, ...] = typing.get_args(Frequency)
DOSE_UNITS: tuple[DoseUnit, ...] = typing.get_args(DoseUnit)
QUANTITY_UNITS: tuple[QuantityUnit, ...] = typing.get_args(QuantityUnit)
DOSAGE_FORMS: tuple[str, ...] = typing.get_args(DosageForm)
UNITS: tuple[str, ...] = typing.get_args(Unit)
ROUTES: tuple[str, ...] = typing.get_args(Route)
SPECIAL_CLASSES: tuple[str, ...] = typing.get_args(SpecialClass)
WRITTEN_ON = dt.date(2026, 12, 3)


@functools.cache
def catalog() -> tuple[DrugFacts, ...]:
    """The seed catalog's drugs, as the service would hand them to the rules."""
    return tuple(
        DrugFacts(
            id=seed.id,
            generic_name_zh=seed.drug.generic_name_zh,
            generic_name_en=seed.drug.generic_name_en,
            aliases=tuple(seed.drug.aliases),
            dosage_form=seed.drug.dosage_form,
            strength=seed.drug.strength,
            unit=seed.drug.unit,
            route=seed.drug.route,
            atc_code=seed.drug.atc_code,
            prescription_only=seed.drug.prescription_only,
            special_class=seed.drug.special_class,
            retired=False,
        )
        for seed in read_seed()
    )


def catalog_drug(name_en: str, strength: str | None = None) -> DrugFacts:
    """The first catalog drug of that English name (and strength)."""
    return next(
        drug
        for drug in catalog()
        if drug.generic_name_en == name_en and strength in (None, drug.strength)
    )


def ordinary_drugs() -> st.SearchStrategy[DrugFacts]:
    """Catalog drugs that may be prescribed online (not specially managed, not retired)."""
    return st.sampled_from([drug for drug in catalog() if drug.special_class is None])


atc_codes = st.from_regex(r"\A[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}\Z")
strengths = st.from_regex(r"\A[1-9][0-9]{0,3}(\.[0-9]{1,2})?(/[1-9][0-9]{0,2})?\Z")
names = st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=20)


@st.composite
def made_up_drugs(draw: st.DrawFn) -> DrugFacts:
    """A drug the catalog would accept but does not hold."""
    return DrugFacts(
        id=uuid.UUID(int=draw(st.integers(0, 2**128 - 1))),
        generic_name_zh=draw(names),
        generic_name_en=draw(names),
        aliases=tuple(draw(st.lists(names, max_size=2))),
        dosage_form=draw(st.sampled_from(DOSAGE_FORMS)),
        strength=draw(strengths),
        unit=draw(st.sampled_from(UNITS)),
        route=draw(st.sampled_from(ROUTES)),
        atc_code=draw(atc_codes),
        prescription_only=draw(st.booleans()),
        special_class=draw(st.none() | st.sampled_from(SPECIAL_CLASSES)),
        retired=draw(st.booleans()),
    )


def drugs() -> st.SearchStrategy[DrugFacts]:
    return st.sampled_from(catalog()) | made_up_drugs()


doses = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2)
quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("500"), places=1)


@st.composite
def items(
    draw: st.DrawFn,
    drug: st.SearchStrategy[DrugFacts] | None = None,
    duration_days: st.SearchStrategy[int] | None = None,
) -> ItemDraft:
    chosen = draw(drugs() if drug is None else drug)
    return ItemDraft(
        drug=chosen,
        dose=draw(doses),
        dose_unit=draw(st.sampled_from(DOSE_UNITS)),
        route=draw(st.just(chosen.route) | st.sampled_from(ROUTES)),
        frequency=draw(st.sampled_from(FREQUENCIES)),
        duration_days=draw(st.integers(1, 120) if duration_days is None else duration_days),
        quantity=draw(quantities),
        quantity_unit=draw(st.sampled_from(QUANTITY_UNITS)),
        instructions=draw(st.sampled_from(["", "饭后服用", "take with food"])),
    )


# What patients' records say, as people write it: classes and drugs in either language,
# with the words around them, and things that name no drug at all.
ALLERGY_WORDS = (
    "青霉素",
    "青霉素过敏",
    "对青霉素过敏（皮疹）",
    "penicillin",
    "Penicillins",
    "阿莫西林",
    "头孢",
    "头孢类过敏",
    "头孢克洛",
    "磺胺类药物",
    "sulfa drugs",
    "阿司匹林",
    "aspirin",
    "NSAIDs",
    "非甾体抗炎药",
    "大环内酯类",
    "喹诺酮类",
    "左氧氟沙星",
    "碘造影剂",
    "花粉",
    "peanuts",
    "否认药物过敏史",
    "",
    " ",
)
MEDICATION_WORDS = (
    "氨氯地平",
    "硝苯地平控释片 30mg qd",
    "metformin",
    "阿司匹林肠溶片",
    "clopidogrel",
    "奥美拉唑",
    "levothyroxine",
    "维生素D",
    "",
)
CONDITIONS = ("高血压", "2型糖尿病", "hypothyroidism", "慢性阻塞性肺疾病")


def record_texts(words: tuple[str, ...]) -> st.SearchStrategy[str]:
    return (
        st.sampled_from(words)
        | st.sampled_from(catalog()).map(lambda drug: drug.generic_name_zh)
        | st.text(max_size=15)
    )


birth_dates = st.dates(min_value=dt.date(1920, 1, 1), max_value=WRITTEN_ON)


@st.composite
def patients(draw: st.DrawFn) -> PatientFacts:
    return PatientFacts(
        date_of_birth=draw(birth_dates),
        allergies=tuple(draw(st.lists(record_texts(ALLERGY_WORDS), max_size=3))),
        chronic_conditions=tuple(draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))),
        current_medications=tuple(draw(st.lists(record_texts(MEDICATION_WORDS), max_size=3))),
        guardian_present=draw(st.booleans()),
    )


diagnoses = st.sampled_from(["高血压", "急性上呼吸道感染", "Type 2 diabetes"]) | st.text(
    max_size=30
)


@st.composite
def drafts(
    draw: st.DrawFn,
    item: st.SearchStrategy[ItemDraft] | None = None,
    min_items: int = 0,
    max_items: int = 7,
) -> DraftPrescription:
    return DraftPrescription(
        diagnosis=draw(diagnoses),
        items=tuple(
            draw(
                st.lists(items() if item is None else item, min_size=min_items, max_size=max_items)
            )
        ),
        chronic_follow_up=draw(st.booleans()),
        written_on=draw(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2032, 12, 31))),
    )


@st.composite
def limits(draw: st.DrawFn) -> Limits:
    acute = draw(st.integers(1, 30))
    return Limits(
        acute_days=acute,
        chronic_days=draw(st.integers(acute, 90)),
        max_items=draw(st.integers(1, 10)),
        guardian_age_years=draw(st.integers(0, 18)),
    )


_WHITESPACE = st.sampled_from([" ", "  ", "\t", "\u3000", "\n"])


@st.composite
def respelled(draw: st.DrawFn, text: str) -> str:
    """The text in any case, with whitespace added around it and wherever it does not join
    two letters of one word (between Chinese characters, around punctuation)."""
    out = [draw(st.sampled_from(["", " ", "\u3000 "]))]
    for at, character in enumerate(text):
        out.append(character.swapcase() if draw(st.booleans()) else character)
        following = text[at + 1 : at + 2]
        chinese = "\u4e00" <= character <= "\u9fff"
        breaks = chinese or not (character.isalnum() and following.isalnum())
        if following and breaks and draw(st.booleans()):
            out.append(draw(_WHITESPACE))
    out.append(draw(st.sampled_from(["", " ", "\t"])))
    return "".join(out)


# -- anything the types allow ---------------------------------------------------------------
any_decimals = st.decimals(allow_nan=True, allow_infinity=True) | doses
any_text = st.text(max_size=20)


@st.composite
def wild_drugs(draw: st.DrawFn) -> DrugFacts:
    drug = draw(drugs())
    return DrugFacts(
        id=drug.id,
        generic_name_zh=draw(st.just(drug.generic_name_zh) | any_text),
        generic_name_en=draw(st.just(drug.generic_name_en) | any_text),
        aliases=tuple(draw(st.lists(any_text, max_size=2))),
        dosage_form=draw(st.just(drug.dosage_form) | any_text),
        strength=draw(st.just(drug.strength) | any_text),
        unit=draw(st.just(drug.unit) | any_text),
        route=drug.route,
        atc_code=draw(st.just(drug.atc_code) | any_text),
        prescription_only=drug.prescription_only,
        special_class=draw(st.none() | any_text),
        retired=draw(st.booleans()),
    )


@st.composite
def wild_items(draw: st.DrawFn) -> ItemDraft:
    return ItemDraft(
        drug=draw(wild_drugs()),
        dose=draw(any_decimals),
        dose_unit=draw(st.sampled_from(DOSE_UNITS)),
        route=draw(any_text),
        frequency=draw(st.sampled_from(FREQUENCIES)),
        duration_days=draw(st.integers(-10, 10**6)),
        quantity=draw(any_decimals),
        quantity_unit=draw(st.sampled_from(QUANTITY_UNITS)),
        instructions=draw(any_text),
    )


@st.composite
def wild_drafts(draw: st.DrawFn) -> DraftPrescription:
    return DraftPrescription(
        diagnosis=draw(any_text),
        items=tuple(draw(st.lists(wild_items(), max_size=8))),
        chronic_follow_up=draw(st.booleans()),
        written_on=draw(st.dates()),
    )


@st.composite
def wild_patients(draw: st.DrawFn) -> PatientFacts:
    return PatientFacts(
        date_of_birth=draw(st.dates()),
        allergies=tuple(draw(st.lists(any_text | record_texts(ALLERGY_WORDS), max_size=4))),
        chronic_conditions=tuple(draw(st.lists(any_text, max_size=2))),
        current_medications=tuple(
            draw(st.lists(any_text | record_texts(MEDICATION_WORDS), max_size=4))
        ),
        guardian_present=draw(st.booleans()),
    )


@st.composite
def wild_limits(draw: st.DrawFn) -> Limits:
    small = st.integers(-5, 400)
    return Limits(
        acute_days=draw(small),
        chronic_days=draw(small),
        max_items=draw(small),
        guardian_age_years=draw(small),
    )


# -- examples -------------------------------------------------------------------------------
def item_of(drug: DrugFacts | str, **changes: typing.Any) -> ItemDraft:
    """An item of one tablet (or capsule) three times a day for five days, as a doctor
    writes it; ``drug`` by the catalog's English name or as facts."""
    facts = catalog_drug(drug) if isinstance(drug, str) else drug
    counted = "capsule" if "capsule" in facts.dosage_form else "tablet"
    values: dict[str, typing.Any] = {
        "drug": facts,
        "dose": Decimal(1),
        "dose_unit": counted,
        "route": facts.route,
        "frequency": "tid",
        "duration_days": 5,
        "quantity": Decimal(15),
        "quantity_unit": counted,
    }
    return ItemDraft(**(values | changes))


def draft_of(*prescribed: ItemDraft, **changes: typing.Any) -> DraftPrescription:
    values: dict[str, typing.Any] = {
        "diagnosis": "急性上呼吸道感染",
        "items": prescribed,
        "chronic_follow_up": False,
        "written_on": WRITTEN_ON,
    }
    return DraftPrescription(**(values | changes))


def patient_of(**changes: typing.Any) -> PatientFacts:
    values: dict[str, typing.Any] = {
        "date_of_birth": dt.date(1980, 5, 17),
        "allergies": (),
        "chronic_conditions": (),
        "current_medications": (),
        "guardian_present": False,
    }
    return PatientFacts(**(values | changes))
