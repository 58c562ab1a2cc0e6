"""The seed catalog: common medicines from China's National Essential Medicines List, coded
with WHO's ATC codes (``data/essential_medicines.csv``; ``data/README.md`` says where each
column comes from).

Loading is idempotent. Each row's ``key`` fixes the drug's id (a UUID derived from it), so
the same medicine has the same id in every database (the demo's, each test session's);
a row whose id or product is already there is left alone, so loading again adds only new
rows and never brings back what an operator edited or retired. (So a column added later,
like ``cold_chain``, reaches databases seeded before it through its migration: 0075 marks
the seed's cold drugs by their ids.) ``medmarket demo``,
``medmarket load-drugs`` and the tests' database load it.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from importlib import resources

import msgspec

from medmarket import audit
from medmarket.audit.service import SYSTEM
from medmarket.db import Connection, connect_pool
from medmarket.drugs.schemas import DrugIn
from medmarket.drugs.service import insert_drug, normalized
from medmarket.errors import Problem

SEED_FILE = "essential_medicines.csv"
COLUMNS = (
    "key",
    "generic_name_zh",
    "generic_name_en",
    "aliases",
    "dosage_form",
    "strength",
    "unit",
    "route",
    "atc_code",
    "prescription_only",
    "special_class",
    "cold_chain",
)
# Seed drugs' ids are uuid5(SEED_NAMESPACE, key): fixed forever, never reuse a key.
SEED_NAMESPACE = uuid.UUID("6d6d6472-7567-5300-8000-000000000000")


class SeedError(ValueError):
    """A row of the seed file that is not a valid drug (the message names row and column)."""


@dataclass(frozen=True)
class SeedDrug:
    key: str
    id: uuid.UUID
    drug: DrugIn


def seed_id(key: str) -> uuid.UUID:
    return uuid.uuid5(SEED_NAMESPACE, key)


def seed_text() -> str:
    return (resources.files("medmarket.drugs") / "data" / SEED_FILE).read_text(encoding="utf-8")


def read_seed(text: str | None = None) -> list[SeedDrug]:
    """Every row as the drug the API would accept, checked by the same rules (``DrugIn``)."""
    reader = csv.DictReader(io.StringIO(seed_text() if text is None else text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise SeedError(f"the header must be {','.join(COLUMNS)}")
    drugs = []
    for number, row in enumerate(reader, start=2):
        for flag in ("prescription_only", "cold_chain"):
            if row[flag] not in ("yes", "no"):
                raise SeedError(f"row {number}: {flag} is yes or no")
        body = {
            **{name: row[name] for name in COLUMNS[1:]},
            "aliases": [alias for alias in row["aliases"].split("|") if alias],
            "prescription_only": row["prescription_only"] == "yes",
            "special_class": row["special_class"] or None,
            "cold_chain": row["cold_chain"] == "yes",
        }
        try:
            drug = normalized(msgspec.convert(body, DrugIn))
        except (msgspec.ValidationError, Problem) as exc:
            raise SeedError(f"row {number} ({row['key']}): {exc}") from None
        drugs.append(SeedDrug(key=row["key"], id=seed_id(row["key"]), drug=drug))
    return drugs


async def load_seed(connection: Connection, drugs: list[SeedDrug] | None = None) -> int:
    """Add the seed drugs that are not there yet, in one transaction with one audit event
    (``drug.catalog_loaded``, by the system) when any were added. Returns how many."""
    added = 0
    async with connection.transaction():
        for seed in read_seed() if drugs is None else drugs:
            stored = await insert_drug(
                connection, seed.drug, source="seed", drug_id=seed.id, if_absent=True
            )
            added += stored is not None
        if added:
            await audit.record(
                connection,
                SYSTEM,
                "drug.catalog_loaded",
                "drug_catalog",
                SEED_FILE,
                detail={"added": added},
            )
    return added


async def load_seed_into(dsn: str) -> int:
    """``load_seed`` on a connection of its own (the tests' fresh database), as the DSN's
    user."""
    pool = await connect_pool(dsn, role=None, min_size=1, max_size=1)
    try:
        async with pool.acquire() as connection:
            return await load_seed(connection)
    finally:
        await pool.close()
