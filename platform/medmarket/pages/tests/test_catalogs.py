"""Both catalogs hold the same keys with the same placeholders, and no template or page
handler asks for a key that is missing."""

from __future__ import annotations

import datetime as dt
import re
import typing
import uuid
from pathlib import Path
from typing import Any

import pytest

from medmarket.accounts.schemas import ALL_ROLES
from medmarket.accounts.service import Principal
from medmarket.pages.assets import locate_web_dir
from medmarket.pages.i18n import (
    SUPPORTED_LOCALES,
    Catalogs,
    MissingMessage,
    choose_locale,
    flatten,
    placeholders,
)

WEB = locate_web_dir("")
PAGES = Path(__file__).resolve().parent.parent
CATALOGS = Catalogs.load(WEB / "locales", "zh-CN", strict=True)
# t("key" ...) or t('key' ...); a key ending in "." or "_" is a prefix completed at run time
# (t("role." ~ user.role)), checked below against the values it can take.
_LITERAL_KEY = re.compile(r"""\bt(?:\.get)?\(\s*(["'])([A-Za-z0-9_.\-]+)\1\s*(~|\)|,)""")
_KEY_IN_PYTHON = re.compile(r"""\bt(?:\.get)?\(\s*f?(["'])([A-Za-z0-9_.\-{}]+)\1""")


def template_keys() -> dict[str, set[str]]:
    """{key or prefix: templates using it}."""
    used: dict[str, set[str]] = {}
    for template in sorted((WEB / "templates").rglob("*.html")):
        for match in _LITERAL_KEY.finditer(template.read_text()):
            key = match[2] + ("*" if match[3] == "~" else "")
            used.setdefault(key, set()).add(template.name)
    return used


def test_both_locales_have_the_same_keys() -> None:
    zh, en = CATALOGS.messages["zh-CN"], CATALOGS.messages["en"]
    assert sorted(set(zh) - set(en)) == [], "in zh-CN.toml but not in en.toml"
    assert sorted(set(en) - set(zh)) == [], "in en.toml but not in zh-CN.toml"


def test_both_locales_use_the_same_placeholders() -> None:
    zh, en = CATALOGS.messages["zh-CN"], CATALOGS.messages["en"]
    different = {key: (placeholders(zh[key]), placeholders(en[key])) for key in zh}
    assert {k: v for k, v in different.items() if v[0] != v[1]} == {}


def test_no_message_is_empty_or_untranslated_looking() -> None:
    for locale in SUPPORTED_LOCALES:
        for key, message in CATALOGS.messages[locale].items():
            assert message.strip(), (locale, key)
    # Chinese pages must not fall back to English text by mistake.
    zh = CATALOGS.messages["zh-CN"]
    english_only = [
        key
        for key, message in zh.items()
        if not re.search(r"[\u4e00-\u9fff]", message)
        and re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", message))
        and not key.startswith("language.")
    ]
    assert english_only == []


def test_templates_use_no_missing_keys() -> None:
    used = template_keys()
    assert len(used) > 50  # the scan finds the keys; it cannot pass by finding nothing
    messages = CATALOGS.messages["zh-CN"]
    missing = []
    for key in used:
        if key.endswith("*"):
            prefix = key[:-1]
            if not any(known.startswith(prefix) for known in messages):
                missing.append(key)
        elif key not in messages:
            missing.append(key)
    assert missing == [], {key: used[key] for key in missing}


def test_keys_built_at_run_time_exist_for_every_value() -> None:
    messages = CATALOGS.messages["en"]
    expected = [f"role.{role}" for role in ALL_ROLES]
    expected += [f"account.next_{role}" for role in ALL_ROLES]
    expected += [f"language.{locale}" for locale in SUPPORTED_LOCALES]
    expected += ["account.notice_welcome", "account.notice_saved"]
    expected += [
        f"error_page.{kind}.{part}"
        for kind in ("403", "404", "500", "503", "other")
        for part in ("title", "text")
    ]
    assert [key for key in expected if key not in messages] == []


def page_modules() -> list[Path]:
    """The page machinery and every domain's pages (``<domain>/pages.py``, ``*_pages.py``)."""
    package = PAGES.parent
    domains = [*package.glob("*/pages.py"), *package.glob("*/*_pages.py")]
    return [m for m in PAGES.glob("*.py") if m.name != "i18n.py"] + domains


def test_page_handlers_use_no_missing_keys() -> None:
    messages = CATALOGS.messages["zh-CN"]
    modules = page_modules()
    assert any(m.parent.name == "bookings" for m in modules)  # the domains' pages are read
    used = {
        match[2]
        # i18n.py defines t(); its docstring shows a made-up key.
        for module in modules
        for match in _KEY_IN_PYTHON.finditer(module.read_text())
        if "{" not in match[2]
    }
    assert "sign_in.wrong" in used
    assert sorted(used - set(messages)) == []


def test_error_codes_the_accounts_service_raises_are_translated() -> None:
    messages = CATALOGS.messages["zh-CN"]
    for code in (
        "required",
        "invalid-email",
        "weak-password",
        "invalid-token",
        "unknown-time-zone",
    ):
        assert f"error.{code}" in messages
    assert "error.invitation.invalid" in messages


def test_strict_catalogs_refuse_a_missing_key_and_lenient_ones_show_it() -> None:
    with pytest.raises(MissingMessage):
        CATALOGS.translator("en")("no.such.key")
    lenient = Catalogs(CATALOGS.messages, "zh-CN", strict=False)
    assert lenient.translator("en")("no.such.key") == "no.such.key"


def test_missing_translation_falls_back_to_the_default_locale() -> None:
    catalogs = Catalogs({"zh-CN": {"a": "甲", "b": "乙"}, "en": {"a": "A"}}, "zh-CN", strict=True)
    t = catalogs.translator("en")
    assert (t("a"), t("b")) == ("A", "乙")
    assert catalogs.translator("fr")("a") == "甲"  # unknown locale → default


def test_placeholders_are_filled() -> None:
    t = CATALOGS.translator("en")
    assert t("experts.your_search", query="心内科") == "You searched for: 心内科"


def test_flatten_refuses_non_text() -> None:
    assert flatten({"a": {"b": "x"}, "c": "y"}) == {"a.b": "x", "c": "y"}
    with pytest.raises(ValueError, match=r"a\.n"):
        flatten({"a": {"n": 3}})


def test_locale_choice_prefers_the_saved_one_then_the_cookie() -> None:
    assert choose_locale(None, None, "zh-CN") == "zh-CN"
    assert choose_locale(None, "en", "zh-CN") == "en"
    assert choose_locale(None, "fr", "zh-CN") == "zh-CN"
    signed_in = Principal(
        user_id=uuid.uuid4(),
        role="patient",
        email="a@example.org",
        display_name="A",
        locale="zh-CN",
        time_zone="Asia/Shanghai",
        session_kind="browser",
        csrf_token="x",
        expires_at=dt.datetime.now(dt.UTC),
    )
    assert choose_locale(signed_in, "en", "en") == "zh-CN"


def test_words_for_every_value_the_domains_can_take() -> None:
    """Statuses, kinds and codes shown on the working pages are looked up by their value
    (``t("visit_status." ~ booking.status)``): each value the domains define has words."""
    from medmarket.bookings.schemas import Outcome, Status
    from medmarket.catalog.schemas import Sort
    from medmarket.doctors.schemas import (
        CheckKind,
        CheckOutcome,
        CheckPurpose,
        DoctorStatus,
        DocumentKind,
    )
    from medmarket.hospitals.interface import Title
    from medmarket.hospitals.schemas import HospitalLevel
    from medmarket.patients.documents import Kind as PatientDocumentKind
    from medmarket.patients.schemas import Relationship, Sex

    def values(literal: Any) -> tuple[str, ...]:
        return typing.get_args(literal)

    expected = [f"visit_status.{v}" for v in values(Status)]
    expected += [f"doctor_visit.outcome_{v}" for v in values(Outcome)]
    expected += [f"experts.sort_{v}" for v in values(Sort)]
    expected += [f"doctor_status.{v}" for v in values(DoctorStatus)]
    expected += [f"application.status_{v}" for v in values(DoctorStatus)]
    expected += [f"check_kind.{v}" for v in values(CheckKind)]
    expected += [f"check_outcome.{v}" for v in values(CheckOutcome)]
    expected += [f"check_purpose.{v}" for v in values(CheckPurpose)]
    expected += [f"document_kind.{v}" for v in values(DocumentKind)]
    expected += [f"doctor_title.{v}" for v in values(Title)]
    expected += [f"hospital_level.{v}" for v in values(HospitalLevel)]
    expected += [f"relationship.{v}" for v in values(Relationship)]
    expected += [f"patient_document_kind.{v}" for v in values(PatientDocumentKind)]
    expected += [f"sex.{v}" for v in values(Sex)]
    expected += [f"actor.{role}" for role in (*ALL_ROLES, "system")]
    expected += [f"weekday.{day}" for day in range(1, 8)]
    expected += [
        f"end_reason.{reason}"
        for reason in (
            "patient_cancelled",
            "doctor_cancelled",
            "doctor_no_show",
            "completed",
            "patient_no_show",
            "first_visit_unsuitable",
        )
    ]
    for locale in SUPPORTED_LOCALES:
        messages = CATALOGS.messages[locale]
        assert [key for key in expected if key not in messages] == [], locale


def test_the_current_consent_policy_has_its_text_in_both_languages() -> None:
    from medmarket.pages.assets import WebAssets
    from medmarket.patients.service import CURRENT_POLICY_VERSION

    assets = WebAssets(root=WEB, catalogs=CATALOGS, development=True)
    for locale in SUPPORTED_LOCALES:
        path = WEB / "policies" / f"health-data-{CURRENT_POLICY_VERSION}.{locale}.txt"
        assert path.is_file(), path
        policy = assets.policy("health-data", CURRENT_POLICY_VERSION, locale)
        assert policy.version == CURRENT_POLICY_VERSION
        assert policy.title and len(policy.paragraphs) >= 5
    zh = assets.policy("health-data", CURRENT_POLICY_VERSION, "zh-CN")
    assert "同意" in zh.title
    with pytest.raises(FileNotFoundError):
        assets.policy("health-data", "1999-01", "en")
