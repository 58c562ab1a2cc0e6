"""HTTP bodies of the partner-hospital API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

HospitalLevel = Literal[
    "三级甲等", "三级乙等", "三级丙等", "二级甲等", "二级乙等", "二级丙等", "一级"
]
HospitalStatus = Literal["active", "suspended"]
Department = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Departments = Annotated[list[Department], msgspec.Meta(max_length=100)]
HospitalName = Annotated[str, msgspec.Meta(min_length=2, max_length=200)]


class HospitalCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: HospitalName
    level: HospitalLevel
    region: Annotated[str, msgspec.Meta(min_length=2, max_length=100)]
    departments: Departments = msgspec.field(default_factory=list)
    name_en: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class HospitalUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out keep their value."""

    name: HospitalName | None = None
    name_en: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    level: HospitalLevel | None = None
    region: Annotated[str, msgspec.Meta(min_length=2, max_length=100)] | None = None
    departments: Departments | None = None
    status: HospitalStatus | None = None


class HospitalOut(msgspec.Struct, kw_only=True):
    """What anyone may know about a partner hospital."""

    id: uuid.UUID
    name: str
    name_en: str | None
    level: HospitalLevel
    region: str
    departments: list[str]


class AdapterConfigOut(msgspec.Struct, kw_only=True):
    """The hospital's adapter and its configuration; secret fields are left out of ``config``
    and only named in ``secrets_set``."""

    type: str
    display_name: str
    config: dict[str, Any]
    secrets_set: list[str]
    configured_at: dt.datetime | None


class HospitalAdminOut(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID
    email: str
    display_name: str
    since: dt.datetime


class HospitalDetail(msgspec.Struct, kw_only=True):
    """What operators and the hospital's own admins see."""

    id: uuid.UUID
    name: str
    name_en: str | None
    level: HospitalLevel
    region: str
    departments: list[str]
    status: HospitalStatus
    adapter: AdapterConfigOut | None
    admins: list[HospitalAdminOut]
    doctors_by_status: dict[str, int]
    created_at: dt.datetime
    updated_at: dt.datetime


class AdapterConfigIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Pick an adapter type and fill its form. With the same type as before, a secret field
    left out keeps its stored value, so a form never has to show a secret to keep it."""

    type: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    config: dict[str, Any] = msgspec.field(default_factory=dict)


class AdapterTypeOut(msgspec.Struct, kw_only=True):
    id: str
    display_name: str
    # JSON Schema of the configuration form (from the plugin's msgspec config_type).
    config_schema: dict[str, Any]
    secret_fields: list[str]


class AdapterTestOut(msgspec.Struct, kw_only=True):
    healthy: bool
    detail: str


class AdminInvitationIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
