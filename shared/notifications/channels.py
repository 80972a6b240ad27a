"""External channels: email through Graph sendMail, Teams through a Workflows webhook.

A channel either delivers, raises ChannelUnavailable (worth another attempt later:
throttling, no connection: the message surely did not go), ChannelInDoubt (the send
reached the service and its answer was lost or was a 5xx: it may have gone, so it is
never sent again) or raises ChannelRejected (will not work as it is: 4xx).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Protocol
from urllib.parse import quote

import httpx

from shared.errors import AppError, TransientError
from shared.graph import GraphClient, GraphError, GraphOutcomeUnknown
from shared.notifications.content import (
    NotificationContent,
    render_card,
    render_html,
    render_text,
)


class ChannelUnavailable(TransientError):
    """The channel failed in a way that may pass; retried through the queue."""

    code = "channel_unavailable"


class ChannelInDoubt(AppError):
    """The message may have been delivered (a 5xx or a lost answer after sending)."""

    code = "channel_in_doubt"


class ChannelRejected(AppError):
    """The channel refused the message; retrying the same message will not help."""

    code = "channel_rejected"


@dataclass(frozen=True)
class Recipient:
    user_id: str
    name: str
    email: str | None


class ExternalChannel(Protocol):
    def send(self, recipient: Recipient, content: NotificationContent) -> None: ...

    def close(self) -> None: ...


class EmailChannel:
    """sendMail from a configured mailbox in the operator's home tenant, as MIME so the mail
    carries an HTML part and a plain-text alternative."""

    def __init__(self, graph: GraphClient, sender: str) -> None:
        self._graph = graph
        self._sender = sender

    def close(self) -> None:
        self._graph.close()

    def send(self, recipient: Recipient, content: NotificationContent) -> None:
        if not recipient.email:
            raise ChannelRejected("the initiator has no email address")
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = formataddr((recipient.name, recipient.email))
        mail["Subject"] = content.title.replace("\r", " ").replace("\n", " ")
        mail.set_content(render_text(content))
        mail.add_alternative(render_html(content), subtype="html")
        try:
            self._graph.request(
                "POST",
                f"/users/{quote(self._sender, safe='@.')}/sendMail",
                content=base64.b64encode(mail.as_bytes()),
                headers={"Content-Type": "text/plain"},
            )
        except GraphOutcomeUnknown as error:
            # sendMail is not idempotent: a 504 may follow a mail that went out.
            raise ChannelInDoubt(f"sendMail: {error.message}") from None
        except TransientError as error:
            raise ChannelUnavailable(f"sendMail: {error.message}") from None
        except GraphError as error:
            raise ChannelRejected(f"sendMail: {error.message}") from None


class TeamsChannel:
    """A Teams Workflows webhook ("When a Teams webhook request is received")."""

    def __init__(self, webhook_url: str, http: httpx.Client) -> None:
        self._url = webhook_url
        self._http = http

    def close(self) -> None:
        self._http.close()

    def send(self, recipient: Recipient, content: NotificationContent) -> None:
        card = render_card(
            content,
            recipient_upn=recipient.email or recipient.user_id,
            recipient_name=recipient.name,
        )
        # A webhook has no idempotency key, so like sendMail (ADR 0003) it is re-posted only
        # when the card surely did not go: no connection, or 429 (refused before processing).
        # A lost answer or a 5xx may follow a posted card: in doubt, never posted again.
        # The URL carries a signature: never put it in a message.
        try:
            response = self._http.post(self._url, json=card)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ChannelUnavailable(f"Teams webhook: {type(error).__name__}") from None
        except httpx.TransportError as error:
            raise ChannelInDoubt(f"Teams webhook: {type(error).__name__}") from None
        if response.status_code == 429:
            raise ChannelUnavailable("Teams webhook answered 429")
        if response.status_code >= 500:
            raise ChannelInDoubt(f"Teams webhook answered {response.status_code}")
        if response.is_error:
            raise ChannelRejected(f"Teams webhook answered {response.status_code}")
