"""Builders for tests that need partner hospitals and doctors, through the real API.

    hospital = await hospital_with_demo_adapter(app)
    doctor = await approved_doctor(app, specialties=("儿科",), hospital=hospital)
    await client.get(f"/api/onboarding/doctors/{doctor.doctor_id}", headers=doctor.headers)

``approved_doctor`` walks the whole onboarding: a doctor signs up, saves an application,
uploads a licence scan and an ID, submits, and the demo hospital's registry confirms every
credential, so the doctor ends ``approved`` by the same code production runs.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
import zlib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar

from medmarket.settings import DEFAULT_TIME_ZONE
from medmarket.tests.support.fixtures import (
    Account,
    client_for,
    create_operator_account,
    sign_up_and_in,
    unique_email,
)

DEMO_ADAPTER = "demo-registry"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


# A real 1×1 PNG and a minimal PDF: small, and what their content says they are.
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
    + _png_chunk(b"IEND", b"")
)
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@dataclass
class HospitalHandle:
    """A partner hospital connected to the demo adapter, with its signed-in admin."""

    id: str
    name: str
    hospital_code: str
    admin: Account


@dataclass
class DoctorAccount:
    """A signed-in doctor and their application."""

    doctor_id: str
    user_id: str
    email: str
    password: str
    token: str
    hospital_id: str
    licence_number: str
    full_name: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_licence_number() -> str:
    """A 15-digit practice licence number no other test uses."""
    return "1" + "".join(str(secrets.randbelow(10)) for _ in range(14))


def platform_day() -> dt.date:
    """Today as the platform counts days (the tests keep the default time zone), which is
    not the machine's UTC date for eight hours of every day."""
    return dt.datetime.now(zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)).date()


def staff_record(
    *,
    licence_number: str,
    full_name: str,
    title: str = "主治医师",
    department: str = "心内科",
    specialties: Sequence[str] = ("心内科",),
    years_of_practice: int = 8,
    licence_valid_days: int = 5 * 365,
    **overrides: Any,
) -> dict[str, Any]:
    """One demo-registry staff record (``DemoHospitalConfig.staff``); ``overrides`` set any
    other field (``affiliated``, ``affiliation_ends_on``, ``licence_active`` ...)."""
    today = platform_day()
    record: dict[str, Any] = {
        "licence_number": licence_number,
        "full_name": full_name,
        "title": title,
        "department": department,
        "specialties": list(specialties),
        "practice_started_on": today.replace(
            year=today.year - years_of_practice, day=1
        ).isoformat(),
        "licence_expires_on": (today + dt.timedelta(days=licence_valid_days)).isoformat(),
        "affiliated_since": today.replace(year=today.year - 2, day=1).isoformat(),
    }
    record.update({key: _json_date(value) for key, value in overrides.items()})
    return record


def _json_date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def hospital_with_demo_adapter(
    app: Litestar,
    *,
    name: str | None = None,
    level: str = "三级甲等",
    region: str = "浙江省杭州市",
    departments: Sequence[str] = ("心内科", "儿科", "内分泌科", "皮肤科", "呼吸内科"),
    staff: Sequence[dict[str, Any]] = (),
) -> HospitalHandle:
    """An operator registers a hospital and invites its admin, who connects the demo
    adapter with ``staff`` as the registry."""
    operator = await create_operator_account(app)
    name = name or f"测试医院 {uuid.uuid4().hex[:8]}"
    code = "T-" + uuid.uuid4().hex[:10].upper()
    async with client_for(app) as http:
        hospital = _ok(
            await http.post(
                "/api/hospitals",
                headers=operator.headers,
                json={
                    "name": name,
                    "level": level,
                    "region": region,
                    "departments": list(departments),
                },
            ),
            201,
        )
        email = unique_email("hospital-admin")
        invitation = _ok(
            await http.post(
                f"/api/hospitals/{hospital['id']}/admin-invitations",
                headers=operator.headers,
                json={"email": email},
            ),
            201,
        )
        admin = await sign_up_and_in(
            http, "hospital_admin", invitation=invitation["token"], email=email
        )
        _ok(
            await http.put(
                f"/api/hospitals/{hospital['id']}/adapter",
                headers=admin.headers,
                json={
                    "type": DEMO_ADAPTER,
                    "config": {"hospital_code": code, "staff": list(staff)},
                },
            )
        )
    return HospitalHandle(id=hospital["id"], name=name, hospital_code=code, admin=admin)


async def set_staff(
    app: Litestar, hospital: HospitalHandle, records: Sequence[dict[str, Any]]
) -> None:
    """Replace the demo hospital's registry, as its admin would."""
    async with client_for(app) as http:
        _ok(
            await http.put(
                f"/api/hospitals/{hospital.id}/adapter",
                headers=hospital.admin.headers,
                json={
                    "type": DEMO_ADAPTER,
                    "config": {"hospital_code": hospital.hospital_code, "staff": list(records)},
                },
            )
        )


async def add_staff(app: Litestar, hospital: HospitalHandle, record: dict[str, Any]) -> None:
    """Add (or replace, by licence number) one record of the demo hospital's registry."""
    async with client_for(app) as http:
        settings = _ok(
            await http.get(f"/api/hospitals/{hospital.id}/settings", headers=hospital.admin.headers)
        )
    staff = [
        existing
        for existing in settings["adapter"]["config"].get("staff", [])
        if existing["licence_number"] != record["licence_number"]
    ]
    await set_staff(app, hospital, [*staff, record])


async def draft_doctor(
    app: Litestar,
    hospital: HospitalHandle | str,
    *,
    full_name: str | None = None,
    licence_number: str | None = None,
    title: str = "主治医师",
    specialties: Sequence[str] = ("心内科",),
    department: str | None = None,
    languages: Sequence[str] = ("zh",),
    bio: str = "",
    time_zone: str = "Asia/Shanghai",
    with_documents: bool = True,
) -> DoctorAccount:
    """A doctor who signed up and saved an application (with a licence scan and an ID
    unless ``with_documents`` is False), not yet submitted."""
    hospital_id = hospital if isinstance(hospital, str) else hospital.id
    full_name = full_name or "医生" + secrets.token_hex(3)
    licence_number = licence_number or unique_licence_number()
    async with client_for(app) as http:
        account = await sign_up_and_in(http, "doctor", display_name=full_name)
        application = _ok(
            await http.put(
                "/api/doctor/application",
                headers=account.headers,
                json={
                    "hospital_id": hospital_id,
                    "full_name": full_name,
                    "licence_number": licence_number,
                    "title": title,
                    "specialties": list(specialties),
                    "department": department,
                    "languages": list(languages),
                    "bio": bio,
                    "time_zone": time_zone,
                },
            )
        )
        if with_documents:
            for kind, filename, content in (
                ("licence", "licence.pdf", PDF_BYTES),
                ("identity", "id-card.png", PNG_BYTES),
            ):
                _ok(
                    await http.post(
                        "/api/doctor/application/documents",
                        headers=account.headers,
                        data={"kind": kind},
                        files={"file": (filename, content)},
                    ),
                    201,
                )
    return DoctorAccount(
        doctor_id=application["id"],
        user_id=account.id,
        email=account.email,
        password=account.password,
        token=account.token,
        hospital_id=hospital_id,
        licence_number=licence_number,
        full_name=full_name,
    )


async def submit(app: Litestar, doctor: DoctorAccount) -> dict[str, Any]:
    """Submit the doctor's application; returns the application as the answer shows it."""
    async with client_for(app) as http:
        answer: dict[str, Any] = _ok(
            await http.post("/api/doctor/application/submit", headers=doctor.headers)
        )
    return answer


async def approved_doctor(
    app: Litestar,
    *,
    specialties: Sequence[str] = ("心内科",),
    hospital: HospitalHandle | None = None,
    title: str = "主治医师",
    full_name: str | None = None,
    languages: Sequence[str] = ("zh",),
    bio: str = "",
    time_zone: str = "Asia/Shanghai",
) -> DoctorAccount:
    """A doctor approved by the real onboarding: the hospital's registry (a new demo
    hospital unless ``hospital`` is given) confirms licence, title, affiliation and years
    of practice, and every check passes."""
    hospital = hospital or await hospital_with_demo_adapter(app)
    full_name = full_name or "医生" + secrets.token_hex(3)
    licence_number = unique_licence_number()
    await add_staff(
        app,
        hospital,
        staff_record(
            licence_number=licence_number,
            full_name=full_name,
            title=title,
            department=specialties[0] if specialties else "全科",
            specialties=specialties,
        ),
    )
    doctor = await draft_doctor(
        app,
        hospital,
        full_name=full_name,
        licence_number=licence_number,
        title=title,
        specialties=specialties,
        languages=languages,
        bio=bio,
        time_zone=time_zone,
    )
    application = await submit(app, doctor)
    assert application["status"] == "approved", application
    return doctor
