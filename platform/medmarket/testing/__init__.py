"""The test kit for plugins (``pip install medmarket[testing]``), and what the core's own
tests share with them:

- ``medmarket.testing.contracts``: the contract suite of each kind of adapter, which a
  plugin's tests subclass;
- ``medmarket.testing.http_recorder``: a small real HTTP server that records requests and
  answers as the test says, to stand in for the outside system a plugin talks to;
- ``plugin_settings()``: the platform's settings as a hook receives them;
- ``sample_referral(**changes)``: a referral as the core sends it to a hospital adapter.

The core's own test support (databases, the app served in-process, browsers) is
``medmarket.tests.support`` and is not shipped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from medmarket.hospitals.interface import ReferralPatient, ReferralRequest, ReferringDoctor
from medmarket.settings import Settings, load_settings

__all__ = ["plugin_settings", "sample_referral"]

SAMPLE_REFERRAL = ReferralRequest(
    referral_id="sample-referral-1",
    department="心内科",
    urgency="routine",
    reason="胸痛待查",
    clinical_summary="活动后胸闷两周，心电图 ST 段压低",
    patient=ReferralPatient(full_name="张三", date_of_birth=dt.date(1961, 5, 2)),
    referring_doctor=ReferringDoctor(
        full_name="王医生", licence_number="110330100000777", hospital="社区卫生服务中心"
    ),
    requested_at=dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC),
)


def sample_referral(**changes: Any) -> ReferralRequest:
    """A routine cardiology referral of a county doctor's patient, with ``changes``
    (``referral_id=...``, ``department=...``, ``urgency="emergency"`` ...)."""
    return msgspec.structs.replace(SAMPLE_REFERRAL, **changes)


def plugin_settings(**overrides: Any) -> Settings:
    """Valid platform settings for a plugin's own tests: placeholder connection strings (a
    plugin has no business with the platform's database or Redis), the test environment,
    and whatever the test sets (``outbound_allowed_networks=["127.0.0.1/32"]`` to reach a
    test server on loopback)."""
    values: dict[str, Any] = {
        "database_url": "postgresql://plugin-tests.invalid/medmarket",
        "redis_url": "redis://plugin-tests.invalid:6379/0",
        "secret_key": "plugin-tests-" + "k" * 40,
        "environment": "test",
        **overrides,
    }
    return load_settings({}, **values)
