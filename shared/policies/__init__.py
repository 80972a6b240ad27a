"""Intune policies: the kinds we handle, how Graph shows them, and the inventory."""
