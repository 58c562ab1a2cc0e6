"""Transactional outbox: messages committed with the change that caused them, delivered by
the worker at least once."""

from medmarket.outbox.service import enqueue

__all__ = ["enqueue"]
