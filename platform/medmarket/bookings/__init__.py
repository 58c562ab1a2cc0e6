"""Bookings: a patient holds a slot while paying, payment confirms it, and the visit ends
completed, with a no-show, or terminated; cancellations follow the doctor's policy."""
