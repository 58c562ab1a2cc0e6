"""What the safety rules found, as the doctor must answer it: an error blocks the prescription
(422 listing every finding); a warning needs the doctor's stated reason, given in the
request's ``reasons`` under the warning's key (``rule/field``, or ``rule`` alone for all of
that rule's warnings), and is kept with the prescription; info is kept and asks nothing.
A reason that answers no warning is refused too, so the record never holds a reason for
something that was not said."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from medmarket.errors import FieldError, InvalidInput
from medmarket.prescriptions.document import PrescriptionFinding
from medmarket.prescriptions.model import Finding


class PrescriptionRefused(InvalidInput):
    """A safety rule found an error: nothing was written. ``errors`` names each error's
    field; ``findings`` lists everything the rules found, errors first."""

    slug, title = "prescription-refused", "The prescription breaks a safety rule"


class ReasonsRequired(InvalidInput):
    """Warnings without the doctor's reason (``errors``: ``reasons.<key>``, code
    ``reason-required``), or reasons for warnings there are not (``no-such-warning``);
    ``findings`` lists everything the rules found."""

    slug, title = "reasons-required", "Give a reason for each warning"


def reason_key(finding: Finding) -> str:
    """The key a reason for this finding is given under: ``rule/field``, or ``rule`` for a
    finding about the whole prescription."""
    return f"{finding.rule}/{finding.field}" if finding.field else finding.rule


def _listed(findings: Sequence[Finding]) -> list[object]:
    return [msgspec.to_builtins(finding) for finding in findings]


def refuse_errors(findings: Sequence[Finding]) -> None:
    """Raise PrescriptionRefused if any finding is an error."""
    errors = [finding for finding in findings if finding.severity == "error"]
    if not errors:
        return
    raise PrescriptionRefused(
        "; ".join(f"{finding.rule}: {finding.message_en}" for finding in errors),
        errors=[
            FieldError(field=finding.field or "body", message=finding.message_en, code=finding.rule)
            for finding in errors
        ],
        findings=_listed(findings),
    )


def explained(
    findings: Sequence[Finding], reasons: Mapping[str, str]
) -> tuple[PrescriptionFinding, ...]:
    """The findings (no errors among them) as they are kept, each warning with its reason:
    ``reasons[rule/field]``, else ``reasons[rule]``. Raises ReasonsRequired naming every
    warning without a reason and every reason without a warning."""
    # A blank reason is no reason: its warning is named as missing one.
    given = {key: text.strip() for key, text in reasons.items() if text.strip()}
    used: set[str] = set()
    kept: list[PrescriptionFinding] = []
    missing: list[FieldError] = []
    for finding in findings:
        reason = None
        if finding.severity == "warning":
            key = next((k for k in (reason_key(finding), finding.rule) if given.get(k)), None)
            if key is None:
                missing.append(
                    FieldError(
                        field=f"reasons.{reason_key(finding)}",
                        message=f"say why you prescribe despite this: {finding.message_en}",
                        code="reason-required",
                    )
                )
                continue
            used.add(key)
            reason = given[key]
        kept.append(
            PrescriptionFinding(
                rule=finding.rule,
                severity=finding.severity,
                message_zh=finding.message_zh,
                message_en=finding.message_en,
                item=finding.item,
                field=finding.field,
                reason=reason,
            )
        )
    unanswered = [
        FieldError(
            field=f"reasons.{key}",
            message="no warning of this prescription has this key: remove the reason",
            code="no-such-warning",
        )
        for key in sorted(set(given) - used)
    ]
    if missing or unanswered:
        raise ReasonsRequired(
            "; ".join(f"{error.field}: {error.message}" for error in missing + unanswered),
            errors=missing + unanswered,
            findings=_listed(findings),
        )
    return tuple(kept)
