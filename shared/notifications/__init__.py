"""Initiator notifications: queued and finished, in-app, email and Teams, each exactly once."""
