"""The static monitoring page, served by the app itself at /monitoring/ (same origin as the API)."""
