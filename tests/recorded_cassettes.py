"""vcrpy cassettes built from the real recorded OIC answers in ../shared/fixtures/api.

Each response body is the recorded file, byte for byte; the status and headers are the recorded
ones where a response-headers file exists. Whatever had to be added (a status or Content-Type
the source does not give, our host and instance in the URIs) is listed in
docs/live-recording.md ("Cassettes from the recorded answers"). Tests generate the cassettes
into their tmp_path, so the project holds no copy of the recorded data:

    python tests/recorded_cassettes.py OUT_DIR        # to look at them
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

BASE_URL = "https://oic.live.invalid"  # never resolved: a cassette answers, in "none" mode
INSTANCE = "recorded-instance"
API = "/ic/api/integration/v1"
RCHAFIK = "rchafik__oicDevops"
DEVREL = "oracle-devrel__technology-engineering"
JOSE = "josekurian__OIC-DeploymentScripts"
PROJECT = "LAB-DEVOPS"
INT001 = "INT001|01.00.0000"
COUNTRY = "COUNTRY_INFO|01.00.0000"
JSON_TYPE = "application/json"  # added where the source recorded no headers
# Headers of a recorded response that do not fit a replay of the stored body: the stored body
# is not gzipped (Postman saved it decoded) and is abridged (SOURCES.md), so its length differs.
NOT_REPLAYED = {"content-encoding", "content-length", "connection"}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # below API, already quoted
    body: str  # the recorded body's file, relative to ../shared/fixtures/api
    status: int = 200
    headers_file: str | None = None
    content_type: str = JSON_TYPE
    override: str | None = None  # X-HTTP-Method-Override the recorded request carried
    request_body: str | None = None


def _q(part: str) -> str:
    return quote(part, safe="")


CASSETTES: dict[str, tuple[Exchange, ...]] = {
    # OIC 3 activation (rchafik README): the PATCH answers ACTIVATION_INPROGRESS, the poll
    # then ACTIVATED.
    "activation": (
        Exchange(
            "POST",
            f"/projects/{PROJECT}/integrations/{_q(INT001)}",
            f"{RCHAFIK}/INT001.activate.oic3.response.json",
            override="PATCH",
            request_body='{"status":"ACTIVATED"}',
        ),
        Exchange(
            "GET",
            f"/projects/{PROJECT}/integrations/{_q(INT001)}/activationStatus",
            f"{RCHAFIK}/INT001.activationStatus.oic3.response.json",
        ),
    ),
    "project-import": (
        Exchange(
            "POST", "/projects/archive", f"{RCHAFIK}/{PROJECT}.project-import.oic3.response.json"
        ),
    ),
    "connection-test": (
        Exchange(
            "POST",
            f"/projects/{PROJECT}/connections/BUCKET/test",
            f"{RCHAFIK}/BUCKET.connection-test.oic3.response.json",
        ),
    ),
    "connection-oic3": (
        Exchange(
            "GET",
            "/connections/POB_OICTOOPA_INVOKE",
            f"{DEVREL}/POB_OICTOOPA_INVOKE.connection.oic3.abridged.json",
            headers_file=f"{DEVREL}/POB_OICTOOPA_INVOKE.connection.oic3.response-headers.json",
        ),
    ),
    # OIC Gen2 (josekurian scripts, one export run): both connections of COUNTRY_INFO, a
    # connection that is not there, and the integration's archive.
    "export-gen2": (
        Exchange("GET", "/connections/LOCAL_REST", f"{JOSE}/LOCAL_REST.connection.gen2.json"),
        Exchange(
            "GET", "/connections/RESTCOUNTRIESEU", f"{JOSE}/RESTCOUNTRIESEU.connection.gen2.json"
        ),
        Exchange(
            "GET",
            "/connections/SCHEDULE_RECEIVE",
            f"{JOSE}/SCHEDULE_RECEIVE.connection-404-body.txt",
            status=404,
            content_type="text/plain",
        ),
        Exchange(
            "GET",
            f"/integrations/{_q(COUNTRY)}/archive",
            f"{JOSE}/COUNTRY_INFO_01.00.0000.iar",
            content_type="application/octet-stream",
        ),
    ),
}  # fmt: skip

REASONS = {200: "OK", 404: "Not Found"}


def _text_if_utf8(body: bytes) -> str | bytes:
    """Text stays readable (and scannable) in the YAML; vcrpy encodes it back to the same
    bytes. Anything else (an archive) is stored as binary."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _response(api_dir: Path, exchange: Exchange) -> dict[str, Any]:
    body = (api_dir / exchange.body).read_bytes()
    status, headers = exchange.status, {"Content-Type": [exchange.content_type]}
    if exchange.headers_file:
        recorded = json.loads((api_dir / exchange.headers_file).read_text(encoding="utf-8"))
        status = int(recorded["status"])
        headers = {
            name: [str(value)]
            for name, value in recorded["headers"].items()
            if name.lower() not in NOT_REPLAYED
        }
    headers["Content-Length"] = [str(len(body))]
    return {
        "status": {"code": status, "message": REASONS.get(status, "")},
        "headers": headers,
        "body": {"string": _text_if_utf8(body)},
    }


def _request(exchange: Exchange, base_url: str, instance: str | None) -> dict[str, Any]:
    uri = base_url + API + exchange.path
    if instance:
        uri += f"?integrationInstance={quote(instance, safe='')}"
    headers = {"X-HTTP-Method-Override": [exchange.override]} if exchange.override else {}
    return {
        "method": exchange.method,
        "uri": uri,
        "body": exchange.request_body,
        "headers": headers,
    }


def write_cassettes(
    api_dir: Path, dest: Path, base_url: str = BASE_URL, instance: str | None = INSTANCE
) -> dict[str, Path]:
    """Write every cassette of CASSETTES into `dest` (`<name>.yaml`); returns them by name."""
    dest.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, exchanges in CASSETTES.items():
        interactions = [
            {"request": _request(e, base_url, instance), "response": _response(api_dir, e)}
            for e in exchanges
        ]
        path = dest / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
        written[name] = path
    return written


def override_matches(sent: Any, recorded: Any) -> None:
    """A vcrpy matcher: the X-HTTP-Method-Override the recorded request carried was sent."""
    want = recorded.headers.get("X-HTTP-Method-Override")
    assert sent.headers.get("X-HTTP-Method-Override") == want, f"override {want} not sent"


def replayer(library: Path) -> Any:
    """A VCR that only plays back (record mode none: any other request fails the test)."""
    import vcr

    player = vcr.VCR(
        cassette_library_dir=str(library),
        record_mode="none",
        match_on=("method", "scheme", "host", "path", "query", "override"),
    )
    player.register_matcher("override", override_matches)
    return player


if __name__ == "__main__":
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "api"
    for path in write_cassettes(shared, Path(sys.argv[1])).values():
        print(path)
