"""Fetch connections and lookups concurrently, each one once per run.

One `ServerCache` holds one client (one connection pool, one token), one bounded thread pool and
the results: a batch of integrations that share connections asks the server once per connection.
Connections are cached already cleaned (secrets removed), so a secret value never outlives the
request that carried it. Attachments are not fetched here: they can be large, so the export
streams each into its artifact folder (`OicClient.download`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any

from .client import OicClient, api, json_object
from .connection_model import (
    Attachment,
    CleanConnection,
    attachment_properties,
    is_secret_attachment,
    normalise_connection,
)


class ServerCache:
    """Shared by every integration of a run; use as a context manager."""

    def __init__(self, client: OicClient) -> None:
        self.client = client
        self._pool = ThreadPoolExecutor(
            max_workers=client.config.max_workers, thread_name_prefix="oic-fetch"
        )
        self._futures: dict[tuple[str, str], Future[Any]] = {}
        self._lock = threading.Lock()
        self._parsing = threading.Lock()

    def __enter__(self) -> ServerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Do not wait for requests still running after a failure: the build reports now and
        # the bounded timeouts end them.
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def _submit(self, kind: str, key: str, fetch: Callable[[], Any]) -> Future[Any]:
        with self._lock:
            future = self._futures.get((kind, key))
            if future is None or future.cancelled():
                future = self._pool.submit(fetch)
                self._futures[(kind, key)] = future
            return future

    def _connection(self, conn_id: str, project: str | None) -> CleanConnection | None:
        """The connection, cleaned, with the list of its attachments: the files of secret
        properties (keystores, private keys) are marked to be supplied. Fetched in parallel,
        parsed one at a time: a parsed body takes many times its size, so the memory a run
        needs does not grow with the number of large bodies (parsing holds the GIL anyway)."""
        what = f"connection {conn_id}"
        path = api("connections", conn_id, project=project)
        answer = self.client.get(path, what, accept="application/json")
        if answer is None:
            return None
        with self._parsing:
            clean = normalise_connection(json_object(answer, what), conn_id)
        attachments = tuple(
            Attachment(prop["propertyName"], to_supply=is_secret_attachment(prop))
            for prop in attachment_properties(clean.data)
        )
        return dataclasses.replace(clean, attachments=attachments)

    def confirm_project(self, project: str, setting: str) -> None:
        """Check once per run that an OIC 3 project exists (see OicClient.probe_project)."""
        self._submit(
            "project", project, lambda: self.client.probe_project(project, setting)
        ).result()

    def fetch(
        self,
        connections: Iterable[str] = (),
        lookups: Iterable[str] = (),
        project: str | None = None,
    ) -> tuple[dict[str, CleanConnection | None], dict[str, bytes | None]]:
        """Connections (None: not on the server) and lookup CSVs (None: not on the server);
        with `project`, those of that OIC 3 project (cached apart from the global ones).

        All requests are queued at once and run `max_workers` at a time; the first failure
        cancels what has not started and is raised.
        """
        wanted: dict[tuple[str, str], Future[Any]] = {}
        scope = "" if project is None else f"project {project} "
        for conn_id in dict.fromkeys(connections):
            wanted[("connection", conn_id)] = self._submit(
                scope + "connection", conn_id, partial(self._connection, conn_id, project)
            )
        for name in dict.fromkeys(lookups):
            wanted[("lookup", name)] = self._submit(
                scope + "lookup", name, partial(self.client.lookup_csv, name, project)
            )
        done, pending = wait(wanted.values(), return_when=FIRST_EXCEPTION)
        failed = [
            key
            for key, f in sorted(wanted.items())
            if f in done and not f.cancelled() and f.exception()
        ]
        if failed:
            for future in pending:
                future.cancel()
            error = wanted[failed[0]].exception()
            assert error is not None
            raise error
        found_conns = {k: f.result() for (kind, k), f in wanted.items() if kind == "connection"}
        found_lookups = {k: f.result() for (kind, k), f in wanted.items() if kind == "lookup"}
        return found_conns, found_lookups
