"""HTTP triggers through DevHost: routing, methods, prefix, bodies, CORS, errors."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from devhost import DevHost
from tests.devhost.conftest import HostFactory, request


@pytest.fixture
def http_host(make_host: HostFactory) -> DevHost:
    return make_host(workers=False, max_body_bytes=1024)


def test_route_params_and_method_selection(http_host: DevHost) -> None:
    got = request(http_host.base_url, "GET", "/api/items/12")
    assert got.status == 200
    assert got.json() == {"function": "get_item", "route_params": {"item_id": "12"}}
    assert request(http_host.base_url, "DELETE", "/api/items/12").status == 204
    created = request(http_host.base_url, "POST", "/api/items", body=b"abc")
    assert (created.status, created.json()) == (201, {"function": "create_item", "size": 3})


def test_optional_param_literal_precedence_and_decoding(http_host: DevHost) -> None:
    base = http_host.base_url
    without = request(base, "GET", "/api/tenants/T1/things").json()
    assert without == {"function": "get_thing", "route_params": {"tenant_id": "T1"}}
    named = request(base, "GET", "/api/tenants/T1/things/a%20b").json()
    assert named["route_params"] == {"tenant_id": "T1", "name": "a b"}
    latest = request(base, "GET", "/api/tenants/T1/things/latest").json()
    assert latest == {"function": "latest_thing", "route_params": {"tenant_id": "T1"}}


def test_unknown_route_is_404_json_and_constraint_mismatch_too(http_host: DevHost) -> None:
    for path in ("/nope", "/api/items/not-a-number", "/items/12"):
        got = request(http_host.base_url, "GET", path)
        assert got.status == 404
        assert got.headers["content-type"].startswith("application/json")
        assert got.json()["error"]["code"] == "not_found"


def test_wrong_method_is_405_with_allow(http_host: DevHost) -> None:
    got = request(http_host.base_url, "PUT", "/api/items/12")
    assert got.status == 405
    assert got.headers["allow"] == "DELETE, GET"
    assert got.json()["error"]["code"] == "method_not_allowed"


def test_route_without_methods_takes_any_method_and_sees_the_request(http_host: DevHost) -> None:
    for method in ("GET", "PATCH", "POST"):
        got = request(
            http_host.base_url,
            method,
            "/api/echo?a=1&a=2&empty=",
            body=b"hello" if method != "GET" else None,
            headers={"X-Thing": "v"},
        )
        assert got.status == 200
        echoed = got.json()
        assert echoed["method"] == method
        assert echoed["url"] == f"{http_host.base_url}/api/echo?a=1&a=2&empty="
        assert echoed["params"] == {"a": "1,2", "empty": ""}
        assert echoed["headers"] == {"x-thing": "v"}
        assert echoed["body"] == ("hello" if method != "GET" else "")


def test_route_prefix_from_host_json(make_host: HostFactory) -> None:
    host = make_host(workers=False, prefix="v1")
    assert request(host.base_url, "GET", "/v1/api/items/3").status == 200
    assert request(host.base_url, "GET", "/api/items/3").status == 404


def test_exception_is_500_without_details(
    http_host: DevHost, caplog: pytest.LogCaptureFixture
) -> None:
    got = request(http_host.base_url, "GET", "/api/boom")
    assert got.status == 500
    assert got.json()["error"]["code"] == "internal_error"
    assert b"secret-internal-detail" not in got.body
    assert b"Traceback" not in got.body
    assert "secret-internal-detail" in caplog.text  # but the log has it


def test_response_status_headers_mimetype_charset(http_host: DevHost) -> None:
    got = request(http_host.base_url, "GET", "/api/custom")
    assert got.status == 418
    assert got.headers["x-custom"] == "yes"
    assert got.headers["content-type"] == "text/html; charset=latin-1"
    assert got.body == "caf\u00e9".encode("latin-1")


def test_plain_string_async_and_context_functions(http_host: DevHost) -> None:
    plain = request(http_host.base_url, "GET", "/api/plain")
    assert (plain.status, plain.body) == (200, b"just text")
    assert request(http_host.base_url, "GET", "/api/async").json() == {"async": True}
    context = request(http_host.base_url, "GET", "/api/context").json()
    assert context["function_name"] == "with_context"
    assert context["id"]


def test_head_gets_headers_only_when_allowed(http_host: DevHost) -> None:
    got = request(http_host.base_url, "HEAD", "/api/echo")
    assert got.status == 200
    assert got.body == b""
    assert int(got.headers["content-length"]) > 0


def test_body_cap(http_host: DevHost) -> None:
    fits = request(http_host.base_url, "POST", "/api/items", body=b"x" * 1024)
    assert fits.status == 201
    over = request(http_host.base_url, "POST", "/api/items", body=b"x" * 1025)
    assert over.status == 413
    assert over.json()["error"]["code"] == "payload_too_large"


def test_body_cap_applies_to_chunked_bodies(http_host: DevHost) -> None:
    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 256):
            yield b"y" * 256

    host, port = http_host.base_url.removeprefix("http://").rsplit(":", 1)
    for total, status in ((1024, 201), (2048, 413)):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("POST", "/api/items", body=chunks(total), encode_chunked=True)
            response = connection.getresponse()
            response.read()
            assert response.status == status
        finally:
            connection.close()


@contextmanager
def _expecting_continue(http_host: DevHost, length: int) -> Iterator[socket.socket]:
    """A raw connection that has sent a POST's headers with `Expect: 100-continue`."""
    host, port = http_host.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n".encode()
            + b"Expect: 100-continue\r\n\r\n"
        )
        yield sock


def test_oversized_upload_refused_before_100_continue(http_host: DevHost) -> None:
    with _expecting_continue(http_host, 5_000_000) as sock:
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")


def test_a_small_upload_gets_its_100_continue_at_once(http_host: DevHost) -> None:
    with _expecting_continue(http_host, 3) as sock:
        # Not sent before the 100 arrives, as a client that honours Expect would do.
        assert sock.recv(4096).startswith(b"HTTP/1.1 100")
        sock.sendall(b"abc")
        assert sock.recv(4096).startswith(b"HTTP/1.1 201")


def test_a_reply_goes_out_in_one_send(http_host: DevHost, monkeypatch: pytest.MonkeyPatch) -> None:
    """Status line, headers and body in one write: two wake the client twice per request."""
    port = int(http_host.base_url.rsplit(":", 1)[1])
    writes: list[int] = []

    def counted(name: str) -> object:
        original = getattr(socket.socket, name)

        def write(self: socket.socket, data: bytes, *args: object) -> object:
            if self.getsockname()[1] == port:  # the host's end of the connection
                writes.append(len(data))
            return original(self, data, *args)

        return write

    for name in ("send", "sendall"):
        monkeypatch.setattr(socket.socket, name, counted(name))
    got = request(http_host.base_url, "GET", "/api/items/12")
    assert got.status == 200 and got.json()["function"] == "get_item"
    assert len(writes) == 1


def test_keep_alive_connection_serves_several_requests(http_host: DevHost) -> None:
    host, port = http_host.base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for item in ("1", "2", "3"):
            connection.request("GET", f"/api/items/{item}")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read()
    finally:
        connection.close()


def test_cors_preflight_and_actual_request(make_host: HostFactory) -> None:
    host = make_host(workers=False, cors=("http://localhost:3000",), cors_credentials=True)
    preflight = request(
        host.base_url,
        "OPTIONS",
        "/api/items/5",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert preflight.headers["access-control-allow-methods"] == "DELETE"
    assert preflight.headers["access-control-allow-headers"] == "authorization, content-type"
    assert preflight.headers["access-control-allow-credentials"] == "true"

    actual = request(
        host.base_url, "GET", "/api/items/5", headers={"Origin": "http://localhost:3000"}
    )
    assert actual.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert actual.headers["access-control-allow-credentials"] == "true"

    foreign = {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    refused = request(host.base_url, "OPTIONS", "/api/items/5", headers=foreign)
    assert refused.status == 204
    assert "access-control-allow-origin" not in refused.headers
    plain = request(host.base_url, "GET", "/api/items/5", headers={"Origin": "http://evil.example"})
    assert plain.status == 200
    assert "access-control-allow-origin" not in plain.headers


def test_no_cors_configured_means_no_cors_headers(http_host: DevHost) -> None:
    got = request(
        http_host.base_url, "GET", "/api/items/5", headers={"Origin": "http://localhost:3000"}
    )
    assert "access-control-allow-origin" not in got.headers
    options = request(
        http_host.base_url,
        "OPTIONS",
        "/api/items/5",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert options.status == 405
