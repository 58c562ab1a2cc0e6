"""Reviews: one per completed visit, by the patient who booked it; the doctor may reply.
The doctor's rating is kept equal to the reviews by a database trigger."""
