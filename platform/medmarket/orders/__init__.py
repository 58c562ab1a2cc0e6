"""Pharmacy orders: an approved prescription filled by a pharmacy, delivered or collected."""
