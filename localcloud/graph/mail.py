"""POST /users/{id|upn}/sendMail: validate like Exchange, record, answer 202."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
from typing import Any

from localcloud.directory import Directory
from localcloud.graph.auth import Principal
from localcloud.graph.errors import bad_request, forbidden, not_found
from localcloud.records import Records
from localcloud.wire import Request, Response, empty


def _recipients_valid(message: dict[str, Any]) -> bool:
    recipients = [
        *(message.get("toRecipients") or []),
        *(message.get("ccRecipients") or []),
        *(message.get("bccRecipients") or []),
    ]
    if not recipients:
        return False
    for recipient in recipients:
        address = (
            (recipient.get("emailAddress") or {}).get("address")
            if isinstance(recipient, dict)
            else None
        )
        if not isinstance(address, str) or "@" not in address:
            return False
    return True


def _message_from_mime(raw: bytes) -> dict[str, Any] | None:
    """Parse a MIME sendMail body into the JSON message shape we record (plus the parts)."""
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    parsed = email.message_from_bytes(decoded, policy=email.policy.default)
    recipients = [
        {"emailAddress": {"address": address.addr_spec, "name": address.display_name}}
        for header in ("To",)
        for address in getattr(parsed.get(header), "addresses", ())
    ]
    parts = {
        part.get_content_type(): part.get_content()
        for part in parsed.walk()
        if part.get_content_maintype() == "text"
    }
    html = parts.get("text/html")
    return {
        "subject": str(parsed.get("Subject", "")),
        "toRecipients": recipients,
        "body": {
            "contentType": "html" if html else "text",
            "content": html or parts.get("text/plain", ""),
        },
        "mimeParts": parts,
    }


def send_mail(
    directory: Directory, records: Records, principal: Principal, request: Request, user_ref: str
) -> Response:
    if not principal.has_any("Mail.Send"):
        return forbidden()
    user = directory.user(user_ref, principal.tenant)
    if user is None or user.key == user_ref.lower():  # keys are ours, not Graph ids
        return not_found(f"The requested user '{user_ref}' is invalid.", code="ErrorInvalidUser")
    if not principal.is_app and principal.claims.get("oid") != user.oid:
        return forbidden()  # delegated Mail.Send sends only as the signed-in user
    if request.headers.get("content-type", "").startswith("text/plain"):
        # Graph's MIME form: the body is a base64-encoded RFC 822 message.
        mime = _message_from_mime(request.body)
        if mime is None:
            return bad_request(
                "Invalid base64 string for MIME content.",
                code="ErrorMimeContentInvalidBase64String",
            )
        body: Any = {"message": mime, "saveToSentItems": True}
    else:
        try:
            body = request.json()
        except ValueError:
            return bad_request("Unable to read JSON request payload.", code="ErrorInvalidRequest")
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        return bad_request("Property 'message' is required.", code="ErrorInvalidRequest")
    if not _recipients_valid(message):
        return bad_request(
            "At least one recipient is not valid., A message can't be sent because it "
            "contains no recipients.",
            code="ErrorInvalidRecipients",
        )
    save = body.get("saveToSentItems", True)
    records.mail(principal.tenant.tenant_id, user_ref, message, bool(save))
    return empty(202)
