"""Writing e-prescriptions: only the consultation's own doctor, for that consultation's
patient, while the visit is in progress or within MEDMARKET_PRESCRIPTION_WINDOW_HOURS after
it was completed (``validity.require_writable``).

A prescription is drafted from the request, the drug catalog and the patient's health
record (``facts``), checked by the safety rules (the platform's, then the plugins'), and
issued: an error blocks it, a warning needs the doctor's reason (``findings``), and what is
issued is the canonical document (``document``) with its rows, in one transaction with its
audit events. It never changes afterwards. A correction is a new version that voids the one
it corrects; voiding keeps who, when and why. Who takes part in the consultation reads its
prescriptions; anyone else is told they do not exist, as for the consultation itself.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.consults.access import participation, require_own_doctor
from medmarket.db import Connection, Database, fetch_one
from medmarket.doctors.signing_keys import sign_for_doctor, verify_signed
from medmarket.drugs.schemas import Route
from medmarket.errors import FieldError, Forbidden, InvalidInput, NotFound
from medmarket.patients.service import age_on, health_record
from medmarket.prescriptions import facts, fhir, records, rules
from medmarket.prescriptions.document import (
    PrescribedDrug,
    PrescribedItem,
    PrescribedPatient,
    Prescriber,
    PrescriptionDocument,
    decimal_text,
    prescription_document,
)
from medmarket.prescriptions.findings import PrescriptionRefused, explained, refuse_errors
from medmarket.prescriptions.model import DraftPrescription, DrugFacts, ItemDraft
from medmarket.prescriptions.schemas import (
    CorrectionIn,
    HealthSummaryOut,
    PrescriptionIn,
    PrescriptionOut,
    SignatureCheck,
    VerificationOut,
    masked,
)
from medmarket.prescriptions.states import VOIDABLE, WrongStatus, change_status
from medmarket.prescriptions.validity import (
    PrescribingClosed,
    require_writable,
    validity,
    writing_closes_at,
)
from medmarket.sealed import Sealer
from medmarket.services import Services
from medmarket.signatures import SignedDocument

_PRESCRIBER = """
    SELECT d.id, d.full_name AS name, d.title, d.licence_number, d.status, h.name AS hospital
      FROM doctors d JOIN hospitals h ON h.id = d.hospital_id
     WHERE d.id = $1
"""


def drafted(
    request: PrescriptionIn, drugs: dict[uuid.UUID, DrugFacts], written_on: dt.date
) -> DraftPrescription:
    """The prescription as the rules read it, or InvalidInput naming every field that is not
    a prescription at all (a drug the catalog does not have, an amount of nothing)."""
    problems: list[FieldError] = []
    items: list[ItemDraft] = []
    diagnosis = request.diagnosis.strip()
    if not diagnosis:
        problems.append(FieldError("diagnosis", "name the diagnosis", "required"))
    for index, item in enumerate(request.items):
        dose, quantity = Decimal(item.dose), Decimal(item.quantity)
        for name, amount in (("dose", dose), ("quantity", quantity)):
            if amount <= 0:
                problems.append(FieldError(f"items[{index}].{name}", "more than 0", "not-positive"))
        drug = drugs.get(item.drug_id)
        if drug is None:
            problems.append(
                FieldError(f"items[{index}].drug_id", "no such drug in the catalog", "unknown-drug")
            )
            continue
        items.append(
            ItemDraft(
                drug=drug,
                dose=dose,
                dose_unit=item.dose_unit,
                route=item.route,
                frequency=item.frequency,
                duration_days=item.duration_days,
                quantity=quantity,
                quantity_unit=item.quantity_unit,
                instructions=item.instructions.strip(),
            )
        )
    if problems:
        raise InvalidInput("; ".join(f"{p.field}: {p.message}" for p in problems), errors=problems)
    return DraftPrescription(
        diagnosis=diagnosis,
        items=tuple(items),
        chronic_follow_up=request.chronic_follow_up,
        written_on=written_on,
    )


def prescribed_item(item: ItemDraft) -> PrescribedItem:
    return PrescribedItem(
        drug=PrescribedDrug(
            id=item.drug.id,
            generic_name_zh=item.drug.generic_name_zh,
            generic_name_en=item.drug.generic_name_en,
            dosage_form=item.drug.dosage_form,
            strength=item.drug.strength,
            unit=item.drug.unit,
        ),
        dose=decimal_text(item.dose),
        dose_unit=item.dose_unit,
        route=cast(Route, item.route),  # the request's, as drafted
        frequency=item.frequency,
        duration_days=item.duration_days,
        quantity=decimal_text(item.quantity),
        quantity_unit=item.quantity_unit,
        instructions=item.instructions,
    )


class Prescribing:
    def __init__(self, services: Services, extra_rules: Sequence[rules.Rule] = ()) -> None:
        self.db: Database = services.db
        self.settings = services.settings
        self.window = dt.timedelta(hours=services.settings.prescription_window_hours)
        self.limits = facts.limits(services.settings)
        # Opens the doctors' private keys (sealed at rest under MEDMARKET_SECRET_KEY).
        self.sealer = Sealer(services.settings.secret_key)
        # The plugins' rules, run after the platform's (dependencies.plugins_rules).
        self.extra_rules = tuple(extra_rules)

    # -- writing ------------------------------------------------------------------------------
    async def write(
        self,
        principal: Principal,
        consultation_id: uuid.UUID,
        request: PrescriptionIn,
        context: AuditContext,
    ) -> PrescriptionOut:
        """Check and issue a prescription for the consultation's patient."""
        try:
            async with self.db.transaction() as connection:
                visit = await self._prescribers_visit(connection, principal, consultation_id)
                return await self._issue(connection, visit, request, context)
        except PrescriptionRefused as refusal:
            await self._record_refusal(consultation_id, refusal, context)
            raise

    async def correct(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        request: CorrectionIn,
        context: AuditContext,
    ) -> PrescriptionOut:
        """Issue a new version of the prescription, which voids it (with the reason)."""
        consultation_id = await self._consultation_of(self.db.pool, prescription_id)
        try:
            async with self.db.transaction() as connection:
                visit = await self._prescribers_visit(
                    connection, principal, consultation_id, missing=records.NOT_FOUND
                )
                previous = await records.fetch_one(connection, prescription_id, lock=True)
                if previous["status"] not in VOIDABLE:
                    raise WrongStatus(
                        f"a {previous['status']} prescription cannot be corrected",
                        status_now=previous["status"],
                    )
                issued = await self._issue(connection, visit, request, context, previous)
                await change_status(
                    connection,
                    previous,
                    "voided",
                    context,
                    reason=request.correction_reason.strip(),
                    detail={"replaced_by": str(issued.id)},
                )
                return issued
        except PrescriptionRefused as refusal:
            await self._record_refusal(consultation_id, refusal, context)
            raise

    async def void(
        self, principal: Principal, prescription_id: uuid.UUID, reason: str, context: AuditContext
    ) -> PrescriptionOut:
        """The prescribing doctor withdraws the prescription (at any time before it is
        dispensed): nothing may be dispensed on it any more."""
        async with self.db.transaction() as connection:
            consultation_id = await self._consultation_of(connection, prescription_id)
            visit = await self._visit(
                connection, principal, consultation_id, missing=records.NOT_FOUND
            )
            require_own_doctor(visit, "void a prescription")
            row = await records.fetch_one(connection, prescription_id, lock=True)
            await change_status(connection, row, "voided", context, reason=reason.strip())
            now = await _now(connection)
            return records.prescription_out(
                await records.fetch_one(connection, prescription_id), now
            )

    # -- reading ------------------------------------------------------------------------------
    async def read(self, principal: Principal, prescription_id: uuid.UUID) -> PrescriptionOut:
        consultation_id = await self._consultation_of(self.db.pool, prescription_id)
        await self._visit(self.db.pool, principal, consultation_id, missing=records.NOT_FOUND)
        row = await records.fetch_one(self.db.pool, prescription_id)
        return records.prescription_out(row, dt.datetime.now(dt.UTC))

    async def signed(self, principal: Principal, prescription_id: uuid.UUID) -> SignedDocument:
        consultation_id = await self._consultation_of(self.db.pool, prescription_id)
        await self._visit(self.db.pool, principal, consultation_id, missing=records.NOT_FOUND)
        envelope = records.signed_document(await records.fetch_one(self.db.pool, prescription_id))
        if envelope is None:
            raise NotFound("this prescription was issued before prescriptions were signed")
        return envelope

    async def listing(
        self, principal: Principal, consultation_id: uuid.UUID
    ) -> list[PrescriptionOut]:
        """Every prescription of the consultation, voided ones too, oldest first."""
        await self._visit(self.db.pool, principal, consultation_id)
        now = dt.datetime.now(dt.UTC)
        rows = await records.of_consultation(self.db.pool, consultation_id)
        return [records.prescription_out(row, now) for row in rows]

    async def fhir_bundle(self, principal: Principal, prescription_id: uuid.UUID) -> dict[str, Any]:
        """The prescription as a FHIR R4 Bundle of MedicationRequests (``fhir.py``), for
        whoever may read it."""
        prescription = await self.read(principal, prescription_id)
        codes = await records.atc_codes(self.db.pool, [item.drug.id for item in prescription.items])
        return fhir.bundle(prescription, codes)

    async def verification(self, prescription_id: uuid.UUID) -> VerificationOut:
        """Whether the prescription stands, for anyone holding its id (the QR code on the
        printed prescription opens this): no diagnosis, no drugs, the name masked."""
        row = await records.fetch_one(self.db.pool, prescription_id)
        prescription = records.prescription_out(row, dt.datetime.now(dt.UTC))
        envelope = records.signed_document(row)
        checked = None
        if envelope is not None:
            verdict = await verify_signed(self.db.pool, envelope)
            checked = SignatureCheck(key_id=envelope.key_id, valid=verdict.valid)
        return VerificationOut(
            id=prescription.id,
            version=prescription.version,
            standing=prescription.standing,
            status_changed_at=prescription.status_changed_at,
            replaced_by=prescription.replaced_by,
            written_at=prescription.written_at,
            valid_from=prescription.valid_from,
            valid_until=prescription.valid_until,
            doctor_name=prescription.doctor.name,
            hospital=prescription.doctor.hospital,
            patient_masked=masked(prescription.patient.name),
            item_count=len(prescription.items),
            document_sha256=prescription.document_sha256,
            signature=checked,
        )

    async def may_write(self, principal: Principal, consultation_id: uuid.UUID) -> bool:
        """Whether the caller may prescribe in the consultation now (what a page offers;
        writing checks it again)."""
        visit = await self._visit(self.db.pool, principal, consultation_id)
        try:
            require_own_doctor(visit, "prescribe")
            require_writable(
                visit["status"], visit["ended_at"], await _now(self.db.pool), self.window
            )
        except (Forbidden, PrescribingClosed):
            return False
        return True

    async def health_summary(
        self, principal: Principal, consultation_id: uuid.UUID, context: AuditContext
    ) -> HealthSummaryOut:
        """What prescribing needs of the patient's health record, for the consultation's
        doctor while they may prescribe; every read is audited."""
        async with self.db.transaction() as connection:
            visit = await self._prescribers_visit(
                connection, principal, consultation_id, lock=False
            )
            now = await _now(connection)
            record = await health_record(connection, visit["patient_id"])
            await audit.record(
                connection,
                context,
                "patient.health_summary_read",
                "patient",
                record.patient_id,
                consultation_id=consultation_id,
            )
        return HealthSummaryOut(
            patient_id=record.patient_id,
            age_years=age_on(record.date_of_birth, now.astimezone(self.settings.calendar).date()),
            sex=record.sex,
            allergies=list(record.allergies),
            chronic_conditions=list(record.chronic_conditions),
            current_medications=list(record.current_medications),
            recorded_at=record.profile_updated_at,
            prescribing_until=writing_closes_at(visit["status"], visit["ended_at"], self.window),
        )

    # -- the steps ----------------------------------------------------------------------------
    async def _visit(
        self,
        connection: Connection | asyncpg.Pool,
        principal: Principal,
        consultation_id: uuid.UUID,
        *,
        lock: bool = False,
        missing: str | None = None,
    ) -> asyncpg.Record:
        """The consultation as the caller takes part in it. Someone who does not gets the
        404 of one that does not exist; asked about a prescription (``missing``), the 404
        of a prescription that does not exist, which names no consultation."""
        try:
            return await participation(connection, consultation_id, principal.user_id, lock=lock)
        except NotFound:
            if missing is None:
                raise
            raise NotFound(missing) from None

    async def _consultation_of(
        self, connection: Connection | asyncpg.Pool, prescription_id: uuid.UUID
    ) -> uuid.UUID:
        found: uuid.UUID | None = await connection.fetchval(
            "SELECT consultation_id FROM prescriptions WHERE id = $1", prescription_id
        )
        if found is None:
            raise NotFound(records.NOT_FOUND)
        return found

    async def _prescribers_visit(
        self,
        connection: Connection,
        principal: Principal,
        consultation_id: uuid.UUID,
        *,
        lock: bool = True,
        missing: str | None = None,
    ) -> asyncpg.Record:
        """The consultation, if the caller is its doctor and may prescribe in it now
        (locked, so its prescriptions are written one at a time)."""
        visit = await self._visit(
            connection, principal, consultation_id, lock=lock, missing=missing
        )
        require_own_doctor(visit, "prescribe")
        require_writable(visit["status"], visit["ended_at"], await _now(connection), self.window)
        return visit

    async def _issue(
        self,
        connection: Connection,
        visit: asyncpg.Record,
        request: PrescriptionIn,
        context: AuditContext,
        previous: asyncpg.Record | None = None,
    ) -> PrescriptionOut:
        """Draft, check and issue a prescription (a new version of ``previous``, if given)
        in the caller's transaction."""
        now = await _now(connection)
        prescriber = await fetch_one(connection, _PRESCRIBER, visit["doctor_id"])
        if prescriber["status"] != "approved":
            raise Forbidden(
                f"a doctor whose registration is {prescriber['status']} does not prescribe",
                field="status",
                code="doctor-not-approved",
                status_now=prescriber["status"],
            )
        drugs = await facts.drug_facts(connection, (item.drug_id for item in request.items))
        record = await health_record(connection, visit["patient_id"])
        valid = validity(now, request.valid_days, self.settings.calendar)
        draft = drafted(request, drugs, valid.valid_from)
        found = rules.check(
            draft, facts.patient_facts(record, visit), self.limits, self.extra_rules
        )
        refuse_errors(found)
        kept = explained(found, request.reasons)

        prescription_id = uuid.uuid4()
        content = PrescriptionDocument(
            id=prescription_id,
            version=previous["version"] + 1 if previous else 1,
            supersedes=previous["id"] if previous else None,
            consultation_id=visit["id"],
            written_at=now,
            valid_from=valid.valid_from,
            valid_until=valid.valid_until,
            expires_at=valid.expires_at,
            time_zone=self.settings.default_time_zone,
            doctor=Prescriber(
                id=prescriber["id"],
                name=prescriber["name"],
                title=prescriber["title"],
                licence_number=prescriber["licence_number"],
                hospital=prescriber["hospital"],
            ),
            patient=PrescribedPatient(
                id=record.patient_id,
                name=record.real_name,
                sex=record.sex,
                date_of_birth=record.date_of_birth,
                age_years=age_on(record.date_of_birth, valid.valid_from),
            ),
            diagnosis=draft.diagnosis,
            chronic_follow_up=draft.chronic_follow_up,
            items=tuple(prescribed_item(item) for item in draft.items),
            findings=kept,
        )
        # Issuing: the doctor signs exactly the bytes stored (their canonical form), in this
        # transaction, which holds the doctor's row so no suspension slips in between.
        document = prescription_document(content)
        signed = await sign_for_doctor(
            connection,
            prescriber["id"],
            json.loads(document),
            sealer=self.sealer,
            context=context,
        )
        await records.store(
            connection,
            content,
            document,
            signed,
            lineage_id=previous["lineage_id"] if previous else prescription_id,
            patient_id=record.patient_id,
        )
        await audit.record(
            connection,
            context,
            "prescription.written",
            "prescription",
            prescription_id,
            consultation_id=visit["id"],
            detail={
                "version": content.version,
                **({"supersedes": str(content.supersedes)} if content.supersedes else {}),
                "drugs": [str(item.drug.id) for item in content.items],
                "findings": [f"{f.severity}:{f.rule}" for f in kept],
            },
        )
        row = await records.fetch_one(connection, prescription_id)
        await audit.record(
            connection,
            context,
            "prescription.issued",
            "prescription",
            prescription_id,
            consultation_id=visit["id"],
            detail={
                "document_sha256": bytes(row["document_sha256"]).hex(),
                "signing_key_id": signed.key_id,
                "valid_from": valid.valid_from.isoformat(),
                "valid_until": valid.valid_until.isoformat(),
            },
        )
        return records.prescription_out(row, now)

    async def _record_refusal(
        self, consultation_id: uuid.UUID, refusal: PrescriptionRefused, context: AuditContext
    ) -> None:
        """A prescription a safety rule blocked leaves a trace (in a transaction of its own:
        the attempt's was rolled back)."""
        async with self.db.transaction() as connection:
            await audit.record(
                connection,
                context,
                "prescription.refused",
                "consultation",
                consultation_id,
                outcome="denied",
                consultation_id=consultation_id,
                detail={"rules": sorted({error.code for error in refusal.errors})},
            )


async def _now(connection: Connection | asyncpg.Pool) -> dt.datetime:
    now: dt.datetime = await connection.fetchval("SELECT now()")
    return now
