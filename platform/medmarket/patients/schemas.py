"""HTTP bodies of the patients API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

Relationship = Literal["self", "child", "parent", "spouse", "sibling", "grandparent", "other"]
FamilyRelationship = Literal["child", "parent", "spouse", "sibling", "grandparent", "other"]
Sex = Literal["female", "male"]
Name = Annotated[str, msgspec.Meta(max_length=60)]
Items = Annotated[list[Annotated[str, msgspec.Meta(max_length=200)]], msgspec.Meta(max_length=50)]


class PatientDetails(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The account holder's real-name details."""

    real_name: Name
    phone: Annotated[str, msgspec.Meta(max_length=32)]
    date_of_birth: dt.date
    sex: Sex | None = None


class FamilyMemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    real_name: Name
    relationship: FamilyRelationship
    date_of_birth: dt.date
    sex: Sex | None = None


class PatientOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    relationship: Relationship
    real_name: str
    date_of_birth: dt.date
    sex: Sex | None
    phone: str | None
    # Children under six attend consultations with their guardian.
    needs_guardian: bool


class ConsentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    policy_version: str
    # Must be true: consent is a deliberate act, never a default.
    agree: bool


class ConsentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    policy_version: str
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None


class HealthProfile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    allergies: Items = msgspec.field(default_factory=list)
    chronic_conditions: Items = msgspec.field(default_factory=list)
    current_medications: Items = msgspec.field(default_factory=list)


class HealthProfileOut(HealthProfile, kw_only=True):
    updated_at: dt.datetime | None = None


class MyPatientsOut(msgspec.Struct, kw_only=True):
    me: PatientOut | None
    family: list[PatientOut]
    consent: ConsentOut | None
    current_policy_version: str
