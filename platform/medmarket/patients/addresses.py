"""The patient account's address book: where prescribed drugs are delivered.

An account keeps at most ``MAX_LIVE_ADDRESSES`` live addresses, one of them (or none) its
default. Entries are removed, never deleted (``removed_at``): an order keeps pointing at the
entry it was taken from, and copies the address itself, so an edit never changes where an
order went. Removing the default makes the newest remaining entry the default.

Every change takes a lock on the account's row first, so two requests of one account (two
first addresses, the twenty-first address, a default moved while another is removed) happen
one after the other; the database's unique index still allows one default per account.

For the ordering code:

``await live_address(conn, account_id, address_id) -> AddressRecord | None``
    The account's live (not removed) entry, else None (someone else's, removed, unknown).
    Read it in the transaction that places the order; it takes no lock.

``postal(address) -> medmarket.delivery.interface.PostalAddress``
    The entry as a courier's drop-off address: copy this into the order.
"""

from __future__ import annotations

import unicodedata
import uuid

import asyncpg
import msgspec

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, Database, fetch_one
from medmarket.delivery.interface import PostalAddress
from medmarket.errors import Conflict, FieldError, InvalidInput, NotFound
from medmarket.patients.schemas import AddressIn, AddressOut, AddressPatch
from medmarket.patients.service import normalize_phone

MAX_LIVE_ADDRESSES = 20
_RECORD_COLUMNS = (
    "id, label, recipient, phone, province, city, district, street, postal_code, is_default"
)
_COLUMNS = _RECORD_COLUMNS + ", created_at, updated_at"
# As the table allows (migration 0074): (shortest, longest) once trimmed.
_LENGTHS = {
    "label": (1, 20),
    "recipient": (1, 60),
    "province": (2, 50),
    "city": (2, 50),
    "district": (2, 50),
    "street": (2, 200),
}
_OPTIONAL = ("label", "district", "postal_code")
_EDITABLE = ("label", "recipient", "phone", "province", "city", "district", "street")


class AddressRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One live entry of an account's address book, as the ordering code reads it."""

    id: uuid.UUID
    label: str | None
    recipient: str
    phone: str  # E.164
    province: str
    city: str
    district: str | None
    street: str
    postal_code: str | None
    is_default: bool


async def live_address(
    conn: Connection | asyncpg.Pool, account_id: uuid.UUID, address_id: uuid.UUID
) -> AddressRecord | None:
    """The account's entry ``address_id`` unless it was removed; None otherwise (another
    account's entry is None too: the caller answers it like one that does not exist)."""
    row = await conn.fetchrow(
        f"SELECT {_RECORD_COLUMNS} FROM patient_addresses "  # noqa: S608 - constant
        "WHERE id = $1 AND account_id = $2 AND removed_at IS NULL",
        address_id,
        account_id,
    )
    return None if row is None else AddressRecord(**dict(row))


def postal(address: AddressRecord) -> PostalAddress:
    """The entry as a courier's drop-off address."""
    return PostalAddress(
        recipient=address.recipient,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        street=address.street,
        postal_code=address.postal_code,
    )


# -- reading what people typed ----------------------------------------------------------------
def _text(field: str, raw: str | None) -> str | None:
    """One line of text: full-width letters folded, runs of spaces made one, trimmed; blank
    is None for an optional field and a 422 for a required one."""
    value = " ".join(unicodedata.normalize("NFKC", raw or "").split())
    if not value:
        if field in _OPTIONAL:
            return None
        raise InvalidInput(f"{field}: fill in this field", field=field, code="required")
    shortest, longest = _LENGTHS[field]
    if len(value) < shortest:
        raise InvalidInput(
            f"{field}: at least {shortest} characters", field=field, code="too-short"
        )
    if len(value) > longest:
        raise InvalidInput(f"{field}: at most {longest} characters", field=field, code="too-long")
    return value


def _postal_code(raw: str | None) -> str | None:
    value = "".join(unicodedata.normalize("NFKC", raw or "").split())
    if not value:
        return None
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise InvalidInput("postal_code: six digits", field="postal_code", code="invalid")
    return value


def _clean(field: str, raw: str | None) -> str | None:
    if field == "phone":
        return normalize_phone(raw or "") if (raw or "").strip() else _text(field, None)
    if field == "postal_code":
        return _postal_code(raw)
    return _text(field, raw)


def _checked(values: dict[str, str | None]) -> dict[str, str | None]:
    """Every field cleaned; all the fields that fail are named at once."""
    cleaned: dict[str, str | None] = {}
    errors: list[FieldError] = []
    for field, raw in values.items():
        try:
            cleaned[field] = _clean(field, raw)
        except InvalidInput as problem:
            errors.extend(problem.errors)
    if errors:
        raise InvalidInput("; ".join(e.message for e in errors), errors=errors)
    return cleaned


def address_out(row: asyncpg.Record) -> AddressOut:
    return AddressOut(**dict(row))


def _fields_of(address: AddressIn) -> dict[str, str | None]:
    return {name: getattr(address, name) for name in (*_EDITABLE, "postal_code")}


class Addresses:
    """The address book of the signed-in patient account."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _lock_account(self, connection: Connection, account_id: uuid.UUID) -> None:
        await connection.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", account_id)

    async def _owned(
        self, connection: Connection, account_id: uuid.UUID, address_id: uuid.UUID
    ) -> asyncpg.Record:
        row = await connection.fetchrow(
            f"SELECT {_COLUMNS} FROM patient_addresses "  # noqa: S608 - constant
            "WHERE id = $1 AND account_id = $2 AND removed_at IS NULL",
            address_id,
            account_id,
        )
        if row is None:
            raise NotFound("no such address", field="address_id")
        return row

    async def _clear_default(self, connection: Connection, account_id: uuid.UUID) -> None:
        await connection.execute(
            "UPDATE patient_addresses SET is_default = false, updated_at = now() "
            "WHERE account_id = $1 AND is_default",
            account_id,
        )

    async def list(self, principal: Principal) -> list[AddressOut]:
        """Live entries: the default first, then the newest."""
        rows = await self.db.fetch(
            f"SELECT {_COLUMNS} FROM patient_addresses "  # noqa: S608 - constant
            "WHERE account_id = $1 AND removed_at IS NULL "
            "ORDER BY is_default DESC, created_at DESC, id DESC",
            principal.user_id,
        )
        return [address_out(row) for row in rows]

    async def get(self, principal: Principal, address_id: uuid.UUID) -> AddressOut:
        async with self.db.transaction() as connection:
            return address_out(await self._owned(connection, principal.user_id, address_id))

    async def add(
        self, principal: Principal, address: AddressIn, context: AuditContext
    ) -> AddressOut:
        values = _checked(_fields_of(address))
        async with self.db.transaction() as connection:
            await self._lock_account(connection, principal.user_id)
            live = await connection.fetchval(
                "SELECT count(*) FROM patient_addresses "
                "WHERE account_id = $1 AND removed_at IS NULL",
                principal.user_id,
            )
            if live >= MAX_LIVE_ADDRESSES:
                raise Conflict(
                    f"at most {MAX_LIVE_ADDRESSES} addresses; remove one first",
                    field="addresses",
                    code="too-many",
                    limit=MAX_LIVE_ADDRESSES,
                )
            is_default = address.is_default or live == 0
            if is_default:
                await self._clear_default(connection, principal.user_id)
            row = await fetch_one(
                connection,
                f"""
                INSERT INTO patient_addresses (account_id, label, recipient, phone, province,
                                               city, district, street, postal_code, is_default)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                RETURNING {_COLUMNS}
                """,  # noqa: S608 - constant
                principal.user_id,
                values["label"],
                values["recipient"],
                values["phone"],
                values["province"],
                values["city"],
                values["district"],
                values["street"],
                values["postal_code"],
                is_default,
            )
            await audit.record(
                connection,
                context,
                "patient_address.added",
                "patient_address",
                row["id"],
                detail={"is_default": is_default},
            )
        return address_out(row)

    async def change(
        self,
        principal: Principal,
        address_id: uuid.UUID,
        patch: AddressPatch,
        context: AuditContext,
    ) -> AddressOut:
        given = {
            name: getattr(patch, name)
            for name in (*_EDITABLE, "postal_code")
            if getattr(patch, name) is not msgspec.UNSET
        }
        values = _checked(given)
        async with self.db.transaction() as connection:
            await self._lock_account(connection, principal.user_id)
            current = await self._owned(connection, principal.user_id, address_id)
            is_default: bool = current["is_default"]
            if patch.is_default is not msgspec.UNSET and patch.is_default != is_default:
                is_default = patch.is_default
                if is_default:
                    await self._clear_default(connection, principal.user_id)
            merged = {name: values.get(name, current[name]) for name in (*_EDITABLE, "postal_code")}
            row = await fetch_one(
                connection,
                f"""
                UPDATE patient_addresses
                   SET label = $2, recipient = $3, phone = $4, province = $5, city = $6,
                       district = $7, street = $8, postal_code = $9, is_default = $10,
                       updated_at = now()
                 WHERE id = $1
                RETURNING {_COLUMNS}
                """,  # noqa: S608 - constant
                address_id,
                merged["label"],
                merged["recipient"],
                merged["phone"],
                merged["province"],
                merged["city"],
                merged["district"],
                merged["street"],
                merged["postal_code"],
                is_default,
            )
            changed = sorted(name for name in merged if merged[name] != current[name])
            if is_default != current["is_default"]:
                changed.append("is_default")
            await audit.record(
                connection,
                context,
                "patient_address.changed",
                "patient_address",
                address_id,
                detail={"fields": changed},
            )
        return address_out(row)

    async def make_default(
        self, principal: Principal, address_id: uuid.UUID, context: AuditContext
    ) -> AddressOut:
        async with self.db.transaction() as connection:
            await self._lock_account(connection, principal.user_id)
            current = await self._owned(connection, principal.user_id, address_id)
            if current["is_default"]:
                return address_out(current)
            await self._clear_default(connection, principal.user_id)
            row = await fetch_one(
                connection,
                f"UPDATE patient_addresses SET is_default = true, updated_at = now() "  # noqa: S608
                f"WHERE id = $1 RETURNING {_COLUMNS}",
                address_id,
            )
            await audit.record(
                connection, context, "patient_address.made_default", "patient_address", address_id
            )
        return address_out(row)

    async def remove(
        self, principal: Principal, address_id: uuid.UUID, context: AuditContext
    ) -> None:
        async with self.db.transaction() as connection:
            await self._lock_account(connection, principal.user_id)
            current = await self._owned(connection, principal.user_id, address_id)
            await connection.execute(
                "UPDATE patient_addresses "
                "SET removed_at = now(), is_default = false, updated_at = now() WHERE id = $1",
                address_id,
            )
            new_default = None
            if current["is_default"]:
                new_default = await connection.fetchval(
                    """
                    UPDATE patient_addresses SET is_default = true, updated_at = now()
                     WHERE id = (SELECT id FROM patient_addresses
                                  WHERE account_id = $1 AND removed_at IS NULL
                                  ORDER BY created_at DESC, id DESC LIMIT 1)
                    RETURNING id
                    """,
                    principal.user_id,
                )
            await audit.record(
                connection,
                context,
                "patient_address.removed",
                "patient_address",
                address_id,
                detail={
                    "was_default": current["is_default"],
                    "default_now": None if new_default is None else str(new_default),
                },
            )
