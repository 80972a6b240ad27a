"""Call a user function the way the Python worker does.

The worker passes the trigger value under the trigger's `arg_name`, adds a `context`
argument when the function declares one, and runs `async def` functions to completion.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import _abc as func_abc


class _TraceContext(func_abc.TraceContext):
    @property
    def trace_parent(self) -> str:
        return ""

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(func_abc.RetryContext):
    def __init__(self, retry_count: int) -> None:
        self._retry_count = retry_count

    @property
    def retry_count(self) -> int:
        return self._retry_count

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """A `func.Context` for a local invocation."""

    _thread_local = threading.local()

    def __init__(self, function_name: str, function_directory: str, retry_count: int = 0) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._retry_context = _RetryContext(retry_count)

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._thread_local

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> func_abc.TraceContext:
        return _TraceContext()

    @property
    def retry_context(self) -> func_abc.RetryContext:
        return self._retry_context


def invoke(
    user_function: Callable[..., Any],
    function_name: str,
    trigger_arg: str,
    trigger_value: object,
) -> Any:
    kwargs: dict[str, object] = {trigger_arg: trigger_value}
    if "context" in inspect.signature(user_function).parameters:
        directory = str(Path(inspect.getfile(user_function)).parent)
        context = InvocationContext(function_name, directory)
        context.thread_local_storage.invocation_id = context.invocation_id
        kwargs["context"] = context
    result = user_function(**kwargs)
    if inspect.isawaitable(result):
        # Each invocation runs on a pool thread with no loop of its own.
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable
