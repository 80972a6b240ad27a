"""The HTTP listener: stdlib ThreadingHTTPServer, one thread per connection.

It reads requests (with a body-size cap like the host's 100 MB default), hands them to
`HttpApp`, and writes the replies. Shutdown stops accepting, closes idle keep-alive
connections at once, and gives in-flight requests a grace period to finish.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devhost.http_app import HttpApp, Reply, error_reply

log = logging.getLogger("devhost.http")

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
# An oversized body is read and thrown away up to this much, so the client (which is
# usually still sending) reads the 413 instead of a connection reset.
_DRAIN_LIMIT = 4 * 1024 * 1024
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")


class BodyTooLarge(Exception):
    pass


class _Server(ThreadingHTTPServer):
    # Threads are joined by HttpServer.stop with a deadline instead of by
    # server_close, which would wait forever on a hung function.
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets bursts of concurrent clients (20 portal
    # tabs starting the same run); the real host accepts them.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: HttpApp, max_body: int) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.max_body = max_body
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        # connection -> (handler thread, busy with a request)
        self._connections: dict[socket.socket, tuple[threading.Thread, bool]] = {}

    def track(self, connection: socket.socket, busy: bool) -> None:
        with self._lock:
            self._connections[connection] = (threading.current_thread(), busy)

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.pop(connection, None)

    def close_connections(self, *, idle_only: bool) -> None:
        with self._lock:
            targets = [c for c, (_, busy) in self._connections.items() if not (idle_only and busy)]
        for connection in targets:
            try:
                # Unblocks the handler's readline; the handler then closes the socket.
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handler_threads(self) -> list[threading.Thread]:
        with self._lock:
            return [thread for thread, _ in self._connections.values()]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # With Nagle on, a response written in pieces waits for the client's delayed ACK
    # (~40 ms per keep-alive response). The Functions host does not pay that; neither do we.
    disable_nagle_algorithm = True
    # Writes are buffered and a reply goes out in one send (status line, headers and body,
    # flushed in `_send`): a reply in two sends wakes the client twice, which costs every
    # request a scheduling round trip. (A body past the buffer takes more sends.)
    wbufsize = 256 * 1024
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, busy=False)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def handle_one_request(self) -> None:
        self.server.track(self.connection, busy=False)
        if self.server.stopping.is_set():
            self.close_connection = True
            return
        super().handle_one_request()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            self.server.track(self.connection, busy=True)
        return parsed

    def handle_expect_100(self) -> bool:
        # Refuse an oversized upload before the client sends it.
        if self._declared_length() > self.server.max_body:
            self._send(self._too_large())
            self.close_connection = True
            return False
        accepted = super().handle_expect_100()
        self.wfile.flush()  # the client waits for the 100 before sending the body
        return accepted

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def _too_large(self) -> Reply:
        limit = self.server.max_body
        return error_reply(413, "payload_too_large", f"The request body exceeds {limit} bytes.")

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except BodyTooLarge:
            self.close_connection = True
            self._send(self._too_large())
            return
        except ValueError:
            self.close_connection = True
            self._send(error_reply(400, "bad_request", "Malformed request body framing."))
            return
        headers = _join_headers(self.headers.items())
        host = headers.get("host") or "{}:{}".format(*self.server.server_address[:2])
        reply = self.server.app.handle(self.command, self.path, headers, body, f"http://{host}")
        if self.server.stopping.is_set():
            self.close_connection = True
        self._send(reply)

    def _read_body(self) -> bytes:
        limit = self.server.max_body
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        size = int(length)
        if size < 0:
            raise ValueError("negative Content-Length")
        if size > limit:
            self._discard(min(size, _DRAIN_LIMIT))
            raise BodyTooLarge
        return self.rfile.read(size)

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size = int(line.split(b";", 1)[0].strip() or b"x", 16)
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                if total > limit:
                    raise BodyTooLarge
                return b"".join(chunks)
            total += size
            if total > limit + _DRAIN_LIMIT:
                raise BodyTooLarge  # not worth draining: the connection just closes
            data = self.rfile.read(size)
            if total <= limit:
                chunks.append(data)  # past the limit, chunks are read only to drain them
            self.rfile.readline(8)  # CRLF after the chunk

    def _discard(self, size: int) -> None:
        remaining = size
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                return
            remaining -= len(chunk)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        no_body = reply.status in (204, 304) or 100 <= reply.status < 200
        if not no_body:
            self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not no_body and self.command != "HEAD":
            self.wfile.write(reply.body)
        self.wfile.flush()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info('"%s" %s', self.requestline, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


for _method in _METHODS:
    setattr(_Handler, f"do_{_method}", _Handler._serve)


def _join_headers(items: list[tuple[str, str]] | Any) -> dict[str, str]:
    """Lower-case names; repeated headers joined with ', ' (RFC 9110 list syntax)."""
    joined: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return joined


class HttpServer:
    def __init__(
        self,
        app: HttpApp,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._server = _Server((host, port), app, max_body_bytes)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="devhost-http",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace: float) -> bool:
        """Stop accepting, let in-flight requests finish; True if all did in time."""
        self._server.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.close_connections(idle_only=True)
        deadline = time.monotonic() + grace
        for thread in self._server.handler_threads():
            thread.join(max(0.0, deadline - time.monotonic()))
        finished = not any(t.is_alive() for t in self._server.handler_threads())
        if not finished:
            log.warning("abandoning HTTP requests still running after %.1f s", grace)
            self._server.close_connections(idle_only=False)
        self._server.server_close()
        return finished
