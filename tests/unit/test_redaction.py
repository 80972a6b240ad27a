"""One redaction for every way text leaves the process: a corpus of secret shapes, none of
which survives a run failure message, an API error body, a log record (message, args,
extras, traceback) or a span; and ordinary text that passes through all of them unchanged.
"""

from __future__ import annotations

import io
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from shared.api.present import error_body
from shared.errors import AppError
from shared.redaction import redact
from shared.runs.sanitize import describe_exception, sanitize_message
from shared.telemetry.redact import RedactingFilter, RedactingSpanProcessor

SECRET = "Zx9Q7sEcReTvAlUe42"  # noqa: S105 - a marker that must not survive
JWT = (
    f"eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJvaWQiOiIxMjM0NTY3OCIsInRpZCI6Inh4In0.{SECRET}-sig_part"
)
PEM_BODY = f"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC{SECRET}\nBKcwggSjAgEAAoIBAQC7"

# (name, text containing SECRET or JWT): each must come out without it.
CORPUS: list[tuple[str, str]] = [
    ("bearer header", f"Authorization: Bearer {SECRET}"),
    ("bearer lower", f"sent bearer {SECRET}= to graph"),
    ("basic header", f"Authorization: Basic {SECRET}=="),
    ("jwt bare", f"token {JWT} rejected"),
    ("jwt in json", f'{{"assertion_hint": "{JWT}"}}'),
    ("jwt two segments", "eyJhbGciOiJub25lIn0.eyJvaWQiOiJ" + SECRET),
    ("client_secret form", f"client_secret={SECRET}&grant_type=client_credentials"),
    ("client_secret colon", f"client_secret: {SECRET}"),
    ("client_secret json", f'{{"client_secret": "{SECRET}", "client_id": "abc"}}'),
    ("client_secret dict repr", f"{{'client_secret': '{SECRET}'}}"),
    ("client_secret quoted", f'client_secret="{SECRET}"'),
    ("client_secret single quoted", f"client_secret='{SECRET}'"),
    ("password kv", f"password={SECRET}"),
    ("password quoted", f'password="{SECRET} with spaces"'),
    ("password json", f'{{"password":"{SECRET}"}}'),
    ("password json escaped quote", f'{{"password": "a\\"{SECRET}"}}'),
    ("password json number", f'{{"pin": 1, "password": {SECRET}}}'),
    ("db password prefix", f"DB_PASSWORD={SECRET}"),
    ("pwd in connection string", f"Server=tcp:x;User ID=u;Pwd={SECRET};"),
    ("api_key", f"api_key={SECRET}"),
    ("apikey header", f"x-api-key: {SECRET}"),
    ("access_token json", f'{{"token_type": "Bearer", "access_token": "{SECRET}"}}'),
    ("refresh_token form", f"refresh_token={SECRET}&scope=x"),
    ("id_token dict repr", f"{{'id_token': '{SECRET}'}}"),
    ("client_assertion", f"client_assertion={SECRET}&client_assertion_type=jwt-bearer"),
    ("account key", f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={SECRET}==;"),
    (
        "service bus key",
        f"Endpoint=sb://n.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={SECRET}=",
    ),
    ("sas url", f"https://a.blob.core.windows.net/c/b?sv=2024-05-04&sr=b&sig={SECRET}%3D"),
    ("sas connection", f"BlobEndpoint=https://a/;SharedAccessSignature=sv=2024&sig={SECRET}"),
    ("pem private key", f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----"),
    (
        "pem rsa key",
        f"key: -----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----",
    ),
    ("pem cut off", f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}"),
    (
        "teams workflows webhook",
        "posting to https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/"
        f"manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig={SECRET} failed",
    ),
    (
        "power automate webhook",
        "https://default1.environment.api.powerplatform.com:443/powerautomate/automations/"
        f"direct/workflows/{SECRET}/triggers/manual/paths/invoke",
    ),
    (
        "office 365 connector webhook",
        f"https://contoso.webhook.office.com/webhookb2/{SECRET}@x/IncomingWebhook/y/z",
    ),
    ("password in url", f"https://admin:{SECRET}@example.com/path"),
    ("password in amqp url", f"amqps://user:{SECRET}@bus.example.net"),
    ("oauth code in query", f"GET /.auth/login/aad/callback?code={SECRET}&state=s"),
    ("private key name", f'{{"private_key": "{SECRET}"}}'),
    ("easy auth session cookie", f"Cookie: AppServiceAuthSession={SECRET}"),
    ("skip token", f"https://graph.microsoft.com/v1.0/groups?$skiptoken={SECRET}"),
]

ORDINARY = [
    "run 01JABCDEF0123456789ABCDEFG failed: policy 'Windows 11 - Compliance' not found",
    "tenant 3f1c1d9a-6a3a-4c5e-9a3a-1f2e3d4c5b6a: 12 groups synced, 0 failed",
    "GraphError: 404 ResourceNotFound on /deviceManagement/deviceCompliancePolicies/"
    "7b2c9f0e-1111-4222-8333-944455556666",
    "backup.capture: 37 items (configurationPolicies, groupPolicyConfigurations)",
    "the bearer token is missing or too long",
    "Password policy changed for 'Contoso - Baseline' (run 01JABCDEF0123456789ABCDEFG)",
    "restore.execute skipped 2 items: target group missing",
    "code: invalid_request; retry after 5 s",
]


def _leaks(text: str) -> bool:
    return SECRET in text or "eyJ" in text


def test_the_corpus_is_big_and_every_entry_has_a_secret() -> None:
    assert len(CORPUS) >= 30
    assert len({name for name, _ in CORPUS}) == len(CORPUS)
    for name, text in CORPUS:
        assert _leaks(text), name


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[n for n, _ in CORPUS])
def test_no_secret_survives_a_run_failure_or_an_api_error(name: str, text: str) -> None:
    assert not _leaks(redact(text)), redact(text)
    assert not _leaks(sanitize_message(f"call failed: {text}"))
    assert not _leaks(describe_exception(RuntimeError(text)))
    body = error_body(AppError(f"upstream said {text}", details={"response": [text]}))
    assert not _leaks(body.model_dump_json()), body


def _log_line(*args: object, **kwargs: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s|%(detail)s"))
    logger = logging.getLogger("shared.test_redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.error(*args, **kwargs)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[n for n, _ in CORPUS])
def test_no_secret_survives_a_log_record(name: str, text: str) -> None:
    assert not _leaks(_log_line(text, extra={"detail": "-"}))
    assert not _leaks(_log_line("calling with %s", text, extra={"detail": "-"}))
    assert not _leaks(_log_line("extras", extra={"detail": {"body": [text]}}))
    try:
        raise ValueError(f"upstream said {text}")
    except ValueError:
        line = _log_line("it failed", exc_info=True, extra={"detail": "-"})
    assert "Traceback" in line and "ValueError" in line
    assert not _leaks(line), line


def test_an_exporter_reading_exc_info_sees_the_masked_message() -> None:
    record = logging.LogRecord("shared.x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise AppError(f"refused client_secret={SECRET}")
    except AppError as error:
        record.exc_info = (type(error), error, error.__traceback__)
    RedactingFilter().filter(record)
    assert record.exc_info is not None
    kind, value, _ = record.exc_info
    assert kind is AppError and not _leaks(str(value)) and "[redacted]" in str(value)
    assert record.exc_text is not None and not _leaks(record.exc_text)


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[n for n, _ in CORPUS])
def test_no_secret_survives_a_span(name: str, text: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RedactingSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("op", attributes={"url": text}) as span:
        span.set_attribute("list", [text, "ok"])
        span.add_event("retry", {"reason": text})
        span.set_status(Status(StatusCode.ERROR, text))
    (finished,) = exporter.get_finished_spans()
    seen = [*finished.attributes.values(), finished.status.description]
    seen += [dict(e.attributes or {}) for e in finished.events]
    assert not _leaks(repr(seen)), seen
    assert finished.attributes["list"][1] == "ok"


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text
    assert sanitize_message(text) == text
    assert error_body(AppError(text)).error.message == text
    assert _log_line(text, extra={"detail": "-"}).strip() == f"{text}|-"
