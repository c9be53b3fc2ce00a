"""Fetch connections and lookups concurrently, each one once per run: a batch of integrations
that share connections asks the server once per connection. Connections are cached already
cleaned, so a secret value never outlives the request that carried it. Attachments are streamed
into the artifact by the export (`OicClient.download`), not cached here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import partial
from typing import Any

from .client import OicClient, api, json_object
from .connection_model import CleanConnection, normalise_connection


class ServerCache:
    """One client, one bounded thread pool and the results, shared by every integration of a
    run; use as a context manager."""

    def __init__(self, client: OicClient) -> None:
        self.client = client
        self._pool = ThreadPoolExecutor(client.config.max_workers, thread_name_prefix="oic-fetch")
        self._futures: dict[tuple[str, str], Future[Any]] = {}
        self._lock = threading.Lock()
        self._parsing = threading.Lock()

    def __enter__(self) -> ServerCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # Requests still running after a failure are not waited for: their timeouts end them.
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def _submit(self, kind: str, key: str, fetch: Callable[[], Any]) -> Future[Any]:
        with self._lock:
            future = self._futures.get((kind, key))
            if future is None or future.cancelled():
                future = self._futures[(kind, key)] = self._pool.submit(fetch)
            return future

    def _connection(self, conn_id: str, project: str | None) -> CleanConnection | None:
        """Fetched in parallel, parsed one at a time: a parsed body takes many times its size,
        so a run's memory does not grow with the number of large bodies."""
        what = f"connection {conn_id}"
        path = api("connections", conn_id, project=project)
        answer = self.client.get(path, what, accept="application/json")
        if answer is None:
            return None
        with self._parsing:
            return normalise_connection(json_object(answer, what), conn_id)

    def confirm_project(self, project: str, setting: str) -> None:
        """Check once per run that an OIC 3 project exists (see OicClient.probe_project)."""
        probe = partial(self.client.probe_project, project, setting)
        self._submit("project", project, probe).result()

    def fetch(
        self,
        connections: Iterable[str] = (),
        lookups: Iterable[str] = (),
        project: str | None = None,
    ) -> tuple[dict[str, CleanConnection | None], dict[str, bytes | None]]:
        """Connections and lookup CSVs (None: not on the server), those of OIC 3 `project` when
        given. All are queued at once and run `max_workers` at a time; the first failure cancels
        what has not started and is raised."""
        scope = "" if project is None else f"project {project} "
        wanted = {
            ("connection", c): self._submit(
                scope + "connection", c, partial(self._connection, c, project)
            )
            for c in dict.fromkeys(connections)
        } | {
            ("lookup", n): self._submit(
                scope + "lookup", n, partial(self.client.lookup_csv, n, project)
            )
            for n in dict.fromkeys(lookups)
        }
        done, pending = wait(wanted.values(), return_when=FIRST_EXCEPTION)
        for _key, future in sorted(wanted.items()):
            if future in done and not future.cancelled() and future.exception():
                for other in pending:
                    other.cancel()
                error = future.exception()
                assert error is not None
                raise error
        found = {key: f.result() for key, f in wanted.items()}
        return (
            {k: v for (kind, k), v in found.items() if kind == "connection"},
            {k: v for (kind, k), v in found.items() if kind == "lookup"},
        )
