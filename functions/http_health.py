"""GET /api/health: anonymous liveness. Touches nothing (no storage, no Graph)."""

from __future__ import annotations

import azure.functions as func

from functions._routes import route
from shared.api.access import Authorized
from shared.api.present import ApiResponse
from shared.api.response_models import Health

bp = func.Blueprint()


@route(bp, "health")
def health(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return ApiResponse(Health(status="ok"))
