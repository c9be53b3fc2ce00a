"""Against a real OIC instance, only when asked: set LIVE_OIC_* (see docs/live-recording.md).

With `--oic-record-mode=once|all` the exchanges are recorded, scrubbed, to
tests/cassettes/live/; without it the tests just run live. They never run in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from standin_fixtures import CASSETTES, make_vcr

from oicaction.oic.client import OicClient
from oicaction.oic.config import server_config
from oicaction.oic.connection_model import is_secret_property, iter_properties, normalise_connection
from oicaction.settings import load_settings

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


@pytest.fixture
def live_client(tmp_path: Path) -> Iterator[OicClient]:
    """Configured the way a build is: LIVE_OIC_* as the settings, through server_config."""
    flags = {
        "oic_url": LIVE["URL"],
        "oic_instance": LIVE["INSTANCE"],
        "oic_project": LIVE["PROJECT"],
        "username": LIVE["USERNAME"],
        "password": LIVE["PASSWORD"],
        "client_id": LIVE["CLIENT_ID"],
        "client_secret": LIVE["CLIENT_SECRET"],
        "token_url": LIVE["TOKEN_URL"],
        "scope": LIVE["SCOPE"],
    }
    settings = load_settings({k: v for k, v in flags.items() if v}, tmp_path / "none")
    with OicClient(server_config(settings)) as client:
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
    assert body is not None, f"{conn_id} not found on {live_client.config.where()}"
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
