"""Backup sets: immutable snapshots of a tenant's policies with their assignments."""
