"""Demo partner hospitals and doctors, made by the real onboarding: an operator registers each
hospital and invites its admin, the admin connects the demo hospital adapter (its staff
registry), each doctor signs up, applies with documents and is approved by the checks.

Idempotent: whatever exists already is left as it is, so a second run changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from typing import Any

import msgspec
from litestar.datastructures import UploadFile

from medmarket.accounts.acting import context_of, principal_of
from medmarket.accounts.devices import KnownDevices
from medmarket.accounts.passwords import Passwords
from medmarket.accounts.places import STAFF_PLACES
from medmarket.accounts.schemas import InvitationRequest, Role, SignUpRequest
from medmarket.accounts.service import Accounts, Principal
from medmarket.accounts.throttle import AccountThrottle, Limits
from medmarket.audit import AuditContext
from medmarket.doctors.schemas import ApplicationIn, DocumentUpload
from medmarket.doctors.service import DoctorService
from medmarket.hospitals.schemas import AdapterConfigIn, HospitalCreate
from medmarket.hospitals.service import HospitalService
from medmarket.services import Services

log = logging.getLogger("medmarket.demo")

DEMO_ADAPTER = "demo-registry"


class DemoDoctor(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    full_name: str
    licence_number: str
    title: str
    specialties: tuple[str, ...]
    practice_started_on: dt.date
    bio: str
    languages: tuple[str, ...] = ("zh",)


class DemoHospital(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    name_en: str
    level: str
    region: str
    code: str
    admin_email: str
    doctors: tuple[DemoDoctor, ...]


HOSPITALS = (
    DemoHospital(
        name="杭州示范医院",
        name_en="Hangzhou Demonstration Hospital",
        level="三级甲等",
        region="浙江省杭州市",
        code="DEMO-HZ",
        admin_email="admin.hangzhou@demo.medmarket.cn",
        doctors=(
            DemoDoctor(
                email="doctor@demo.medmarket.cn",
                full_name="李文华",
                licence_number="110330100000001",
                title="主任医师",
                specialties=("心内科", "高血压"),
                practice_started_on=dt.date(2003, 7, 1),
                bio="从事心血管内科临床工作二十余年，擅长高血压、冠心病的长期管理与复诊随访。",
                languages=("zh", "en"),
            ),
            DemoDoctor(
                email="doctor.wangjing@demo.medmarket.cn",
                full_name="王静",
                licence_number="110330100000002",
                title="副主任医师",
                specialties=("儿科", "小儿呼吸"),
                practice_started_on=dt.date(2010, 9, 1),
                bio="儿科副主任医师，擅长儿童反复呼吸道感染、哮喘的复诊管理。",
            ),
            DemoDoctor(
                email="doctor.chenzhiqiang@demo.medmarket.cn",
                full_name="陈志强",
                licence_number="110330100000003",
                title="主治医师",
                specialties=("内分泌科", "糖尿病"),
                practice_started_on=dt.date(2015, 8, 1),
                bio="内分泌科主治医师，擅长2型糖尿病、甲状腺疾病的用药调整与随访。",
            ),
        ),
    ),
    DemoHospital(
        name="成都示范医院",
        name_en="Chengdu Demonstration Hospital",
        level="三级乙等",
        region="四川省成都市",
        code="DEMO-CD",
        admin_email="admin.chengdu@demo.medmarket.cn",
        doctors=(
            DemoDoctor(
                email="doctor.liufang@demo.medmarket.cn",
                full_name="刘芳",
                licence_number="110510100000001",
                title="主任医师",
                specialties=("皮肤科", "湿疹"),
                practice_started_on=dt.date(2005, 3, 1),
                bio="皮肤科主任医师，擅长湿疹、银屑病、痤疮的长期治疗随访。",
            ),
            DemoDoctor(
                email="doctor.zhangwei@demo.medmarket.cn",
                full_name="张伟",
                licence_number="110510100000002",
                title="副主任医师",
                specialties=("呼吸内科", "慢阻肺"),
                practice_started_on=dt.date(2009, 7, 1),
                bio="呼吸内科副主任医师，擅长慢阻肺、哮喘的稳定期管理。",
            ),
            DemoDoctor(
                email="doctor.zhaomin@demo.medmarket.cn",
                full_name="赵敏",
                licence_number="110510100000003",
                title="主治医师",
                specialties=("儿科", "儿童保健"),
                practice_started_on=dt.date(2016, 9, 1),
                bio="儿科主治医师，擅长儿童生长发育评估与常见病复诊。",
            ),
        ),
    ),
)

DEMO_ONBOARDING_ACCOUNTS: list[tuple[str, Role, str]] = [
    *((hospital.admin_email, "hospital_admin", hospital.name) for hospital in HOSPITALS),
    *((d.email, "doctor", d.full_name) for hospital in HOSPITALS for d in hospital.doctors),
]

# Tiny but genuine files: what a scan would be, by content.
_DEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_DEMO_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def _referral_clinics(hospital: DemoHospital) -> list[dict[str, Any]]:
    """A referral clinic (转诊门诊) for each department: weekday mornings and afternoons, two
    green-channel places each, a fortnight ahead; a full calendar refuses."""
    departments = sorted({s for d in hospital.doctors for s in d.specialties[:1]})
    return [
        {
            "department": department,
            "place": f"门诊楼 2 层 {department} 转诊门诊（凭绿色通道号直接就诊）",
            "weekdays": [1, 2, 3, 4, 5],
            "times": ["09:00", "14:00"],
            "places_per_time": 2,
            "days_ahead": 14,
            "instructions": "请提前 20 分钟到达，先到门诊楼 1 层服务台出示绿色通道号。",
        }
        for department in departments
    ]


def _staff(hospital: DemoHospital) -> list[dict[str, Any]]:
    return [
        {
            "licence_number": doctor.licence_number,
            "full_name": doctor.full_name,
            "title": doctor.title,
            "department": doctor.specialties[0],
            "specialties": list(doctor.specialties),
            "practice_started_on": doctor.practice_started_on.isoformat(),
            "licence_expires_on": "2034-12-31",
            "affiliated_since": doctor.practice_started_on.isoformat(),
        }
        for doctor in hospital.doctors
    ]


class _DemoOnboarding:
    def __init__(self, services: Services, password: str) -> None:
        self.services = services
        self.password = password
        settings = services.settings
        # Nobody signs in here, and the seeding's sign-ups come from no address: they must
        # not fill the throttle's count for "unknown" (Redis outlives a run).
        limits = dataclasses.replace(Limits.from_settings(settings), sign_ups_per_address=10**9)
        throttle = AccountThrottle(services.redis, limits)
        self.accounts = Accounts(
            services.db,
            Passwords(settings),
            throttle,
            KnownDevices(settings.secret_key),
            session_ttl=dt.timedelta(seconds=60),
            base_url=settings.base_url,
            places=services.ports.collect(STAFF_PLACES),
        )
        self.hospitals = HospitalService(services)
        self.doctors = DoctorService(services)

    async def principal(self, email: str) -> Principal | None:
        return await principal_of(self.services.db, email)

    @staticmethod
    def context(principal: Principal) -> AuditContext:
        return context_of(principal)

    async def hospital(self, operator: Principal, demo: DemoHospital) -> uuid.UUID:
        hospital_id: uuid.UUID | None = await self.services.db.fetchval(
            "SELECT id FROM hospitals WHERE name = $1", demo.name
        )
        if hospital_id is None:
            created = await self.hospitals.create(
                operator,
                HospitalCreate(
                    name=demo.name,
                    name_en=demo.name_en,
                    level=demo.level,  # type: ignore[arg-type]
                    region=demo.region,
                    departments=sorted({s for d in demo.doctors for s in d.specialties[:1]}),
                ),
                self.context(operator),
            )
            hospital_id = created.id
        admin = await self.principal(demo.admin_email)
        if admin is None:
            invitation = await self.accounts.invite(
                InvitationRequest(
                    email=demo.admin_email, role="hospital_admin", hospital_id=hospital_id
                ),
                self.context(operator),
            )
            await self.accounts.sign_up(
                SignUpRequest(
                    email=demo.admin_email,
                    password=self.password,
                    display_name=f"{demo.name} 管理员",
                    invitation=invitation.token,
                ),
                AuditContext(request_id="demo"),
            )
            admin = await self.principal(demo.admin_email)
            assert admin is not None
        configured = await self.services.db.fetchval(
            "SELECT adapter_type FROM hospitals WHERE id = $1", hospital_id
        )
        if configured is None:
            await self.hospitals.configure_adapter(
                admin,
                hospital_id,
                AdapterConfigIn(
                    type=DEMO_ADAPTER,
                    config={
                        "hospital_code": demo.code,
                        "staff": _staff(demo),
                        "referral_clinics": _referral_clinics(demo),
                    },
                ),
                self.context(admin),
            )
        return hospital_id

    async def doctor(self, hospital_id: uuid.UUID, demo: DemoDoctor) -> None:
        principal = await self.principal(demo.email)
        if principal is None:
            await self.accounts.sign_up(
                SignUpRequest(
                    email=demo.email,
                    password=self.password,
                    display_name=demo.full_name,
                    role="doctor",
                ),
                AuditContext(request_id="demo"),
            )
            principal = await self.principal(demo.email)
            assert principal is not None
        context = self.context(principal)
        status = await self.services.db.fetchval(
            "SELECT status FROM doctors WHERE user_id = $1", principal.user_id
        )
        if status is None:
            await self.doctors.save_application(
                principal,
                ApplicationIn(
                    hospital_id=hospital_id,
                    full_name=demo.full_name,
                    licence_number=demo.licence_number,
                    title=demo.title,  # type: ignore[arg-type]
                    specialties=list(demo.specialties),
                    department=demo.specialties[0],
                    languages=list(demo.languages),
                    bio=demo.bio,
                ),
                context,
            )
            for kind, name, content, media in (
                ("licence", "执业证书.pdf", _DEMO_PDF, "application/pdf"),
                ("identity", "身份证.jpg", _DEMO_JPEG, "image/jpeg"),
            ):
                upload = UploadFile(content_type=media, filename=name, file_data=content)
                await self.doctors.add_document(
                    principal,
                    DocumentUpload(file=upload, kind=kind),  # type: ignore[arg-type]
                    context,
                )
            status = "draft"
        if status == "draft":
            outcome = await self.doctors.submit(principal, context)
            if outcome.status != "approved":
                log.warning("demo doctor %s ended %s", demo.email, outcome.status)


async def seed_partner_hospitals(services: Services, operator_email: str, password: str) -> None:
    """Two partner hospitals with their admins and approved doctors across specialties."""
    if DEMO_ADAPTER not in services.plugins.hospital_adapters.adapters:
        print("demo hospitals skipped: the plugin medmarket-hospital-demo is not installed")
        return
    onboarding = _DemoOnboarding(services, password)
    operator = await onboarding.principal(operator_email)
    assert operator is not None, "the demo operator is made first"
    for hospital in HOSPITALS:
        hospital_id = await onboarding.hospital(operator, hospital)
        for doctor in hospital.doctors:
            await onboarding.doctor(hospital_id, doctor)
