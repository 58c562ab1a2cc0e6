"""Doctors' documents (licence scans, ID): where they live. What is accepted and how files are
stored is shared with every upload (``medmarket.uploads``).

Files live under ``<data_dir>/documents/<doctor id>/<document id>``. They are served by the
API alone, as attachments, to the doctor, operators and the hospital's admins.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from medmarket.uploads import (
    display_name,
    disposition,
    load,
    read_upload,
    remove,
    require_accepted,
    store,
)

MAX_DOCUMENTS_PER_DOCTOR = 20

__all__ = [
    "MAX_DOCUMENTS_PER_DOCTOR",
    "display_name",
    "disposition",
    "load",
    "path_of",
    "read_upload",
    "remove",
    "require_accepted",
    "store",
]


def path_of(data_path: Path, doctor_id: uuid.UUID, document_id: uuid.UUID) -> Path:
    return data_path / "documents" / str(doctor_id) / str(document_id)
