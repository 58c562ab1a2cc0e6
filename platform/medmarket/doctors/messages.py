"""What the onboarding's codes (check results, automatic reasons) say, in zh-CN and en.

Records keep the stable code and its parameters; words are made when someone reads them,
in the reader's language, so a record never has to be rewritten to be translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_LOCALE = "zh-CN"

CATALOG: dict[str, dict[str, str]] = {
    # -- checks ----------------------------------------------------------------------------
    "licence_confirmed": {
        "zh-CN": "医院确认执业证书有效，姓名一致。",
        "en": "The hospital confirmed the licence and the name.",
    },
    "licence_not_confirmed": {
        "zh-CN": "医院未能确认该执业证书（证书号未知、姓名不符或已注销）。",
        "en": "The hospital could not confirm this licence (unknown number, name mismatch "
        "or revoked).",
    },
    "licence_unexpired": {
        "zh-CN": "执业证书有效期至 {expires_on}。",
        "en": "The licence is valid until {expires_on}.",
    },
    "licence_expired": {
        "zh-CN": "执业证书已于 {expires_on} 过期。",
        "en": "The licence expired on {expires_on}.",
    },
    "licence_expiry_unknown": {
        "zh-CN": "医院未提供执业证书的有效期。",
        "en": "The hospital did not say when the licence expires.",
    },
    "practice_long_enough": {
        "zh-CN": "自 {started_on} 起独立执业，已满 {years} 年。",
        "en": "Independent practice since {started_on}: {years} years.",
    },
    "practice_too_short": {
        "zh-CN": "自 {started_on} 起独立执业仅 {years} 年，需满 {required} 年。",
        "en": "Independent practice since {started_on} is only {years} years; {required} are "
        "required.",
    },
    "practice_start_unknown": {
        "zh-CN": "医院未提供独立执业的起始日期。",
        "en": "The hospital did not say when independent practice began.",
    },
    "title_confirmed": {
        "zh-CN": "医院确认职称为 {confirmed}。",
        "en": "The hospital confirmed the title {confirmed}.",
    },
    "title_mismatch": {
        "zh-CN": "申请职称为 {claimed}，医院记录为 {confirmed}。",
        "en": "The application says {claimed}; the hospital's record says {confirmed}.",
    },
    "title_unknown": {
        "zh-CN": "医院未提供职称。",
        "en": "The hospital did not report a title.",
    },
    "affiliation_confirmed": {
        "zh-CN": "医院确认该医生在本院执业。",
        "en": "The hospital confirmed the affiliation.",
    },
    "not_affiliated": {
        "zh-CN": "医院没有该医生在本院执业的记录。",
        "en": "The hospital has no affiliation on record for this doctor.",
    },
    "affiliation_ended": {
        "zh-CN": "该医生与本院的执业关系已于 {ends_on} 结束。",
        "en": "The affiliation with the hospital ended on {ends_on}.",
    },
    "affiliation_not_started": {
        "zh-CN": "该医生与本院的执业关系自 {starts_on} 起才生效。",
        "en": "The affiliation with the hospital only begins on {starts_on}.",
    },
    "hospital_not_connected": {
        "zh-CN": "该医院尚未接入系统，无法自动核验。",
        "en": "The hospital has not connected its systems, so nothing could be checked "
        "automatically.",
    },
    "hospital_unavailable": {
        "zh-CN": "医院系统暂时无法应答，未能核验。",
        "en": "The hospital's systems did not answer, so this could not be checked.",
    },
    # -- automatic reasons -----------------------------------------------------------------
    "application_saved": {"zh-CN": "申请已创建。", "en": "Application created."},
    "application_submitted": {"zh-CN": "申请已提交。", "en": "Application submitted."},
    "verification_started": {
        "zh-CN": "正在向医院核验资质。",
        "en": "Checking credentials with the hospital.",
    },
    "all_checks_passed": {
        "zh-CN": "所有资质核验均已通过。",
        "en": "Every credential check passed.",
    },
    "checks_need_review": {
        "zh-CN": "部分核验未能通过或无法完成（{kinds}），需人工审核。",
        "en": "Some checks did not pass or could not be completed ({kinds}); an operator "
        "will review the application.",
    },
    "application_reopened": {
        "zh-CN": "医生重新修改申请。",
        "en": "The doctor is revising the application.",
    },
    "licence_invalid": {
        "zh-CN": "医院不再确认该执业证书，已自动暂停接诊。",
        "en": "The hospital no longer confirms the licence; consultations are suspended.",
    },
    "operator_decision": {"zh-CN": "运营人员的决定。", "en": "An operator's decision."},
    "recheck_requested": {
        "zh-CN": "运营人员要求重新核验。",
        "en": "An operator asked for the checks to run again.",
    },
    "affiliation_ended_by_hospital": {
        "zh-CN": "医院结束了该医生的执业关系。",
        "en": "The hospital ended the doctor's affiliation.",
    },
    "licence_expiring": {
        "zh-CN": "执业证书将于 {expires_on} 过期（剩余 {days_left} 天），请及时更新。",
        "en": "The licence expires on {expires_on} ({days_left} days left); please renew it.",
    },
}

KIND_NAMES: dict[str, dict[str, str]] = {
    "licence_valid": {"zh-CN": "执业证书", "en": "licence"},
    "licence_unexpired": {"zh-CN": "证书有效期", "en": "licence expiry"},
    "affiliation": {"zh-CN": "执业医院", "en": "affiliation"},
    "practice_years": {"zh-CN": "执业年限", "en": "years of practice"},
    "title": {"zh-CN": "职称", "en": "title"},
}


def render(code: str, params: Mapping[str, Any] | None = None, locale: str | None = None) -> str:
    """``code`` in words, in ``locale`` (zh-CN when unknown); the code itself if unknown."""
    texts = CATALOG.get(code)
    if texts is None:
        return code
    text = texts.get(locale or DEFAULT_LOCALE) or texts[DEFAULT_LOCALE]
    values = {key: _localized(key, value, locale) for key, value in (params or {}).items()}
    try:
        return text.format(**values)
    except (KeyError, IndexError):
        return text


def _localized(key: str, value: Any, locale: str | None) -> Any:
    if key == "kinds" and isinstance(value, list):
        names = [
            KIND_NAMES.get(str(kind), {}).get(locale or DEFAULT_LOCALE, str(kind)) for kind in value
        ]
        return "、".join(names) if (locale or DEFAULT_LOCALE) == "zh-CN" else ", ".join(names)
    return value
