"""Restoring policies from a backup set into a tenant, once per backup item."""
