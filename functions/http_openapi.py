"""GET /api/openapi.json: the OpenAPI document (anonymous, like health). No storage."""

from __future__ import annotations

import azure.functions as func

from functions._routes import route
from shared.api import openapi
from shared.api.access import Authorized
from shared.api.present import ApiResponse

bp = func.Blueprint()


@route(bp, "openapi")
def openapi_document(req: func.HttpRequest, who: Authorized) -> ApiResponse:
    return ApiResponse(openapi.document())
