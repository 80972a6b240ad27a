"""GET /api/openapi.json: the OpenAPI document (anonymous, like health). No storage."""

from __future__ import annotations

import azure.functions as func

from functions._http import api_endpoint
from shared.api import openapi
from shared.api.present import ApiResponse

bp = func.Blueprint()


@bp.function_name("api_openapi")
@bp.route(route="api/openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@api_endpoint
def openapi_document(req: func.HttpRequest) -> ApiResponse:
    return ApiResponse(openapi.document())
