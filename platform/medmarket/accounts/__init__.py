"""Accounts: sign-up, sign-in, sessions, invitations, and the guard every route passes."""
