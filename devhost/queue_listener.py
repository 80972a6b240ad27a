"""Queue triggers: poll a storage queue with the Functions host's semantics.

What the host does, and so what this does (extensions.queues in host.json):
- fetch up to `batchSize` messages; fetch again once the messages still being
  processed drop to `newBatchThreshold`, so at most batchSize + newBatchThreshold
  run at once per function on one instance;
- when the queue is empty, back off exponentially (randomised) from 100 ms up to
  `maxPollingInterval`, and poll at once again after any message arrives;
- a fetched message is held invisible (10 minutes, like the host) and the lease is
  renewed while the function runs, so a long invocation is not delivered twice;
- success deletes the message; failure makes it visible again after
  `visibilityTimeout`; a failure on delivery number `maxDequeueCount` (or a message
  already dequeued more often, e.g. after crashes) moves it to `<queue>-poison`;
- `messageEncoding` base64 (default) or none; a message that is not valid base64
  goes to the poison queue, as the storage extension 5.x does.
Nothing is kept per instance except in-flight bookkeeping, so any number of hosts
can share a queue as Functions instances do: the queue's visibility is the lock.
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FunctionQueueMessage
from azure.storage.queue import QueueClient, QueueMessage

from devhost.host_config import MIN_POLLING_INTERVAL, QueueOptions
from devhost.invoke import invoke

if TYPE_CHECKING:
    from devhost.loader import QueueFunction
    from devhost.settings import QueueConnection

log = logging.getLogger("devhost.queue")

# The host fetches with a 10-minute visibility and keeps renewing it while running.
DEFAULT_MESSAGE_LEASE = 600


class Backoff:
    """Randomised exponential delay between empty polls (WebJobs' strategy)."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self._current = 0.0

    def reset(self) -> None:
        self._current = 0.0

    def next(self) -> float:
        base = self.minimum if self._current == 0 else min(self._current * 2, self.maximum)
        self._current = base
        # Jitter keeps several instances from polling in lock-step.
        return min(self.maximum, base * random.uniform(0.8, 1.2))  # noqa: S311 (not crypto)


@dataclass
class _InFlight:
    message: QueueMessage
    pop_receipt: str
    renew_at: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False


class QueueListener:
    def __init__(
        self,
        spec: QueueFunction,
        connection: QueueConnection,
        options: QueueOptions,
        *,
        message_lease: int = DEFAULT_MESSAGE_LEASE,
    ) -> None:
        if message_lease < 1:
            raise ValueError("message_lease must be at least 1 second")
        self.spec = spec
        self.options = options
        self.poison_queue_name = f"{spec.queue_name}-poison"
        # No encode/decode policy: the wire text is handled here, so the poison
        # queue gets exactly the bytes the source queue had.
        self._queue = connection.client(spec.queue_name)
        self._poison = connection.client(self.poison_queue_name)
        self._lease = message_lease
        self._concurrency = options.batch_size + options.new_batch_threshold
        self._pool = ThreadPoolExecutor(
            max_workers=self._concurrency, thread_name_prefix=f"devhost-q-{spec.name}"
        )
        self._stop = threading.Event()
        self._stop_renewing = threading.Event()
        self._abandoned = False
        self._changed = threading.Condition()
        self._in_flight: dict[str, _InFlight] = {}
        self._poller = threading.Thread(
            target=self._poll_loop, name=f"devhost-poll-{spec.name}", daemon=True
        )
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"devhost-renew-{spec.name}", daemon=True
        )
        self._poison_ready = False
        self.processed = 0  # invocations that ended (either way); for tests and logs

    # lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        _create_if_missing(self._queue)
        self._poller.start()
        self._renewer.start()

    def request_stop(self) -> None:
        """Stop fetching; running invocations go on (and keep their leases)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait for running invocations; True if they all ended in time.

        Invocations still running are abandoned: their messages are no longer
        renewed and reappear when the lease runs out, as after a host crash.
        """
        deadline = time.monotonic() + timeout
        if self._poller.is_alive():
            self._poller.join(max(0.0, deadline - time.monotonic()))
        with self._changed:
            self._changed.wait_for(
                lambda: not self._in_flight, timeout=max(0.0, deadline - time.monotonic())
            )
            finished = not self._in_flight
            self._abandoned = not finished
        self._stop_renewing.set()
        self._renewer.join()
        # wait=False: a hung function must not hold the shutdown hostage.
        self._pool.shutdown(wait=finished, cancel_futures=True)
        if not finished:
            log.warning("%s: abandoning %d running message(s)", self.spec.name, self.in_flight)
        self._queue.close()
        self._poison.close()
        return finished

    @property
    def in_flight(self) -> int:
        with self._changed:
            return len(self._in_flight)

    def is_drained(self) -> bool:
        """Nothing running here and nothing (visible or not) left in the queue."""
        if self.in_flight:
            return False
        properties = self._queue.get_queue_properties()
        return not properties.approximate_message_count and not self.in_flight

    # polling ---------------------------------------------------------------------

    def _poll_loop(self) -> None:
        backoff = Backoff(MIN_POLLING_INTERVAL, self.options.max_polling_interval)
        threshold = self.options.new_batch_threshold
        while not self._stop.is_set():
            with self._changed:
                self._changed.wait_for(
                    lambda: self._stop.is_set() or len(self._in_flight) <= threshold
                )
            if self._stop.is_set():
                return
            try:
                messages = self._fetch()
            except Exception:
                # Storage down or a transient error: keep polling, like the host.
                log.exception("%s: polling %s failed", self.spec.name, self.spec.queue_name)
                self._stop.wait(backoff.next())
                continue
            if not messages:
                self._stop.wait(backoff.next())
                continue
            backoff.reset()
            if self._stop.is_set():
                self._release(messages)
                return
            for message in messages:
                self._dispatch(message)

    def _release(self, messages: list[QueueMessage]) -> None:
        """Hand back messages fetched as the host stopped, so others get them at once."""
        for message in messages:
            try:
                self._queue.update_message(message.id, message.pop_receipt, visibility_timeout=0)
            except AzureError:
                log.warning("%s: could not release message %s", self.spec.name, message.id)

    def _fetch(self) -> list[QueueMessage]:
        # One Get Messages call: by_page() stops the SDK from fetching more pages.
        pages = self._queue.receive_messages(
            messages_per_page=self.options.batch_size, visibility_timeout=self._lease
        ).by_page()
        return list(next(pages, []))

    def _dispatch(self, message: QueueMessage) -> None:
        entry = _InFlight(message, message.pop_receipt or "", time.monotonic() + self._lease / 2)
        with self._changed:
            self._in_flight[message.id] = entry
        self._pool.submit(self._process, entry)

    # processing ------------------------------------------------------------------

    def _process(self, entry: _InFlight) -> None:
        message = entry.message
        try:
            dequeue_count = int(message.dequeue_count or 1)
            if dequeue_count > self.options.max_dequeue_count:
                # Delivered more often than allowed without a recorded failure
                # (crashes, lost leases): poison it without running, like the host.
                self._finish(entry, poison=True)
                return
            try:
                body = self._decode(message.content)
            except ValueError:
                log.error("%s: message %s is not valid base64", self.spec.name, message.id)
                self._finish(entry, poison=True)
                return
            trigger_value = FunctionQueueMessage(  # type: ignore[no-untyped-call]
                id=message.id,
                body=body,
                dequeue_count=dequeue_count,
                expiration_time=message.expires_on,
                insertion_time=message.inserted_on,
                time_next_visible=message.next_visible_on,
                pop_receipt=entry.pop_receipt,
            )
            try:
                invoke(
                    self.spec.user_function, self.spec.name, self.spec.trigger_arg, trigger_value
                )
            except Exception:
                log.exception(
                    "%s: message %s failed (delivery %d of %d)",
                    self.spec.name,
                    message.id,
                    dequeue_count,
                    self.options.max_dequeue_count,
                )
                self._finish(
                    entry, failed=True, poison=dequeue_count >= self.options.max_dequeue_count
                )
            else:
                self._finish(entry)
        except Exception:
            # Storage trouble while settling: the lease runs out and the message returns.
            log.exception("%s: could not settle message %s", self.spec.name, message.id)
        finally:
            with self._changed:
                self._in_flight.pop(message.id, None)
                self.processed += 1
                self._changed.notify_all()

    def _decode(self, content: Any) -> bytes:
        text = content if isinstance(content, str) else bytes(content or b"").decode()
        if self.options.message_encoding == "none":
            return text.encode("utf-8")
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as error:
            raise ValueError(str(error)) from error

    def _finish(self, entry: _InFlight, *, failed: bool = False, poison: bool = False) -> None:
        with entry.lock:
            entry.done = True  # the renewer leaves it alone from here on
            if self._abandoned:
                return  # after shutdown the lease simply runs out
            message = entry.message
            if poison:
                self._send_to_poison(message)
                self._queue.delete_message(message.id, entry.pop_receipt)
                log.warning(
                    "%s: message %s moved to %s", self.spec.name, message.id, self.poison_queue_name
                )
            elif failed:
                self._queue.update_message(
                    message.id,
                    entry.pop_receipt,
                    visibility_timeout=int(self.options.visibility_timeout),
                )
            else:
                self._queue.delete_message(message.id, entry.pop_receipt)

    def _send_to_poison(self, message: QueueMessage) -> None:
        if not self._poison_ready:
            _create_if_missing(self._poison)
            self._poison_ready = True
        try:
            self._poison.send_message(message.content)
        except ResourceNotFoundError:
            # Someone deleted the poison queue since: make it again.
            _create_if_missing(self._poison)
            self._poison.send_message(message.content)

    # lease renewal ---------------------------------------------------------------

    def _renew_loop(self) -> None:
        # Runs until join() is done waiting: renewals continue during a graceful stop.
        tick = min(1.0, self._lease / 4)
        while not self._stop_renewing.wait(tick):
            with self._changed:
                due = [e for e in self._in_flight.values() if e.renew_at <= time.monotonic()]
            for entry in due:
                self._renew(entry)

    def _renew(self, entry: _InFlight) -> None:
        with entry.lock:
            if entry.done:
                return
            try:
                updated = self._queue.update_message(
                    entry.message.id, entry.pop_receipt, visibility_timeout=self._lease
                )
            except AzureError:
                log.warning("%s: could not renew message %s", self.spec.name, entry.message.id)
                entry.renew_at = time.monotonic() + 1
                return
            entry.pop_receipt = updated.pop_receipt or entry.pop_receipt
            entry.renew_at = time.monotonic() + self._lease / 2


def _create_if_missing(client: QueueClient) -> None:
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
