"""HTTP bodies of the reviews API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec


class ReviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    body: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ReplyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reply: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ReviewOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    doctor_id: uuid.UUID
    # Shown as a masked name (王**): reviews are public, patients are not.
    author: str
    rating: int
    body: str
    created_at: dt.datetime
    reply: str | None
    replied_at: dt.datetime | None


class ReviewPage(msgspec.Struct, kw_only=True):
    reviews: list[ReviewOut]
    next_cursor: str | None


class DoctorReviewSummary(msgspec.Struct, kw_only=True):
    """The signed-in doctor's reviews at a glance."""

    doctor_id: uuid.UUID
    review_count: int
    rating: float | None  # the average; None before the first review
    unanswered: int
