"""Settlement statements (what a doctor, a hospital or a pharmacy earned in a month, line by
line, from the ledger) and the hospital agreements that decide the shares.

Operators read every statement; a doctor their own; a hospital's admins their hospital's and
its own pharmacies' (``may_manage_pharmacy``, migration 0066), as they manage those. An
independent pharmacy's statement is the operators'.

A month is a calendar month in the platform's time zone (``MEDMARKET_DEFAULT_TIME_ZONE``,
Beijing time by default): that is how partners count. Each line is one ledger transaction
touching the party's account: a charge (positive share) or a refund taking part of it back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Database, fetch_one
from medmarket.errors import InvalidInput, NotFound
from medmarket.ledger.schemas import (
    AgreementIn,
    AgreementOut,
    Statement,
    StatementLine,
    StatementTotals,
)
from medmarket.ledger.split import yuan
from medmarket.settings import Settings

_LINES = """
SELECT t.occurred_at, t.kind, t.payment_id, t.refund_id, p.purpose, p.subject_id, p.doctor_id,
       d.full_name AS doctor_name,
       CASE WHEN t.kind = 'charge' THEN p.amount ELSE -r.amount END AS gross,
       -e.amount AS share
  FROM ledger_entries e
  JOIN ledger_accounts a ON a.id = e.account_id
  JOIN ledger_transactions t ON t.id = e.transaction_id
  JOIN payments p ON p.id = t.payment_id
  LEFT JOIN doctors d ON d.id = p.doctor_id
  LEFT JOIN payment_refunds r ON r.id = t.refund_id
 WHERE a.kind = $1 AND a.currency = $3
   AND (a.doctor_id = $2 OR a.hospital_id = $2 OR a.pharmacy_id = $2)
   AND t.occurred_at >= $4 AND t.occurred_at < $5
 ORDER BY t.occurred_at, t.id
"""

CSV_COLUMNS = {
    "zh-CN": ["时间", "类型", "支付编号", "退款编号", "用途", "业务编号", "医生编号",
              "患者支付(分)", "分成(分)", "分成(元)"],
    "en": ["occurred_at", "kind", "payment_id", "refund_id", "purpose", "subject_id",
           "doctor_id", "gross_fen", "share_fen", "share_yuan"],
}  # fmt: skip
CSV_TOTAL = {"zh-CN": "合计", "en": "total"}
Party = Literal["doctor", "hospital", "pharmacy"]
ACCOUNT_KINDS: dict[Party, str] = {
    "doctor": "doctor_payable",
    "hospital": "hospital_payable",
    "pharmacy": "pharmacy_payable",
}


@dataclass(frozen=True)
class PharmacyParty:
    """A pharmacy whose statement the viewer may read."""

    id: uuid.UUID
    name: str
    hospital_id: uuid.UUID | None  # a hospital's own pharmacy


def month_bounds(period: str, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """``"2026-03"`` → the first instants of March and April in ``time_zone``."""
    try:
        year, month = (int(part) for part in period.split("-"))
        zone = ZoneInfo(time_zone)
        start = dt.datetime(year, month, 1, tzinfo=zone)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    except (ValueError, KeyError, OverflowError):
        # Also a month at either end of the calendar, which UTC or the next month leaves.
        raise InvalidInput("a period is a month like 2026-03", field="period") from None


class Settlements:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def doctor_statement(
        self, viewer: Principal, doctor_id: uuid.UUID, period: str, currency: str
    ) -> Statement:
        row = await self.db.fetchrow(
            "SELECT full_name, user_id FROM doctors WHERE id = $1", doctor_id
        )
        if row is None or (viewer.role != "operator" and row["user_id"] != viewer.user_id):
            raise NotFound("no such doctor", field="doctor_id")
        return await self._statement("doctor", doctor_id, row["full_name"], period, currency)

    async def my_doctor_statement(self, viewer: Principal, period: str, currency: str) -> Statement:
        doctor_id = await self.db.fetchval(
            "SELECT id FROM doctors WHERE user_id = $1", viewer.user_id
        )
        if doctor_id is None:
            raise NotFound("you have no doctor profile yet")
        return await self.doctor_statement(viewer, doctor_id, period, currency)

    async def hospital_statement(
        self, viewer: Principal, hospital_id: uuid.UUID, period: str, currency: str
    ) -> Statement:
        name = await self.visible_hospital(viewer, hospital_id)
        return await self._statement("hospital", hospital_id, name, period, currency)

    async def visible_hospital(self, viewer: Principal, hospital_id: uuid.UUID) -> str:
        """The hospital's name, for its admins and operators; NotFound for anyone else."""
        row = await self.db.fetchrow(
            """
            SELECT h.name, EXISTS (SELECT 1 FROM hospital_admins ha
                                    WHERE ha.hospital_id = h.id AND ha.user_id = $2) AS admin
              FROM hospitals h WHERE h.id = $1
            """,
            hospital_id,
            viewer.user_id,
        )
        if row is None or (viewer.role != "operator" and not row["admin"]):
            raise NotFound("no such hospital", field="hospital_id")
        return str(row["name"])

    async def pharmacy_statement(
        self, viewer: Principal, pharmacy_id: uuid.UUID, period: str, currency: str
    ) -> Statement:
        pharmacy = await self.visible_pharmacy(viewer, pharmacy_id)
        return await self._statement("pharmacy", pharmacy_id, pharmacy.name, period, currency)

    async def visible_pharmacy(self, viewer: Principal, pharmacy_id: uuid.UUID) -> PharmacyParty:
        """The pharmacy, for operators and its hospital's admins; NotFound for anyone else."""
        row = await self.db.fetchrow(
            """
            SELECT id, name_zh AS name, hospital_id FROM pharmacies
             WHERE id = $1 AND may_manage_pharmacy($2, $3, hospital_id)
            """,
            pharmacy_id,
            viewer.role,
            viewer.user_id,
        )
        if row is None:
            raise NotFound("no such pharmacy", field="pharmacy_id")
        return PharmacyParty(**dict(row))

    async def hospital_pharmacies(self, hospital_id: uuid.UUID) -> list[PharmacyParty]:
        """The hospital's own pharmacies, closed ones too (their statements remain), by name;
        for whoever may read the hospital's statement."""
        rows = await self.db.fetch(
            """
            SELECT id, name_zh AS name, hospital_id FROM pharmacies
             WHERE hospital_id = $1 ORDER BY name_zh, id
            """,
            hospital_id,
        )
        return [PharmacyParty(**dict(row)) for row in rows]

    async def _statement(
        self, party: Party, party_id: uuid.UUID, name: str, period: str, currency: str
    ) -> Statement:
        starts_at, ends_at = month_bounds(period, self.settings.default_time_zone)
        rows = await self.db.fetch(
            _LINES, ACCOUNT_KINDS[party], party_id, currency, starts_at, ends_at
        )
        lines = [StatementLine(**dict(row)) for row in rows]
        totals = StatementTotals(
            charges=sum(1 for line in lines if line.kind == "charge"),
            refunds=sum(1 for line in lines if line.kind == "refund"),
            gross=sum(line.gross for line in lines),
            share=sum(line.share for line in lines),
        )
        return Statement(
            party=party,
            party_id=party_id,
            name=name,
            period=period,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=self.settings.default_time_zone,
            currency=currency,
            lines=lines,
            totals=totals,
        )

    # -- agreements ------------------------------------------------------------------------
    async def agreement(self, viewer: Principal, hospital_id: uuid.UUID) -> AgreementOut:
        await self.visible_hospital(viewer, hospital_id)
        row = await self.db.fetchrow(
            """
            SELECT platform_rate_bp, hospital_rate_bp, effective_from FROM hospital_agreements
             WHERE hospital_id = $1 AND effective_from <= now()
             ORDER BY effective_from DESC LIMIT 1
            """,
            hospital_id,
        )
        if row is None:
            return AgreementOut(
                hospital_id=hospital_id,
                platform_rate_bp=self.settings.platform_rate_bp,
                hospital_rate_bp=self.settings.hospital_rate_bp,
                effective_from=None,
                is_default=True,
            )
        return AgreementOut(hospital_id=hospital_id, **dict(row))

    async def set_agreement(
        self, hospital_id: uuid.UUID, data: AgreementIn, context: AuditContext
    ) -> AgreementOut:
        if data.platform_rate_bp + data.hospital_rate_bp > 10000:
            raise InvalidInput(
                "the platform's and the hospital's shares together exceed 100%",
                field="hospital_rate_bp",
            )
        async with self.db.transaction() as connection:
            if not await connection.fetchval("SELECT 1 FROM hospitals WHERE id = $1", hospital_id):
                raise NotFound("no such hospital", field="hospital_id")
            row = await fetch_one(
                connection,
                """
                INSERT INTO hospital_agreements (hospital_id, platform_rate_bp, hospital_rate_bp,
                                                 effective_from, created_by)
                VALUES ($1, $2, $3, coalesce($4, now()), $5)
                RETURNING platform_rate_bp, hospital_rate_bp, effective_from
                """,
                hospital_id,
                data.platform_rate_bp,
                data.hospital_rate_bp,
                data.effective_from,
                context.actor_id,
            )
            await audit.record(
                connection,
                context,
                "agreement.set",
                "hospital",
                hospital_id,
                detail={
                    "platform_rate_bp": data.platform_rate_bp,
                    "hospital_rate_bp": data.hospital_rate_bp,
                    "effective_from": row["effective_from"].isoformat(),
                },
            )
        return AgreementOut(hospital_id=hospital_id, **dict(row))


def statement_csv(statement: Statement, locale: str) -> str:
    """The statement as CSV, one line per transaction and a total; amounts in fen and yuan."""
    zone = ZoneInfo(statement.time_zone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS[locale])
    for line in statement.lines:
        writer.writerow(
            [
                line.occurred_at.astimezone(zone).isoformat(timespec="seconds"),
                line.kind,
                line.payment_id,
                line.refund_id or "",
                line.purpose,
                line.subject_id,
                line.doctor_id or "",
                line.gross,
                line.share,
                yuan(line.share),
            ]
        )
    totals = statement.totals
    writer.writerow(
        [CSV_TOTAL[locale], "", "", "", "", "", "", totals.gross, totals.share, yuan(totals.share)]
    )
    return out.getvalue()
