"""The rules of partner hospitals: operators register them and invite their admins; an admin
connects the hospital's systems by picking an adapter type and filling its configuration.

Hospital admins act only on the hospitals they administer: any other hospital answers the
same 404 as one that does not exist.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from medmarket import audit
from medmarket.accounts.schemas import InvitationOut, InvitationRequest
from medmarket.accounts.service import Accounts, Principal
from medmarket.audit import AuditContext
from medmarket.db import Connection, fetch_one
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.hospitals import adapters
from medmarket.hospitals.interface import HospitalAdapterType
from medmarket.hospitals.schemas import (
    AdapterConfigIn,
    AdapterConfigOut,
    AdapterTestOut,
    AdapterTypeOut,
    AdminInvitationIn,
    HospitalAdminOut,
    HospitalCreate,
    HospitalDetail,
    HospitalOut,
    HospitalUpdate,
)
from medmarket.plugin_manager import PluginUnavailable
from medmarket.sealed import Sealer, SealError
from medmarket.services import Services

# The rule itself is the SQL function may_manage_hospital (migration 0010).
_MANAGED = "SELECT h.* FROM hospitals h WHERE h.id = $1 AND may_manage_hospital($2, $3, h.id)"
_MANAGED_LOCKED = (
    "SELECT h.* FROM hospitals h WHERE h.id = $1 AND may_manage_hospital($2, $3, h.id) "
    "FOR UPDATE OF h"
)


def _clean_departments(departments: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for department in departments:
        name = department.strip()
        if name:
            seen.setdefault(name, None)
    return list(seen)


def _text(value: str, field: str) -> str:
    cleaned = value.strip()
    if len(cleaned) < 2:
        raise InvalidInput(f"{field}: enter at least 2 characters", field=field)
    return cleaned


class HospitalService:
    def __init__(self, services: Services) -> None:
        self.db = services.db
        self.plugins = services.plugins

    # -- the public directory --------------------------------------------------------------
    async def directory(self) -> list[HospitalOut]:
        rows = await self.db.fetch(
            "SELECT id, name, name_en, level, region, departments FROM hospitals "
            "WHERE status = 'active' ORDER BY name"
        )
        return [HospitalOut(**dict(row)) for row in rows]

    async def public(self, hospital_id: uuid.UUID) -> HospitalOut:
        row = await self.db.fetchrow(
            "SELECT id, name, name_en, level, region, departments FROM hospitals "
            "WHERE id = $1 AND status = 'active'",
            hospital_id,
        )
        if row is None:
            raise NotFound("no such partner hospital")
        return HospitalOut(**dict(row))

    # -- operators: register and change ----------------------------------------------------
    async def create(
        self, principal: Principal, data: HospitalCreate, context: AuditContext
    ) -> HospitalDetail:
        name, region = _text(data.name, "name"), _text(data.region, "region")
        departments = _clean_departments(data.departments)
        async with self.db.transaction() as connection:
            try:
                hospital_id = await connection.fetchval(
                    """
                    INSERT INTO hospitals (name, name_en, level, region, departments, created_by)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    RETURNING id
                    """,
                    name,
                    (data.name_en or "").strip() or None,
                    data.level,
                    region,
                    departments,
                    context.actor_id,
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    "a partner hospital with this name exists already", field="name"
                ) from None
            await audit.record(
                connection,
                context,
                "hospital.created",
                "hospital",
                hospital_id,
                detail={"name": name, "level": data.level, "region": region},
            )
        return await self.detail(principal, hospital_id)

    async def update(
        self,
        principal: Principal,
        hospital_id: uuid.UUID,
        data: HospitalUpdate,
        context: AuditContext,
    ) -> HospitalDetail:
        name = _text(data.name, "name") if data.name is not None else None
        region = _text(data.region, "region") if data.region is not None else None
        departments = _clean_departments(data.departments) if data.departments is not None else None
        name_en = (data.name_en.strip() or None) if data.name_en is not None else None
        async with self.db.transaction() as connection:
            await self._managed(connection, principal, hospital_id, lock=True)
            try:
                await connection.execute(
                    """
                    UPDATE hospitals
                       SET name = coalesce($2, name),
                           name_en = CASE WHEN $3 THEN $4 ELSE name_en END,
                           level = coalesce($5, level),
                           region = coalesce($6, region),
                           departments = coalesce($7, departments),
                           status = coalesce($8, status),
                           updated_at = now()
                     WHERE id = $1
                    """,
                    hospital_id,
                    name,
                    data.name_en is not None,
                    name_en,
                    data.level,
                    region,
                    departments,
                    data.status,
                )
            except asyncpg.UniqueViolationError:
                raise Conflict(
                    "a partner hospital with this name exists already", field="name"
                ) from None
            changed = {
                field: value
                for field, value in msgspec.structs.asdict(data).items()
                if value is not None
            }
            await audit.record(
                connection, context, "hospital.updated", "hospital", hospital_id, detail=changed
            )
        return await self.detail(principal, hospital_id)

    async def invite_admin(
        self,
        principal: Principal,
        hospital_id: uuid.UUID,
        data: AdminInvitationIn,
        accounts: Accounts,
        context: AuditContext,
    ) -> InvitationOut:
        """An invitation whose acceptance makes the new account an admin of this hospital."""
        await self._managed(self.db.pool, principal, hospital_id)
        request = InvitationRequest(
            email=data.email, role="hospital_admin", hospital_id=hospital_id
        )
        return await accounts.invite(request, context)

    # -- operators and the hospital's admins -----------------------------------------------
    async def managed_by(self, principal: Principal) -> list[HospitalDetail]:
        rows = await self.db.fetch(
            "SELECT h.* FROM hospitals h WHERE may_manage_hospital($1, $2, h.id) ORDER BY h.name",
            principal.role,
            principal.user_id,
        )
        return await self._details(rows)

    async def detail(self, principal: Principal, hospital_id: uuid.UUID) -> HospitalDetail:
        [detail] = await self._details([await self._managed(self.db.pool, principal, hospital_id)])
        return detail

    async def _details(self, rows: list[asyncpg.Record]) -> list[HospitalDetail]:
        """Hospitals with their admins and doctor counts, in three queries however many."""
        ids = [row["id"] for row in rows]
        admins = await self.db.fetch(
            """
            SELECT ha.hospital_id, u.id AS user_id, u.email, u.display_name,
                   ha.created_at AS since
              FROM hospital_admins ha JOIN users u ON u.id = ha.user_id
             WHERE ha.hospital_id = ANY($1::uuid[])
             ORDER BY ha.created_at
            """,
            ids,
        )
        counts = await self.db.fetch(
            "SELECT hospital_id, status, count(*) AS n FROM doctors "
            "WHERE hospital_id = ANY($1::uuid[]) GROUP BY hospital_id, status",
            ids,
        )
        return [
            HospitalDetail(
                id=row["id"],
                name=row["name"],
                name_en=row["name_en"],
                level=row["level"],
                region=row["region"],
                departments=list(row["departments"]),
                status=row["status"],
                adapter=self._adapter_out(row),
                admins=[
                    HospitalAdminOut(
                        user_id=admin["user_id"],
                        email=admin["email"],
                        display_name=admin["display_name"],
                        since=admin["since"],
                    )
                    for admin in admins
                    if admin["hospital_id"] == row["id"]
                ],
                doctors_by_status={
                    count["status"]: count["n"]
                    for count in counts
                    if count["hospital_id"] == row["id"]
                },
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

    def adapter_types(self) -> list[AdapterTypeOut]:
        offered: list[AdapterTypeOut] = []
        for type_id, adapter_type in sorted(self.plugins.hospital_adapters):
            offered.append(
                AdapterTypeOut(
                    id=type_id,
                    display_name=str(adapter_type.display_name),
                    config_schema=adapters.config_schema(adapter_type.config_type),
                    secret_fields=adapters.secret_fields(adapter_type.config_type),
                )
            )
        return offered

    async def configure_adapter(
        self,
        principal: Principal,
        hospital_id: uuid.UUID,
        data: AdapterConfigIn,
        context: AuditContext,
    ) -> AdapterConfigOut:
        if data.type not in self.plugins.hospital_adapters.adapters:
            raise InvalidInput(
                f"type: no hospital adapter {data.type!r} is installed; choose one of "
                + ", ".join(sorted(self.plugins.hospital_adapters.adapters)),
                field="type",
            )
        adapter_type: HospitalAdapterType = self.plugins.hospital_adapters.get(data.type)
        async with self.db.transaction() as connection:
            row = await self._managed(connection, principal, hospital_id, lock=True)
            kept = row["adapter_config"] if row["adapter_type"] == data.type else None
            sealer = Sealer(self.plugins.settings.secret_key)
            if kept is not None:
                try:
                    kept = adapters.unseal_secrets(adapter_type, kept, sealer)
                except SealError:  # sealed under an earlier secret key: to be entered again
                    kept, _ = adapters.without_secrets(adapter_type, kept)
            submitted = adapters.merge_kept_secrets(adapter_type, data.config, kept)
            config = adapters.validate_config(adapter_type, submitted)
            stored = adapters.seal_secrets(adapter_type, msgspec.to_builtins(config), sealer)
            updated = await fetch_one(
                connection,
                """
                UPDATE hospitals
                   SET adapter_type = $2, adapter_config = $3, adapter_configured_at = now(),
                       adapter_configured_by = $4, updated_at = now()
                 WHERE id = $1
                RETURNING adapter_type, adapter_config, adapter_configured_at
                """,
                hospital_id,
                data.type,
                stored,
                context.actor_id,
            )
            _, secrets_set = adapters.without_secrets(adapter_type, stored)
            await audit.record(
                connection,
                context,
                "hospital.adapter_configured",
                "hospital",
                hospital_id,
                # Field names only: configuration values may be sensitive.
                detail={"type": data.type, "fields": sorted(stored), "secrets_set": secrets_set},
            )
        out = self._adapter_out(updated)
        assert out is not None
        return out

    async def test_adapter(
        self, principal: Principal, hospital_id: uuid.UUID, context: AuditContext
    ) -> AdapterTestOut:
        """Ask the configured adapter for its health, so an admin sees at once whether the
        configuration reaches the hospital's systems."""
        row = await self._managed(self.db.pool, principal, hospital_id)
        try:
            async with adapters.connect(
                self.plugins, hospital_id, row["adapter_type"], row["adapter_config"]
            ) as hospital:
                report = await hospital.health()
        except PluginUnavailable as exc:
            result = AdapterTestOut(healthy=False, detail=exc.detail)
        else:
            result = AdapterTestOut(healthy=report.healthy, detail=report.detail)
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "hospital.adapter_tested",
                "hospital",
                hospital_id,
                outcome="success" if result.healthy else "failed",
                detail={"type": row["adapter_type"], "detail": result.detail[:500]},
            )
        return result

    # -- helpers ---------------------------------------------------------------------------
    def _adapter_out(self, row: asyncpg.Record) -> AdapterConfigOut | None:
        type_id = row["adapter_type"]
        if type_id is None:
            return None
        installed = self.plugins.hospital_adapters.adapters.get(type_id)
        shown, secrets_set = adapters.without_secrets(installed, row["adapter_config"])
        return AdapterConfigOut(
            type=type_id,
            display_name=str(installed.display_name) if installed else f"{type_id} (not installed)",
            config=shown,
            secrets_set=secrets_set,
            configured_at=row["adapter_configured_at"],
        )

    @staticmethod
    async def _managed(
        connection: Connection | asyncpg.Pool,
        principal: Principal,
        hospital_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> asyncpg.Record:
        row = await connection.fetchrow(
            _MANAGED_LOCKED if lock else _MANAGED, hospital_id, principal.role, principal.user_id
        )
        if row is None:
            raise NotFound("no such partner hospital")
        return row
