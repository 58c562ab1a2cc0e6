"""Payments: attempts at a gateway, refunds, webhooks and reconciliation.

Other domains pay through a registered purpose (``purposes.py``) and refund through
``refunds.py``; the gateway contract for plugins is ``interface.py``.
"""
