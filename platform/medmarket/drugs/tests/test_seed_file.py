"""The seed catalog file is well formed and says what WHO says: every row is a drug the API
would accept, no product twice, every ATC code level 5, special classes from the list, at
least 200 medicines across the therapeutic areas, and well-known drugs carry their WHO
codes."""

from __future__ import annotations

import collections
import csv
import io
import re
import typing
import uuid
from pathlib import Path

import pytest

from medmarket.drugs.schemas import DosageForm, SpecialClass
from medmarket.drugs.seed import COLUMNS, SeedError, read_seed, seed_id, seed_text

DATA = Path(__file__).resolve().parent.parent / "data"

# Hand-picked from WHO's ATC/DDD Index: (generic name, dosage form, strength) -> code.
# Where a substance has several codes, the product's form and strength decide which.
WHO_CODES: dict[tuple[str, DosageForm, str], str] = {
    ("amlodipine", "tablet", "5"): "C08CA01",
    ("metformin", "tablet", "0.5"): "A10BA02",
    ("acetylsalicylic acid", "enteric_coated_tablet", "100"): "B01AC06",  # antithrombotic
    ("acetylsalicylic acid", "tablet", "0.5"): "N02BA01",  # analgesic
    ("omeprazole", "enteric_coated_capsule", "20"): "A02BC01",
    ("amoxicillin", "capsule", "0.25"): "J01CA04",
    ("atorvastatin", "tablet", "20"): "C10AA05",
    ("salbutamol", "inhalation_aerosol", "100"): "R03AC02",  # inhaled
    ("salbutamol", "tablet", "2"): "R03CC02",  # systemic
    ("paracetamol", "tablet", "0.5"): "N02BE01",
    ("levothyroxine sodium", "tablet", "50"): "H03AA01",
    ("morphine", "tablet", "10"): "N02AA01",
    ("diazepam", "tablet", "2.5"): "N05BA01",
    ("tramadol", "capsule", "50"): "N02AX02",
    ("ephedrine", "tablet", "25"): "R03CA02",  # systemic, for asthma
    ("ephedrine", "injection", "30"): "C01CA26",  # for hypotension in anaesthesia
    ("codeine", "tablet", "30"): "R05DA04",
    ("metronidazole", "tablet", "0.2"): "P01AB01",  # oral: an antiprotozoal
    ("metronidazole", "injection", "5"): "J01XD01",  # parenteral: an antibacterial
    ("fentanyl", "transdermal_patch", "4.2"): "N02AB03",  # as an analgesic
    ("fentanyl", "injection", "50"): "N01AH01",  # as an anaesthetic
    ("budesonide", "nasal_spray", "64"): "R01AD05",
    ("budesonide", "inhalation_aerosol", "200"): "R03BA02",
    ("clopidogrel", "tablet", "75"): "B01AC04",
    ("insulin glargine", "injection", "100"): "A10AE04",
    ("ceftriaxone", "powder_for_injection", "1"): "J01DD04",
    ("potassium chloride", "sustained_release_tablet", "0.5"): "A12BA01",
    ("potassium chloride", "injection", "10"): "B05XA01",
    ("methotrexate", "tablet", "2.5"): "L04AX03",  # the low-dose immunosuppressant
    ("methotrexate", "powder_for_injection", "0.1"): "L01BA01",
}
# China's special management, as the catalogs of narcotic and psychotropic drugs, the toxic,
# radioactive and precursor lists, and the anti-doping rules have them.
SPECIAL = {
    "morphine": "narcotic",
    "pethidine": "narcotic",
    "fentanyl": "narcotic",
    "oxycodone": "narcotic",
    "codeine": "narcotic",
    "methadone": "narcotic",
    "ketamine": "psychotropic_1",
    "methylphenidate": "psychotropic_1",
    "diazepam": "psychotropic_2",
    "alprazolam": "psychotropic_2",
    "zolpidem": "psychotropic_2",
    "phenobarbital": "psychotropic_2",
    # A class II psychotropic since the 2007 catalog; the 2023 adjustment added its
    # combination products.
    "tramadol": "psychotropic_2",
    "arsenic trioxide": "medical_toxic",
    "botulinum toxin type A": "medical_toxic",
    "sodium iodide (131I)": "radioactive",
    "ephedrine": "precursor",
    "ergometrine": "precursor",
    "testosterone": "doping",
}


def rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(seed_text())))


def test_the_file_is_utf8_csv_with_its_header_and_a_readme_naming_the_sources() -> None:
    raw = (DATA / "essential_medicines.csv").read_bytes()
    assert raw.decode("utf-8").splitlines()[0] == ",".join(COLUMNS)
    assert not raw.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "国家基本药物目录" in readme and "2018" in readme
    assert "ATC/DDD Index" in readme


def test_every_row_is_a_drug_the_api_would_accept() -> None:
    drugs = read_seed()
    assert len(drugs) == len(rows()) >= 200
    for row in rows():
        assert re.fullmatch(r"[a-z0-9][a-z0-9.\-]*", row["key"]), row["key"]
        assert re.fullmatch(r"[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}", row["atc_code"]), row["key"]
        assert row["generic_name_en"] == row["generic_name_en"].strip()


def test_no_key_and_no_product_twice() -> None:
    drugs = read_seed()
    keys = collections.Counter(seed.key for seed in drugs)
    assert [key for key, count in keys.items() if count > 1] == []
    for name in ("generic_name_zh", "generic_name_en"):
        products = collections.Counter(
            (getattr(d.drug, name).lower(), d.drug.dosage_form, d.drug.strength, d.drug.unit)
            for d in drugs
        )
        assert [product for product, count in products.items() if count > 1] == []


def test_each_generic_name_has_one_translation() -> None:
    """A Chinese name is one INN and back, whatever the form (the ATC code may differ)."""
    english: dict[str, set[str]] = collections.defaultdict(set)
    chinese: dict[str, set[str]] = collections.defaultdict(set)
    for seed in read_seed():
        english[seed.drug.generic_name_zh].add(seed.drug.generic_name_en)
        chinese[seed.drug.generic_name_en].add(seed.drug.generic_name_zh)
    assert {zh: en for zh, en in english.items() if len(en) > 1} == {}
    assert {en: zh for en, zh in chinese.items() if len(zh) > 1} == {}


def test_well_known_drugs_carry_whos_codes() -> None:
    codes = {
        (seed.drug.generic_name_en, seed.drug.dosage_form, seed.drug.strength): seed.drug.atc_code
        for seed in read_seed()
    }
    assert {product: codes.get(product) for product in WHO_CODES} == WHO_CODES


def test_specially_managed_drugs_are_classed_and_prescription_only() -> None:
    drugs = read_seed()
    by_name: dict[str, set[str | None]] = collections.defaultdict(set)
    for seed in drugs:
        by_name[seed.drug.generic_name_en].add(seed.drug.special_class)
        if seed.drug.special_class:
            assert seed.drug.prescription_only, seed.key
    assert {name: by_name[name] for name in SPECIAL} == {
        name: {special} for name, special in SPECIAL.items()
    }
    # Enough of every class for the prescription rules to be tried on.
    classes = collections.Counter(seed.drug.special_class for seed in drugs)
    assert set(typing.get_args(SpecialClass)) <= set(classes)
    assert classes["narcotic"] >= 5 and classes["psychotropic_2"] >= 5


def test_the_catalog_spans_the_therapeutic_areas() -> None:
    groups = collections.Counter(seed.drug.atc_code[0] for seed in read_seed())
    # Alimentary and metabolism (diabetes), blood, cardiovascular, dermatological, genito-
    # urinary, hormones, anti-infectives, antineoplastic, musculo-skeletal, nervous system,
    # antiparasitic, respiratory, sensory organs, various (antidotes, radiopharmaceuticals).
    assert set(groups) == set("ABCDGHJLMNPRSV")
    assert all(groups[group] >= 10 for group in "ABCJMNR"), groups
    diabetes = [s for s in read_seed() if s.drug.atc_code.startswith("A10")]
    assert len(diabetes) >= 10


def test_seed_ids_are_fixed_by_their_keys() -> None:
    first = read_seed()[0]
    assert first.id == seed_id(first.key)
    assert str(seed_id("amlodipine-tab-5mg")) == str(seed_id("amlodipine-tab-5mg"))
    assert seed_id("amlodipine-tab-5mg") != seed_id("amlodipine-tab-10mg")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("C08CA01", "C08CA1"), "atc_code"),
        (("tablet,5,mg", "pill,5,mg"), "dosage_form"),
        ((",yes,,no\n", ",maybe,,no\n"), "prescription_only"),
        ((",yes,,no\n", ",no,narcotic,no\n"), "prescription-only"),
        ((",,no\n", ",,cold\n"), "cold_chain"),
    ],
)
def test_a_bad_row_is_refused_naming_it(change: tuple[str, str], message: str) -> None:
    header = ",".join(COLUMNS)
    row = "amlodipine-tab-5mg,氨氯地平,amlodipine,,tablet,5,mg,oral,C08CA01,yes,,no\n"
    broken = row.replace(*change)
    assert broken != row
    with pytest.raises(SeedError) as refused:
        read_seed(f"{header}\n{broken}")
    assert "row 2" in str(refused.value) and message in str(refused.value)


def test_insulins_vaccines_and_immunoglobulins_are_kept_cold() -> None:
    drugs = read_seed()
    by_key = {seed.key: seed.drug for seed in drugs}
    assert by_key["insulin-glargine-inj-100iu-ml"].cold_chain
    assert not by_key["metformin-tab-0.5g"].cold_chain
    assert not by_key["amlodipine-tab-5mg"].cold_chain
    for seed in drugs:
        if seed.drug.atc_code.startswith(("A10A", "J06", "J07")):
            assert seed.drug.cold_chain, seed.key


def test_migration_0075_marks_the_same_cold_drugs_as_the_file() -> None:
    """Databases seeded before the column get it from the migration: its list of ids (the
    drugs not marked by their ATC group) is the file's."""
    migration = (DATA.parent.parent / "db" / "migrations" / "0075_pharmacy_stock.sql").read_text(
        encoding="utf-8"
    )
    listed = {uuid.UUID(found) for found in re.findall(r"'([0-9a-f-]{36})'", migration)}
    by_group = ("A10A", "J06", "J07")
    cold = {
        seed.id
        for seed in read_seed()
        if seed.drug.cold_chain and not seed.drug.atc_code.startswith(by_group)
    }
    assert listed == cold
