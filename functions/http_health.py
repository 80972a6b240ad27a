"""GET /api/health: anonymous liveness. Touches nothing (no storage, no Graph)."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_endpoint
from shared.api.present import ApiResponse

bp = func.Blueprint()


@bp.function_name("api_health")
@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@api_endpoint
def health(req: func.HttpRequest) -> ApiResponse:
    return ApiResponse({"status": "ok"})
