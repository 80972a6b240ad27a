"""Telemetry: off without App Insights; spans and logs never carry a token or secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from azure.identity import DefaultAzureCredential
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.config import Settings
from shared.graph.client import GraphClient
from shared.graph.credentials import GraphCredentials
from shared.graph.errors import GraphError
from shared.graph.retry import RetryPolicy
from shared.runs.model import Initiator, Run, RunOutcome, RunStatus
from shared.telemetry import RedactingFilter, RunLogContextFilter, redact, run_log_context, spans
from shared.telemetry import config as telemetry_config
from shared.telemetry import runs as run_metrics

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJlLXNlY3JldA"  # noqa: S105 - a fake JWT
SKIP_TOKEN = "SKIPTOKEN-7f3a9"  # noqa: S105 - a test value
CLIENT_SECRET = "graph-client-secret-value"  # noqa: S105 - a test value


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.setattr(spans, "tracer", provider.get_tracer("test"))
    yield memory
    provider.shutdown()


def _everything_in(span: Any) -> str:
    parts = [span.name, repr(dict(span.attributes or {})), str(span.status.description)]
    parts += [f"{e.name} {dict(e.attributes or {})}" for e in span.events]
    return " ".join(parts)


def _client(handler: Any) -> GraphClient:
    credentials = GraphCredentials(
        tenant_id="3f2c6d0e-8a41-4b7e-9c15-0d6e2a7b4c11",
        client_id="c4e8a2f1-6b3d-4e5a-9f70-2d1c8b7a6e33",
        client_secret=CLIENT_SECRET,
    )
    return GraphClient.delegated(
        credentials,
        TOKEN,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=2),
        sleep=lambda _: None,
    )


def test_telemetry_stays_off_without_a_connection_string() -> None:
    settings = Settings(APPLICATIONINSIGHTS_CONNECTION_STRING="")  # type: ignore[call-arg]
    assert telemetry_config.azure_monitor_options(settings) is None


def test_options_with_entra_ingestion() -> None:
    settings = Settings(
        APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000000",
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING="Authorization=AAD",
    )  # type: ignore[call-arg]
    options = telemetry_config.azure_monitor_options(settings)
    assert options is not None
    assert isinstance(options["credential"], DefaultAzureCredential)
    assert options["instrumentation_options"]["httpx"] == {"enabled": False}
    assert options["logger_name"] == "shared"


def test_graph_spans_carry_paths_and_statuses_never_tokens(
    exporter: InMemorySpanExporter,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        if "fail" in request.url.path:
            # A hostile error body that echoes the token back.
            return httpx.Response(401, json={"error": {"code": "x", "message": TOKEN}})
        return httpx.Response(200, json={"value": []})

    with _client(handler) as client:
        client.request("GET", f"/groups?$skiptoken={SKIP_TOKEN}&$search=secretterm")
        with pytest.raises(GraphError):
            client.request("GET", "/fail")

    finished = exporter.get_finished_spans()
    assert [s.name for s in finished] == ["Graph GET /v1.0/groups", "Graph GET /v1.0/fail"]
    assert finished[0].attributes["http.response.status_code"] == 200
    assert finished[1].attributes["http.response.status_code"] == 401
    for span in finished:
        text = _everything_in(span)
        for secret in (TOKEN, SKIP_TOKEN, "secretterm", CLIENT_SECRET, "Bearer"):
            assert secret not in text


def test_transport_failures_mark_the_span_without_the_message(
    exporter: InMemorySpanExporter,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"boom {TOKEN}")

    with _client(handler) as client, pytest.raises(GraphError):
        client.request("GET", "/groups")
    finished = exporter.get_finished_spans()
    assert len(finished) == 2  # one per attempt
    assert all(s.attributes["error.type"] == "ConnectError" for s in finished)
    assert all(TOKEN not in _everything_in(s) for s in finished)


@pytest.mark.parametrize(
    "leaky",
    [
        f"Authorization: Bearer {TOKEN}",
        f"token {TOKEN} rejected",
        f"client_secret={CLIENT_SECRET}&grant_type=client_credentials",
        f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={CLIENT_SECRET};",
        f"https://a.blob.core.windows.net/c/b?sv=2024&sig={CLIENT_SECRET}",
        f"-----BEGIN PRIVATE KEY-----\n{CLIENT_SECRET}\n-----END PRIVATE KEY-----",
    ],
)
def test_redaction(leaky: str) -> None:
    cleaned = redact(leaky)
    assert TOKEN not in cleaned and CLIENT_SECRET not in cleaned
    assert "[redacted]" in cleaned


def test_log_records_get_run_context_and_lose_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RunLogContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        logging.Formatter("%(message)s|%(run_id)s|%(tenant_id)s|%(type)s|%(dequeue_count)s|%(x)s")
    )
    logger = logging.getLogger("shared.test_telemetry")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    body = '{"v":1,"run_id":"01JABC","tenant_id":"t-1","type":"policy.sync"}'
    try:
        with run_log_context(body, 3):
            logger.info("calling with Bearer %s", TOKEN, extra={"x": f"secret={CLIENT_SECRET}"})
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue().strip()
    assert TOKEN not in line and CLIENT_SECRET not in line
    assert line.endswith("|01JABC|t-1|policy.sync|3|secret=[redacted]")


def test_run_metrics_count_and_hand_on(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded: list[tuple[str, float, dict[str, str]]] = []

    class Fake:
        def __init__(self, name: str) -> None:
            self.name = name

        def add(self, value: float, attributes: dict[str, str]) -> None:
            recorded.append((self.name, value, attributes))

        record = add

    monkeypatch.setattr(run_metrics, "runs_started", Fake("started"))
    monkeypatch.setattr(run_metrics, "runs_finished", Fake("finished"))
    monkeypatch.setattr(run_metrics, "run_duration", Fake("duration"))
    seen: list[str] = []

    class Inner:
        def run_queued(self, run: Run) -> None:
            seen.append("queued")

        def run_finished(self, run: Run) -> None:
            seen.append("finished")

    created = datetime(2026, 1, 1, tzinfo=UTC)
    run = Run(
        id="01JABCDEFGHJKMNPQRSTVWXYZ0",
        tenant_id="t",
        type="policy.sync",
        status=RunStatus.COMPLETED,
        outcome=RunOutcome.SUCCEEDED,
        initiator=Initiator(id="u", name="U"),
        inputs={},
        identity_hash="h",
        created_at=created,
        updated_at=created,
        completed_at=created.replace(minute=2),
    )
    events = run_metrics.RunMetricsEvents(Inner())
    events.run_queued(run)
    events.run_finished(run)
    assert seen == ["queued", "finished"]
    assert recorded == [
        ("started", 1, {"run.type": "policy.sync"}),
        ("finished", 1, {"run.type": "policy.sync", "run.outcome": "succeeded"}),
        ("duration", 120.0, {"run.type": "policy.sync", "run.outcome": "succeeded"}),
    ]
