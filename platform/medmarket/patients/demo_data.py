"""The demo patient: real-name details, consent to health-data processing, a health profile,
a child they book for and a default delivery address in Hangzhou, so a visitor can book at
once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from medmarket.accounts.acting import context_of, principal_of
from medmarket.patients.addresses import Addresses
from medmarket.patients.schemas import (
    AddressIn,
    ConsentIn,
    FamilyMemberIn,
    HealthProfile,
    PatientDetails,
)
from medmarket.patients.service import CURRENT_POLICY_VERSION, Patients
from medmarket.services import Services


def _today(services: Services) -> dt.date:
    return dt.datetime.now(ZoneInfo(services.settings.default_time_zone)).date()


async def seed_demo_patient(services: Services, email: str) -> None:
    principal = await principal_of(services.db, email)
    if principal is None:
        return
    context, patients = context_of(principal), Patients(services.db)
    mine = await patients.mine(principal)
    if mine.me is None:
        me = await patients.set_details(
            principal,
            PatientDetails(
                real_name="王小明",
                phone="13800138000",
                date_of_birth=dt.date(1966, 3, 8),
                sex="male",
            ),
            context,
        )
        await patients.grant_consent(
            principal, ConsentIn(policy_version=CURRENT_POLICY_VERSION, agree=True), context
        )
        await patients.set_health_profile(
            principal,
            me.id,
            HealthProfile(
                allergies=["青霉素"],
                chronic_conditions=["原发性高血压", "2型糖尿病"],
                current_medications=["氨氯地平 5mg 每日一次", "二甲双胍 500mg 每日两次"],
            ),
            context,
        )
    if not mine.family:
        await patients.add_family_member(
            principal,
            FamilyMemberIn(
                real_name="王豆豆",
                relationship="child",
                date_of_birth=_today(services).replace(year=_today(services).year - 4),
                sex="female",
            ),
            context,
        )
    addresses = Addresses(services.db)
    if not await addresses.list(principal):
        await addresses.add(
            principal,
            AddressIn(
                label="家",
                recipient="王小明",
                phone="13800138000",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                street="文三路 90 号 东部软件园 3 号楼 501 室",
                postal_code="310012",
                is_default=True,
            ),
            context,
        )
