"""Authentication failures, in the application's error tree (shared.errors).

AppError
└── Unauthenticated    no usable caller identity (HTTP 401)
"""

from __future__ import annotations

from shared.errors import AppError


class Unauthenticated(AppError):
    """No caller identity, or one that failed validation. The message never echoes a token."""

    code = "unauthenticated"
    http_status = 401
