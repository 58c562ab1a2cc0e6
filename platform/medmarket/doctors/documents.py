"""Doctors' documents (licence scans, ID), stored as ``medmarket.files`` under
``<data_dir>/documents/<doctor id>/<document id>`` and served by the API alone, as
attachments, to the doctor, operators and the hospital's admins."""

from __future__ import annotations

import uuid
from pathlib import Path

MAX_DOCUMENTS_PER_DOCTOR = 20


def path_of(data_path: Path, doctor_id: uuid.UUID, document_id: uuid.UUID) -> Path:
    return data_path / "documents" / str(doctor_id) / str(document_id)
