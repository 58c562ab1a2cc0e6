"""HTTP bodies of the drug catalog, and the values its fields may take (the migration's checks
hold the same lists)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

DosageForm = Literal[
    "tablet",
    "enteric_coated_tablet",
    "sustained_release_tablet",
    "controlled_release_tablet",
    "dispersible_tablet",
    "chewable_tablet",
    "sublingual_tablet",
    "effervescent_tablet",
    "vaginal_tablet",
    "capsule",
    "enteric_coated_capsule",
    "sustained_release_capsule",
    "granules",
    "powder",
    "oral_solution",
    "syrup",
    "oral_suspension",
    "injection",
    "powder_for_injection",
    "injectable_emulsion",
    "inhalation_aerosol",
    "inhalation_powder",
    "inhalation_solution",
    "nasal_spray",
    "nasal_drops",
    "eye_drops",
    "eye_ointment",
    "eye_gel",
    "ear_drops",
    "ointment",
    "cream",
    "gel",
    "topical_solution",
    "suppository",
    "transdermal_patch",
]
Unit = Literal[
    "mg", "g", "μg", "IU", "U", "%", "mg/mL", "μg/mL", "IU/mL", "U/mL", "μg/dose", "MBq/mL"
]
Route = Literal[
    "oral",
    "sublingual",
    "inhalation",
    "nasal",
    "ophthalmic",
    "otic",
    "cutaneous",
    "transdermal",
    "rectal",
    "vaginal",
    "intravenous",
    "intramuscular",
    "subcutaneous",
    # Injections labelled for more than one route (intravenous, intramuscular, subcutaneous).
    "parenteral",
    # Local anaesthetics: infiltration and nerve blocks.
    "local_injection",
]
# China's specially managed drugs (特殊管理药品): 麻醉药品, 第一类 and 第二类精神药品,
# 医疗用毒性药品, 放射性药品, 药品类易制毒化学品, and 蛋白同化制剂、肽类激素 (doping control).
# None of them may be prescribed online.
SpecialClass = Literal[
    "narcotic",
    "psychotropic_1",
    "psychotropic_2",
    "medical_toxic",
    "radioactive",
    "precursor",
    "doping",
]
DrugStatus = Literal["active", "retired", "all"]

ATC_CODE = "^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$"
STRENGTH = r"^[0-9]+(\.[0-9]+)?(/[0-9]+(\.[0-9]+)?)*$"
Alias = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class DrugIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A drug as an operator adds or edits it (every field; an edit replaces them all)."""

    # 通用名: the active ingredient as the essential-medicines list writes it, without the
    # dosage form (阿莫西林, not 阿莫西林胶囊).
    generic_name_zh: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    # The INN as WHO's ATC index writes it (amoxicillin); combinations name each ingredient.
    generic_name_en: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    aliases: Annotated[list[Alias], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )
    dosage_form: DosageForm
    # Per dose unit (tablet, vial, puff) or a liquid's concentration; a combination lists
    # each ingredient's amount in the order of its name ("500/125").
    strength: Annotated[str, msgspec.Meta(pattern=STRENGTH, max_length=40)]
    unit: Unit
    route: Route
    atc_code: Annotated[str, msgspec.Meta(pattern=ATC_CODE)]
    prescription_only: bool = True
    special_class: SpecialClass | None = None
    # Kept at 2–8 °C (insulin, vaccines, some biologics): a courier carries it cold or not
    # at all.
    cold_chain: bool = False


class DrugOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    generic_name_zh: str
    generic_name_en: str
    aliases: list[str]
    dosage_form: DosageForm
    strength: str
    unit: Unit
    route: Route
    atc_code: str
    # The code's five levels, anatomical main group first: ["C", "C08", "C08C", "C08CA",
    # "C08CA01"]. Allergy by class and duplicate therapy compare these.
    atc_levels: list[str]
    prescription_only: bool
    special_class: SpecialClass | None
    cold_chain: bool
    pinyin_initials: str
    source: Literal["seed", "operator"]
    created_at: dt.datetime
    updated_at: dt.datetime
    # Retired drugs are no longer offered; what already names them keeps pointing at them.
    retired_at: dt.datetime | None


class DrugResults(msgspec.Struct, kw_only=True):
    """Search results, best match first."""

    drugs: list[DrugOut]


class DrugPage(msgspec.Struct, kw_only=True):
    drugs: list[DrugOut]
    # Pass as ``cursor`` for the next page; None on the last one.
    next_cursor: str | None
