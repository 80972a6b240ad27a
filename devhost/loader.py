"""Find the app's functions through the azure-functions library's own introspection.

Nothing here reads decorators or function.json: `FunctionApp.get_functions()` is the
same metadata the Python worker hands the real host, so a function the library would
reject (duplicate names, bad bindings) fails here too.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from devhost.settings import AppSettings
from devhost.timer import TimerSchedule, parse_timer_schedule

log = logging.getLogger("devhost.loader")

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")


class LoadError(RuntimeError):
    """The app cannot be served as it is."""


@dataclass(frozen=True)
class HttpFunction:
    name: str
    user_function: Callable[..., Any]
    trigger_arg: str
    route: str  # as declared, before the routePrefix
    methods: tuple[str, ...]


@dataclass(frozen=True)
class QueueFunction:
    name: str
    user_function: Callable[..., Any]
    trigger_arg: str
    queue_name: str  # %expressions% already resolved
    connection: str


@dataclass(frozen=True)
class TimerFunction:
    name: str
    user_function: Callable[..., Any]
    trigger_arg: str
    schedule: TimerSchedule
    run_on_startup: bool


FunctionSpec = HttpFunction | QueueFunction | TimerFunction


def import_app(target: str) -> func.FunctionApp:
    """`module` or `module:attribute` (default attribute `app`) -> the FunctionApp."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app", None)
    if not isinstance(app, func.FunctionApp):
        raise LoadError(f"{target}: no azure.functions.FunctionApp named {attribute or 'app'!r}")
    return app


def describe(app: func.FunctionApp, settings: AppSettings) -> list[FunctionSpec]:
    specs: list[FunctionSpec] = []
    for function in _get_functions(app):
        spec = _describe_one(function, settings)
        if spec is not None:
            specs.append(spec)
    return specs


def _get_functions(app: func.FunctionApp) -> list[Any]:
    """`app.get_functions()`, callable more than once.

    azure-functions 1.26 records every name it has seen in `functions_bindings` to
    reject duplicates, so a second call (a second host on the same app, or a test that
    listed the functions first) reports every function as a duplicate. Starting from
    an empty record keeps the duplicate check meaningful for this one listing.
    """
    if hasattr(app, "functions_bindings"):
        app.functions_bindings = None
    try:
        return list(app.get_functions())
    finally:
        # ... and leave it empty, so whoever lists the app next is not told otherwise.
        if hasattr(app, "functions_bindings"):
            app.functions_bindings = None


def _describe_one(function: Any, settings: AppSettings) -> FunctionSpec | None:
    name = function.get_function_name()
    trigger = function.get_trigger()
    user_function = function.get_user_function()
    _reject_unsupported_bindings(name, trigger, function.get_bindings())
    kind = trigger.type
    if kind == "httpTrigger":
        methods = trigger.methods
        # No methods declared means every method, as in the host.
        names = tuple(str(getattr(m, "value", m)).upper() for m in methods) if methods else ()
        return HttpFunction(
            name, user_function, trigger.name, trigger.route or name, names or ALL_METHODS
        )
    if kind == "queueTrigger":
        return QueueFunction(
            name,
            user_function,
            trigger.name,
            settings.resolve(trigger.queue_name),
            trigger.connection or "AzureWebJobsStorage",
        )
    if kind == "timerTrigger":
        return TimerFunction(
            name,
            user_function,
            trigger.name,
            parse_timer_schedule(settings.resolve(trigger.schedule)),
            bool(trigger.run_on_startup),
        )
    # The real host would need an extension for this trigger; say so instead of hiding it.
    log.warning("function %s: trigger type %s is not served by devhost", name, kind)
    return None


def _reject_unsupported_bindings(name: str, trigger: Any, bindings: list[Any]) -> None:
    """Only the trigger and an HTTP `$return` are wired; anything else would silently
    get no value, so refuse to start rather than run the function half-bound."""
    for binding in bindings:
        if binding is trigger:
            continue
        if binding.type == "http" and binding.name == "$return":
            continue
        raise LoadError(
            f"function {name}: binding {binding.name!r} of type {binding.type!r} "
            "is not supported by devhost"
        )
