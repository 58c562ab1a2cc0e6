"""The safety rules through the API: they read the drug catalog, the patient's health record
and the platform's limits; an error blocks the prescription (422 naming the field, nothing
written, the attempt audited); a warning needs the doctor's reason, which is kept with the
prescription. The rules here stand in for the platform's and plugins' (whatever those find
of these prescriptions, the findings of ``test.*`` rules are these tests' own)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

import pytest
from litestar import Litestar

from medmarket.prescriptions import dependencies
from medmarket.prescriptions.model import DraftPrescription, Finding, Limits, PatientFacts
from medmarket.prescriptions.rules import Rule
from medmarket.prescriptions.tests.helpers import (
    METFORMIN,
    MORPHINE,
    call,
    item,
    ok,
    prescribe,
    prescription,
    visit_in_progress,
)
from medmarket.tests.support.factories import platform_day
from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import expect, ready_patient

Seen = list[tuple[DraftPrescription, PatientFacts, Limits]]


def no_online_narcotics(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterable[Finding]:
    for index, drafted in enumerate(draft.items):
        if drafted.drug.special_class is not None:
            yield Finding(
                rule="test.special_management",
                severity="error",
                message_zh="特殊管理药品不得在互联网开具",
                message_en="specially managed drugs are not prescribed online",
                item=index,
                field=f"items[{index}].drug_id",
            )


def long_supply(
    draft: DraftPrescription, patient: PatientFacts, limits: Limits
) -> Iterable[Finding]:
    for index, drafted in enumerate(draft.items):
        if drafted.duration_days > 5:
            yield Finding(
                rule="test.long_supply",
                severity="warning",
                message_zh="用药天数较长",
                message_en="a long supply",
                item=index,
                field=f"items[{index}].duration_days",
            )
    yield Finding(
        rule="test.reminder", severity="info", message_zh="请嘱咐复诊", message_en="follow up"
    )


@pytest.fixture
def plugin_rules(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Seen]:
    """``plugin_rules(rule, ...)``: the plugins' rules are these for the test; returns what
    every rule call was given."""

    def install(*rules: Rule) -> Seen:
        seen: Seen = []

        def witness(
            draft: DraftPrescription, patient: PatientFacts, limits: Limits
        ) -> Iterable[Finding]:
            seen.append((draft, patient, limits))
            return ()

        monkeypatch.setattr(dependencies, "plugins_rules", lambda services: (witness, *rules))
        return seen

    return install


def ours(findings: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [
        (f["rule"], f["severity"], f["field"])
        for f in findings
        if str(f["rule"]).startswith("test.")
    ]


async def test_an_error_blocks_the_prescription(app: Litestar, plugin_rules) -> None:  # type: ignore[no-untyped-def]
    plugin_rules(no_online_narcotics, long_supply)
    visit = await visit_in_progress(app)
    body = prescription(item(duration_days=3), item(drug_id=MORPHINE, dose="10", duration_days=3))
    refused = await call(app, "POST", visit.path + "/prescriptions", visit.doctor, body)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/prescription-refused"
    assert [error for error in problem["errors"] if error["code"].startswith("test.")] == [
        {
            "field": "items[1].drug_id",
            "message": "specially managed drugs are not prescribed online",
            "code": "test.special_management",
        }
    ]
    # The platform's own rule refuses it too, first.
    first = problem["errors"][0]
    assert (first["field"], first["code"]) == ("items[1].drug_id", "special_management")
    assert ours(problem["findings"]) == [
        ("test.special_management", "error", "items[1].drug_id"),
        ("test.reminder", "info", None),
    ]
    assert await ok(app, "GET", visit.path + "/prescriptions", visit.doctor) == []
    refusal = await app.state.services.db.fetchrow(
        "SELECT actor_id, outcome, detail FROM audit_events WHERE consultation_id = $1 "
        "AND action = 'prescription.refused'",
        uuid.UUID(visit.consultation_id),
    )
    assert str(refusal["actor_id"]) == visit.doctor.account.id
    assert refusal["outcome"] == "denied"
    assert "test.special_management" in refusal["detail"]["rules"]


async def test_a_warning_needs_the_doctors_reason_which_is_kept(
    app: Litestar, plugin_rules: Callable[..., Seen]
) -> None:
    plugin_rules(long_supply)
    visit = await visit_in_progress(app)
    body = prescription(item(duration_days=7))
    unexplained = await call(app, "POST", visit.path + "/prescriptions", visit.doctor, body)
    assert unexplained.status_code == 422
    problem = unexplained.json()
    assert problem["type"] == "/problems/reasons-required"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("reasons.test.long_supply/items[0].duration_days", "reason-required")
    ]
    stray = await call(
        app,
        "POST",
        visit.path + "/prescriptions",
        visit.doctor,
        {**body, "reasons": {"test.long_supply": "出差一周", "test.other": "x"}},
    )
    assert stray.status_code == 422
    assert [(e["field"], e["code"]) for e in stray.json()["errors"]] == [
        ("reasons.test.other", "no-such-warning")
    ]
    assert await ok(app, "GET", visit.path + "/prescriptions", visit.doctor) == []

    key = "test.long_supply/items[0].duration_days"
    issued = await prescribe(app, visit, {**body, "reasons": {key: "  患者出差一周，无法复诊  "}})
    kept = [f for f in issued["findings"] if f["rule"].startswith("test.")]
    assert kept == [
        {
            "rule": "test.long_supply",
            "severity": "warning",
            "message_zh": "用药天数较长",
            "message_en": "a long supply",
            "item": 0,
            "field": "items[0].duration_days",
            "reason": "患者出差一周，无法复诊",
        },
        {
            "rule": "test.reminder",
            "severity": "info",
            "message_zh": "请嘱咐复诊",
            "message_en": "follow up",
            "item": None,
            "field": None,
            "reason": None,
        },
    ]
    stored = await app.state.services.db.fetch(
        "SELECT rule, severity, item, reason FROM prescription_findings "
        "WHERE prescription_id = $1 AND rule LIKE 'test.%' ORDER BY position",
        uuid.UUID(issued["id"]),
    )
    assert [tuple(r) for r in stored] == [
        ("test.long_supply", "warning", 0, "患者出差一周，无法复诊"),
        ("test.reminder", "info", None, None),
    ]
    # A reason under the rule alone answers all of that rule's warnings.
    metformin = item(drug_id=METFORMIN, dose="0.5", dose_unit="g", duration_days=6, quantity="6")
    by_rule = await prescribe(
        app,
        visit,
        prescription(item(duration_days=7), metformin, reasons={"test.long_supply": "长期用药"}),
    )
    assert [f["reason"] for f in by_rule["findings"] if f["severity"] == "warning"] == [
        "长期用药",
        "长期用药",
    ]


async def test_the_rules_read_the_catalog_the_health_record_and_the_limits(
    app: Litestar,
    plugin_rules: Callable[..., Seen],
) -> None:
    seen = plugin_rules()
    parent = await ready_patient(app)
    async with client_for(app) as http:
        child = await expect(
            http.post(
                "/api/patients/me/family",
                headers=parent.headers,
                json={
                    "real_name": "王 豆豆",
                    "relationship": "child",
                    "date_of_birth": (platform_day() - dt.timedelta(days=4 * 365)).isoformat(),
                },
            )
        )
        await expect(
            http.put(
                f"/api/patients/{child['id']}/health",
                headers=parent.headers,
                json={
                    "allergies": ["青霉素"],
                    "chronic_conditions": ["哮喘"],
                    "current_medications": ["布地奈德吸入剂"],
                },
            )
        )
    visit = await visit_in_progress(app, patient=parent, patient_id=child["id"])
    await prescribe(app, visit, prescription(item(), chronic_follow_up=True, diagnosis=" 哮喘 "))
    [(draft, patient, limits)] = seen
    assert patient.allergies == ("青霉素",) and patient.chronic_conditions == ("哮喘",)
    assert patient.current_medications == ("布地奈德吸入剂",)
    assert patient.date_of_birth.isoformat() == child["date_of_birth"]
    assert patient.guardian_present  # the parent's account entered the consultation
    assert (draft.diagnosis, draft.chronic_follow_up, draft.written_on) == (
        "哮喘",
        True,
        platform_day(),
    )
    [drafted] = draft.items
    assert (drafted.drug.generic_name_en, drafted.drug.atc_code, drafted.drug.retired) == (
        "amlodipine",
        "C08CA01",
        False,
    )
    assert str(drafted.dose) == "5" and drafted.frequency == "qd"
    settings = app.state.settings
    assert limits == Limits(
        acute_days=settings.prescription_acute_days,
        chronic_days=settings.prescription_chronic_days,
        max_items=settings.prescription_max_items,
        guardian_age_years=6,
    )


async def test_what_is_not_a_prescription_is_refused_before_the_rules(app: Litestar) -> None:
    visit = await visit_in_progress(app)
    body = prescription(
        item(drug_id=str(uuid.uuid4())), item(dose="0", quantity="0.0"), diagnosis="   "
    )
    refused = await call(app, "POST", visit.path + "/prescriptions", visit.doctor, body)
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("diagnosis", "required"),
        ("items[0].drug_id", "unknown-drug"),
        ("items[1].dose", "not-positive"),
        ("items[1].quantity", "not-positive"),
    ]
    for changes in ({"dose": "1.23456"}, {"dose": 5}, {"route": "by mouth"}, {"frequency": "bd"}):
        bad = await call(
            app, "POST", visit.path + "/prescriptions", visit.doctor, prescription(item(**changes))
        )
        assert bad.status_code == 422, (changes, bad.text)
