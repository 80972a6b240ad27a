"""HTTPS on loopback with the standard library: one thread per connection.

The TLS handshake runs in the connection's thread (not in the accept loop), so a stuck
client cannot stall the server. Open connections are tracked so stop() can end them and
leave no socket behind (tests run with warnings as errors, ResourceWarning included).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localcloud.wire import Request, Response, json_response

log = logging.getLogger("localcloud")

Application = Callable[[Request], Response]
IDLE_TIMEOUT = 30.0
HANDSHAKE_TIMEOUT = 10.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real clients expect
    timeout = IDLE_TIMEOUT
    # Headers and body go out in separate writes: without this, Nagle + delayed ACK add
    # ~40 ms to every response.
    disable_nagle_algorithm = True
    server: HttpsServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._write(json_response(411, {"error": {"code": "LengthRequired"}}))
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request.build(
            self.command, self.path, dict(self.headers.items()), body, self.server.base_url
        )
        try:
            response = self.server.app(request)
        except Exception:  # a bug in a handler must answer 500, not kill the connection
            log.exception("localcloud handler failed for %s %s", self.command, request.path)
            response = json_response(
                500, {"error": {"code": "InternalServerError", "message": "localcloud bug"}}
            )
        if response.hang_up:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class HttpsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        self.context = context
        self.base_url = ""
        self.app: Application = lambda request: json_response(503, {"error": "starting"})
        self._open: set[ssl.SSLSocket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            connection = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            log.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        with self._open_lock:
            self._open.add(connection)
        try:
            _Handler(connection, client_address, self)
        except (ssl.SSLError, OSError) as error:
            log.debug("connection from %s ended: %s", client_address, error)
        finally:
            with self._open_lock:
                self._open.discard(connection)
            connection.close()

    def close_all(self, wait: float = 5.0) -> None:
        """Stop accepting, end every open connection, wait for their threads to finish."""
        self.shutdown()
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with self._open_lock:
                if not self._open:
                    break
            time.sleep(0.01)
        self.server_close()
