"""A Teams Workflows webhook sink: POST /teams/webhooks/{name} with an Adaptive Card."""

from __future__ import annotations

from typing import Any

from localcloud.records import Records
from localcloud.wire import Request, Response, empty, json_response

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_BYTES = 28 * 1024  # Teams rejects messages above about 28 KB


def _problem(body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("type") != "message":
        return "The body must be an object with type 'message'."
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return "The message needs at least one attachment."
    for attachment in attachments:
        if not isinstance(attachment, dict) or attachment.get("contentType") != CARD_CONTENT_TYPE:
            return f"Each attachment needs contentType '{CARD_CONTENT_TYPE}'."
        content = attachment.get("content")
        if not isinstance(content, dict) or content.get("type") != "AdaptiveCard":
            return "Each attachment's content must be an AdaptiveCard."
        if not isinstance(content.get("body"), list):
            return "The AdaptiveCard needs a body list."
    return None


def _bad(message: str, status: int = 400) -> Response:
    return json_response(status, {"error": {"code": "InvalidRequestContent", "message": message}})


def receive(records: Records, request: Request, webhook: str) -> Response:
    if request.method != "POST":
        return _bad("Only POST is supported.", 405)
    if len(request.body) > MAX_BYTES:
        return _bad("The message is larger than 28 KB.", 413)
    try:
        body = request.json()
    except ValueError:
        return _bad("The request body is not valid JSON.")
    problem = _problem(body)
    if problem:
        return _bad(problem)
    records.teams(webhook, body)
    # Workflows answers 202 at once: posting to the channel happens later.
    return empty(202)
