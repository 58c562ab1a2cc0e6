"""The drug catalog's rules: operators add, edit, retire and restore drugs; signed-in staff
read and search them.

Each change and its audit event (``drug.created``, ``drug.updated``, ``drug.retired``,
``drug.restored``) commit in one transaction. A drug is never deleted (the database refuses
it): a retired one is no longer offered in search, but whatever names it (a prescription)
still finds it by its id. The pinyin keys search matches are computed here, whenever the
Chinese names are saved.
"""

from __future__ import annotations

import base64
import json
import unicodedata
import uuid
from typing import Any

import asyncpg
import msgspec

from medmarket import audit
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.drugs import atc, pinyin
from medmarket.drugs.schemas import DrugIn, DrugOut, DrugPage, DrugStatus
from medmarket.drugs.search import search_drugs
from medmarket.errors import Conflict, InvalidInput, NotFound

COLUMNS = """
    id, generic_name_zh, generic_name_en, aliases, dosage_form, strength, unit, route,
    atc_code, prescription_only, special_class, cold_chain, pinyin_initials, source, created_at,
    updated_at, retired_at
"""
# What an edit may change, in the order the audit trail lists them.
EDITABLE = (
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
# The unique indexes that make one row per product, and the field each one names.
_PRODUCT_KEYS = {"drugs_product_zh": "generic_name_zh", "drugs_product_en": "generic_name_en"}
PAGE_SIZE = 50
_STORED = [name for name in DrugOut.__struct_fields__ if name != "atc_levels"]


def drug_out(row: asyncpg.Record) -> DrugOut:
    """A row with COLUMNS (and maybe more, a sort key or a rank) as the API shows it."""
    values = {name: row[name] for name in _STORED}
    values["aliases"] = list(values["aliases"])
    values["atc_levels"] = atc.levels(values["atc_code"])
    return DrugOut(**values)


def _tidy(text: str) -> str:
    """Full-width letters and digits as ASCII, runs of spaces as one (NFKC keeps Chinese)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def normalized(drug: DrugIn) -> DrugIn:
    """The drug as it is stored, or the field that cannot be: names tidied, aliases without
    repeats, and a specially managed drug always prescription-only."""
    names = {"generic_name_zh": _tidy(drug.generic_name_zh)}
    names["generic_name_en"] = _tidy(drug.generic_name_en)
    for field, name in names.items():
        if not name:
            raise InvalidInput("write the generic name", field=field, code="required")
    aliases = [alias for alias in dict.fromkeys(map(_tidy, drug.aliases)) if alias]
    if drug.special_class is not None and not drug.prescription_only:
        raise InvalidInput(
            "a specially managed drug is always prescription-only",
            field="prescription_only",
            code="special-needs-prescription",
        )
    return msgspec.structs.replace(drug, aliases=aliases, **names)


def _row_values(drug: DrugIn) -> list[Any]:
    initials, spelled = pinyin.keys(drug.generic_name_zh, drug.aliases)
    return [
        drug.generic_name_zh,
        drug.generic_name_en,
        drug.aliases,
        drug.dosage_form,
        drug.strength,
        drug.unit,
        drug.route,
        drug.atc_code,
        drug.prescription_only,
        drug.special_class,
        drug.cold_chain,
        initials,
        spelled,
    ]


_INSERT = f"""
    INSERT INTO drugs (id, generic_name_zh, generic_name_en, aliases, dosage_form, strength,
                       unit, route, atc_code, prescription_only, special_class, cold_chain,
                       pinyin_initials, pinyin, source)
    VALUES (coalesce($1, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
            $13, $14, $15)
    {{conflict}}
    RETURNING {COLUMNS}
"""  # noqa: S608 - COLUMNS is a constant; values are parameters


async def insert_drug(
    connection: Connection,
    drug: DrugIn,
    *,
    source: str,
    drug_id: uuid.UUID | None = None,
    if_absent: bool = False,
) -> DrugOut | None:
    """Store a drug (already ``normalized``). With ``if_absent`` a drug whose id or product is
    already there is left alone and None returned (loading the seed twice adds nothing);
    otherwise such a product is a 409 naming the generic name that collides."""
    query = _INSERT.format(conflict="ON CONFLICT DO NOTHING" if if_absent else "")
    try:
        async with connection.transaction():
            row = await connection.fetchrow(query, drug_id, *_row_values(drug), source)
    except asyncpg.UniqueViolationError as exc:
        conflict = product_conflict(exc)
        if conflict is None:
            raise
        raise conflict from None
    return drug_out(row) if row else None


def product_conflict(exc: asyncpg.UniqueViolationError) -> Conflict | None:
    """A second row for one product, as the 409 naming the generic name that collides (the
    key is an expression index, whose columns PostgreSQL does not name plainly); None for
    any other key."""
    field = _PRODUCT_KEYS.get(exc.constraint_name or "")
    if field is None:
        return None
    return Conflict(
        "this product (generic name, dosage form and strength) is already in the catalog",
        field=field,
        code="taken",
    )


def _encode_cursor(sort_key: str, drug_id: uuid.UUID) -> str:
    raw = json.dumps([sort_key, str(drug_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_key, drug_id = json.loads(base64.urlsafe_b64decode(padded))
        return str(sort_key), uuid.UUID(drug_id)
    except (ValueError, TypeError):
        raise InvalidInput("this cursor is not one we gave out", field="cursor") from None


class DrugCatalog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, drug_id: uuid.UUID) -> DrugOut:
        """Any drug by its id, retired ones too (a prescription may name one)."""
        row = await self.db.fetchrow(f"SELECT {COLUMNS} FROM drugs WHERE id = $1", drug_id)  # noqa: S608
        if row is None:
            raise NotFound("no such drug")
        return drug_out(row)

    async def search(
        self, text: str, *, limit: int = 20, include_retired: bool = False
    ) -> list[DrugOut]:
        """As typed (search.py ranks): retired drugs only when asked for."""
        rows = await search_drugs(self.db, text, limit=limit, include_retired=include_retired)
        return [drug_out(row) for row in rows]

    async def browse(
        self, status: DrugStatus = "active", cursor: str | None = None, limit: int = PAGE_SIZE
    ) -> DrugPage:
        """The whole catalog in pinyin order (A to Z by the generic name), a page at a time."""
        after_key, after_id = _decode_cursor(cursor) if cursor else (None, None)
        rows = await self.db.fetch(
            f"""
            SELECT {COLUMNS}, pinyin AS sort_key FROM drugs
             WHERE ($1 = 'all' OR ($1 = 'retired') = (retired_at IS NOT NULL))
               AND ($2::text IS NULL OR (pinyin, id) > ($2, $3::uuid))
             ORDER BY pinyin, id LIMIT $4
            """,  # noqa: S608 - COLUMNS is a constant
            status,
            after_key,
            after_id,
            limit + 1,
        )
        page = rows[:limit]
        more = len(rows) > limit and page
        return DrugPage(
            drugs=[drug_out(row) for row in page],
            next_cursor=_encode_cursor(page[-1]["sort_key"], page[-1]["id"]) if more else None,
        )

    async def create(self, drug: DrugIn, context: AuditContext) -> DrugOut:
        drug = normalized(drug)
        async with self.db.transaction() as connection:
            created = await insert_drug(connection, drug, source="operator")
            assert created is not None
            await audit.record(
                connection,
                context,
                "drug.created",
                "drug",
                created.id,
                detail={field: getattr(created, field) for field in EDITABLE},
            )
        return created

    async def update(self, drug_id: uuid.UUID, drug: DrugIn, context: AuditContext) -> DrugOut:
        """Replace every editable field; the audit event lists what changed, before and
        after."""
        drug = normalized(drug)
        async with self.db.transaction() as connection:
            before = await connection.fetchrow(
                f"SELECT {COLUMNS} FROM drugs WHERE id = $1 FOR UPDATE",  # noqa: S608
                drug_id,
            )
            if before is None:
                raise NotFound("no such drug")
            old = drug_out(before)
            try:
                async with connection.transaction():
                    row = await fetch_one(
                        connection,
                        f"""
                        UPDATE drugs SET generic_name_zh = $2, generic_name_en = $3,
                               aliases = $4, dosage_form = $5, strength = $6, unit = $7,
                               route = $8, atc_code = $9, prescription_only = $10,
                               special_class = $11, cold_chain = $12,
                               pinyin_initials = $13, pinyin = $14, updated_at = now()
                         WHERE id = $1
                        RETURNING {COLUMNS}
                        """,  # noqa: S608 - COLUMNS is a constant
                        drug_id,
                        *_row_values(drug),
                    )
            except asyncpg.UniqueViolationError as exc:
                conflict = product_conflict(exc)
                if conflict is None:
                    raise
                raise conflict from None
            new = drug_out(row)
            changed = {
                field: [getattr(old, field), getattr(new, field)]
                for field in EDITABLE
                if getattr(old, field) != getattr(new, field)
            }
            await audit.record(
                connection, context, "drug.updated", "drug", drug_id, detail={"changed": changed}
            )
        return new

    async def retire(self, drug_id: uuid.UUID, context: AuditContext) -> DrugOut:
        """No longer offered; kept for whatever already names it."""
        return await self._set_retired(drug_id, True, context)

    async def restore(self, drug_id: uuid.UUID, context: AuditContext) -> DrugOut:
        """Offered again (a drug retired by mistake, or back on the market)."""
        return await self._set_retired(drug_id, False, context)

    async def _set_retired(
        self, drug_id: uuid.UUID, retired: bool, context: AuditContext
    ) -> DrugOut:
        async with self.db.transaction() as connection:
            row = await connection.fetchrow(
                f"""
                UPDATE drugs SET retired_at = CASE WHEN $2 THEN now() END, updated_at = now()
                 WHERE id = $1 AND (retired_at IS NOT NULL) <> $2
                RETURNING {COLUMNS}
                """,  # noqa: S608 - COLUMNS is a constant
                drug_id,
                retired,
            )
            if row is None:
                exists = await connection.fetchval("SELECT 1 FROM drugs WHERE id = $1", drug_id)
                if not exists:
                    raise NotFound("no such drug")
                raise Conflict(
                    "this drug is already retired" if retired else "this drug is not retired",
                    field="retired_at",
                    code="retired" if retired else "not-retired",
                )
            action = "drug.retired" if retired else "drug.restored"
            await audit.record(connection, context, action, "drug", drug_id)
        return drug_out(row)
