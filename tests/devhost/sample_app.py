"""A test-only function app for devhost: every trigger kind, behaviour chosen per test.

Queue and schedule names are `%Setting%` expressions so each test picks its own
(unique queue names) through the settings it gives the host, as an app in Azure would.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@dataclass
class Call:
    function: str
    data: dict[str, Any]
    started: float
    ended: float | None = None
    outcome: str = "running"


@dataclass
class Recorder:
    """What the functions saw. Shared by all hosts in the process; tests reset it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[Call] = field(default_factory=list)
    running: int = 0
    peak: int = 0

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.running = 0
            self.peak = 0

    def begin(self, function: str, data: dict[str, Any]) -> Call:
        call = Call(function, data, time.monotonic())
        with self.lock:
            self.calls.append(call)
            self.running += 1
            self.peak = max(self.peak, self.running)
        return call

    def end(self, call: Call, outcome: str) -> None:
        with self.lock:
            call.ended = time.monotonic()
            call.outcome = outcome
            self.running -= 1

    def of(self, function: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.function == function]


RECORDER = Recorder()


# HTTP ---------------------------------------------------------------------------


def _json(data: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(data), status_code=status, mimetype="application/json")


@app.route(route="api/items/{item_id:int}", methods=["GET"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"function": "get_item", "route_params": dict(req.route_params)})


@app.route(route="api/items/{item_id:int}", methods=["DELETE"])
def delete_item(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=204)


@app.route(route="api/items", methods=["POST"])
def create_item(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"function": "create_item", "size": len(req.get_body())}, status=201)


@app.route(route="api/tenants/{tenant_id}/things/{name?}", methods=["GET"])
def get_thing(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"function": "get_thing", "route_params": dict(req.route_params)})


@app.route(route="api/tenants/{tenant_id}/things/latest", methods=["GET"])
def latest_thing(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"function": "latest_thing", "route_params": dict(req.route_params)})


@app.route(route="api/echo")
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return _json(
        {
            "method": req.method,
            "url": req.url,
            "params": dict(req.params),
            "headers": {k: v for k, v in req.headers.items() if k.startswith("x-")},
            "body": req.get_body().decode(),
        }
    )


@app.route(route="api/boom", methods=["GET"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret-internal-detail")


@app.route(route="api/custom", methods=["GET"])
def custom(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(
        "caf\u00e9",
        status_code=418,
        headers={"X-Custom": "yes"},
        mimetype="text/html",
        charset="latin-1",
    )


@app.route(route="api/plain", methods=["GET"])
def plain(req: func.HttpRequest) -> str:
    return "just text"


@app.route(route="api/async", methods=["GET"])
async def asynchronous(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"async": True})


@app.route(route="api/context", methods=["GET"])
def with_context(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    return _json({"function_name": context.function_name, "id": context.invocation_id})


@app.route(route="api/slow", methods=["GET"])
def slow(req: func.HttpRequest) -> func.HttpResponse:
    call = RECORDER.begin("slow", {})
    time.sleep(float(req.params.get("seconds", "0.5")))
    RECORDER.end(call, "ok")
    return _json({"slept": True})


# Queue --------------------------------------------------------------------------


@app.queue_trigger(arg_name="msg", queue_name="%SAMPLE_QUEUE%", connection="SampleStorage")
def queue_worker(msg: func.QueueMessage) -> None:
    """Body: JSON {"tag", "fail_until": n, "always_fail", "sleep": s} or any text."""
    raw = msg.get_body()
    try:
        order = json.loads(raw)
    except ValueError:
        order = {}
    if not isinstance(order, dict):
        order = {}
    data = {
        "id": msg.id,
        "body": raw,
        "tag": order.get("tag"),
        "dequeue_count": msg.dequeue_count,
        "type": type(msg).__name__,
        "pop_receipt": msg.pop_receipt,
    }
    call = RECORDER.begin("queue_worker", data)
    try:
        time.sleep(float(order.get("sleep", 0)))
        if order.get("always_fail") or (msg.dequeue_count or 0) <= int(order.get("fail_until", 0)):
            raise RuntimeError("failing on demand")
    except Exception:
        RECORDER.end(call, "failed")
        raise
    RECORDER.end(call, "ok")


# Timers -------------------------------------------------------------------------


@app.timer_trigger(arg_name="timer", schedule="%SAMPLE_TIMER_SCHEDULE%")
def ticker(timer: func.TimerRequest) -> None:
    call = RECORDER.begin("ticker", {"past_due": timer.past_due, "type": type(timer).__name__})
    RECORDER.end(call, "ok")


@app.timer_trigger(arg_name="timer", schedule="%SAMPLE_STARTUP_SCHEDULE%", run_on_startup=True)
def on_startup(timer: func.TimerRequest) -> None:
    call = RECORDER.begin("on_startup", {"past_due": timer.past_due})
    RECORDER.end(call, "ok")
