"""Reviews come only from a completed visit, once, and are answered by their doctor once; the
rating always equals the reviews."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from medmarket.tests.support.fixtures import client_for
from medmarket.tests.support.seed import (
    Doctor,
    Patient,
    approved_doctor,
    complete_visit,
    expect,
    free_slots,
    hold,
    pay,
    ready_patient,
)


async def visit(app: Litestar, doctor: Doctor, patient: Patient, *, complete: bool) -> str:
    async with client_for(app) as http:
        slot = (await free_slots(http, doctor.id))[-1]
        booking = await hold(http, patient, slot["id"])
        await pay(app, patient, booking["id"])
        if complete:
            await complete_visit(app, patient, doctor, booking["id"])
    return str(booking["id"])


async def test_only_a_completed_visit_can_be_reviewed_once_by_its_patient(app: Litestar) -> None:
    doctor = await approved_doctor(app, publish_days=2)
    patient, stranger = await ready_patient(app), await ready_patient(app)
    upcoming = await visit(app, doctor, patient, complete=False)
    async with client_for(app) as http:
        early = await http.post(
            f"/api/bookings/{upcoming}/review", headers=patient.headers, json={"rating": 5}
        )
        assert early.status_code == 409
    done = await visit(app, doctor, patient, complete=False)
    await app.state.services.db.execute(
        "UPDATE bookings SET status = 'cancelled' WHERE id = $1", uuid.UUID(upcoming)
    )
    await complete_visit(app, patient, doctor, done)
    async with client_for(app) as http:
        not_theirs = await http.post(
            f"/api/bookings/{done}/review", headers=stranger.headers, json={"rating": 1}
        )
        assert not_theirs.status_code == 404
        bad = await http.post(
            f"/api/bookings/{done}/review", headers=patient.headers, json={"rating": 6}
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rating"
        review = await expect(
            http.post(
                f"/api/bookings/{done}/review",
                headers=patient.headers,
                json={"rating": 4, "body": "很耐心"},
            ),
            201,
        )
        assert review["author"] == "王**" and review["rating"] == 4
        twice = await http.post(
            f"/api/bookings/{done}/review", headers=patient.headers, json={"rating": 5}
        )
        assert twice.status_code == 409
        page = await expect(http.get(f"/api/doctors/{doctor.id}"))
        assert page["doctor"]["rating"] == 4.0 and page["doctor"]["review_count"] == 1
        other_doctor = await approved_doctor(app, publish_days=2)
        refused = await http.post(
            f"/api/doctor/reviews/{review['id']}/reply",
            headers=other_doctor.headers,
            json={"reply": "谢谢"},
        )
        assert refused.status_code == 404
        replied = await expect(
            http.post(
                f"/api/doctor/reviews/{review['id']}/reply",
                headers=doctor.headers,
                json={"reply": "祝早日康复"},
            )
        )
        assert replied["reply"] == "祝早日康复"
        again = await http.post(
            f"/api/doctor/reviews/{review['id']}/reply",
            headers=doctor.headers,
            json={"reply": "改一下"},
        )
        assert again.status_code == 409
        assert again.json()["errors"][0] == {
            "field": "reply",
            "message": "you have replied to this review already",
            "code": "replied",
        }
        listed = await expect(http.get(f"/api/doctors/{doctor.id}/reviews"))
        assert [r["id"] for r in listed["reviews"]] == [review["id"]]


@pytest.fixture(scope="module")
async def completed_visit(app: Litestar) -> tuple[uuid.UUID, uuid.UUID]:
    """A doctor with one completed visit: (doctor id, booking id)."""
    doctor = await approved_doctor(app, publish_days=2)
    patient = await ready_patient(app)
    booking_id = await visit(app, doctor, patient, complete=True)
    return uuid.UUID(doctor.id), uuid.UUID(booking_id)


operations = st.lists(
    st.tuples(
        st.sampled_from(["insert", "update", "delete"]), st.integers(0, 5), st.integers(1, 5)
    ),
    min_size=1,
    max_size=25,
)

_COPY_BOOKING = """
    INSERT INTO bookings (slot_id, doctor_id, patient_id, booked_by, kind, during, status,
           price_fen, free_cancel_hours, late_cancel_refund_percent, prior_institution,
           prior_diagnosed_on, prior_diagnosis, consent_id)
    SELECT slot_id, doctor_id, patient_id, booked_by, kind,
           tstzrange(now() - make_interval(days => $2), now() - make_interval(days => $2)
                     + interval '1 minute'), 'completed', price_fen, 1, 1, prior_institution,
           prior_diagnosed_on, prior_diagnosis, consent_id
      FROM bookings WHERE id = $1
    RETURNING id, booked_by
"""


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
async def test_the_rating_always_equals_the_reviews(
    app: Litestar, completed_visit: tuple[uuid.UUID, uuid.UUID], ops: list[tuple[str, int, int]]
) -> None:
    """Random sequences of writes, edits and removals straight against the database (rolled
    back afterwards): the trigger keeps the aggregate exact whatever the application does."""
    doctor_id, template = completed_visit
    async with app.state.services.db.connection() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            reviews: list[uuid.UUID] = []
            for step, (action, index, rating) in enumerate(ops):
                if action == "insert" or not reviews:
                    booking = await connection.fetchrow(_COPY_BOOKING, template, step + 2)
                    reviews.append(
                        await connection.fetchval(
                            "INSERT INTO reviews (booking_id, doctor_id, author_id, rating) "
                            "VALUES ($1, $2, $3, $4) RETURNING id",
                            booking["id"],
                            doctor_id,
                            booking["booked_by"],
                            rating,
                        )
                    )
                elif action == "update":
                    await connection.execute(
                        "UPDATE reviews SET rating = $2 WHERE id = $1",
                        reviews[index % len(reviews)],
                        rating,
                    )
                else:
                    await connection.execute(
                        "DELETE FROM reviews WHERE id = $1", reviews.pop(index % len(reviews))
                    )
                aggregate = await connection.fetchrow(
                    "SELECT review_count, rating_sum FROM doctors WHERE id = $1", doctor_id
                )
                actual = await connection.fetchrow(
                    "SELECT count(*) AS n, coalesce(sum(rating), 0) AS total FROM reviews "
                    "WHERE doctor_id = $1",
                    doctor_id,
                )
                assert (aggregate["review_count"], aggregate["rating_sum"]) == (
                    actual["n"],
                    actual["total"],
                )
        finally:
            await transaction.rollback()
