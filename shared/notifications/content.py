"""What a notification says, rendered as text, HTML (escaped) and an Adaptive Card.

Every value that came from a request or from Graph (type title aside, all of them) is
escaped for the format it lands in: run inputs, tenant names and failure messages can
hold hostile strings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from shared.notifications.message import NotificationEvent
from shared.runs.model import Run

MAX_FAILURES_SHOWN = 3


@dataclass(frozen=True)
class NotificationContent:
    event: NotificationEvent
    title: str
    summary: str
    facts: tuple[tuple[str, str], ...]
    failures: tuple[str, ...]
    link: str

    @property
    def body(self) -> str:
        """The in-app body: one short paragraph."""
        return self.summary


def _duration(run: Run) -> str | None:
    if run.started_at is None or run.completed_at is None:
        return None
    seconds = int((run.completed_at - run.started_at).total_seconds())
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m {seconds}s" if hours else f"{minutes}m {seconds}s"


def build_content(
    run: Run,
    event: NotificationEvent,
    *,
    type_title: str,
    tenant_name: str,
    link: str,
) -> NotificationContent:
    if event is NotificationEvent.QUEUED:
        # Only what was true when it was queued, even if the run has moved on since.
        title = f"{type_title} queued for {tenant_name}"
        summary = f"Your {type_title} run for {tenant_name} is queued."
        return NotificationContent(event, title, summary, (("Tenant", tenant_name),), (), link)
    outcome = run.outcome.value.replace("_", " ")
    title = f"{type_title} {outcome} for {tenant_name}"
    summary = f"Your {type_title} run for {tenant_name} finished: {outcome}."
    counts = run.summary_counts
    facts: list[tuple[str, str]] = [
        ("Tenant", tenant_name),
        ("Outcome", run.outcome.value),
        (
            "Items",
            ", ".join(
                f"{name} {counts.get(name, 0)}"
                for name in ("total", "succeeded", "failed", "skipped")
            ),
        ),
    ]
    duration = _duration(run)
    if duration:
        facts.append(("Duration", duration))
    failures = tuple(
        f"{f.code}: {f.message}" + (f" ({f.item})" if f.item else "")
        for f in run.failures[:MAX_FAILURES_SHOWN]
    )
    return NotificationContent(event, title, summary, tuple(facts), failures, link)


def render_text(content: NotificationContent) -> str:
    lines = [content.summary, ""]
    lines += [f"{name}: {value}" for name, value in content.facts]
    if content.failures:
        lines += ["", "First failures:"] + [f"- {failure}" for failure in content.failures]
    lines += ["", f"View run: {content.link}"]
    return "\n".join(lines)


def render_html(content: NotificationContent) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><th align='left'>{esc(name)}</th><td>{esc(value)}</td></tr>"
        for name, value in content.facts
    )
    failures = ""
    if content.failures:
        items = "".join(f"<li>{esc(failure)}</li>" for failure in content.failures)
        failures = f"<p>First failures:</p><ul>{items}</ul>"
    return (
        "<!doctype html><html><body>"
        f"<p>{esc(content.summary)}</p><table>{rows}</table>{failures}"
        f'<p><a href="{esc(content.link, quote=True)}">View run</a></p>'
        "</body></html>"
    )


def render_card(
    content: NotificationContent, *, recipient_upn: str, recipient_name: str
) -> dict[str, Any]:
    """A Workflows webhook message: one Adaptive Card that @mentions the initiator. It
    carries counts and a link, never failure text (the channel is shared by all tenants).

    Adaptive Card TextBlocks render a subset of Markdown, so values are put in FactSets
    and plain TextBlocks, and the mention text is the only markup we emit.
    """
    name = _card_text(recipient_name)
    mention = f"<at>{name}</at>"
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": mention, "wrap": True},
        {
            "type": "TextBlock",
            "text": _card_text(content.title),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": _card_text(content.summary), "wrap": True},
        {
            "type": "FactSet",
            "facts": [{"title": _card_text(n), "value": _card_text(v)} for n, v in content.facts],
        },
    ]
    if content.failures:
        # One Teams webhook serves every tenant, and its channel is read by people who may
        # not be members of this one: failure messages (which can quote tenant data) stay
        # behind sign-in on the run page and in the initiator's own email.
        body.append(
            {
                "type": "TextBlock",
                "text": f"{len(content.failures)} failure(s): see the run page for details.",
                "wrap": True,
            }
        )
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "View run", "url": content.link}],
        "msteams": {
            "entities": [
                {
                    "type": "mention",
                    "text": mention,
                    "mentioned": {"id": recipient_upn, "name": name},
                }
            ]
        },
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\*_[]()#`~|"})


def _card_text(value: str) -> str:
    """Neutralise Markdown and mention markup in a value shown on a card."""
    return html.escape(value, quote=False).translate(_MARKDOWN)
