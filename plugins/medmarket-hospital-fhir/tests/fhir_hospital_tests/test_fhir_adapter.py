"""The FHIR adapter against a FHIR R4 server: licences found by identifier, affiliations by
PractitionerRole; and against servers that are malformed, slow, failing or down."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from medmarket_hospital_fhir import (
    UNREACHABLE,
    FhirError,
    FhirHospital,
    FhirHospitalConfig,
    FhirHospitalType,
)
from medmarket_hospital_fhir.client import MAX_RESPONSE_BYTES

from medmarket import (
    AffiliationQuery,
    LicenceQuery,
    OutboundPolicy,
    ReferralRequest,
    Settings,
)
from medmarket.testing import sample_referral
from medmarket.testing.contracts import HospitalAdapterContract
from medmarket.testing.http_recorder import Recorded, Reply

from .conftest import fhir_type_for
from .server import LICENCE_SYSTEM, ORGANIZATION, FhirServer, outcome, practitioner, role, valid

LICENCE = "110330200000007"
QUERY = LicenceQuery(licence_number=LICENCE, full_name="李文华")
AFFILIATION = AffiliationQuery(licence_number=LICENCE, full_name="李文华")


def config(base: str, **changes: Any) -> FhirHospitalConfig:
    values: dict[str, Any] = {
        "base_url": base,
        "licence_system": LICENCE_SYSTEM,
        "organization_id": ORGANIZATION,
        "bearer_token": "his-token-123",
        "timeout_seconds": 2.0,
        **changes,
    }
    return msgspec.convert(values, FhirHospitalConfig)


@pytest.fixture
async def hospital(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> AsyncIterator[FhirHospital]:
    adapter = fhir_type.create(config(fhir_server.base_url))
    yield adapter
    await adapter.aclose()


async def test_a_licence_is_confirmed_with_its_dates_and_title(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"))
    answer = await hospital.verify_licence(QUERY)
    assert answer.valid is True
    assert answer.title == "主任医师"
    assert answer.practice_started_on == dt.date(2012, 7, 1)
    assert answer.licence_expires_on == dt.date(2031, 6, 30)
    assert answer.evidence == {
        "server": fhir_server.base_url,
        "practitioner": "Practitioner/p1",
        "version": "3",
        "match": "licence and name",
        "licence_qualification": True,
    }
    [request] = fhir_server.recorder.requests
    url = urlsplit(request.path)
    assert url.path == "/fhir/Practitioner"
    assert parse_qs(url.query) == {"identifier": [f"{LICENCE_SYSTEM}|{LICENCE}"]}
    assert request.headers["accept"] == "application/fhir+json"
    assert request.headers["authorization"] == "Bearer his-token-123"


@pytest.mark.parametrize(
    ("resources", "match"),
    [
        ([], "none"),
        ([practitioner("p1", LICENCE, "李", "文")], "name differs"),
        (
            [practitioner("p1", LICENCE, "李", "文华"), practitioner("p2", LICENCE, "李", "文华")],
            "several practitioners",
        ),
        ([practitioner("p1", LICENCE, "李", "文华", active=False)], "practitioner inactive"),
    ],
)
async def test_a_licence_is_not_confirmed(
    fhir_server: FhirServer, hospital: FhirHospital, resources: list[dict[str, Any]], match: str
) -> None:
    fhir_server.add(*resources)
    answer = await hospital.verify_licence(QUERY)
    assert answer.valid is False
    assert answer.title is None and answer.licence_expires_on is None
    assert answer.evidence["match"] == match


async def test_partial_dates_cover_their_whole_period(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华", start="2012", end="2032-02"))
    answer = await hospital.verify_licence(QUERY)
    assert answer.practice_started_on == dt.date(2012, 1, 1)
    assert answer.licence_expires_on == dt.date(2032, 2, 29)


async def test_missing_facts_stay_unknown(fhir_server: FhirServer, hospital: FhirHospital) -> None:
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华", start=None, end=None, title=None))
    answer = await hospital.verify_licence(QUERY)
    assert answer.valid is True
    assert (answer.title, answer.practice_started_on, answer.licence_expires_on) == (
        None,
        None,
        None,
    )


async def test_an_affiliation_is_confirmed_by_the_hospitals_role(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(
        practitioner("p1", LICENCE, "李", "文华"),
        role("r1", "p1", start="2015-03-01", specialties=("心内科", "高血压")),
    )
    answer = await hospital.confirm_affiliation(AFFILIATION)
    assert answer.affiliated is True
    assert (answer.starts_on, answer.ends_on) == (dt.date(2015, 3, 1), None)
    assert (answer.department, answer.specialties) == ("心内科", ("心内科", "高血压"))
    assert answer.evidence["practitioner_role"] == "PractitionerRole/r1"
    role_search = urlsplit(fhir_server.recorder.requests[-1].path)
    assert parse_qs(role_search.query)["organization"] == [f"Organization/{ORGANIZATION}"]


async def test_an_ended_role_is_no_affiliation(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(
        practitioner("p1", LICENCE, "李", "文华"),
        role("r1", "p1", active=False, end="2025-12-31"),
    )
    answer = await hospital.confirm_affiliation(AFFILIATION)
    assert (answer.affiliated, answer.ends_on) == (False, dt.date(2025, 12, 31))


async def test_the_current_role_wins_over_an_old_one(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(
        practitioner("p1", LICENCE, "李", "文华"),
        role("old", "p1", active=False, start="2008-01-01", end="2014-12-31"),
        role("now", "p1", start="2015-01-01"),
    )
    answer = await hospital.confirm_affiliation(AFFILIATION)
    assert answer.affiliated is True
    assert answer.evidence["practitioner_role"] == "PractitionerRole/now"


async def test_roles_of_other_hospitals_do_not_count(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.ignores_role_filters = True  # the server answers every role it has
    fhir_server.add(
        practitioner("p1", LICENCE, "李", "文华"),
        role("elsewhere", "p1", organization="another-hospital"),
        role("someone-else", "p9"),
    )
    answer = await hospital.confirm_affiliation(AFFILIATION)
    assert answer.affiliated is False
    assert answer.evidence["roles"] == []


async def test_an_unknown_practitioner_has_no_affiliation(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    answer = await hospital.confirm_affiliation(AFFILIATION)
    assert answer.affiliated is False
    assert len(fhir_server.recorder.requests) == 1  # no role search without a practitioner


def _html(request: Recorded) -> Reply:
    return Reply(
        body="<html><body>Login required</body></html>", headers={"content-type": "text/html"}
    )


def _not_a_bundle(request: Recorded) -> Reply:
    return Reply(body={"resourceType": "Bundle", "entry": {"resource": {}}})


def _no_resource_type(request: Recorded) -> Reply:
    return Reply(body={"type": "searchset", "entry": []})


def _bad_date(request: Recorded) -> Reply:
    if "PractitionerRole" in request.path:
        resource = role("r1", "p1")
        resource["period"]["end"] = "2031/06/30"
    else:
        resource = practitioner("p1", LICENCE, "李", "文华")
        resource["qualification"][0]["period"]["end"] = "30/06/2031"
    return Reply(body={"resourceType": "Bundle", "entry": [{"resource": resource}]})


def _wrong_types(request: Recorded) -> Reply:
    resource = practitioner("p1", LICENCE, "李", "文华")
    resource["active"] = "yes"
    return Reply(body={"resourceType": "Bundle", "entry": [{"resource": resource}]})


def _server_error(request: Recorded) -> Reply:
    return Reply(status=500, body=outcome("database connection lost"))


def _unauthorised(request: Recorded) -> Reply:
    return Reply(status=401, body=outcome("token expired", "login"))


def _unauthorised_in_details(request: Recorded) -> Reply:
    # Where many servers put the words for people; the issue code alone says only "login".
    return Reply(status=401, body=outcome("访问令牌已过期，请重新登录", "login", in_details=True))


def _huge(request: Recorded) -> Reply:
    return Reply(body="x" * (MAX_RESPONSE_BYTES + 10), headers={"content-type": "application/json"})


def _metadata_instead(request: Recorded) -> Reply:
    return Reply(body={"resourceType": "OperationOutcome", "issue": []})


@pytest.mark.parametrize(
    ("server", "says"),
    [
        (_html, "malformed"),
        (_not_a_bundle, "malformed"),
        (_no_resource_type, "malformed"),
        (_bad_date, "not a FHIR date"),
        (_wrong_types, "malformed"),
        (_server_error, "HTTP 500: database connection lost"),
        (_unauthorised, "HTTP 401: token expired"),
        (_unauthorised_in_details, "HTTP 401: 访问令牌已过期，请重新登录$"),
        (_huge, "larger than"),
        (_metadata_instead, "answered a OperationOutcome"),
    ],
)
async def test_malformed_and_failing_servers_raise_a_clear_error(
    fhir_server: FhirServer, hospital: FhirHospital, server: Any, says: str
) -> None:
    fhir_server.override = server
    with pytest.raises(FhirError, match=says):
        await hospital.verify_licence(QUERY)
    with pytest.raises(FhirError, match=says):
        await hospital.confirm_affiliation(AFFILIATION)


async def test_a_slow_server_times_out(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> None:
    fhir_server.override = lambda request: Reply(delay=3.0, body={})
    adapter = fhir_type.create(config(fhir_server.base_url, timeout_seconds=0.3))
    started = time.monotonic()
    try:
        with pytest.raises(FhirError, match=f"^{UNREACHABLE}$"):
            await adapter.verify_licence(QUERY)
    finally:
        await adapter.aclose()
    assert time.monotonic() - started < 2


async def test_a_server_that_is_down(
    closed_port: int, fhir_type: FhirHospitalType, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = fhir_type.create(config(f"http://127.0.0.1:{closed_port}/fhir"))
    try:
        with (
            caplog.at_level(logging.WARNING, logger="medmarket.hospital.fhir"),
            pytest.raises(FhirError, match=f"^{UNREACHABLE}$"),
        ):
            await adapter.confirm_affiliation(AFFILIATION)
        report = await adapter.health()
    finally:
        await adapter.aclose()
    assert (report.healthy, report.detail) == (False, UNREACHABLE)
    assert "ConnectError" in caplog.text  # what happened is in the server's log only


@pytest.mark.parametrize(("version", "healthy"), [("4.0.1", True), ("5.0.0", False)])
async def test_health_asks_for_an_r4_capability_statement(
    fhir_server: FhirServer, hospital: FhirHospital, version: str, healthy: bool
) -> None:
    fhir_server.fhir_version = version
    report = await hospital.health()
    assert report.healthy is healthy
    assert version in report.detail


async def test_ending_an_affiliation_writes_only_when_allowed(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> None:
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), role("r1", "p1"))
    read_only = fhir_type.create(config(fhir_server.base_url))
    writer = fhir_type.create(config(fhir_server.base_url, end_affiliation_writes=True))
    try:
        await read_only.end_affiliation(AFFILIATION, "离职")
        assert fhir_server.updates == []
        await writer.end_affiliation(AFFILIATION, "离职")
    finally:
        await read_only.aclose()
        await writer.aclose()
    [updated] = fhir_server.updates
    assert updated["active"] is False
    assert updated["period"]["end"] == fhir_type.today().isoformat()
    assert updated["period"]["start"] == "2015-01-01"  # the rest of the role is kept
    put = next(r for r in fhir_server.recorder.requests if r.method == "PUT")
    assert put.headers["if-match"] == 'W/"1"'
    assert put.headers["content-type"] == "application/fhir+json"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_url": "ftp://his.example/fhir"}, "base_url"),
        ({"base_url": "https://user:pw@his.example/fhir"}, "base_url"),
        ({"base_url": "https://his.example:70000/fhir"}, "base_url"),
        ({"base_url": "https://his.example/fhir?_format=json"}, "base_url"),
        ({"organization_id": "../Patient/1"}, "organization_id"),
        ({"timeout_seconds": 120}, "timeout_seconds"),
        ({"licence_system": ""}, "licence_system"),
    ],
)
def test_configuration_is_validated(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=field):
        config("https://his.example/fhir", **changes)


@pytest.mark.parametrize("environment", ["development", "test", "production"])
async def test_loopback_is_refused_without_the_operators_allow_list(
    fhir_server: FhirServer, settings: Settings, closed_port: int, environment: str
) -> None:
    plain = msgspec.structs.replace(settings, environment=environment)
    assert plain.outbound_allowed_networks == []
    guarded = fhir_type_for(plain)
    answers = []
    for base_url in (fhir_server.base_url, f"http://127.0.0.1:{closed_port}/fhir"):
        adapter = guarded.create(config(base_url))
        try:
            with pytest.raises(FhirError) as caught:
                await adapter.verify_licence(QUERY)
            answers.append((str(caught.value), (await adapter.health()).detail))
        finally:
            await adapter.aclose()
    # An open port and a closed one read the same, and nothing reached the open one.
    assert answers == [(UNREACHABLE, UNREACHABLE)] * 2
    assert fhir_server.recorder.requests == []


async def test_the_allow_list_lets_a_private_hospital_network_through(
    fhir_server: FhirServer, loopback_settings: Settings
) -> None:
    assert loopback_settings.outbound_allowed_networks == ["127.0.0.1/32"]
    adapter = fhir_type_for(loopback_settings).create(config(fhir_server.base_url))
    try:
        report = await adapter.health()
    finally:
        await adapter.aclose()
    assert report.healthy is True
    assert [r.path for r in fhir_server.recorder.requests] == ["/fhir/metadata"]


async def test_a_role_changed_meanwhile_is_not_overwritten_and_the_server_says_why(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> None:
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), role("r1", "p1"))

    def changed_meanwhile(request: Recorded) -> Reply:
        reply = fhir_server.serve(request)
        if request.method == "GET" and urlsplit(request.path).path == "/fhir/PractitionerRole/r1":
            fhir_server.roles["r1"] = {**fhir_server.roles["r1"], "meta": {"versionId": "2"}}
        return reply

    fhir_server.override = changed_meanwhile
    writer = fhir_type.create(config(fhir_server.base_url, end_affiliation_writes=True))
    try:
        # The 412's OperationOutcome has its text in details.text and the code "processing".
        with pytest.raises(FhirError, match=r"HTTP 412: 资源已被他人修改（版本不符）$"):
            await writer.end_affiliation(AFFILIATION, "离职")
    finally:
        await writer.aclose()
    assert fhir_server.updates == []


@pytest.mark.parametrize(
    ("utc", "china_day"),
    [
        (dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC), "2026-03-02"),  # 00:00 in Shanghai
        (dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC), "2026-03-02"),  # 07:30
        (dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC), "2027-01-01"),  # 04:00, new year
        (dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), "2026-03-02"),  # 17:00, same day
    ],
)
async def test_an_ended_role_ends_on_the_platforms_day_not_the_utc_date(
    fhir_server: FhirServer, loopback_settings: Settings, utc: dt.datetime, china_day: str
) -> None:
    assert loopback_settings.default_time_zone == "Asia/Shanghai"
    at_that_time = FhirHospitalType(
        outbound=OutboundPolicy.from_settings(loopback_settings),
        time_zone=zoneinfo.ZoneInfo(loopback_settings.default_time_zone),
        now=lambda: utc,
    )
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), role("r1", "p1"))
    writer = at_that_time.create(config(fhir_server.base_url, end_affiliation_writes=True))
    try:
        await writer.end_affiliation(AFFILIATION, "离职")
    finally:
        await writer.aclose()
    [updated] = fhir_server.updates  # the server validated it with fhir.resources
    assert updated["period"] == {"start": "2015-01-01", "end": china_day}


@pytest.mark.parametrize("order", ["cardiology first", "paediatrics first"])
async def test_of_two_current_roles_the_department_applied_for_is_reported(
    fhir_server: FhirServer, hospital: FhirHospital, order: str
) -> None:
    cardiology = role("r-cardio", "p1", start="2010-01-01", specialties=("心内科",))
    paediatrics = role("r-paed", "p1", start="2018-01-01", specialties=("儿科", "新生儿科"))
    roles = [cardiology, paediatrics] if order == "cardiology first" else [paediatrics, cardiology]
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), *roles)
    answer = await hospital.confirm_affiliation(
        AffiliationQuery(licence_number=LICENCE, full_name="李文华", department="儿科")
    )
    assert answer.affiliated is True
    assert (answer.department, answer.specialties) == ("儿科", ("儿科", "新生儿科"))
    assert answer.starts_on == dt.date(2018, 1, 1)
    assert answer.evidence["practitioner_role"] == "PractitionerRole/r-paed"
    assert answer.evidence["department_matched"] is True


async def test_a_department_is_matched_by_its_coding_too(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    coded = role("r-paed", "p1", specialties=())
    coded["specialty"] = [{"coding": [{"system": "urn:dept", "code": "07", "display": "儿 科"}]}]
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), role("r-cardio", "p1"), coded)
    answer = await hospital.confirm_affiliation(
        AffiliationQuery(licence_number=LICENCE, full_name="李文华", department="儿科")
    )
    assert (answer.department, answer.evidence["practitioner_role"]) == (
        "儿 科",
        "PractitionerRole/r-paed",
    )


async def test_an_active_role_elsewhere_in_the_hospital_still_counts_and_says_so(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(
        practitioner("p1", LICENCE, "李", "文华"),
        role("r-paed", "p1", active=False, end="2024-06-30", specialties=("儿科",)),
        role("r-cardio", "p1", specialties=("心内科",)),
    )
    answer = await hospital.confirm_affiliation(
        AffiliationQuery(licence_number=LICENCE, full_name="李文华", department="儿科")
    )
    assert (answer.affiliated, answer.department) == (True, "心内科")
    assert answer.evidence["department_matched"] is False


async def test_ending_an_affiliation_ends_the_role_of_the_department_applied_for(
    fhir_server: FhirServer, fhir_type: FhirHospitalType
) -> None:
    fhir_server.add(
        practitioner("p1", LICENCE, "李", "文华"),
        role("r-cardio", "p1", specialties=("心内科",)),
        role("r-paed", "p1", specialties=("儿科",)),
    )
    writer = fhir_type.create(config(fhir_server.base_url, end_affiliation_writes=True))
    try:
        await writer.end_affiliation(
            AffiliationQuery(licence_number=LICENCE, full_name="李文华", department="儿科"),
            "离职",
        )
    finally:
        await writer.aclose()
    assert [updated["id"] for updated in fhir_server.updates] == ["r-paed"]
    assert fhir_server.roles["r-cardio"]["active"] is True


def practitioner_searches(fhir_server: FhirServer) -> int:
    return sum(urlsplit(r.path).path == "/fhir/Practitioner" for r in fhir_server.recorder.requests)


async def test_the_licence_and_the_affiliation_share_one_practitioner_search(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), role("r1", "p1"))
    licence, affiliation = await asyncio.gather(
        hospital.verify_licence(QUERY), hospital.confirm_affiliation(AFFILIATION)
    )
    assert licence.valid is True and affiliation.affiliated is True
    assert practitioner_searches(fhir_server) == 1
    other = LicenceQuery(licence_number="110330200000099", full_name="王芳")
    assert (await hospital.verify_licence(other)).valid is False
    assert practitioner_searches(fhir_server) == 2  # another licence is another search


async def test_a_failed_practitioner_search_is_not_repeated_for_the_second_question(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    fhir_server.override = _server_error
    results = await asyncio.gather(
        hospital.verify_licence(QUERY),
        hospital.confirm_affiliation(AFFILIATION),
        return_exceptions=True,
    )
    assert all(isinstance(result, FhirError) for result in results)
    assert all("HTTP 500: database connection lost" in str(result) for result in results)
    assert practitioner_searches(fhir_server) == 1


async def test_the_test_server_holds_identifiers_and_roles_as_real_servers_do(
    fhir_server: FhirServer, hospital: FhirHospital
) -> None:
    no_system = practitioner("p2", "LOCAL-7", "王", "芳")
    no_system["identifier"] = [{"value": "LOCAL-7"}]  # a hospital-local number, no system
    no_identifier = practitioner("p3", "x", "赵", "磊")
    del no_identifier["identifier"]
    orphan_role = role("r9", "p3")
    del orphan_role["organization"]  # a role no organization holds
    fhir_server.add(
        valid(Practitioner, no_system),
        valid(Practitioner, no_identifier),
        valid(PractitionerRole, orphan_role),
        practitioner("p1", LICENCE, "李", "文华"),
        role("r1", "p1"),
    )
    assert (await hospital.verify_licence(QUERY)).valid is True
    assert (await hospital.confirm_affiliation(AFFILIATION)).affiliated is True
    async with httpx.AsyncClient(base_url=fhir_server.base_url) as http:  # token search
        for token, found in (("|LOCAL-7", ["p2"]), ("LOCAL-7", ["p2"]), ("urn:x|LOCAL-7", [])):
            bundle = (await http.get("/Practitioner", params={"identifier": token})).json()
            assert [e["resource"]["id"] for e in bundle.get("entry", [])] == found


class TestFhirHospitalContract(HospitalAdapterContract):
    """The contract every hospital adapter passes, against the test FHIR server."""

    @pytest.fixture
    def adapter_type(self, fhir_type: FhirHospitalType) -> FhirHospitalType:
        return fhir_type

    @pytest.fixture
    def config(self, fhir_server: FhirServer) -> dict[str, Any]:
        fhir_server.add(practitioner("p1", LICENCE, "李", "文华"), role("r1", "p1"))
        return {
            "base_url": fhir_server.base_url,
            "licence_system": LICENCE_SYSTEM,
            "organization_id": ORGANIZATION,
            "bearer_token": "his-token-123",
        }

    @pytest.fixture
    def known(self) -> LicenceQuery:
        return QUERY

    @pytest.fixture
    def unknown(self) -> LicenceQuery:
        return LicenceQuery(licence_number="110330299999999", full_name="王无名")

    @pytest.fixture
    def referral(self) -> ReferralRequest:
        """The test server has no Task for it: the hospital has received it and decides
        later, an answer the contract allows."""
        return sample_referral()
