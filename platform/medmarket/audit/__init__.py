"""Audit: an append-only record of who did what to which record, when, from where."""

from medmarket.audit.service import AuditContext, record

__all__ = ["AuditContext", "record"]
