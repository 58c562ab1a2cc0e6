"""DICOM files of a study: read with pydicom (the 128-byte preamble and ``DICM`` required, so
a file that is merely named ``.dcm`` is refused), what the reader needs kept (modality,
study date, body part, size, frames), and the patient's identifying tags removed before the
file is stored: the platform's own record says whose study it is."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pydicom
from pydicom.errors import InvalidDicomError

from medmarket.errors import InvalidInput

MEDIA_TYPE = "application/dicom"
PREAMBLE = 128
# Tags that name or locate the patient (and the people around them); dropped on upload.
IDENTIFYING = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "MedicalRecordLocator",
    "MilitaryRank",
    "EthnicGroup",
    "PatientComments",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "PerformingPhysicianName",
    "OperatorsName",
    "InstitutionAddress",
    "AccessionNumber",
)


@dataclass(frozen=True)
class DicomStudyFile:
    """A DICOM file as stored (without identifying tags) and what was read from it."""

    content: bytes
    modality: str | None
    study_date: dt.date | None
    body_part: str | None
    rows: int | None
    columns: int | None
    frames: int | None


def looks_like_dicom(content: bytes) -> bool:
    return content[PREAMBLE : PREAMBLE + 4] == b"DICM"


def _text(value: object, limit: int) -> str | None:
    text = str(value).strip() if value not in (None, "") else ""
    return text[:limit] or None


def _date(value: object) -> dt.date | None:
    text = str(value or "").strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _positive(value: object) -> int | None:
    try:
        number = int(str(value)) if value not in (None, "") else 0
    except ValueError:
        return None
    return number if number > 0 else None


def read(content: bytes, name: str) -> DicomStudyFile:
    """The file de-identified, with its metadata; refuses (422 naming the file) what is not a
    whole DICOM file."""
    try:
        dataset = pydicom.dcmread(io.BytesIO(content), force=False)
        dataset.remove_private_tags()
        for keyword in IDENTIFYING:
            if keyword in dataset:
                delattr(dataset, keyword)
        dataset.PatientIdentityRemoved = "YES"
        stored = io.BytesIO()
        dataset.save_as(stored, enforce_file_format=True)
    except (
        InvalidDicomError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        EOFError,
        OSError,
        NotImplementedError,
    ) as error:
        raise InvalidInput(
            f"{name} is not a readable DICOM file ({type(error).__name__})",
            field="files",
            code="not-dicom",
            file=name,
        ) from None
    return DicomStudyFile(
        content=stored.getvalue(),
        modality=_text(dataset.get("Modality"), 16),
        study_date=_date(dataset.get("StudyDate")),
        body_part=_text(dataset.get("BodyPartExamined"), 64),
        rows=_positive(dataset.get("Rows")),
        columns=_positive(dataset.get("Columns")),
        frames=_positive(dataset.get("NumberOfFrames")) or (1 if "PixelData" in dataset else None),
    )
