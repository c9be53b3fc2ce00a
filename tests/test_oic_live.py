"""Against a real OIC instance, only when asked: set LIVE_OIC_* (see docs/live-recording.md).

With `--oic-record-mode=once|all` the exchanges are recorded, scrubbed, to
tests/cassettes/live/; without it the tests just run live. They never run in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from standin_fixtures import CASSETTES, make_vcr

from oicaction.artifact.connections import is_secret_property, iter_properties, normalise_connection
from oicaction.oic.auth import Auth, BasicAuth, ClientCredentials
from oicaction.oic.client import OicClient

# Read at import: the suite's autouse fixture clears OIC_* variables, not these.
LIVE = {
    name: os.environ.get(f"LIVE_OIC_{name}", "").strip()
    for name in (
        "URL", "INSTANCE", "USERNAME", "PASSWORD", "CLIENT_ID", "CLIENT_SECRET",
        "TOKEN_URL", "SCOPE", "CONNECTION", "LOOKUP", "PROJECT",
    )
}  # fmt: skip

pytestmark = pytest.mark.skipif(
    not (LIVE["URL"] and LIVE["CONNECTION"]),
    reason="live OIC tests: set LIVE_OIC_URL, LIVE_OIC_CONNECTION and credentials",
)


def _auth() -> Auth:
    if LIVE["CLIENT_ID"] and LIVE["CLIENT_SECRET"] and LIVE["TOKEN_URL"]:
        return ClientCredentials(
            LIVE["TOKEN_URL"], LIVE["CLIENT_ID"], LIVE["CLIENT_SECRET"], LIVE["SCOPE"] or None
        )
    if LIVE["USERNAME"] and LIVE["PASSWORD"]:
        return BasicAuth(LIVE["USERNAME"], LIVE["PASSWORD"])
    pytest.skip("live OIC tests: set LIVE_OIC_USERNAME/PASSWORD or CLIENT_ID/SECRET/TOKEN_URL")


@pytest.fixture
def live_client() -> Iterator[OicClient]:
    with OicClient(
        LIVE["URL"],
        _auth(),
        instance=LIVE["INSTANCE"] or None,
        project=LIVE["PROJECT"] or None,
    ) as client:
        yield client


def test_live_first_request(live_client: OicClient, oic_record_mode: str) -> None:
    """The probe a build starts with: URL, instance, credentials (and project) accepted."""
    with _recorded(oic_record_mode, "first_request"):
        live_client.probe()


def _recorded(mode: str, name: str) -> Any:
    if mode == "none":
        return nullcontext()
    return make_vcr(mode, CASSETTES / "live").use_cassette(f"{name}.yaml")


def test_live_connection(live_client: OicClient, oic_record_mode: str) -> None:
    conn_id = LIVE["CONNECTION"]
    with _recorded(oic_record_mode, f"connection_{conn_id}"):
        body = live_client.connection(conn_id)
    assert body is not None, f"{conn_id} not found on {live_client.server}"
    clean = normalise_connection(body, conn_id)
    for _list, prop in iter_properties(clean.data):
        if is_secret_property(prop):
            assert prop.get("propertyValue") in (None, "")
    assert "securityPolicyInfo" not in clean.data


def test_live_missing_connection_is_none(live_client: OicClient, oic_record_mode: str) -> None:
    with _recorded(oic_record_mode, "connection_missing"):
        assert live_client.connection("OIC_BUILD_NO_SUCH_CONNECTION_ZZ9") is None


def test_live_lookup(live_client: OicClient, oic_record_mode: str) -> None:
    if not LIVE["LOOKUP"]:
        pytest.skip("set LIVE_OIC_LOOKUP to export a lookup")
    with _recorded(oic_record_mode, f"lookup_{LIVE['LOOKUP']}"):
        data = live_client.lookup_csv(LIVE["LOOKUP"])
    assert data
