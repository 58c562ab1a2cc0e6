"""The credential rules: what the hospital's answers must show for a doctor to practise.

Pure functions over the adapter's answers and the platform's calendar, so the rules can be
tested exhaustively. Each check ends ``passed``, ``failed`` (the hospital's answer shows the
rule is broken) or ``inconclusive`` (the hospital did not answer, or did not say enough);
only a run where every check passed approves a doctor without a person looking at it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec

from medmarket.doctors.schemas import CheckKind, CheckOutcome
from medmarket.hospitals.interface import AffiliationVerification, LicenceVerification

MIN_INDEPENDENT_PRACTICE_YEARS = 3
MAX_EVIDENCE_CHARS = 20_000
CHECK_KINDS: tuple[CheckKind, ...] = (
    "licence_valid",
    "licence_unexpired",
    "practice_years",
    "title",
    "affiliation",
)


class HospitalAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """What one call to the hospital produced: its answer, or why there is none."""

    licence: LicenceVerification | None = None
    affiliation: AffiliationVerification | None = None
    # Set when the call had no answer: "hospital_not_connected" or "hospital_unavailable".
    licence_error: str | None = None
    affiliation_error: str | None = None
    error_detail: dict[str, str] = msgspec.field(default_factory=dict)


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    kind: CheckKind
    outcome: CheckOutcome
    code: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    evidence: dict[str, Any] = msgspec.field(default_factory=dict)


def full_years(start: dt.date, today: dt.date) -> int:
    """Whole years from ``start`` to ``today``; a 29 February start completes its years on
    1 March in common years. Negative when ``start`` is in the future."""
    years = today.year - start.year
    if (today.month, today.day) < (start.month, start.day):
        years -= 1
    return years


def safe_evidence(value: Any) -> dict[str, Any]:
    """A plugin's evidence as JSON the database will store, bounded in size."""
    try:
        builtins = msgspec.to_builtins(value, str_keys=True)
        text = json.dumps(builtins, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        return {"unreadable": f"{type(exc).__name__}: {exc}"[:500]}
    if len(text) > MAX_EVIDENCE_CHARS:
        return {"truncated": True, "preview": text[:MAX_EVIDENCE_CHARS]}
    return builtins if isinstance(builtins, dict) else {"value": builtins}


def _licence_facts(licence: LicenceVerification) -> dict[str, Any]:
    facts = msgspec.to_builtins(licence)
    facts.pop("evidence", None)
    return {"answer": facts, "hospital": safe_evidence(licence.evidence)}


def _unanswered(kind: CheckKind, code: str, answer: HospitalAnswer, which: str) -> CheckResult:
    detail = answer.error_detail.get(which)
    return CheckResult(
        kind=kind,
        outcome="inconclusive",
        code=code,
        evidence={"error": detail} if detail else {},
    )


def licence_checks(answer: HospitalAnswer, claimed_title: str, today: dt.date) -> list[CheckResult]:
    licence = answer.licence
    if licence is None:
        code = answer.licence_error or "hospital_unavailable"
        return [
            _unanswered(kind, code, answer, "licence")
            for kind in ("licence_valid", "licence_unexpired", "practice_years", "title")
        ]
    evidence = _licence_facts(licence)
    if not licence.valid:
        failed = CheckResult(
            kind="licence_valid", outcome="failed", code="licence_not_confirmed", evidence=evidence
        )
        dependent = [
            CheckResult(kind=kind, outcome="inconclusive", code="licence_not_confirmed")
            for kind in ("licence_unexpired", "practice_years", "title")
        ]
        return [failed, *dependent]
    results = [
        CheckResult(
            kind="licence_valid", outcome="passed", code="licence_confirmed", evidence=evidence
        ),
        _expiry(licence, today, evidence),
        _practice(licence, today, evidence),
        _title(licence, claimed_title, evidence),
    ]
    return results


def _expiry(licence: LicenceVerification, today: dt.date, evidence: dict[str, Any]) -> CheckResult:
    expires_on = licence.licence_expires_on
    if expires_on is None:
        return CheckResult(
            kind="licence_unexpired",
            outcome="inconclusive",
            code="licence_expiry_unknown",
            evidence=evidence,
        )
    params = {"expires_on": expires_on.isoformat(), "days_left": (expires_on - today).days}
    if expires_on < today:
        return CheckResult(
            kind="licence_unexpired",
            outcome="failed",
            code="licence_expired",
            params=params,
            evidence=evidence,
        )
    return CheckResult(
        kind="licence_unexpired",
        outcome="passed",
        code="licence_unexpired",
        params=params,
        evidence=evidence,
    )


def _practice(
    licence: LicenceVerification, today: dt.date, evidence: dict[str, Any]
) -> CheckResult:
    started_on = licence.practice_started_on
    if started_on is None:
        return CheckResult(
            kind="practice_years",
            outcome="inconclusive",
            code="practice_start_unknown",
            evidence=evidence,
        )
    years = full_years(started_on, today)
    params = {
        "started_on": started_on.isoformat(),
        "years": years,
        "required": MIN_INDEPENDENT_PRACTICE_YEARS,
    }
    enough = years >= MIN_INDEPENDENT_PRACTICE_YEARS
    return CheckResult(
        kind="practice_years",
        outcome="passed" if enough else "failed",
        code="practice_long_enough" if enough else "practice_too_short",
        params=params,
        evidence=evidence,
    )


def _title(licence: LicenceVerification, claimed: str, evidence: dict[str, Any]) -> CheckResult:
    if licence.title is None:
        return CheckResult(
            kind="title", outcome="inconclusive", code="title_unknown", evidence=evidence
        )
    params = {"claimed": claimed, "confirmed": licence.title}
    same = licence.title == claimed
    return CheckResult(
        kind="title",
        outcome="passed" if same else "failed",
        code="title_confirmed" if same else "title_mismatch",
        params=params,
        evidence=evidence,
    )


def affiliation_check(answer: HospitalAnswer, today: dt.date) -> CheckResult:
    affiliation = answer.affiliation
    if affiliation is None:
        code = answer.affiliation_error or "hospital_unavailable"
        return _unanswered("affiliation", code, answer, "affiliation")
    facts = msgspec.to_builtins(affiliation)
    facts.pop("evidence", None)
    evidence = {"answer": facts, "hospital": safe_evidence(affiliation.evidence)}
    params: dict[str, Any] = {}
    if affiliation.starts_on is not None:
        params["starts_on"] = affiliation.starts_on.isoformat()
    if affiliation.ends_on is not None:
        params["ends_on"] = affiliation.ends_on.isoformat()
    ended = affiliation.ends_on is not None and affiliation.ends_on < today
    if not affiliation.affiliated or ended:
        code = "affiliation_ended" if affiliation.ends_on is not None else "not_affiliated"
        return CheckResult(
            kind="affiliation", outcome="failed", code=code, params=params, evidence=evidence
        )
    if affiliation.starts_on is not None and affiliation.starts_on > today:
        return CheckResult(
            kind="affiliation",
            outcome="failed",
            code="affiliation_not_started",
            params=params,
            evidence=evidence,
        )
    return CheckResult(
        kind="affiliation",
        outcome="passed",
        code="affiliation_confirmed",
        params=params,
        evidence=evidence,
    )


def evaluate(answer: HospitalAnswer, claimed_title: str, today: dt.date) -> list[CheckResult]:
    """Every check, in ``CHECK_KINDS`` order."""
    results = [*licence_checks(answer, claimed_title, today), affiliation_check(answer, today)]
    order = {kind: index for index, kind in enumerate(CHECK_KINDS)}
    return sorted(results, key=lambda result: order[result.kind])


def overall(results: list[CheckResult]) -> CheckOutcome:
    """``passed`` only when every check passed; ``failed`` when any failed."""
    outcomes = {result.outcome for result in results}
    if outcomes == {"passed"}:
        return "passed"
    return "failed" if "failed" in outcomes else "inconclusive"


def not_passed(results: list[CheckResult]) -> list[CheckKind]:
    return [result.kind for result in results if result.outcome != "passed"]
