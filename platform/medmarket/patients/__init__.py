"""Patients: the people who receive care, the accounts that book for them, their consent to
the processing of health data, and their health profile."""
