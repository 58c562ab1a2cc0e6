"""Writing, replying to and reading reviews."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from medmarket import audit
from medmarket.accounts.service import Principal
from medmarket.audit import AuditContext
from medmarket.db import Database, fetch_one
from medmarket.errors import Conflict, InvalidInput, NotFound
from medmarket.reviews.schemas import (
    DoctorReviewSummary,
    ReplyIn,
    ReviewIn,
    ReviewOut,
    ReviewPage,
)

_SELECT = """
    SELECT r.id, r.doctor_id, p.real_name AS author, r.rating, r.body, r.created_at,
           r.reply, r.replied_at
      FROM reviews r
      JOIN bookings b ON b.id = r.booking_id
      JOIN patients p ON p.id = b.patient_id
"""


def masked(name: str) -> str:
    compact = name.replace(" ", "")
    return compact[:1] + "*" * max(1, len(compact) - 1)


def review_out(row: asyncpg.Record) -> ReviewOut:
    values = dict(row)
    values["author"] = masked(values["author"])
    return ReviewOut(**values)


class Reviews:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(
        self, principal: Principal, booking_id: uuid.UUID, review: ReviewIn, context: AuditContext
    ) -> ReviewOut:
        """Only the account that booked a visit, and only once the visit is completed."""
        async with self.db.transaction() as connection:
            booking = await connection.fetchrow(
                "SELECT id, doctor_id, status FROM bookings WHERE id = $1 AND booked_by = $2",
                booking_id,
                principal.user_id,
            )
            if booking is None:
                raise NotFound("no such booking")
            if booking["status"] != "completed":
                raise Conflict("a visit can be reviewed once it is completed", field="booking_id")
            try:
                async with connection.transaction():
                    review_id = await connection.fetchval(
                        "INSERT INTO reviews (booking_id, doctor_id, author_id, rating, body) "
                        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        booking_id,
                        booking["doctor_id"],
                        principal.user_id,
                        review.rating,
                        review.body.strip(),
                    )
            except asyncpg.UniqueViolationError:
                raise Conflict("this visit has already been reviewed", field="booking_id") from None
            await audit.record(
                connection,
                context,
                "review.written",
                "review",
                review_id,
                detail={"booking_id": str(booking_id), "rating": review.rating},
            )
            row = await fetch_one(connection, _SELECT + " WHERE r.id = $1", review_id)
        return review_out(row)

    async def reply(
        self, principal: Principal, review_id: uuid.UUID, reply: ReplyIn, context: AuditContext
    ) -> ReviewOut:
        """The doctor of the reviewed visit answers it, once; anyone else is told it does not
        exist."""
        text = reply.reply.strip()
        if not text:
            raise InvalidInput("write a reply", field="reply")
        async with self.db.transaction() as connection:
            review = await connection.fetchrow(
                """
                SELECT r.reply FROM reviews r JOIN doctors d ON d.id = r.doctor_id
                 WHERE r.id = $1 AND d.user_id = $2
                   FOR UPDATE OF r
                """,
                review_id,
                principal.user_id,
            )
            if review is None:
                raise NotFound("no such review")
            if review["reply"] is not None:
                # One public answer per review: what patients read is never rewritten.
                raise Conflict(
                    "you have replied to this review already", field="reply", code="replied"
                )
            await connection.execute(
                "UPDATE reviews SET reply = $2, replied_at = now() WHERE id = $1", review_id, text
            )
            await audit.record(connection, context, "review.replied", "review", review_id)
            row = await fetch_one(connection, _SELECT + " WHERE r.id = $1", review_id)
        return review_out(row)

    async def summary_of_own(self, principal: Principal) -> DoctorReviewSummary | None:
        """The signed-in doctor's count, average and unanswered reviews; None for an account
        that has no doctor's profile yet."""
        row = await self.db.fetchrow(
            """
            SELECT d.id AS doctor_id, d.review_count,
                   CASE WHEN d.review_count > 0
                        THEN round(d.rating_sum::numeric / d.review_count, 2)::float8 END AS rating,
                   (SELECT count(*) FROM reviews r
                     WHERE r.doctor_id = d.id AND r.reply IS NULL) AS unanswered
              FROM doctors d WHERE d.user_id = $1
            """,
            principal.user_id,
        )
        return DoctorReviewSummary(**dict(row)) if row else None

    async def of_booking(self, booking_id: uuid.UUID) -> ReviewOut | None:
        """The review of one visit, if it has one (for the page of that visit)."""
        row = await self.db.fetchrow(_SELECT + " WHERE r.booking_id = $1", booking_id)
        return review_out(row) if row else None

    async def of_doctor(
        self,
        doctor_id: uuid.UUID,
        before: dt.datetime | None,
        limit: int,
        *,
        unanswered: bool = False,
    ) -> ReviewPage:
        """Newest first; ``unanswered``: only those the doctor has not replied to yet."""
        rows = await self.db.fetch(
            _SELECT + " WHERE r.doctor_id = $1 AND ($2::timestamptz IS NULL OR r.created_at < $2)"
            " AND (NOT $4 OR r.reply IS NULL)"
            " ORDER BY r.created_at DESC, r.id DESC LIMIT $3",
            doctor_id,
            before,
            limit + 1,
            unanswered,
        )
        page = [review_out(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ReviewPage(
            reviews=page, next_cursor=page[-1].created_at.isoformat() if more and page else None
        )
