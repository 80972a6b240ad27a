"""GET /monitoring/: the static monitoring page. Reads files only; no storage, no Graph."""

from __future__ import annotations

import azure.functions as func

from shared.monitoring.static_files import SECURITY_HEADERS, headers_for, lookup

bp = func.Blueprint()


@bp.function_name("monitoring_page")
@bp.route(route="monitoring/{*path}", methods=["GET", "HEAD"], auth_level=func.AuthLevel.ANONYMOUS)
def monitoring_page(req: func.HttpRequest) -> func.HttpResponse:
    path = req.route_params.get("path") or ""
    if not path and not req.url.split("?", 1)[0].endswith("/"):
        # /monitoring -> /monitoring/ so the page's relative asset URLs resolve.
        return func.HttpResponse(
            status_code=301, headers={**SECURITY_HEADERS, "Location": "/monitoring/"}
        )
    file = lookup(path)
    if file is None:
        return func.HttpResponse(
            "Not found", status_code=404, mimetype="text/plain", headers=SECURITY_HEADERS
        )
    headers = headers_for(file)
    if req.headers.get("If-None-Match") == file.etag:
        return func.HttpResponse(status_code=304, headers=headers)
    body = b"" if req.method == "HEAD" else file.body
    return func.HttpResponse(
        body, status_code=200, headers={**headers, "Content-Type": file.content_type}
    )
