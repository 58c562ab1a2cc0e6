"""Doctors: applications, documents, credential checks through the hospital's adapter,
operators' decisions, and the daily re-verification that keeps only qualified doctors
listed."""
