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


# -- the address book ------------------------------------------------------------------------
# The lengths are the table's (migration 0074); the service trims and checks them again so a
# problem names its field, and the database keeps them either way.
Label = Annotated[str, msgspec.Meta(max_length=40)]
Place = Annotated[str, msgspec.Meta(max_length=100)]
Street = Annotated[str, msgspec.Meta(max_length=400)]
PhoneText = Annotated[str, msgspec.Meta(max_length=32)]
PostalCode = Annotated[str, msgspec.Meta(max_length=12)]


class AddressIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An address to deliver to. ``phone`` as people write it ("138 0013 8000",
    "0571-8888 1234"); ``is_default`` is implied for the account's first address."""

    label: Label | None = None
    recipient: Name
    phone: PhoneText
    province: Place
    city: Place
    district: Place | None = None
    street: Street
    postal_code: PostalCode | None = None
    is_default: bool = False


class AddressPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The fields to change; a field left out keeps its value, ``null`` clears an optional
    one (label, district, postal_code). ``is_default: true`` makes it the default;
    ``false`` leaves the account without a default when it was the default."""

    label: Label | msgspec.UnsetType | None = msgspec.UNSET
    recipient: Name | msgspec.UnsetType = msgspec.UNSET
    phone: PhoneText | msgspec.UnsetType = msgspec.UNSET
    province: Place | msgspec.UnsetType = msgspec.UNSET
    city: Place | msgspec.UnsetType = msgspec.UNSET
    district: Place | msgspec.UnsetType | None = msgspec.UNSET
    street: Street | msgspec.UnsetType = msgspec.UNSET
    postal_code: PostalCode | msgspec.UnsetType | None = msgspec.UNSET
    is_default: bool | msgspec.UnsetType = msgspec.UNSET


class AddressOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    label: str | None
    recipient: str
    phone: str  # E.164
    province: str
    city: str
    district: str | None
    street: str
    postal_code: str | None
    is_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime
