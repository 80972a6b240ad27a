"""DevHost: one local Functions host (HTTP server, queue listeners, timers) for an app."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import azure.functions as func

from devhost.cors import CorsPolicy
from devhost.easyauth import EasyAuth
from devhost.host_config import HostConfig
from devhost.http_app import HttpApp
from devhost.http_server import DEFAULT_MAX_BODY_BYTES, HttpServer
from devhost.loader import FunctionSpec, HttpFunction, QueueFunction, TimerFunction, describe
from devhost.queue_listener import DEFAULT_MESSAGE_LEASE, QueueListener
from devhost.settings import AppSettings, LocalSettings
from devhost.timer import TimerRunner

log = logging.getLogger("devhost")


class DevHost:
    """Serve a `func.FunctionApp` locally.

    `settings` is local.settings.json's content; app settings are looked up in
    `environ` (default: the process environment) first, then in `settings.values`.
    With `workers=False` only HTTP functions are served.
    """

    def __init__(
        self,
        app: func.FunctionApp,
        host_json_path: str | Path | None = None,
        settings: LocalSettings | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        workers: bool = True,
        environ: Mapping[str, str] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        message_lease: int = DEFAULT_MESSAGE_LEASE,
        shutdown_grace: float = 30.0,
        easy_auth: EasyAuth | None = None,
    ) -> None:
        local = settings or LocalSettings()
        self.app_settings = AppSettings(os.environ if environ is None else environ, local)
        self.config = HostConfig.load(Path(host_json_path) if host_json_path else None)
        self.functions: list[FunctionSpec] = describe(app, self.app_settings)
        self.workers = workers
        self.shutdown_grace = shutdown_grace
        self._message_lease = message_lease
        http_functions = [f for f in self.functions if isinstance(f, HttpFunction)]
        cors = CorsPolicy(local.cors_origins, local.cors_credentials)
        self._http = HttpServer(
            HttpApp(http_functions, self.config.route_prefix, cors, easy_auth),
            host,
            port,
            max_body_bytes,
        )
        self.listeners: list[QueueListener] = []
        self.timers: list[TimerRunner] = []
        self._started = False
        self._stopped = False

    @property
    def base_url(self) -> str:
        return f"http://{self._http.host}:{self._http.port}"

    def start(self) -> DevHost:
        if self._started:
            raise RuntimeError("DevHost.start() called twice")
        self._started = True
        try:
            if self.workers:
                self._start_workers()
            self._http.start()
        except BaseException:
            self.stop(grace=0)
            raise
        log.info("devhost listening on %s", self.base_url)
        return self

    def _start_workers(self) -> None:
        for spec in self.functions:
            if isinstance(spec, QueueFunction):
                connection = self.app_settings.queue_connection(spec.connection)
                listener = QueueListener(
                    spec, connection, self.config.queues, message_lease=self._message_lease
                )
                self.listeners.append(listener)
                listener.start()
        for spec in self.functions:
            if isinstance(spec, TimerFunction):
                runner = TimerRunner(spec)
                self.timers.append(runner)
                runner.start()

    def stop(self, grace: float | None = None) -> bool:
        """Stop polling and timers, finish in-flight work within `grace` seconds,
        close the server. True when nothing had to be abandoned. Idempotent."""
        if self._stopped:
            return True
        self._stopped = True
        grace = self.shutdown_grace if grace is None else grace
        deadline = time.monotonic() + grace
        for listener in self.listeners:
            listener.request_stop()
        for runner in self.timers:
            runner.request_stop()
        finished = self._http.stop(grace)
        for listener in self.listeners:
            finished &= listener.join(max(0.0, deadline - time.monotonic()))
        for runner in self.timers:
            finished &= runner.join(max(0.0, deadline - time.monotonic()))
        log.info("devhost stopped%s", "" if finished else " (in-flight work abandoned)")
        return finished

    def wait_until_drained(self, timeout: float = 30.0, poll: float = 0.1) -> None:
        """Block until every trigger queue is empty and nothing is running (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(listener.is_drained() for listener in self.listeners):
                return
            time.sleep(poll)
        raise TimeoutError(f"queues not drained within {timeout} s")

    def __enter__(self) -> DevHost:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
