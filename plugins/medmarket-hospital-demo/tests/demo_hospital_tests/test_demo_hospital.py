"""The demo hospital answers from its staff registry like a hospital system would."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import msgspec
import pytest
from medmarket_hospital_demo import (
    ADAPTER_TYPE_ID,
    DemoHospital,
    DemoHospitalConfig,
    DemoHospitalType,
    medmarket_hospital_adapters,
)

from medmarket import (
    AffiliationQuery,
    HospitalAdapterType,
    LicenceQuery,
    ReferralRequest,
)
from medmarket.testing import plugin_settings, sample_referral
from medmarket.testing.contracts import HospitalAdapterContract

RECORD: dict[str, Any] = {
    "licence_number": "110330100000001",
    "full_name": "李文华",
    "title": "主任医师",
    "department": "心内科",
    "specialties": ["心内科", "高血压"],
    "practice_started_on": "2003-07-01",
    "licence_expires_on": "2034-12-31",
    "affiliated_since": "2010-01-01",
}
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CARDIOLOGY_CLINIC: dict[str, Any] = {
    "department": "心内科",
    "place": "门诊楼3层 心内科 转诊门诊",
    "weekdays": [1, 2, 3, 4, 5, 6, 7],
    "times": ["09:00", "14:00"],
    "places_per_time": 50,
}


def hospital(**changes: object) -> DemoHospital:
    config = msgspec.convert(
        {"hospital_code": "DEMO-HZ", "staff": [{**RECORD, **changes}]}, DemoHospitalConfig
    )
    return DemoHospitalType(time_zone=SHANGHAI).create(config)


def test_the_plugin_offers_its_adapter_type() -> None:
    [offered] = medmarket_hospital_adapters(settings=plugin_settings())
    assert offered.id == ADAPTER_TYPE_ID
    assert isinstance(offered, DemoHospitalType) and offered.time_zone == SHANGHAI


class TestDemoHospitalContract(HospitalAdapterContract):
    @pytest.fixture
    def adapter_type(self) -> HospitalAdapterType:
        return DemoHospitalType(time_zone=SHANGHAI)

    @pytest.fixture
    def config(self) -> dict[str, Any]:
        return {
            "hospital_code": "DEMO-HZ",
            "staff": [RECORD],
            "referral_clinics": [CARDIOLOGY_CLINIC],
        }

    @pytest.fixture
    def known(self) -> LicenceQuery:
        return LicenceQuery(licence_number=RECORD["licence_number"], full_name="李文华")

    @pytest.fixture
    def unknown(self) -> LicenceQuery:
        return LicenceQuery(licence_number="110330100009999", full_name="王无名")

    @pytest.fixture
    def referral(self) -> ReferralRequest:
        return sample_referral()


async def test_a_registered_licence_is_confirmed() -> None:
    answer = await hospital().verify_licence(
        LicenceQuery(licence_number=" 110330100000001 ", full_name="李 文华")
    )
    assert answer.valid and answer.title == "主任医师"
    assert answer.practice_started_on == dt.date(2003, 7, 1)
    assert answer.licence_expires_on == dt.date(2034, 12, 31)
    assert answer.evidence == {
        "registry": "DEMO-HZ",
        "staff_record": "110330100000001",
        "match": "licence and name",
    }


@pytest.mark.parametrize(
    ("query", "changes", "match"),
    [
        (LicenceQuery(licence_number="999", full_name="李文华"), {}, "none"),
        (LicenceQuery(licence_number="110330100000001", full_name="李华"), {}, "name differs"),
        (
            LicenceQuery(licence_number="110330100000001", full_name="李文华"),
            {"licence_active": False},
            "licence revoked",
        ),
    ],
)
async def test_a_licence_is_not_confirmed(
    query: LicenceQuery, changes: dict[str, object], match: str
) -> None:
    answer = await hospital(**changes).verify_licence(query)
    assert answer.valid is False and answer.evidence["match"] == match


async def test_affiliation_reports_the_registry_dates() -> None:
    query = AffiliationQuery(licence_number="110330100000001", full_name="李文华")
    current = await hospital().confirm_affiliation(query)
    assert current.affiliated and current.starts_on == dt.date(2010, 1, 1)
    assert current.specialties == ("心内科", "高血压")
    ended = await hospital(affiliation_ends_on="2020-01-01").confirm_affiliation(query)
    assert ended.ends_on == dt.date(2020, 1, 1)  # the core judges it against today
    gone = await hospital(affiliated=False).confirm_affiliation(query)
    assert gone.affiliated is False
    stranger = await hospital().confirm_affiliation(
        AffiliationQuery(licence_number="1", full_name="x")
    )
    assert stranger.affiliated is False


async def test_health_names_the_registry() -> None:
    report = await hospital().health()
    assert report.healthy and "DEMO-HZ" in report.detail


@pytest.mark.parametrize(
    "config",
    [
        {"hospital_code": "demo hz"},
        {"hospital_code": "DEMO", "staff": [{**RECORD, "title": "院长"}]},
        {"hospital_code": "DEMO", "staff": [{**RECORD, "ward": "3"}]},
    ],
)
def test_the_registry_is_validated(config: dict[str, object]) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(config, DemoHospitalConfig)
